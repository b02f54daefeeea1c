/**
 * Model configs as Keras serializes them (docs/keras-formats.md A1.6, A2.1), turned
 * into the normalized Layer tree (without weights; the adapters attach those).
 *
 * Handles:
 * - Sequential as a list (Keras 1, 2.0-2.2.2) or as {name, layers} (2.2.3+, tf.keras, Keras 3);
 * - Functional/Model {layers, input_layers, output_layers};
 * - inbound nodes in the Keras 1/2 list form and the Keras 3 {args, kwargs} form;
 * - nested models, Bidirectional (forward/backward children), TimeDistributed (inner child);
 * - Keras 1 config keys renamed to Keras 2 ones.
 *
 * Nothing in a config is ever executed: a Lambda layer keeps its class name and its
 * config as data.
 */
import { readFile, stat } from "node:fs/promises";
import { FileError, systemReason } from "../errors.js";
import { lookup, setOwn } from "../lookup.js";
import type { CallArguments, CallValue, InboundRef, Layer, Model } from "../model.js";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** Largest config JSON we parse (config.json / model_config attribute). */
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024;
/** Deepest nesting we accept in a config. Real configs stay below 30. */
export const MAX_CONFIG_DEPTH = 200;
/** Deepest model-in-model nesting we follow. */
const MAX_MODEL_NESTING = 32;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function depthExceeds(value: Json, limit: number): boolean {
  const stack: [Json, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > limit) return true;
    if (Array.isArray(v)) for (const x of v) stack.push([x, d + 1]);
    else if (isObject(v)) for (const k of Object.keys(v)) stack.push([v[k], d + 1]);
  }
  return false;
}

/**
 * Nesting depth of JSON text, counted on the characters (brackets outside strings), so
 * that a document nested past the limit is refused before JSON.parse builds it: the fuzz
 * suite's 2 MB config.json of a million nested arrays took a worker to 690 MB.
 */
function textDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Parses a JSON config with a size and depth limit; every failure is a FileError naming `what`. */
export function parseConfigJson(text: string, label: string, what: string): Json {
  if (text.length > MAX_CONFIG_BYTES) {
    throw new FileError(label, `${what} is ${text.length} bytes, over the ${MAX_CONFIG_BYTES}-byte limit for a model config`);
  }
  if (textDepthExceeds(text, MAX_CONFIG_DEPTH)) {
    throw new FileError(label, `${what} is nested deeper than ${MAX_CONFIG_DEPTH} levels; not a Keras model config`);
  }
  let value: Json;
  try {
    value = JSON.parse(text) as Json;
  } catch (err) {
    const reason = err instanceof RangeError ? "it is nested too deeply" : (err as Error).message.split("\n")[0];
    throw new FileError(label, `${what} is not valid JSON (${reason})`, { cause: err });
  }
  if (depthExceeds(value, MAX_CONFIG_DEPTH)) {
    throw new FileError(label, `${what} is nested deeper than ${MAX_CONFIG_DEPTH} levels; not a Keras model config`);
  }
  return value;
}

/** Bytes that must be UTF-8 text (a config, metadata, an index); `what` names them in the error, when they are not the whole file. */
export function decodeUtf8(bytes: Uint8Array, label: string, what?: string): string {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch (err) {
    throw new FileError(label, `${what === undefined ? "" : `${what} `}is not UTF-8 text`, { cause: err });
  }
}

/**
 * A JSON file on disk (a model.json, a weights index, a --config model JSON): a regular
 * file under MAX_CONFIG_BYTES (`kind` names it in that message, e.g. "a model.json"), UTF-8,
 * parsed by parseConfigJson (`what` names it there). Every failure is a FileError naming `path`.
 */
export async function readJsonFile(path: string, kind: string, what: string): Promise<Json> {
  let bytes: Uint8Array;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new FileError(path, "is not a regular file");
    if (st.size > MAX_CONFIG_BYTES) throw new FileError(path, `is ${st.size} bytes, over the ${MAX_CONFIG_BYTES}-byte limit for ${kind}`);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(path, systemReason(err), { cause: err });
  }
  return parseConfigJson(decodeUtf8(bytes, path), path, what);
}

