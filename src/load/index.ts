/**
 * Loading a Keras model file, or an export of one (a TensorFlow.js model.json or its
 * folder, an ONNX model, a TFLite model): open it, tell the container from its magic bytes (never
 * the extension), hand it to the matching adapter. The file is read where it lies, a few
 * pages at a time (byte-source.ts): a file of any size loads in the time its structure
 * takes to read, and tensor values are read when they are first needed (hdf5.ts). Every
 * failure is a FileError whose one-line message names the file and the problem.
 */
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { FileError, UsageError } from "../errors.js";
import { FORMAT_DESCRIPTIONS, type Model, walkLayers } from "../model.js";
import { type ByteSource, fileOpener, MemorySource, type OpenSource, PagedReader } from "./byte-source.js";
import { loadStringList } from "./common.js";
import { openH5File } from "./hdf5-open.js";
import { readFullModel, readWeightsOnly, readWeightsWithConfig } from "./keras-h5.js";
import { isKeras3WeightsStore, readKeras3Weights, readKeras3WeightsWithConfig, readKerasArchive } from "./keras3.js";
import { type ContainerKind, knownNonModel, leadingBytesHex, SAVED_MODEL_ADVICE, sniff } from "./sniff.js";
import { readStructure, type StructureSource } from "./structure.js";

// The export adapters (and protobufjs, which the ONNX one uses) are imported when a file of
// their kind is opened: a Keras file's command does not pay for parsing them at start-up.
const loadTfjs = async (path: string) => (await import("./tfjs.js")).loadTfjs(path);
const loadOnnx = async (path: string) => (await import("./onnx.js")).loadOnnx(path);
const loadShardedWeights = async (path: string, structure?: StructureSource) => (await import("./keras3-sharded.js")).loadShardedWeights(path, structure);

export { MAX_ARCHIVE_ENTRY_BYTES, MAX_ARCHIVE_TOTAL_BYTES } from "./keras3.js";

/** A folder holding a TensorFlow.js model.json, named instead of the file (as tfjs users do). */
async function isTfjsFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory() && (await stat(join(path, "model.json"))).isFile();
  } catch {
    return false; // FileSource.open says what is wrong with the path
  }
}

/** A TensorFlow SavedModel folder (saved_model.pb inside), which users name as if it were a model file. */
async function isSavedModelFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory() && (await stat(join(path, "saved_model.pb"))).isFile();
  } catch {
    return false;
  }
}

export interface LoadOptions {
  /**
   * A tensor the file lists but does not hold (its dataset removed): "refuse" (the default)
   * fails the load with a FileError naming it; "keep" loads the model without it and lists
   * it in its layer's `missingWeights`, for `check` to report as a failed structure check.
   */
  missingTensors?: "refuse" | "keep";
  /**
   * `--config FILE`: the model's structure, for a weights-only file (load/structure.ts).
   * A file that records its own config is refused with it rather than silently overridden.
   */
  config?: string;
}

/** Reads a model file from disk (or the TensorFlow.js model in a folder). */
export async function loadModel(path: string, options: LoadOptions = {}): Promise<Model> {
  const structure = options.config === undefined ? undefined : await readStructure(options.config);
  if (await isTfjsFolder(path)) return withoutConfig(await loadTfjs(path), structure);
  if (await isSavedModelFolder(path)) throw new FileError(path, SAVED_MODEL_ADVICE);
  const open = fileOpener(path);
  return refuseMissing(await loadModelFrom(open(), path, open, path, structure), options);
}

/**
 * Loads a model from bytes already in memory; `label` names it in messages (a path, or
 * e.g. `fuzz#12`). The model's tensors are read from these bytes when first needed.
 */
export async function loadModelFromBytes(bytes: Uint8Array, label: string, options: LoadOptions = {}): Promise<Model> {
  return refuseMissing(await loadModelFrom(new MemorySource(bytes), label, () => new MemorySource(bytes)), options);
}

/** A model that records its own structure, given --config anyway: refused, naming both. */
function withoutConfig(model: Model, structure: StructureSource | undefined): Model {
  if (structure) {
    throw new UsageError(`--config applies to weights-only files; ${model.source} records its own model config (${FORMAT_DESCRIPTIONS[model.format]}), so ${structure.label} is not needed`);
  }
  return model;
}

