/**
 * `--config FILE`: the structure of a model whose weights file records none (issue 13,
 * item 2). A weights-only file (`save_weights()` HDF5, Keras 3 `.weights.h5`) stores
 * tensors by layer, but not the layer settings (activations, return_sequences, masking
 * values) nor, for Keras 3, the order of the layers; evaluating it needs the model's
 * config from elsewhere. The config is read from:
 * - a Keras model JSON, as `model.to_json()` writes it (Keras 2 and 3), or the
 *   `config.json` of a `.keras` archive (`{"class_name": ..., "config": ...}`);
 * - a TensorFlow.js `model.json` (its `modelTopology`);
 * - another model file of the same architecture: a full-model HDF5 (`model_config`) or a
 *   `.keras` archive (`config.json`). Only its config is read, never its weights.
 */
import { FileError } from "../errors.js";
import { fileOpener, PagedReader } from "./byte-source.js";
import { decodeUtf8, isObject, type Json, MAX_CONFIG_BYTES, parseConfigJson, readJsonFile } from "./config.js";
import { openH5File } from "./hdf5-open.js";
import { sniff } from "./sniff.js";
import { entryBytes, readZipEntries } from "./zip.js";

/** A model config read for `--config`. */
export interface StructureSource {
  /** The file it came from, for messages. */
  label: string;
  /** The model's config: `{"class_name": "Sequential" | "Functional" | "Model", "config": {...}}`. */
  json: Json;
  /** The Keras version the file records, when it records one. */
  kerasVersion?: string;
}

/** The model config inside a parsed JSON document, whichever of the accepted forms it is. */
function modelConfigOf(doc: Json, label: string): { json: Json; kerasVersion?: string } {
  if (!isObject(doc)) throw new FileError(label, "is JSON but not a Keras model config (expected an object with class_name and config)");
  const version = typeof doc.keras_version === "string" ? doc.keras_version : undefined;
  // Keras 1 and early Keras 2 Sequential configs are a bare list of layers.
  if (typeof doc.class_name === "string" && (isObject(doc.config) || Array.isArray(doc.config))) return { json: doc, kerasVersion: version };
  const topology = doc.modelTopology;
  if (isObject(topology)) {
    // TensorFlow.js model.json: modelTopology holds {keras_version, backend, model_config} (or the config itself).
    const inner = isObject(topology.model_config) ? topology.model_config : topology;
    if (typeof inner.class_name === "string" && (isObject(inner.config) || Array.isArray(inner.config))) {
      return { json: inner, kerasVersion: typeof topology.keras_version === "string" ? topology.keras_version : version };
    }
  }
  throw new FileError(label, "is JSON but not a Keras model config (expected an object with class_name and config, as model.to_json() writes)");
}

/** Reads the model config in `path` (see the module comment for what it may be). */
export async function readStructure(path: string): Promise<StructureSource> {
  const label = path;
  const source = fileOpener(path)();
  let kind: string | undefined;
  try {
    kind = sniff(new PagedReader(source))?.kind;
    if (kind === "zip") {
      const bytes = new PagedReader(source);
      const { entries } = readZipEntries(bytes, label, new Set(["config.json", "metadata.json"]), {
        maxEntryBytes: () => MAX_CONFIG_BYTES,
        maxTotalBytes: 2 * MAX_CONFIG_BYTES,
      });
      if (!entries["config.json"]) throw new FileError(label, "is a zip archive without config.json; --config needs a model config");
      const { json } = modelConfigOf(parseConfigJson(decodeUtf8(entryBytes(bytes, entries["config.json"]), label, "config.json"), label, "config.json"), label);
      let kerasVersion: string | undefined;
      if (entries["metadata.json"]) {
        const meta = parseConfigJson(decodeUtf8(entryBytes(bytes, entries["metadata.json"]), label, "metadata.json"), label, "metadata.json");
        if (isObject(meta) && typeof meta.keras_version === "string") kerasVersion = meta.keras_version;
      }
      return { label, json, kerasVersion: kerasVersion ?? "3" };
    }
  } finally {
    if (kind !== "hdf5") source.close();
  }
  if (kind === "hdf5") {
    const h5 = await openH5File(source, label, fileOpener(path));
    try {
      const configText = h5.attr("/", "model_config");
      if (typeof configText !== "string") {
        throw new FileError(label, "has no model_config (it is a weights-only file too); --config needs a file that records the model's structure");
      }
      const version = [h5.attr("/", "keras_version"), h5.isGroup("/model_weights") ? h5.attr("/model_weights", "keras_version") : undefined].find(
        (v): v is string => typeof v === "string",
      );
      return { label, json: modelConfigOf(parseConfigJson(configText, label, "model_config"), label).json, kerasVersion: version };
    } finally {
      h5.close();
    }
  }
  if (kind === "onnx") throw new FileError(label, "is an ONNX model, which records no Keras config; --config needs a Keras model JSON or model file");
  if (kind === "tflite") throw new FileError(label, "is a TFLite model, which records no Keras config; --config needs a Keras model JSON or model file");
  const doc = await readJsonFile(path, "a model config", "the file");
  return { label, ...modelConfigOf(doc, label) };
}
