/**
 * TensorFlow.js layers-models: a `model.json` beside its weight files, as written by the
 * TensorFlow.js converter (`tensorflowjs_converter --input_format keras`) and by
 * TensorFlow.js itself (`model.save()`).
 *
 * `model.json` holds
 * - `modelTopology`: the Keras model config, either wrapped as Keras' HDF5 attributes are
 *   (`{keras_version, backend, model_config: {class_name, config}, training_config}`, the
 *   converter) or bare (`{class_name, config, keras_version: "tfjs-layers 1.1.0", backend}`,
 *   TensorFlow.js itself); read by the same config parser as the Keras files;
 * - `weightsManifest`: groups of `{paths, weights}`. A group's files (`group1-shard1of2.bin`,
 *   ...; converters before tfjs 1.0 wrote them without `.bin`) are one byte stream cut into
 *   shards; its weights lie in it one after another from offset 0, each `shape`'s product
 *   times the size of its stored dtype (tfjs-core io/weights_loader.ts).
 *   Weight names are Keras' own (`lstm_2/kernel`, `bidirectional/forward_lstm/lstm_cell/kernel`,
 *   `lstm_LSTM2/kernel` from TensorFlow.js), so each finds its layer by name.
 * - `format` (`layers-model`), `generatedBy`, `convertedBy`: absent before tfjs 1.0.
 *
 * Quantized weights (`quantization: {dtype, scale, min}`) are dequantized as tfjs-core
 * io/io_utils.ts (decodeWeight) does: uint8/uint16 `q` becomes `q·scale + min` computed in
 * double precision and stored as float32; float16 is widened to float32 exactly. Each
 * layer's notes say which of its tensors were stored how.
 *
 * Shard paths come from the file: each is confined to model.json's folder (folder-files.ts),
 * and the bytes the manifest claims are checked against the shards' real sizes before any
 * buffer is allocated.
 */
import { stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { FileError, systemReason } from "../errors.js";
import type { DType, Layer, Model, Tensor } from "../model.js";
import { tensorNames } from "./common.js";
import { isObject, kerasMajorOf, parseModelConfig, readJsonFile, type ConfigContext, type Json, type JsonObject } from "./config.js";
import { fileInFolder, readFolderFile, type FolderFile } from "./folder-files.js";
import { halfToNumber } from "./half.js";

/** Most weight bytes we read from one model's shards, all groups together. */
export const MAX_TFJS_WEIGHT_BYTES = 1024 * 1024 * 1024;
/** Most dimensions a weight's shape may have. Keras weights have at most 5 (Conv3D kernels). */
const MAX_RANK = 16;

const STORED_DTYPES = ["float32", "int32"] as const;
type StoredDType = (typeof STORED_DTYPES)[number];
const QUANTIZED_DTYPES = { uint8: 1, uint16: 2, float16: 2 } as const;
type QuantizedDType = keyof typeof QUANTIZED_DTYPES;

interface Quantization {
  dtype: QuantizedDType;
  scale: number;
  min: number;
}

/** One `weights` entry of a manifest group, checked. */
interface WeightSpec {
  name: string;
  shape: number[];
  dtype: StoredDType;
  quantization?: Quantization;
  /** Where it starts in its group's byte stream, and how many bytes it takes there. */
  offset: number;
  bytes: number;
  group: number;
}

interface ManifestGroup {
  paths: string[];
  specs: WeightSpec[];
  bytes: number;
}

/** The model.json a path names: the file itself, or `model.json` in a folder. */
async function modelJsonPath(path: string): Promise<string> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) return join(path, "model.json");
    return path;
  } catch (err) {
    throw new FileError(path, systemReason(err), { cause: err });
  }
}

function readModelJson(label: string): Promise<Json> {
  return readJsonFile(label, "a model.json", "model.json");
}

// ---------------------------------------------------------------------------
// The manifest
// ---------------------------------------------------------------------------