/** A model missing a listed tensor is refused unless the caller asked to see it (check). */
function refuseMissing(model: Model, options: LoadOptions): Model {
  if (options.missingTensors === "keep") return model;
  for (const { layer } of walkLayers(model.layers)) {
    const m = layer.missingWeights?.[0];
    if (m) throw new FileError(model.source, `weight '${m.name}' should be at '${m.path}', but there is no dataset there`);
  }
  return model;
}

/**
 * Loads the model in `source`, which it owns from now on; `reopen` opens it again for later
 * reads. `path` is where it lies on disk, if it does: exports name files beside them.
 */
async function loadModelFrom(source: ByteSource, label: string, reopen: OpenSource, path?: string, structure?: StructureSource): Promise<Model> {
  let kind: ContainerKind;
  try {
    if (source.size === 0) throw new FileError(label, "is empty (0 bytes)");
    const bytes = new PagedReader(source);
    // Before sniffing: a SavedModel's protobuf could pass for an ONNX one.
    const known = knownNonModel(bytes, path);
    if (known) throw new FileError(label, known);
    const sniffed = sniff(bytes);
    if (!sniffed) {
      // A damaged export keeps its name: say what it is not, rather than name the Keras containers only.
      const not = /\.json$/i.test(label)
        ? "not a TensorFlow.js model.json (no JSON object naming modelTopology; "
        : /\.onnx$/i.test(label)
          ? "not an ONNX model (it does not open with a ModelProto's fields; "
          : "not an HDF5 file or a .keras zip (";
      throw new FileError(label, `${not}starts with bytes ${leadingBytesHex(bytes)})`);
    }
    kind = sniffed.kind;
  } catch (err) {
    source.close();
    throw err;
  }
  // A TFLite flatbuffer names no file beside it: read whole from the bytes (size-limited).
  if (kind === "tflite") {
    const { readTfliteSource } = await import("./tflite.js");
    return withoutConfig(readTfliteSource(source, label), structure);
  }
  if (kind === "keras-shards") {
    // The index names its shard files, which lie beside it: read from its path.
    source.close();
    if (path === undefined) throw new FileError(label, "is a Keras sharded-weights index: read it from its file, where its shards lie beside it");
    return loadShardedWeights(path, structure);
  }
  if (kind === "tfjs-json" || kind === "onnx") {
    // Both exports are read whole by their adapters (a model.json is at most a config's size,
    // an ONNX protobuf is decoded at once), from the path so that their files beside resolve.
    source.close();
    if (path === undefined) throw new FileError(label, `is ${kind === "onnx" ? "an ONNX model" : "a TensorFlow.js model.json"}: read it from its file, where the files it names lie beside it`);
  }
  try {
    if (kind === "zip") {
      // A bare model.weights.npz is a zip too, and records no config: --config applies to it.
      const model = await readKerasArchive(source, label, reopen, undefined, structure);
      return model.format === "keras3-weights" ? model : withoutConfig(model, structure);
    }
    if (kind === "tfjs-json") return withoutConfig(await loadTfjs(path!), structure);
    if (kind === "onnx") return withoutConfig(await loadOnnx(path!), structure);
    return await loadHdf5(source, label, reopen, structure);
  } catch (err) {
    if (err instanceof FileError || err instanceof UsageError) throw err;
    // Anything else is a bug or a malformed file we did not anticipate; still one line naming the file.
    const msg = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new FileError(label, `could not read it as a Keras model: ${msg}`, { cause: err });
  }
}

async function loadHdf5(source: ByteSource, label: string, reopen: OpenSource, structure?: StructureSource): Promise<Model> {
  const h5 = await openH5File(source, label, reopen);
  try {
    const rootAttrs = new Set(h5.attrNames("/"));
    if (rootAttrs.has("model_config")) return withoutConfig(readFullModel(h5), structure);
    const weightsOnly = (root: string) => (structure ? readWeightsWithConfig(h5, root, structure) : readWeightsOnly(h5, root));
    if (loadStringList(h5, "/", "layer_names") !== undefined) return weightsOnly("/");
    if (h5.isGroup("/model_weights") && loadStringList(h5, "/model_weights", "layer_names") !== undefined) {
      return weightsOnly("/model_weights");
    }
    if (isKeras3WeightsStore(h5)) return structure ? readKeras3WeightsWithConfig(h5, structure) : readKeras3Weights(h5);
    throw new FileError(label, "HDF5 file but not a Keras model: no model_config, layer_names or layers/ group found");
  } finally {
    h5.close();
  }
}
