/**
 * Keras 3's `.npz` weights: `saving_lib.save_model(model, path, weights_format="npz")` puts
 * `model.weights.npz` in the `.keras` archive in place of `model.weights.h5`
 * (keras/src/saving/saving_lib.py, NpzIOStore; read here as Keras 3.15.1 writes it).
 *
 * NpzIOStore keeps one dict per saveable object, keyed by the object's path (`layers/lstm/cell`,
 * `__root__` for the model), each holding its variables as `{"0": v0, "1": v1, ...}`; np.savez
 * writes each dict as the member `<path>.npy`, a 0-d object array, so its body is a pickle of
 * the backend's variable objects (pickle.ts reads the numpy arrays out of it without running
 * it). Keras 3.15.1 itself cannot read these files back (it loads them with
 * allow_pickle=False, which refuses object arrays). A member that is a plain numeric array is
 * read as one tensor at its own path.
 *
 * The members become the same store a `.weights.h5` is (`<path>/vars/<i>`), so the walk of
 * keras3.ts maps them to the config's layers unchanged. The npz is held in memory (it is read
 * whole from the archive, within the archive's entry limit).
 */
import { FileError } from "../errors.js";
import type { DType } from "../model.js";
import { readNpyHeader } from "../npy.js";
import { bfloat16ToNumber, halfToNumber } from "./half.js";
import { PagedReader } from "./byte-source.js";
import type { DatasetInfo, LaterValues, NumericData } from "./hdf5-file.js";
import type { WeightStore } from "./keras3.js";
import { arraysIn, type PickledArray, PickleError, readPickle } from "./pickle.js";
import { entryBytes, readZipEntries } from "./zip.js";

interface Stored {
  shape: number[];
  dtype: DType;
  data: NumericData;
  /** Where it came from, as Tensor.path shows it. */
  where: string;
}

const CODES: Record<string, { dtype: DType; size: number }> = {
  f2: { dtype: "float16", size: 2 },
  bf16: { dtype: "bfloat16", size: 2 },
  f4: { dtype: "float32", size: 4 },
  f8: { dtype: "float64", size: 8 },
  i1: { dtype: "int32", size: 1 },
  i2: { dtype: "int32", size: 2 },
  i4: { dtype: "int32", size: 4 },
  i8: { dtype: "int64", size: 8 },
  u1: { dtype: "int32", size: 1 },
  u2: { dtype: "int32", size: 2 },
  u4: { dtype: "int64", size: 4 },
  u8: { dtype: "int64", size: 8 },
  b1: { dtype: "int32", size: 1 },
};

/** A numeric array's values as a Tensor holds them: float32, float16 and bfloat16 (widened exactly) as Float32Array, the rest as Float64Array. */
function decode(a: PickledArray, fail: (why: string) => never): { shape: number[]; dtype: DType; data: NumericData } {
  const code = CODES[a.code];
  if (!code) fail(`holds values of numpy type '${a.code.slice(0, 20)}', not a float or integer type`);
  if (a.fortran && a.shape.length > 1) fail("holds a Fortran-ordered array");
  const count = a.shape.reduce((x, y) => x * y, 1);
  if (a.data.length !== count * code.size) fail(`has ${a.data.length} bytes for shape (${a.shape.join(", ")}) of ${a.code}`);
  const view = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
  const le = a.littleEndian;
  const float32 = code.dtype === "float32" || code.dtype === "float16" || code.dtype === "bfloat16";
  const data: NumericData = float32 ? new Float32Array(count) : new Float64Array(count);
  for (let k = 0; k < count; k++) {
    const o = k * code.size;
    switch (a.code) {
      case "f2": data[k] = halfToNumber(view.getUint16(o, le)); break;
      case "bf16": data[k] = bfloat16ToNumber(view.getUint16(o, le)); break;
      case "f4": data[k] = view.getFloat32(o, le); break;
      case "f8": data[k] = view.getFloat64(o, le); break;
      case "i1": data[k] = view.getInt8(o); break;
      case "i2": data[k] = view.getInt16(o, le); break;
      case "i4": data[k] = view.getInt32(o, le); break;
      case "i8": data[k] = Number(view.getBigInt64(o, le)); break;
      case "u1": case "b1": data[k] = view.getUint8(o); break;
      case "u2": data[k] = view.getUint16(o, le); break;
      case "u4": data[k] = view.getUint32(o, le); break;
      default: data[k] = Number(view.getBigUint64(o, le));
    }
  }
  return { shape: a.shape, dtype: code.dtype, data };
}

