/** Helpers shared by the HDF5-based adapters. */
import { FileError } from "../errors.js";
import type { Tensor } from "../model.js";
import type { H5File } from "./hdf5-file.js";

export function joinH5(group: string, name: string): string {
  if (group === "/" || group === "") return `/${name}`;
  return `${group}/${name}`;
}

function asStringList(value: unknown, h5: H5File, where: string): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) {
    // h5py writes `[]` as an empty float64 array (weightless layers).
    if (value.length === 0) return [];
    if (value.every((v) => typeof v === "string")) return value as string[];
  }
  throw new FileError(h5.label, `${where} is not a list of names`);
}

/**
 * Reads a list attribute the way Keras' `load_attributes_from_hdf5_group` does:
 * `name` if present, else the chunks `name0`, `name1`, ... concatenated (lists over
 * 64512 bytes are split since Keras 2.1.5). Undefined when neither exists.
 */
export function loadStringList(h5: H5File, groupPath: string, name: string): string[] | undefined {
  const names = new Set(h5.attrNames(groupPath));
  if (names.has(name)) return asStringList(h5.attr(groupPath, name), h5, `attribute '${name}' of '${groupPath}'`);
  if (!names.has(`${name}0`)) return undefined;
  const out: string[] = [];
  for (let i = 0; names.has(`${name}${i}`); i++) {
    out.push(...asStringList(h5.attr(groupPath, `${name}${i}`), h5, `attribute '${name}${i}' of '${groupPath}'`));
  }
  return out;
}

/** A string attribute, or undefined when absent or not a string. */
export function stringAttr(h5: Pick<H5File, "attr">, path: string, name: string): string | undefined {
  const v = h5.attr(path, name);
  return typeof v === "string" ? v : undefined;
}

/**
 * One dataset as a Tensor. Its metadata is read and checked now; its values are read
 * from the file the first time `data` is asked for (hdf5.ts, DeferredDatasets) and kept,
 * so `summary` reads none and every other reader sees a plain typed array.
 * `displayPath` is what Tensor.path shows (e.g. with an archive prefix).
 */
export function readTensor(h5: Pick<H5File, "label" | "isDataset" | "numericLater">, h5Path: string, name: string, displayPath = h5Path): Tensor {
  if (!h5.isDataset(h5Path)) throw new FileError(h5.label, `weight '${name}' should be at '${h5Path}', but there is no dataset there`);
  const { shape, dtype, read, scan } = h5.numericLater(h5Path);
  const tensor = { name, path: displayPath, shape, dtype } as Tensor;
  let kept: Tensor["data"] | undefined;
  const keep = (data: Tensor["data"]) => Object.defineProperty(tensor, "data", { value: (kept = data), writable: true, enumerable: true, configurable: true });
  if (scan) {
    // Streams from the file until the values are read; then they are visited where they are.
    Object.defineProperty(tensor, "scan", { enumerable: false, value: (visit: Parameters<NonNullable<Tensor["scan"]>>[0]) => (kept ? visit(tensor.data, 0) : scan(visit)) });
  }
  Object.defineProperty(tensor, "data", {
    enumerable: true,
    configurable: true,
    get(): Tensor["data"] {
      const data = read();
      keep(data);
      return data;
    },
    set: keep,
  });
  return tensor;
}

/** `lstm_1/kernel:0` -> `kernel`; `lstm_1_W_i:0` (Keras 1, layer lstm_1) -> `W_i`. */
export function tensorRole(weightName: string, layerName: string): string {
  const parts = weightName.split("/");
  const last = parts[parts.length - 1].replace(/:\d+$/, "");
  // Keras 1 names are flat `<layer>_<W|U|b>[_gate]`.
  if (parts.length === 1 && last.startsWith(`${layerName}_`) && last.length > layerName.length + 1) {
    return last.slice(layerName.length + 1);
  }
  return last;
}

/**
 * Names for a layer's tensors: the last path component, unless two collide (Keras 3
 * MultiHeadAttention: `mha/query/kernel`, `mha/key/kernel`), in which case the part of the
 * path after the layer's own name (`query/kernel`).
 */
export function tensorNames(weightNames: string[], layerName: string): string[] {
  const roles = weightNames.map((w) => tensorRole(w, layerName));
  if (new Set(roles).size === roles.length) return roles;
  return weightNames.map((w) => {
    const parts = w.replace(/:\d+$/, "").split("/");
    const at = parts.lastIndexOf(layerName);
    return at >= 0 && at < parts.length - 1 ? parts.slice(at + 1).join("/") : parts.join("/");
  });
}