function parseQuantization(q: Json, name: string, dtype: StoredDType, label: string): Quantization {
  if (!isObject(q) || typeof q.dtype !== "string" || !Object.hasOwn(QUANTIZED_DTYPES, q.dtype)) {
    throw new FileError(label, `weight '${name}' has a quantization that is not uint8, uint16 or float16 (the dtypes TensorFlow.js defines)`);
  }
  const qdtype = q.dtype as QuantizedDType;
  if (qdtype === "float16") {
    if (dtype !== "float32") throw new FileError(label, `weight '${name}' is float16-quantized but declared ${dtype}; TensorFlow.js allows that only for float32`);
    return { dtype: qdtype, scale: 1, min: 0 };
  }
  if (typeof q.scale !== "number" || typeof q.min !== "number" || !Number.isFinite(q.scale) || !Number.isFinite(q.min)) {
    throw new FileError(label, `weight '${name}' is ${qdtype}-quantized without a finite scale and min`);
  }
  return { dtype: qdtype, scale: q.scale, min: q.min };
}

function parseSpec(entry: Json, group: number, offset: number, label: string): WeightSpec {
  if (!isObject(entry) || typeof entry.name !== "string" || entry.name === "") {
    throw new FileError(label, `weightsManifest group ${group + 1} has a weight entry without a name`);
  }
  const name = entry.name;
  const shape = entry.shape;
  if (!Array.isArray(shape) || shape.length > MAX_RANK || !shape.every((d) => typeof d === "number" && Number.isSafeInteger(d) && d >= 0)) {
    throw new FileError(label, `weight '${name}' has a shape that is not a list of at most ${MAX_RANK} non-negative integers`);
  }
  const dtype = entry.dtype;
  if (typeof dtype !== "string" || !(STORED_DTYPES as readonly string[]).includes(dtype)) {
    const given = dtype === undefined ? "no dtype" : `dtype ${JSON.stringify(dtype).slice(0, 40)}`;
    throw new FileError(label, `weight '${name}' has ${given}; Keras layer weights are float32 (or int32)`);
  }
  const quantization = entry.quantization === undefined || entry.quantization === null ? undefined : parseQuantization(entry.quantization, name, dtype as StoredDType, label);
  const valueBytes = quantization ? QUANTIZED_DTYPES[quantization.dtype] : 4;
  // The product is checked as it grows: a claimed shape is never multiplied past the limit.
  let bytes = valueBytes;
  for (const d of shape as number[]) {
    bytes *= d;
    if (bytes > MAX_TFJS_WEIGHT_BYTES) {
      throw new FileError(label, `weight '${name}' claims shape [${(shape as number[]).join(", ")}], over the ${MAX_TFJS_WEIGHT_BYTES}-byte limit`);
    }
  }
  return { name, shape: shape as number[], dtype: dtype as StoredDType, quantization, offset, bytes, group };
}

function parseManifest(manifest: Json | undefined, label: string): ManifestGroup[] {
  if (manifest === undefined || manifest === null) return [];
  if (!Array.isArray(manifest)) throw new FileError(label, "weightsManifest is not a list of weight groups");
  const seen = new Set<string>();
  let total = 0;
  return manifest.map((g, k) => {
    if (!isObject(g) || !Array.isArray(g.paths) || !Array.isArray(g.weights)) {
      throw new FileError(label, `weightsManifest group ${k + 1} is not {paths: [...], weights: [...]}`);
    }
    const paths = g.paths.map((p) => {
      if (typeof p !== "string") throw new FileError(label, `weightsManifest group ${k + 1} has a path that is not a string`);
      return p;
    });
    let offset = 0;
    const specs = g.weights.map((w) => {
      const spec = parseSpec(w, k, offset, label);
      if (seen.has(spec.name)) throw new FileError(label, `weightsManifest names weight '${spec.name}' twice`);
      seen.add(spec.name);
      offset += spec.bytes;
      total += spec.bytes;
      if (total > MAX_TFJS_WEIGHT_BYTES) throw new FileError(label, `weightsManifest claims over ${MAX_TFJS_WEIGHT_BYTES} bytes of weights; more than this tool reads`);
      return spec;
    });
    return { paths, specs, bytes: offset };
  });
}