/** The variables of one member: a pickled dict {"0": variable, ...} (NpzIOStore), or one plain array. */
function memberTensors(member: string, bytes: Uint8Array, label: string, displayPrefix: string): Map<string, Stored> {
  const path = member === "__root__" ? "" : member;
  const fail = (why: string): never => {
    throw new FileError(label, `member '${member.slice(0, 200)}.npy' ${why}`);
  };
  const header = readNpyHeader(bytes, (why) => fail(`is not a readable .npy array: ${why}`));
  const out = new Map<string, Stored>();
  if (header.descr !== "|O") {
    const m = /^([<>|=])([fiub]\d+)$/.exec(header.descr);
    if (!m) fail(`holds values of numpy type '${header.descr.slice(0, 20)}', not a float or integer type`);
    const a = { code: m![2], littleEndian: m![1] !== ">", shape: header.shape, fortran: header.fortran, data: bytes.subarray(header.offset) };
    const count = header.shape.reduce((x, y) => x * y, 1);
    a.data = a.data.subarray(0, count * (CODES[a.code]?.size ?? 0));
    out.set(`/${path}`, { ...decode(a, fail), where: `${displayPrefix}${member}.npy` });
    return out;
  }
  let root: unknown;
  try {
    root = readPickle(bytes.subarray(header.offset));
  } catch (err) {
    if (err instanceof PickleError) fail(`holds a pickle that cannot be read: ${err.message}`);
    throw err;
  }
  // np.save of a 0-d object array pickles the array: its one element is the state's last item.
  const elements = (root as { state?: unknown[] })?.state?.[4];
  const dict = Array.isArray(elements) && elements.length === 1 ? elements[0] : undefined;
  if (!(dict instanceof Map)) fail("is not a dict of variables as Keras' NpzIOStore writes it");
  for (const [key, value] of dict as Map<unknown, unknown>) {
    if (typeof key !== "string" || !/^\d+$/.test(key)) fail(`has a variable named ${JSON.stringify(String(key)).slice(0, 40)}, not a number`);
    const arrays = arraysIn(value);
    if (arrays.length === 0) fail(`variable ${key} holds no numpy array (only numpy and JAX variables are read; a PyTorch or TensorFlow one stores its values otherwise)`);
    const at = `${path === "" ? "" : `/${path}`}/vars/${key}`;
    out.set(at, { ...decode(arrays[0], (why) => fail(`variable ${key} ${why}`)), where: `${displayPrefix}${member}.npy[${key}]` });
  }
  return out;
}

/** The datasets of a Keras npz as a weights store (see the module comment). `label` names it in messages. */
export function npzWeightStore(npz: Uint8Array, label: string, displayPrefix: string, maxBytes: number): WeightStore {
  // The archive reader every zip goes through (zip.ts): sizes declared under the limit before
  // anything is inflated, inflation that stops at the declared size, CRCs checked.
  const archive = PagedReader.of(npz);
  const members: Record<string, Uint8Array> = {};
  try {
    const { entries } = readZipEntries(archive, label, () => true, { maxEntryBytes: () => maxBytes, maxTotalBytes: maxBytes });
    for (const [name, entry] of Object.entries(entries)) members[name] = entryBytes(archive, entry);
  } catch (err) {
    if (err instanceof FileError) throw new FileError(label, `is not a readable .npz (${err.problem})`, { cause: err });
    throw err;
  }
  const datasets = new Map<string, Stored>();
  for (const [name, bytes] of Object.entries(members)) {
    if (!name.endsWith(".npy")) throw new FileError(label, `member '${name.slice(0, 200)}' is not a .npy array`);
    const member = name.slice(0, -4);
    if (member.split("/").some((part) => part === "" || part === "." || part === "..")) throw new FileError(label, `member '${name.slice(0, 200)}' is not a Keras variable path`);
    for (const [path, t] of memberTensors(member, bytes, label, displayPrefix)) datasets.set(path, t);
  }
  return new NpzStore(label, datasets);
}

class NpzStore implements WeightStore {
  private readonly groups = new Map<string, Set<string>>([["/", new Set()]]);
  private readonly handedOut = new Set<string>();

  constructor(
    readonly label: string,
    private readonly datasets: Map<string, Stored>,
  ) {
    for (const path of datasets.keys()) {
      const parts = path.split("/").filter((p) => p !== "");
      for (let k = 0; k < parts.length; k++) {
        const parent = k === 0 ? "/" : `/${parts.slice(0, k).join("/")}`;
        if (!this.groups.has(parent)) this.groups.set(parent, new Set());
        this.groups.get(parent)!.add(parts[k]);
      }
    }
  }

  private norm(path: string): string {
    return path === "" ? "/" : path.startsWith("/") ? path : `/${path}`;
  }

  keys(path: string): string[] {
    return [...(this.groups.get(this.norm(path)) ?? [])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  isGroup(path: string): boolean {
    return this.groups.has(this.norm(path));
  }

  isDataset(path: string): boolean {
    return this.datasets.has(this.norm(path));
  }

  attr(): unknown {
    return undefined;
  }

  datasetInfo(path: string): DatasetInfo {
    const t = this.datasets.get(this.norm(path));
    if (!t) throw new FileError(this.label, `'${path}' is not a dataset`);
    return { shape: t.shape, dtype: t.dtype, byteLength: t.data.byteLength };
  }

  numericLater(path: string): LaterValues {
    const info = this.datasetInfo(path);
    const key = this.norm(path);
    const t = this.datasets.get(key)!;
    return {
      ...info,
      // Two tensors naming one dataset get an array each, as two reads of a file give them.
      read: () => (this.handedOut.has(key) ? t.data.slice() : (this.handedOut.add(key), t.data)),
    };
  }

  displayPath(path: string): string {
    return this.datasets.get(this.norm(path))?.where ?? path;
  }
}