/** Major version from a keras_version string: "1.2.2" -> 1, "2.2.4-tf" -> 2, "3.12.0" -> 3. */
export function kerasMajorOf(version: string | undefined): 1 | 2 | 3 | undefined {
  const m = /^\s*(\d+)\./.exec(version ?? "");
  if (!m) return undefined;
  const major = Number(m[1]);
  if (major <= 1) return 1;
  if (major === 2) return 2;
  return 3;
}

// ---------------------------------------------------------------------------
// Keras 1 -> Keras 2 config keys (keras 2.0.0 keras/legacy/interfaces.py)
// ---------------------------------------------------------------------------

const RECURRENT_CLASSES = new Set(["LSTM", "GRU", "SimpleRNN", "ConvLSTM2D"]);
const MODEL_CLASSES = new Set(["Sequential", "Model", "Functional"]);

/** Renames that hold for every layer class except Embedding (handled separately). */
const COMMON_RENAMES: Record<string, string> = {
  output_dim: "units",
  init: "kernel_initializer",
  inner_init: "recurrent_initializer",
  inner_activation: "recurrent_activation",
  W_regularizer: "kernel_regularizer",
  U_regularizer: "recurrent_regularizer",
  b_regularizer: "bias_regularizer",
  W_constraint: "kernel_constraint",
  U_constraint: "recurrent_constraint",
  b_constraint: "bias_constraint",
  bias: "use_bias",
  dropout_W: "dropout",
  dropout_U: "recurrent_dropout",
  input_dtype: "dtype",
  // Convolutions
  nb_filter: "filters",
  filter_length: "kernel_size",
  subsample_length: "strides",
  border_mode: "padding",
};

const EMBEDDING_RENAMES: Record<string, string> = {
  init: "embeddings_initializer",
  W_regularizer: "embeddings_regularizer",
  W_constraint: "embeddings_constraint",
  input_dtype: "dtype",
};

const CONSUME_LESS: Record<string, number> = { cpu: 0, mem: 1, gpu: 2 };