/** The bytes a group's weights take, read from its shards in order (only as many as the weights need). */
async function readGroup(group: ManifestGroup, index: number, folder: string, label: string, notes: string[]): Promise<Uint8Array> {
  if (group.bytes === 0) return new Uint8Array(0);
  if (group.paths.length === 0) throw new FileError(label, `weightsManifest group ${index + 1} has weights but names no file holding them`);
  const files: FolderFile[] = [];
  for (const p of group.paths) files.push(await fileInFolder(folder, p, label, "weight shard"));
  const available = files.reduce((sum, f) => sum + f.size, 0);
  if (available < group.bytes) {
    throw new FileError(
      label,
      `weight group ${index + 1} needs ${group.bytes} bytes for its ${group.specs.length} weight(s), but its shards (${group.paths.join(", ")}) hold ${available}`,
    );
  }
  if (available > group.bytes) notes.push(`weight group ${index + 1}: its shards hold ${available - group.bytes} byte(s) past its last weight, unused (as TensorFlow.js leaves them)`);
  const out = new Uint8Array(group.bytes);
  let at = 0;
  for (const f of files) {
    if (at === group.bytes) break;
    const take = Math.min(f.size, group.bytes - at);
    out.set(await readFolderFile(f, 0, take, label, "weight shard"), at);
    at += take;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Decoding and dequantizing
// ---------------------------------------------------------------------------

/**
 * One weight's values; for quantized ones also what `diff` measures them in (Tensor.quantizationStep:
 * the scale, the same for every column, as tfjs quantizes a whole tensor with one scale; or
 * Tensor.storedAsFloat16).
 */
function decodeSpec(spec: WeightSpec, bytes: Uint8Array): { data: Float32Array | Float64Array; dtype: DType; note?: string; quantizationStep?: Float64Array; storedAsFloat16?: boolean } {
  const view = new DataView(bytes.buffer, bytes.byteOffset + spec.offset, spec.bytes);
  const q = spec.quantization;
  const count = spec.bytes / (q ? QUANTIZED_DTYPES[q.dtype] : 4);
  if (!q) {
    if (spec.dtype === "int32") {
      const data = new Float64Array(count);
      for (let k = 0; k < count; k++) data[k] = view.getInt32(4 * k, true);
      return { data, dtype: "int32" };
    }
    const data = new Float32Array(count);
    for (let k = 0; k < count; k++) data[k] = view.getFloat32(4 * k, true);
    return { data, dtype: "float32" };
  }
  if (q.dtype === "float16") {
    const data = new Float32Array(count);
    for (let k = 0; k < count; k++) data[k] = halfToNumber(view.getUint16(2 * k, true));
    return { data, dtype: "float32", note: "stored as float16, widened to float32 exactly (as TensorFlow.js does)", storedAsFloat16: true };
  }
  const read = q.dtype === "uint8" ? (k: number) => view.getUint8(k) : (k: number) => view.getUint16(2 * k, true);
  const how = `stored as ${q.dtype} q with scale ${q.scale} and min ${q.min}`;
  if (spec.dtype === "int32") {
    const data = new Float64Array(count);
    for (let k = 0; k < count; k++) data[k] = Math.round(read(k) * q.scale + q.min);
    return { data, dtype: "int32", note: `${how}: dequantized as round(q·scale + min) (as TensorFlow.js does)` };
  }
  // tfjs computes q·scale + min in double precision and stores it into a Float32Array.
  const data = new Float32Array(count);
  for (let k = 0; k < count; k++) data[k] = read(k) * q.scale + q.min;
  return {
    data,
    dtype: "float32",
    note: `${how}: dequantized as q·scale + min in double precision, rounded to float32 (as TensorFlow.js does); one quantization step is ${q.scale}`,
    quantizationStep: new Float64Array(spec.shape.length > 0 ? spec.shape[spec.shape.length - 1] : 1).fill(q.scale),
  };
}

// ---------------------------------------------------------------------------
// Weights to layers, by name
// ---------------------------------------------------------------------------

interface NamedWeight {
  /** The manifest name without a trailing `:0`. */
  name: string;
  tensor: Omit<Tensor, "name">;
  note?: string;
}

/**
 * Which of `layers` a weight belongs to: the one named by the leftmost component of its
 * name (`bidirectional_51/forward_lstm_67/lstm_cell/kernel`; Keras 3 writes the model's
 * own name first, `sequential/lstm/lstm_cell/kernel`). Unlike HDF5, where a layer's group
 * holds its weights, a manifest is one flat list of full names.
 */
function owner(layers: Layer[], weightName: string): Layer | undefined {
  const parts = weightName.split("/").slice(0, -1);
  for (const part of parts) {
    const found = layers.find((l) => l.name === part);
    if (found) return found;
  }
  return undefined;
}

function attach(layer: Layer, weights: NamedWeight[], path: string, label: string): void {
  if (weights.length === 0) return;
  if (layer.children.length === 0) {
    const names = tensorNames(
      weights.map((w) => w.name),
      layer.name,
    );
    layer.weights = weights.map((w, k) => ({ ...w.tensor, name: names[k] }));
    const stored = weights.flatMap((w, k) => (w.note ? [`${names[k]}: ${w.note}`] : []));
    if (stored.length > 0) layer.notes = [...(layer.notes ?? []), ...stored];
    return;
  }
  if (layer.className === "TimeDistributed") {
    // TensorFlow.js names the inner layer's weights after the wrapper (`time_distributed_TimeDistributed1/kernel`).
    attach(layer.children[0], weights, `${path}/${layer.children[0].name}`, label);
    return;
  }
  const byChild = new Map<Layer, NamedWeight[]>(layer.children.map((c) => [c, []]));
  let unmatched: NamedWeight[] = [];
  for (const w of weights) {
    const child = owner(layer.children, w.name);
    if (child) byChild.get(child)!.push(w);
    else unmatched.push(w);
  }
  if (unmatched.length > 0 && layer.className === "Bidirectional") {
    // Names that do not carry the child's exact name: the forward_/backward_ prefix decides.
    const [fw, bw] = layer.children;
    const side = (w: NamedWeight) => w.name.split("/").find((p) => p.startsWith("forward_") || p.startsWith("backward_"));
    unmatched = unmatched.filter((w) => {
      const s = side(w);
      if (s === undefined) return true;
      byChild.get(s.startsWith("forward_") ? fw : bw)!.push(w);
      return false;
    });
  }
  if (unmatched.length > 0) {
    throw new FileError(
      label,
      `weight '${unmatched[0].name}' of ${layer.className} layer '${path}' names none of its inner layers (${layer.children.map((c) => c.name).join(", ")})`,
    );
  }
  for (const [child, childWeights] of byChild) attach(child, childWeights, `${path}/${child.name}`, label);
}

// ---------------------------------------------------------------------------
// The model
// ---------------------------------------------------------------------------

/** The Keras model entry inside `modelTopology`, and the version fields beside it. */
function topologyParts(topology: JsonObject, label: string): { modelEntry: Json; kerasVersion?: string; backend?: string } {
  const str = (v: Json | undefined) => (typeof v === "string" ? v : undefined);
  if (isObject(topology.model_config)) {
    return { modelEntry: topology.model_config, kerasVersion: str(topology.keras_version), backend: str(topology.backend) };
  }
  if (typeof topology.class_name === "string") {
    return { modelEntry: topology, kerasVersion: str(topology.keras_version), backend: str(topology.backend) };
  }
  if (Array.isArray(topology.node)) {
    throw new FileError(label, "is a TensorFlow.js graph model (a TensorFlow GraphDef), not a layers-model: it holds no Keras layers to read");
  }
  throw new FileError(label, "modelTopology holds neither a Keras model config (class_name, config) nor model_config");
}

function writerMajor(kerasVersion: string | undefined, generatedBy: string | undefined, notes: string[]): 1 | 2 | 3 {
  if (kerasVersion?.startsWith("tfjs-layers")) {
    notes.push(`written by TensorFlow.js itself (${kerasVersion}), which follows Keras 2 (hard_sigmoid is 0.2·x + 0.5)`);
    return 2;
  }
  const major = kerasMajorOf(kerasVersion) ?? kerasMajorOf(/keras v?(\S+)/i.exec(generatedBy ?? "")?.[1]);
  if (major !== undefined) {
    if (major === 3) {
      notes.push("written from Keras 3, but TensorFlow.js computes hard_sigmoid as Keras 2 did (0.2·x + 0.5); --hard-sigmoid keras2 evaluates as the browser will");
    }
    return major;
  }
  notes.push("model.json records no Keras version; read as Keras 2, whose semantics TensorFlow.js follows");
  return 2;
}

/** Reads a TensorFlow.js layers-model from its `model.json` (or the folder holding it). */
export async function loadTfjs(path: string): Promise<Model> {
  const label = await modelJsonPath(path);
  const json = await readModelJson(label);
  if (!isObject(json)) throw new FileError(label, "is not a JSON object; not a TensorFlow.js model.json");
  if (json.format !== undefined && json.format !== "layers-model") {
    const format = JSON.stringify(json.format).slice(0, 40);
    throw new FileError(
      label,
      json.format === "graph-model"
        ? "is a TensorFlow.js graph model (a TensorFlow GraphDef), not a layers-model: it holds no Keras layers to read"
        : `has format ${format}; only TensorFlow.js layers-models are read`,
    );
  }
  if (!isObject(json.modelTopology)) throw new FileError(label, "has no modelTopology object; not a TensorFlow.js layers-model");
  const str = (v: Json | undefined) => (typeof v === "string" ? v : undefined);
  const generatedBy = str(json.generatedBy);
  const convertedBy = str(json.convertedBy);
  const notes: string[] = [];
  const { modelEntry, kerasVersion, backend } = topologyParts(json.modelTopology, label);
  if (json.format !== undefined) {
    notes.push(`TensorFlow.js layers-model${generatedBy ? `, generated by ${generatedBy}` : ""}${convertedBy ? `, converted by ${convertedBy}` : ""}`);
  } else if (!kerasVersion?.startsWith("tfjs-layers")) {
    notes.push("TensorFlow.js layers-model without a format key (written by a converter before tfjs 1.0)");
  }
  const kerasMajor = writerMajor(kerasVersion, generatedBy, notes);
  const ctx: ConfigContext = { label, kerasMajor, notes };
  const parsed = parseModelConfig(modelEntry, ctx);

  const groups = parseManifest(json.weightsManifest, label);
  const folder = dirname(label);
  const weights: NamedWeight[] = [];
  for (const [k, group] of groups.entries()) {
    const bytes = await readGroup(group, k, folder, label, notes);
    for (const spec of group.specs) {
      const { data, dtype, note, quantizationStep, storedAsFloat16 } = decodeSpec(spec, bytes);
      const quantized = { ...(quantizationStep ? { quantizationStep } : {}), ...(storedAsFloat16 ? { storedAsFloat16 } : {}) };
      weights.push({ name: spec.name.replace(/:\d+$/, ""), tensor: { path: spec.name, shape: spec.shape, dtype, data, ...quantized }, note });
    }
  }
  const quantized = weights.filter((w) => w.note).length;
  if (quantized > 0) notes.push(`${quantized} weight(s) are stored quantized; dequantized as TensorFlow.js does (each layer's notes say how)`);

  const byLayer = new Map<Layer, NamedWeight[]>();
  for (const w of weights) {
    const layer = owner(parsed.layers, w.name);
    if (!layer) throw new FileError(label, `weightsManifest holds weight '${w.name}', which names no layer of the model config`);
    byLayer.set(layer, [...(byLayer.get(layer) ?? []), w]);
  }
  for (const [layer, list] of byLayer) attach(layer, list, layer.name, label);

  return {
    format: "tfjs-layers",
    source: label,
    kerasVersion,
    kerasMajor,
    backend,
    modelClass: parsed.modelClass,
    name: parsed.name ?? basename(folder),
    layers: parsed.layers,
    inputs: parsed.inputs,
    outputs: parsed.outputs,
    notes,
  };
}
