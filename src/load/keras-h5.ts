/**
 * Legacy HDF5 written by every Keras before the `.keras` zip: Keras 1.x (TF and Theano
 * backends), Keras 2.x, tf.keras (incl. "2.2.4-tf"), and Keras 3's legacy `.h5`
 * (docs/keras-formats.md A1). Full models (`model.save()`: root `model_config` +
 * `model_weights/`) and weights-only files (`save_weights()`: `layer_names` at the root).
 *
 * Datasets are always found through each layer group's `weight_names`, relative to
 * that group, because the dataset paths differ by writer (`lstm_1/kernel:0`,
 * `lstm/lstm_cell/kernel:0`, `lstm/sequential/lstm/lstm_cell/kernel`, `lstm_1_W_i:0`).
 */
import { storesBfloat16 } from "../dtype-policy.js";
import { FileError } from "../errors.js";
import type { Layer, MissingTensor, Model, Tensor } from "../model.js";
import { joinH5, loadStringList, readTensor, stringAttr, tensorNames } from "./common.js";
import { kerasMajorOf, parseConfigJson, parseModelConfig, modelFieldsOf, type ConfigContext } from "./config.js";
import type { H5File } from "./hdf5-file.js";
import { inferLayer } from "./infer.js";
import type { StructureSource } from "./structure.js";
import { storesTensors } from "../layers/weight-names.js";

/** One entry of a layer group's `weight_names`, with the dataset path it resolves to. */
interface WeightEntry {
  weightName: string;
  h5Path: string;
}

/** A UTF-16 surrogate without its pair: a name no UTF-8 encoding (what the HDF5 library is given) can carry. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

const KERAS1_FLAT_WEIGHT = /_(W|U|b)(_[a-z])?(:\d+)?$/;

function weightEntries(h5: H5File, groupPath: string): WeightEntry[] {
  const names = loadStringList(h5, groupPath, "weight_names") ?? [];
  return names.map((weightName) => ({ weightName, h5Path: joinH5(groupPath, weightName) }));
}

/**
 * A leaf layer's tensors; a listed tensor whose dataset is absent goes to `missing`
 * (load/index.ts refuses the model unless the caller asked to keep them).
 */
function readLeafTensors(h5: H5File, layerName: string, entries: WeightEntry[]): { weights: Tensor[]; missing: MissingTensor[] } {
  const names = tensorNames(
    entries.map((e) => e.weightName),
    layerName,
  );
  const weights: Tensor[] = [];
  const missing: MissingTensor[] = [];
  entries.forEach((e, i) => {
    if (h5.isDataset(e.h5Path)) weights.push(readTensor(h5, e.h5Path, names[i]));
    else if (LONE_SURROGATE.test(e.h5Path)) {
      // Not missing: its name is no UTF-8 text (a lone surrogate), so the HDF5 library cannot be asked for it by name.
      throw new FileError(h5.label, `weight path '${e.h5Path}' is not valid Unicode text (a lone surrogate), so its dataset cannot be looked up`);
    } else missing.push({ name: names[i], path: e.h5Path });
  });
  return { weights, missing };
}

function setLeafTensors(h5: H5File, layer: Layer, entries: WeightEntry[]): void {
  const { weights, missing } = readLeafTensors(h5, layer.name, entries);
  layer.weights = weights;
  if (missing.length > 0) layer.missingWeights = missing;
}

/** Does this weight name belong to the nested layer `name`? (a path component, or the Keras 1 flat prefix) */
function matchPosition(weightName: string, name: string): number {
  const parts = weightName.split("/");
  for (let i = 0; i < parts.length - 1; i++) if (parts[i] === name) return i;
  const last = parts[parts.length - 1];
  if (last.startsWith(`${name}_`) && KERAS1_FLAT_WEIGHT.test(last)) return parts.length - 1;
  return -1;
}

/** Splits entries between children by the path component naming each child. */
function splitByChild(children: Layer[], entries: WeightEntry[]): Map<Layer, WeightEntry[]> | WeightEntry {
  const out = new Map<Layer, WeightEntry[]>(children.map((c) => [c, []]));
  for (const e of entries) {
    let best: Layer | undefined;
    let bestPos = Infinity;
    let bestLen = -1;
    for (const c of children) {
      const pos = matchPosition(e.weightName, c.name);
      // Leftmost component wins; for Keras 1 flat names the longest prefix wins.
      if (pos >= 0 && (pos < bestPos || (pos === bestPos && c.name.length > bestLen))) {
        best = c;
        bestPos = pos;
        bestLen = c.name.length;
      }
    }
    if (!best) return e;
    out.get(best)!.push(e);
  }
  return out;
}