/** Translates a Keras 1 layer config to Keras 2 key names. Returns a new object. */
export function translateKeras1Config(className: string, config: JsonObject): JsonObject {
  const out: JsonObject = {};
  const renames = className === "Embedding" ? EMBEDDING_RENAMES : COMMON_RENAMES;
  for (const key of Object.keys(config)) {
    const value = config[key];
    const implementation = key === "consume_less" && typeof value === "string" ? lookup(CONSUME_LESS, value) : undefined;
    if (implementation !== undefined) {
      out.implementation = implementation;
    } else if (key === "forget_bias_init" && (value === "one" || value === "zero")) {
      out.unit_forget_bias = value === "one";
    } else {
      // setOwn: a key "__proto__" from the file stays data, never this object's prototype.
      setOwn(out, lookup(renames, key) ?? key, value);
    }
  }
  // input_dim / input_length -> batch_input_shape, as Keras 2 turned them into input_shape.
  if (out.batch_input_shape === undefined || out.batch_input_shape === null) {
    if (className === "Embedding") {
      if (typeof out.input_length === "number") out.batch_input_shape = [null, out.input_length];
    } else if (typeof out.input_dim === "number") {
      const isSequence = RECURRENT_CLASSES.has(className) || className === "TimeDistributedDense";
      out.batch_input_shape = isSequence
        ? [null, typeof out.input_length === "number" ? out.input_length : null, out.input_dim]
        : [null, out.input_dim];
    }
  }
  if (className !== "Embedding" && out.batch_input_shape !== undefined) {
    delete out.input_dim;
    delete out.input_length;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Inbound nodes
// ---------------------------------------------------------------------------

function refFromList(entry: Json, label: string, layerName: string): InboundRef {
  if (!Array.isArray(entry) || typeof entry[0] !== "string") {
    throw new FileError(label, `layer '${layerName}' has an inbound node entry that is not ["layer", node, tensor]: ${JSON.stringify(entry).slice(0, 80)}`);
  }
  const node = typeof entry[1] === "number" ? entry[1] : 0;
  const tensor = typeof entry[2] === "number" ? entry[2] : 0;
  return { layer: entry[0], node, tensor };
}

/** Every `__keras_tensor__` inside a Keras 3 call's args/kwargs, in order. */
function collectKerasTensors(value: Json, out: InboundRef[], label: string, layerName: string): void {
  if (Array.isArray(value)) {
    for (const v of value) collectKerasTensors(v, out, label, layerName);
  } else if (isObject(value)) {
    if (value.class_name === "__keras_tensor__" && isObject(value.config)) {
      out.push(refFromList(value.config.keras_history ?? null, label, layerName));
      return;
    }
    for (const k of Object.keys(value)) collectKerasTensors(value[k], out, label, layerName);
  }
}

/**
 * Normalizes `inbound_nodes`:
 * - Keras 1/2 and tf.keras: `[[["name", node, tensor, {kwargs}], ...], ...]`
 * - Keras 3: `[{"args": [...], "kwargs": {...}}, ...]` with keras_history in each tensor.
 */
export function normalizeInbound(nodes: Json | undefined, label: string, layerName: string): InboundRef[][] {
  if (nodes === undefined || nodes === null) return [];
  if (!Array.isArray(nodes)) {
    throw new FileError(label, `layer '${layerName}' has inbound_nodes that are not a list`);
  }
  return nodes.map((node) => {
    if (isObject(node)) {
      const refs: InboundRef[] = [];
      collectKerasTensors(node.args ?? [], refs, label, layerName);
      collectKerasTensors(node.kwargs ?? {}, refs, label, layerName);
      return refs;
    }
    if (Array.isArray(node)) return node.map((e) => refFromList(e, label, layerName));
    throw new FileError(label, `layer '${layerName}' has an inbound node that is neither a list nor {args, kwargs}`);
  });
}

/** Keras 2 writes a tensor inside kwargs as `[layer, node, tensor]` (tf.keras Node.serialize). */
function isKeras2TensorRef(v: Json): v is [string, number, number] {
  return Array.isArray(v) && v.length === 3 && typeof v[0] === "string" && typeof v[1] === "number" && typeof v[2] === "number";
}

/** A call argument with its tensors as references: `__keras_tensor__` (Keras 3) or `[layer, node, tensor]` (Keras 2 kwargs). */
function callValue(value: Json, keras2: boolean, label: string, layerName: string): CallValue {
  if (keras2 && isKeras2TensorRef(value)) return { kerasTensor: refFromList(value, label, layerName) };
  if (Array.isArray(value)) return value.map((v) => callValue(v, keras2, label, layerName));
  if (isObject(value)) {
    if (value.class_name === "__keras_tensor__" && isObject(value.config)) {
      return { kerasTensor: refFromList(value.config.keras_history ?? null, label, layerName) };
    }
    const out: { [key: string]: CallValue } = {};
    for (const k of Object.keys(value)) setOwn(out, k, callValue(value[k], keras2, label, layerName));
    return out;
  }
  return value;
}

/**
 * How each call passed its arguments, beside the tensors `normalizeInbound` lists:
 * - Keras 3: `args` and `kwargs` as written.
 * - Keras 2 / tf.keras: the node's entries are the first argument (one tensor, or a list of
 *   them), and the 4th element of an entry holds every other argument by name, tensors as
 *   `[layer, node, tensor]` (Node.serialize: "treat everything other than first argument
 *   as a kwarg"), so `mha(q, v)` records `[["q", 0, 0, {"value": ["v", 0, 0]}]]`.
 */
export function normalizeCalls(nodes: Json | undefined, label: string, layerName: string): CallArguments[] {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => {
    if (isObject(node)) {
      const args = Array.isArray(node.args) ? node.args.map((a) => callValue(a, false, label, layerName)) : [];
      const kwargs = isObject(node.kwargs) ? (callValue(node.kwargs, false, label, layerName) as { [key: string]: CallValue }) : {};
      return { args, kwargs };
    }
    const entries = Array.isArray(node) ? node.filter((e): e is Json[] => Array.isArray(e) && typeof e[0] === "string") : [];
    const refs: CallValue[] = entries.map((e) => ({ kerasTensor: refFromList(e, label, layerName) }));
    const extra = entries.find((e) => isObject(e[3] ?? null))?.[3];
    const kwargs = isObject(extra ?? null) ? (callValue(extra!, true, label, layerName) as { [key: string]: CallValue }) : {};
    return { args: refs.length === 1 ? [refs[0]] : [refs], kwargs };
  });
}

/** `input_layers` / `output_layers`: a list of [name, node, tensor], or a single one. */
export function normalizeEndpoints(value: Json | undefined, label: string, what: string): InboundRef[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new FileError(label, `${what} in the model config is not a list`);
  if (value.length > 0 && typeof value[0] === "string") return [refFromList(value, label, what)];
  return value.map((e) => refFromList(e, label, what));
}

// ---------------------------------------------------------------------------
// Layer tree
// ---------------------------------------------------------------------------

export interface ConfigContext {
  label: string;
  kerasMajor: 1 | 2 | 3;
  notes: string[];
}

export interface ParsedModelConfig {
  modelClass: string;
  name: string | undefined;
  layers: Layer[];
  inputs: InboundRef[];
  outputs: InboundRef[];
  sequential: boolean;
}

/** The list of layer entries and the I/O of a model config (`config` part). */
function modelParts(className: string, config: Json, ctx: ConfigContext, where: string) {
  if (Array.isArray(config)) {
    // Keras 1 / Keras 2.0-2.2.2 Sequential: a bare list of layers.
    return { layers: config, name: undefined as string | undefined, inputLayers: undefined, outputLayers: undefined };
  }
  if (!isObject(config) || !Array.isArray(config.layers)) {
    throw new FileError(
      ctx.label,
      `${where} (${className}) has no layer list; a subclassed model cannot be read without its Python code`,
    );
  }
  return {
    layers: config.layers,
    name: typeof config.name === "string" ? config.name : undefined,
    inputLayers: config.input_layers,
    outputLayers: config.output_layers,
  };
}

function layerName(entry: JsonObject, config: JsonObject): string | undefined {
  if (typeof entry.name === "string") return entry.name;
  if (typeof config.name === "string") return config.name;
  return undefined;
}

export function isModelClass(className: string, config: Json): boolean {
  if (MODEL_CLASSES.has(className)) return true;
  // Keras 3 may save a Functional under a custom registered class; a layer list is what counts.
  return isObject(config) && Array.isArray(config.layers) && (Array.isArray(config.input_layers) || className.endsWith("Model"));
}

function stripForwardBackward(name: string): string {
  return name.replace(/^(forward|backward)_/, "");
}

/** Builds a Layer (and its children) from one serialized layer entry `{class_name, config, ...}`. */
export function layerFromEntry(entryJson: Json, ctx: ConfigContext, where: string, depth = 0): Layer {
  if (!isObject(entryJson) || typeof entryJson.class_name !== "string") {
    throw new FileError(ctx.label, `${where} has a layer entry without class_name`);
  }
  const entry = entryJson;
  const className = entry.class_name as string;
  const rawConfig = entry.config;
  let config: JsonObject = isObject(rawConfig) ? rawConfig : {};
  if (ctx.kerasMajor === 1 && isObject(rawConfig)) config = translateKeras1Config(className, rawConfig);
  const name = layerName(entry, config);
  if (name === undefined) throw new FileError(ctx.label, `${where} has a ${className} layer without a name`);

  const layer: Layer = {
    className,
    name,
    config: config as Record<string, unknown>,
    weights: [],
    children: [],
    inbound: normalizeInbound(entry.inbound_nodes, ctx.label, name),
  };
  const calls = normalizeCalls(entry.inbound_nodes, ctx.label, name);
  if (calls.some((c) => c.args.length > 0 || Object.keys(c.kwargs).length > 0)) layer.calls = calls;

  if (isModelClass(className, rawConfig ?? null)) {
    if (depth >= MAX_MODEL_NESTING) throw new FileError(ctx.label, `models are nested more than ${MAX_MODEL_NESTING} deep at '${name}'`);
    const inner = parseModelConfig({ class_name: className, config: rawConfig ?? null }, ctx, `model '${name}'`, depth + 1);
    layer.children = inner.layers;
  } else if (className === "Bidirectional") {
    const forwardEntry = config.layer;
    if (!isObject(forwardEntry)) throw new FileError(ctx.label, `Bidirectional layer '${name}' has no inner layer config`);
    const forward = layerFromEntry(forwardEntry, ctx, `Bidirectional '${name}'`, depth);
    const innerName = stripForwardBackward(forward.name);
    forward.name = `forward_${innerName}`;
    let backward: Layer;
    if (isObject(config.backward_layer)) {
      backward = layerFromEntry(config.backward_layer, ctx, `Bidirectional '${name}'`, depth);
      if (!backward.name.startsWith("backward_")) backward.name = `backward_${stripForwardBackward(backward.name)}`;
    } else {
      // Keras 1/2: the backward layer is a copy of the forward one with go_backwards flipped.
      backward = layerFromEntry(forwardEntry, ctx, `Bidirectional '${name}'`, depth);
      backward.name = `backward_${innerName}`;
      backward.config = { ...backward.config, go_backwards: !(backward.config.go_backwards === true) };
    }
    forward.config = { ...forward.config, name: forward.name };
    backward.config = { ...backward.config, name: backward.name };
    layer.children = [forward, backward];
  } else if (className === "TimeDistributed") {
    const innerEntry = config.layer;
    if (!isObject(innerEntry)) throw new FileError(ctx.label, `TimeDistributed layer '${name}' has no inner layer config`);
    layer.children = [layerFromEntry(innerEntry, ctx, `TimeDistributed '${name}'`, depth)];
  }
  return layer;
}

/** The fields of a Model that a parsed config gives (an unnamed model is named after its class). */
export function modelFieldsOf(parsed: ParsedModelConfig): Pick<Model, "modelClass" | "name" | "layers" | "inputs" | "outputs"> {
  return { modelClass: parsed.modelClass, name: parsed.name ?? parsed.modelClass.toLowerCase(), layers: parsed.layers, inputs: parsed.inputs, outputs: parsed.outputs };
}

/** Parses a whole `{class_name, config}` model entry. */
export function parseModelConfig(modelJson: Json, ctx: ConfigContext, where = "the model config", depth = 0): ParsedModelConfig {
  if (!isObject(modelJson) || typeof modelJson.class_name !== "string") {
    throw new FileError(ctx.label, `${where} has no class_name; not a Keras model config`);
  }
  const modelClass = modelJson.class_name;
  const parts = modelParts(modelClass, modelJson.config ?? null, ctx, where);
  const layers = parts.layers.map((e, i) => layerFromEntry(e, ctx, `${where}, layer ${i}`, depth));
  const seen = new Set<string>();
  for (const l of layers) {
    if (seen.has(l.name)) throw new FileError(ctx.label, `${where} has two layers named '${l.name}'`);
    seen.add(l.name);
  }
  const sequential = Array.isArray(modelJson.config) || modelClass === "Sequential";
  let inputs: InboundRef[];
  let outputs: InboundRef[];
  if (sequential) {
    inputs = layers.length > 0 ? [{ layer: layers[0].name, node: 0, tensor: 0 }] : [];
    outputs = layers.length > 0 ? [{ layer: layers[layers.length - 1].name, node: 0, tensor: 0 }] : [];
  } else {
    inputs = normalizeEndpoints(parts.inputLayers, ctx.label, "input_layers");
    outputs = normalizeEndpoints(parts.outputLayers, ctx.label, "output_layers");
  }
  return { modelClass, name: parts.name, layers, inputs, outputs, sequential };
}
