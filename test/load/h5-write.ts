/**
 * Writes small HDF5 files for tests with h5wasm's in-memory filesystem (nothing
 * touches the disk). A spec is a tree: attributes, datasets and groups by path.
 */
import h5wasm from "h5wasm";

export type AttrValue = string | string[] | "EMPTY_F64";

export interface DatasetSpec {
  shape: number[];
  data: ArrayLike<number>;
  dtype?: "<f" | "<d";
}

export interface H5Spec {
  /** Attributes by object path ("/" for the root) and name. String lists are written fixed-length, as numpy does. */
  attrs?: Record<string, Record<string, AttrValue>>;
  /** Datasets by absolute path; parent groups are created. */
  datasets?: Record<string, DatasetSpec>;
  /** Extra (empty) groups by absolute path. */
  groups?: string[];
  /** "earliest" writes version-1 object headers without checksums, as h5py does by default. */
  libver?: "earliest";
}

let counter = 0;

type Group = ReturnType<InstanceType<typeof h5wasm.File>["create_group"]>;

function ensureGroup(root: InstanceType<typeof h5wasm.File>, path: string): Group | InstanceType<typeof h5wasm.File> {
  let g: Group | InstanceType<typeof h5wasm.File> = root;
  for (const part of path.split("/").filter(Boolean)) {
    const next = g.get(part);
    g = (next as Group | null) ?? g.create_group(part);
  }
  return g;
}

export async function writeH5(spec: H5Spec): Promise<Uint8Array> {
  const Module = await h5wasm.ready;
  const memPath = `/test-h5-write-${process.pid}-${++counter}.h5`;
  const f = spec.libver ? new h5wasm.File(memPath, "w", { libver: ["earliest", "latest"] }) : new h5wasm.File(memPath, "w");
  for (const g of spec.groups ?? []) ensureGroup(f, g);
  for (const [path, ds] of Object.entries(spec.datasets ?? {})) {
    const parts = path.split("/").filter(Boolean);
    const parent = ensureGroup(f, parts.slice(0, -1).join("/"));
    const dtype = ds.dtype ?? "<f";
    const data = dtype === "<d" ? Float64Array.from(ds.data) : Float32Array.from(ds.data);
    parent.create_dataset({ name: parts[parts.length - 1], data, shape: ds.shape, dtype });
  }
  for (const [path, attrs] of Object.entries(spec.attrs ?? {})) {
    const obj = ensureGroup(f, path);
    for (const [name, value] of Object.entries(attrs)) {
      if (value === "EMPTY_F64") obj.create_attribute(name, new Float64Array(0), [0], "<d");
      else if (Array.isArray(value)) {
        const width = Math.max(1, ...value.map((v) => Buffer.byteLength(v)));
        obj.create_attribute(name, value, [value.length], `S${width}`);
      } else obj.create_attribute(name, value);
    }
  }
  f.close();
  const bytes = Module.FS.readFile(memPath);
  Module.FS.unlink(memPath);
  return bytes;
}