/** Attaches stored tensors to a layer, distributing them to its children for wrappers and nested models. */
function assignWeights(h5: H5File, layer: Layer, entries: WeightEntry[], notes: string[], path: string): void {
  if (entries.length === 0) return;
  if (layer.children.length === 0) {
    setLeafTensors(h5, layer, entries);
    return;
  }
  if (layer.className === "TimeDistributed") {
    assignWeights(h5, layer.children[0], entries, notes, `${path}/${layer.children[0].name}`);
    return;
  }
  let split = splitByChild(layer.children, entries);
  if (!(split instanceof Map) && layer.className === "Bidirectional") {
    // Names that do not carry the child's exact name: fall back to the forward_/backward_ prefix,
    // and if that fails too, Keras' own rule (first half forward, second half backward).
    const [fw, bw] = layer.children;
    const byPrefix = new Map<Layer, WeightEntry[]>([
      [fw, entries.filter((e) => e.weightName.split("/").some((p) => p.startsWith("forward_")))],
      [bw, entries.filter((e) => e.weightName.split("/").some((p) => p.startsWith("backward_")))],
    ]);
    if (byPrefix.get(fw)!.length + byPrefix.get(bw)!.length === entries.length && byPrefix.get(fw)!.length > 0) {
      split = byPrefix;
    } else if (entries.length % 2 === 0) {
      const half = entries.length / 2;
      split = new Map([
        [fw, entries.slice(0, half)],
        [bw, entries.slice(half)],
      ]);
      notes.push(`${path}: weight names do not say forward/backward; split them in half as Keras does`);
    }
  }
  if (!(split instanceof Map)) {
    throw new FileError(
      h5.label,
      `weight '${split.weightName}' of ${layer.className} layer '${path}' does not name any of its inner layers (${layer.children.map((c) => c.name).join(", ")})`,
    );
  }
  for (const [child, childEntries] of split) assignWeights(h5, child, childEntries, notes, `${path}/${child.name}`);
}

/** keras_version from the root, else from the weights group. */
function kerasVersionOf(h5: H5File, weightsRoot: string): string | undefined {
  return stringAttr(h5, "/", "keras_version") ?? (weightsRoot !== "/" ? stringAttr(h5, weightsRoot, "keras_version") : undefined);
}

function hasKeras1Names(h5: H5File, weightsRoot: string, layerNames: string[]): boolean {
  for (const ln of layerNames) {
    const g = joinH5(weightsRoot, ln);
    if (!h5.isGroup(g)) continue;
    const names = loadStringList(h5, g, "weight_names") ?? [];
    if (names.some((w) => !w.includes("/") && KERAS1_FLAT_WEIGHT.test(w))) return true;
  }
  return false;
}

function baseModel(label: string): Pick<Model, "source" | "notes"> {
  return { source: label, notes: [] };
}

/** Full model: root `model_config` and the `model_weights` group. */
export function readFullModel(h5: H5File): Model {
  const label = h5.label;
  const weightsRoot = "/model_weights";
  if (!h5.isGroup(weightsRoot)) {
    throw new FileError(label, "has a model_config but no model_weights group; it was saved without weights");
  }
  const configText = h5.attr("/", "model_config");
  if (typeof configText !== "string") throw new FileError(label, "attribute model_config is not a string");
  const version = kerasVersionOf(h5, weightsRoot);
  const layerNames = loadStringList(h5, weightsRoot, "layer_names");
  if (layerNames === undefined) throw new FileError(label, "group model_weights has no layer_names attribute; not a Keras weights group");
  // Keras' own rule: a weights group without keras_version was written by Keras 1.
  let kerasMajor = kerasMajorOf(version);
  const notes: string[] = [];
  if (kerasMajor === undefined) {
    kerasMajor = !h5.attrNames(weightsRoot).includes("keras_version") || hasKeras1Names(h5, weightsRoot, layerNames) ? 1 : 2;
    notes.push(`the file does not record keras_version; treated as written by Keras ${kerasMajor}`);
  }
  const ctx: ConfigContext = { label, kerasMajor, notes };
  const parsed = parseModelConfig(parseConfigJson(configText, label, "model_config"), ctx);

  const inFile = new Set(layerNames);
  const used = new Set<string>();
  for (const layer of parsed.layers) {
    const groupPath = joinH5(weightsRoot, layer.name);
    if (!inFile.has(layer.name) && !h5.isGroup(groupPath)) continue;
    used.add(layer.name);
    if (!h5.isGroup(groupPath)) {
      throw new FileError(label, `layer_names lists '${layer.name}' but model_weights has no group of that name`);
    }
    // Keras 3 writes bfloat16 variables to a legacy .h5 as unmarked 2-byte opaque values: the policy says what they are.
    h5.opaque16 = storesBfloat16(layer) ? "bfloat16" : undefined;
    assignWeights(h5, layer, weightEntries(h5, groupPath), notes, layer.name);
  }
  h5.opaque16 = undefined;
  for (const ln of layerNames) {
    if (!used.has(ln)) notes.push(`model_weights has weights for '${ln}', which is not a layer of the model config; ignored`);
  }
  const topLevel = joinH5(weightsRoot, "top_level_model_weights");
  if (h5.isGroup(topLevel) && (loadStringList(h5, topLevel, "weight_names") ?? []).length > 0) {
    notes.push("the model owns weights outside its layers (top_level_model_weights); not shown");
  }
  if (kerasMajor === 1) notes.push("Keras 1 config keys were renamed to their Keras 2 names (output_dim -> units, ...)");

  return {
    ...baseModel(label),
    format: "keras-h5",
    kerasVersion: version,
    kerasMajor,
    backend: stringAttr(h5, "/", "backend") ?? stringAttr(h5, weightsRoot, "backend"),
    ...modelFieldsOf(parsed),
    notes,
  };
}

