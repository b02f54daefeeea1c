/**
 * Keras 3 sharded weights: `model.save_weights("m.weights.json", max_shard_size=...)`
 * (Keras 3.10+, keras/src/saving/saving_lib.py, ShardedH5IOStore; read here as Keras 3.15.1
 * writes it). The index is JSON:
 *
 *     {"metadata": {"total_size": <bytes>},
 *      "weight_map": {"/layers/lstm/cell/vars": ["m_00000.weights.h5", "m_00001.weights.h5"], ...}}
 *
 * and each shard `<base>_NNNNN.weights.h5` beside it is an ordinary Keras 3 weights HDF5
 * (H5IOStore's layout) holding some of the variables: a shard is closed when the next
 * variable would take it past max_shard_size, so one `vars` group can be split between
 * shards (`vars/0` in one, `vars/1` and `vars/2` in the next), which is why the map lists
 * several files for a path. Keras writes a list; a bare string is accepted too.
 *
 * The shards are read as one store (the union of their groups and datasets) by the same walk
 * as a `.weights.h5` (keras3.ts). Shard names come from the file, so each must be a plain
 * name inside the index's folder (folder-files.ts); the map must name at least one shard,
 * every shard it names must exist and open, and each must hold the groups the map places in
 * it, or the whole set is refused in one line.
 */
import { dirname } from "node:path";
import { FileError } from "../errors.js";
import type { Model } from "../model.js";
import { fileOpener } from "./byte-source.js";
import { isObject, type Json, readJsonFile } from "./config.js";
import { fileInFolder } from "./folder-files.js";
import type { DatasetInfo, H5File, LaterValues, NumericData } from "./hdf5-file.js";
import { openH5File } from "./hdf5-open.js";
import { readKeras3Weights, readKeras3WeightsWithConfig, type WeightStore } from "./keras3.js";
import type { StructureSource } from "./structure.js";

/** More shards than this is not a model a person saved (Keras' default shard is 5 GB). */
export const MAX_SHARDS = 4096;

/** The shard file names the index's weight_map lists, in first-mention order, and the groups it places in each. */
export function shardsOfIndex(index: Json, label: string): { files: string[]; groups: Map<string, string[]> } {
  if (!isObject(index) || !isObject(index.weight_map as Json)) throw new FileError(label, "is not a Keras sharded-weights index: no weight_map object");
  const groups = new Map<string, string[]>();
  for (const [path, where] of Object.entries(index.weight_map as Record<string, Json>)) {
    const names = typeof where === "string" ? [where] : Array.isArray(where) ? where : undefined;
    if (!names || names.length === 0 || !names.every((n): n is string => typeof n === "string")) {
      throw new FileError(label, `weight_map entry '${path.slice(0, 200)}' does not name its shard files (a file name or a list of them)`);
    }
    for (const n of names) {
      if (!groups.has(n)) {
        if (groups.size >= MAX_SHARDS) throw new FileError(label, `weight_map names more than ${MAX_SHARDS} shard files`);
        groups.set(n, []);
      }
      groups.get(n)!.push(path);
    }
  }
  if (groups.size === 0) throw new FileError(label, "weight_map names no shard files");
  return { files: [...groups.keys()], groups };
}

/** Several shard files seen as one weights store: a path's children are the union of theirs; a dataset is read from the shard holding it. */
class ShardedStore implements WeightStore {
  constructor(
    readonly label: string,
    private readonly shards: { name: string; h5: H5File }[],
  ) {}

  private holder(path: string): { name: string; h5: H5File } | undefined {
    return this.shards.find((s) => s.h5.isDataset(path));
  }

  keys(path: string): string[] {
    const all = new Set<string>();
    for (const s of this.shards) for (const k of s.h5.keys(path)) all.add(k);
    // HDF5 lists names in byte order; so does a plain sort of ASCII names.
    return [...all].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }

  isGroup(path: string): boolean {
    return this.shards.some((s) => s.h5.isGroup(path));
  }

  isDataset(path: string): boolean {
    return this.holder(path) !== undefined;
  }

  attr(path: string, name: string): unknown {
    for (const s of this.shards) {
      const v = s.h5.attr(path, name);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  datasetInfo(path: string): DatasetInfo {
    return this.required(path).h5.datasetInfo(path);
  }

  numericLater(path: string): LaterValues {
    return this.required(path).h5.numericLater(path);
  }

  displayPath(path: string): string {
    return `${this.holder(path)?.name ?? "?"}:${path}`;
  }

  private required(path: string): { name: string; h5: H5File } {
    const s = this.holder(path);
    if (!s) throw new FileError(this.label, `no shard holds dataset '${path}'`);
    return s;
  }
}

function readIndex(path: string): Promise<Json> {
  return readJsonFile(path, "a weights index", "the weights index");
}

/** Reads a Keras 3 sharded weights set from its `*.weights.json` index at `path`; with `structure`, as the model it gives (--config). */
export async function loadShardedWeights(path: string, structure?: StructureSource): Promise<Model> {
  const label = path;
  const { files, groups } = shardsOfIndex(await readIndex(path), label);
  const folder = dirname(path);
  // Every shard is checked (inside the folder, a regular file) before any is opened.
  const found = [];
  for (const name of files) found.push(await fileInFolder(folder, name, label, "weight shard"));
  const shards: { name: string; h5: H5File }[] = [];
  try {
    for (const f of found) {
      const open = fileOpener(f.path);
      shards.push({ name: f.reference, h5: await openH5File(open(), `${label}: weight shard '${f.reference}'`, open) });
    }
    for (const { name, h5 } of shards) {
      for (const group of groups.get(name)!) {
        if (!h5.isGroup(group)) throw new FileError(label, `weight_map places '${group.slice(0, 200)}' in shard '${name}', which has no such group`);
      }
    }
    const store = new ShardedStore(label, shards);
    const model = structure ? readKeras3WeightsWithConfig(store, structure) : readKeras3Weights(store);
    if (!structure) model.name = path.replace(/^.*[\\/]/, "").replace(/\.weights\.json$|\.json$/, "");
    model.notes.push(`weights read from ${files.length} shard file(s) listed in the index: ${files.join(", ")}`);
    return model;
  } finally {
    for (const s of shards) s.h5.close();
  }
}
