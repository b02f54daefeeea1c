/**
 * Loading a Keras model file: read the bytes, tell the container from its magic
 * bytes (never the extension), hand it to the matching adapter. Every failure is a
 * FileError whose one-line message names the file and the problem.
 */
import { readFile, stat } from "node:fs/promises";
import { FileError } from "../errors.js";
import type { Model } from "../model.js";
import { loadStringList } from "./common.js";
import { H5File } from "./hdf5.js";
import { readFullModel, readWeightsOnly } from "./keras-h5.js";
import { isKeras3WeightsStore, readKeras3Weights, readKerasArchive } from "./keras3.js";
import { leadingBytesHex, sniff } from "./sniff.js";

export { MAX_ARCHIVE_ENTRY_BYTES, MAX_ARCHIVE_TOTAL_BYTES } from "./keras3.js";

/** Largest model file we read. h5wasm keeps the whole file in a heap capped at 2 GiB. */
export const MAX_FILE_BYTES = 1024 * 1024 * 1024;

function systemReason(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  switch (code) {
    case "ENOENT":
      return "no such file";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
      return "is a directory, not a model file";
    case "ENAMETOOLONG":
      return "file name too long";
    case "ELOOP":
      return "too many levels of symbolic links";
    default:
      return `cannot read it (${code ?? (err as Error)?.message ?? String(err)})`;
  }
}

/** Reads a model file from disk. */
export async function loadModel(path: string): Promise<Model> {
  let size: number;
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new FileError(path, "is a directory, not a model file");
    if (!st.isFile()) throw new FileError(path, "is not a regular file");
    size = st.size;
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(path, systemReason(err), { cause: err });
  }
  if (size > MAX_FILE_BYTES) throw new FileError(path, `is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit this tool can hold in memory`);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new FileError(path, systemReason(err), { cause: err });
  }
  return loadModelFromBytes(bytes, path);
}

/** Loads a model from bytes already in memory; `label` names it in messages (a path, or e.g. `fuzz#12`). */
export async function loadModelFromBytes(bytes: Uint8Array, label: string): Promise<Model> {
  if (bytes.length === 0) throw new FileError(label, "is empty (0 bytes)");
  if (bytes.length > MAX_FILE_BYTES) throw new FileError(label, `is ${bytes.length} bytes, over the ${MAX_FILE_BYTES}-byte limit`);
  const kind = sniff(bytes);
  if (!kind) {
    throw new FileError(label, `not an HDF5 file or a .keras zip (starts with bytes ${leadingBytesHex(bytes)})`);
  }
  try {
    if (kind.kind === "zip") return await readKerasArchive(bytes, label);
    return await loadHdf5(bytes, label);
  } catch (err) {
    if (err instanceof FileError) throw err;
    // Anything else is a bug or a malformed file we did not anticipate; still one line naming the file.
    const msg = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new FileError(label, `could not read it as a Keras model: ${msg}`, { cause: err });
  }
}

async function loadHdf5(bytes: Uint8Array, label: string): Promise<Model> {
  const h5 = await H5File.open(bytes, label);
  try {
    const rootAttrs = new Set(h5.attrNames("/"));
    if (rootAttrs.has("model_config")) return readFullModel(h5);
    if (loadStringList(h5, "/", "layer_names") !== undefined) return readWeightsOnly(h5, "/");
    if (h5.isGroup("/model_weights") && loadStringList(h5, "/model_weights", "layer_names") !== undefined) {
      return readWeightsOnly(h5, "/model_weights");
    }
    if (isKeras3WeightsStore(h5)) return readKeras3Weights(h5);
    throw new FileError(label, "HDF5 file but not a Keras model: no model_config, layer_names or layers/ group found");
  } finally {
    h5.close();
  }
}