/**
 * A weights-only file (`save_weights()`) read with the model's structure from `--config`
 * (load/structure.ts). Tensors go to the config's layers by name when every layer of the
 * file that holds tensors names a layer of the config (a config from the same model);
 * otherwise in order, as Keras' load_weights does (the file's layers that hold tensors,
 * one to one with the config's layers that store some), each pair checked to be of the
 * same class. Anything else is refused: a guess would answer with another model's numbers.
 */
export function readWeightsWithConfig(h5: H5File, weightsRoot: string, structure: StructureSource): Model {
  const label = h5.label;
  const layerNames = loadStringList(h5, weightsRoot, "layer_names") ?? [];
  const version = kerasVersionOf(h5, weightsRoot) ?? structure.kerasVersion;
  const notes: string[] = [];
  let kerasMajor = kerasMajorOf(version);
  if (kerasMajor === undefined) {
    kerasMajor = hasKeras1Names(h5, weightsRoot, layerNames) ? 1 : 2;
    notes.push(`neither the file nor the config records keras_version; treated as written by Keras ${kerasMajor}`);
  }
  const ctx: ConfigContext = { label: structure.label, kerasMajor, notes };
  const parsed = parseModelConfig(structure.json, ctx, "the --config model");
  const groups = layerNames.map((name) => {
    const groupPath = joinH5(weightsRoot, name);
    if (!h5.isGroup(groupPath)) throw new FileError(label, `layer_names lists '${name}' but there is no group of that name`);
    return { name, entries: weightEntries(h5, groupPath) };
  });
  const holding = groups.filter((g) => g.entries.length > 0);
  const byName = new Map(parsed.layers.map((l) => [l.name, l]));
  const config = structure.label;
  if (holding.every((g) => byName.has(g.name))) {
    for (const g of holding) assignWeights(h5, byName.get(g.name)!, g.entries, notes, g.name);
    const without = parsed.layers.filter((l) => storesTensors(l) && !holding.some((g) => g.name === l.name));
    if (without.length > 0) {
      throw new FileError(label, `holds no weights for layer '${without[0].name}' (${without[0].className}) of the model in ${config}; not this model's weights`);
    }
    notes.push(`the model's structure (layer settings, order, connections) comes from ${config}; the weights from this file, matched by layer name`);
  } else {
    const storing = parsed.layers.filter(storesTensors);
    const list = (names: string[]) => (names.length > 6 ? `${names.slice(0, 6).join(", ")}, …` : names.join(", "));
    if (storing.length !== holding.length) {
      throw new FileError(
        label,
        `holds weights for ${holding.length} layer(s) (${list(holding.map((g) => g.name))}) but the model in ${config} has ${storing.length} layer(s) with weights (${list(storing.map((l) => l.name))}); not this model's weights`,
      );
    }
    holding.forEach((g, i) => {
      const layer = storing[i];
      if (layer.children.length > 0) {
        throw new FileError(label, `layer names differ from ${config} ('${g.name}' vs '${layer.name}'), and ${layer.className} layers are matched by name only`);
      }
      const { weights } = readLeafTensors(h5, g.name, g.entries);
      const found = inferLayer(g.name, weights).className;
      if (found !== layer.className) {
        throw new FileError(label, `its layer #${i + 1} with weights, '${g.name}', holds ${found} tensors, but layer #${i + 1} with weights of the model in ${config}, '${layer.name}', is ${layer.className}; not this model's weights`);
      }
      assignWeights(h5, layer, g.entries, notes, layer.name);
    });
    notes.push(
      `the model's structure comes from ${config}; its layer names differ from this file's, so the weights were matched in order, as Keras' load_weights does: ${list(holding.map((g, i) => `${g.name} → ${storing[i].name}`))}`,
    );
  }
  return {
    ...baseModel(label),
    format: "keras-h5-weights",
    kerasVersion: version,
    kerasMajor,
    ...modelFieldsOf(parsed),
    notes,
    configFrom: config,
  };
}

/** Splits a weights-only layer's entries into forward/backward halves when it is a Bidirectional wrapper. */
function bidirectionalChildren(entries: WeightEntry[]): { fw: string; bw: string; fwEntries: WeightEntry[]; bwEntries: WeightEntry[] } | undefined {
  const find = (prefix: string) => {
    for (const e of entries) {
      const parts = e.weightName.split("/");
      const p = parts.slice(0, -1).find((x) => x.startsWith(prefix));
      if (p) return p;
      const m = new RegExp(`^(${prefix}.+?)${KERAS1_FLAT_WEIGHT.source}`).exec(parts[parts.length - 1]);
      if (m) return m[1];
    }
    return undefined;
  };
  const fw = find("forward_");
  const bw = find("backward_");
  if (!fw || !bw) return undefined;
  const fwEntries = entries.filter((e) => matchPosition(e.weightName, fw) >= 0);
  const bwEntries = entries.filter((e) => matchPosition(e.weightName, bw) >= 0);
  if (fwEntries.length + bwEntries.length !== entries.length) return undefined;
  return { fw, bw, fwEntries, bwEntries };
}

function inferredLeaf(h5: H5File, name: string, entries: WeightEntry[]): Layer {
  const { weights, missing } = readLeafTensors(h5, name, entries);
  const { className, config } = inferLayer(name, weights);
  return { className, name, config: { name, ...config }, weights, children: [], inbound: [], inferred: true, ...(missing.length > 0 ? { missingWeights: missing } : {}) };
}

/** Weights-only file (`save_weights()`): `layer_names` at `weightsRoot`, no config. */
export function readWeightsOnly(h5: H5File, weightsRoot: string): Model {
  const label = h5.label;
  const layerNames = loadStringList(h5, weightsRoot, "layer_names") ?? [];
  const version = kerasVersionOf(h5, weightsRoot);
  const notes: string[] = [];
  let kerasMajor = kerasMajorOf(version);
  if (kerasMajor === undefined) {
    // Keras' loaders treat a weights group without keras_version as Keras 1.
    kerasMajor = 1;
    notes.push("the file does not record keras_version; treated as written by Keras 1 (as Keras itself does)");
  }
  const layers: Layer[] = layerNames.map((name) => {
    const groupPath = joinH5(weightsRoot, name);
    if (!h5.isGroup(groupPath)) throw new FileError(label, `layer_names lists '${name}' but there is no group of that name`);
    const entries = weightEntries(h5, groupPath);
    const bidi = bidirectionalChildren(entries);
    if (bidi) {
      const fw = inferredLeaf(h5, bidi.fw, bidi.fwEntries);
      const bw = inferredLeaf(h5, bidi.bw, bidi.bwEntries);
      return { className: "Bidirectional", name, config: { name }, weights: [], children: [fw, bw], inbound: [], inferred: true };
    }
    return inferredLeaf(h5, name, entries);
  });
  notes.push("no model config in the file: layer classes were inferred from weight names and shapes, and settings such as return_sequences and activations are unknown");
  return {
    ...baseModel(label),
    format: "keras-h5-weights",
    kerasVersion: version,
    kerasMajor,
    backend: stringAttr(h5, weightsRoot, "backend") ?? stringAttr(h5, "/", "backend"),
    modelClass: "(weights only)",
    name: label.replace(/^.*[\\/]/, "").replace(/\.[^.]*$/, ""),
    layers,
    inputs: layers.length > 0 ? [{ layer: layers[0].name, node: 0, tensor: 0 }] : [],
    outputs: layers.length > 0 ? [{ layer: layers[layers.length - 1].name, node: 0, tensor: 0 }] : [],
    notes,
  };
}
