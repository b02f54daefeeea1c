/**
 * Keras 3 native formats (docs/keras-formats.md A2):
 * - the `.keras` zip: `metadata.json`, `config.json`, `model.weights.h5`;
 * - the bare `.weights.h5` (`model.save_weights()`), the same HDF5 layout without a config.
 *
 * In the weights HDF5, paths are built from attribute names and snake_case class
 * names, not layer names: `layers/lstm/cell/vars/0`, `layers/lstm_1/...`,
 * `layers/bidirectional/forward_layer/cell/vars/0`, `layers/time_distributed/layer/vars/0`.
 * tf.keras 2.12-2.14 archives use `_layer_checkpoint_dependencies/` instead of `layers/`.
 *
 * The zip is read where it lies (zip.ts): names, sizes and CRCs are checked, sizes against
 * limits before anything is inflated. The weights HDF5 is read in place when it is stored,
 * as Keras writes it (a window of the archive, hdf5.ts reading it on demand), and from
 * memory when it had to be inflated; nothing is written to disk.
 */
import { FileError } from "../errors.js";
import { type Layer, type Model, type Tensor, walkLayers } from "../model.js";
import { storedWeightNames, storesTensors } from "../layers/weight-names.js";
import { joinH5, readTensor, stringAttr } from "./common.js";
import { decodeUtf8, isObject, kerasMajorOf, MAX_CONFIG_BYTES, parseConfigJson, parseModelConfig, type ConfigContext, modelFieldsOf, type Json } from "./config.js";
import { type ByteSource, MemorySource, type OpenSource, PagedReader, WindowSource } from "./byte-source.js";
import type { H5File } from "./hdf5-file.js";
import { openH5File } from "./hdf5-open.js";
import { npzWeightStore } from "./keras3-npz.js";
import { classFromName, inferLayer, snakeNamesOf } from "./infer.js";
import { entryBytes, readZipEntries, type ZipEntry, type ZipRead } from "./zip.js";
import type { StructureSource } from "./structure.js";

/** Largest single entry we inflate from a `.keras` zip (declared uncompressed size); a stored model.weights.h5 is read in place, of any size. */
export const MAX_ARCHIVE_ENTRY_BYTES = 1024 * 1024 * 1024;
/** Largest total we inflate from one `.keras` zip. */
export const MAX_ARCHIVE_TOTAL_BYTES = 1024 * 1024 * 1024;

const WEIGHTS_ENTRY = "model.weights.h5";
/** Keras 3's weights_format="npz" (keras3-npz.ts). */
const NPZ_ENTRY = "model.weights.npz";
const WANTED = new Set(["metadata.json", "config.json", WEIGHTS_ENTRY, NPZ_ENTRY]);
const LAYER_CONTAINERS = ["layers", "_layer_checkpoint_dependencies"];
const RECURRENT_WITH_CELL = new Set(["LSTM", "GRU", "SimpleRNN", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D", "RNN"]);

export interface ArchiveLimits {
  maxEntryBytes: number;
  maxTotalBytes: number;
}

/** Finds only the entries we need, checking names, sizes and CRCs (see zip.ts) before trusting them. */
function unzipArchive(bytes: PagedReader, label: string, limits: ArchiveLimits): ZipRead {
  return readZipEntries(bytes, label, WANTED, {
    maxEntryBytes: (name) => (name === WEIGHTS_ENTRY || name === NPZ_ENTRY ? limits.maxEntryBytes : Math.min(limits.maxEntryBytes, MAX_CONFIG_BYTES)),
    maxTotalBytes: limits.maxTotalBytes,
    inPlace: new Set([WEIGHTS_ENTRY]),
  });
}

// ---------------------------------------------------------------------------
// Walking the weights HDF5
// ---------------------------------------------------------------------------

/**
 * What the walk reads a Keras 3 weights store through: one HDF5 file, or the shards of a
 * sharded store seen as one (keras3-sharded.ts). `displayPath` says where a dataset lies
 * when the shard matters.
 */
export type WeightStore = Pick<H5File, "label" | "keys" | "isGroup" | "isDataset" | "attr" | "datasetInfo" | "numericLater"> & {
  displayPath?(path: string): string;
};

interface StoreContext {
  h5: WeightStore;
  /** Prefix of Tensor.path (`model.weights.h5:` inside an archive, empty for a bare file). */
  displayPrefix: string;
  notes: string[];
  /** A group that matches no layer of the config is an error (`--config`: the weights must be the model's), not a note. */
  strict?: boolean;
}

function subgroups(h5: WeightStore, path: string): string[] {
  return h5.keys(path).filter((k) => h5.isGroup(joinH5(path, k)));
}

/** Dataset keys of a `vars` group in numeric order (`vars/10` after `vars/9`). */
function varKeys(h5: WeightStore, varsPath: string): string[] {
  if (!h5.isGroup(varsPath)) return [];
  const keys = h5.keys(varsPath).filter((k) => h5.isDataset(joinH5(varsPath, k)));
  return keys.sort((a, b) => {
    const na = /^\d+$/.test(a) ? Number(a) : Infinity;
    const nb = /^\d+$/.test(b) ? Number(b) : Infinity;
    return na !== nb ? na - nb : a < b ? -1 : a > b ? 1 : 0;
  });
}

function hasDatasets(h5: WeightStore, path: string, depth = 0): boolean {
  if (depth > 32) return false;
  for (const k of h5.keys(path)) {
    const p = joinH5(path, k);
    if (h5.isDataset(p)) return true;
    if (h5.isGroup(p) && hasDatasets(h5, p, depth + 1)) return true;
  }
  return false;
}

function readVars(s: StoreContext, varsPath: string, names: string[], namePrefix = ""): Tensor[] {
  return varKeys(s.h5, varsPath).map((k, i) => {
    const p = joinH5(varsPath, k);
    return readTensor(s.h5, p, `${namePrefix}${names[i]}`, s.h5.displayPath?.(p) ?? `${s.displayPrefix}${p}`);
  });
}

/** The class whose stored names apply: `RNN(LSTMCell(...))` stores an LSTM cell's variables. */
function namingClass(layer: Layer): { className: string; config: Record<string, unknown> } {
  if (layer.className === "RNN" && isObject(layer.config.cell as Json)) {
    const cell = layer.config.cell as { class_name?: unknown; config?: unknown };
    if (typeof cell.class_name === "string" && cell.class_name.endsWith("Cell")) {
      return { className: cell.class_name.slice(0, -"Cell".length), config: isObject(cell.config as Json) ? (cell.config as Record<string, unknown>) : {} };
    }
  }
  return { className: layer.className, config: layer.config };
}

/** Names of an EinsumDense-like sub-object's variables (MultiHeadAttention's query_dense, ...). */
function subObjectNames(subPath: string, count: number): string[] | undefined {
  const last = subPath.split("/").pop() ?? "";
  if (/dense$/.test(last)) return count === 2 ? ["kernel", "bias"] : count === 1 ? ["kernel"] : undefined;
  return undefined;
}

/** Variables held by sub-objects of a layer (`query_dense/vars/0`), named by their sub-path. */
function readSubObjects(s: StoreContext, groupPath: string, skip: Set<string>, layerPath: string, rel = "", depth = 0): Tensor[] {
  if (depth > 16) return [];
  const out: Tensor[] = [];
  for (const k of subgroups(s.h5, groupPath)) {
    if (depth === 0 && skip.has(k)) continue;
    const p = joinH5(groupPath, k);
    const clean = k.replace(/^_+/, "");
    const subRel = rel ? `${rel}/${clean}` : clean;
    if (k === "vars") {
      const keys = varKeys(s.h5, p);
      if (keys.length === 0) continue;
      let names = subObjectNames(rel, keys.length);
      if (!names) {
        names = keys.map((_, i) => `vars/${i}`);
        s.notes.push(`${layerPath}: variables of '${rel}' are shown as vars/N (unknown sub-object)`);
      }
      out.push(...readVars(s, p, names, rel ? `${rel}/` : ""));
    } else {
      out.push(...readSubObjects(s, p, skip, layerPath, subRel, depth + 1));
    }
  }
  return out;
}

/** Reads a leaf layer's variables, naming them from its class (`vars/0` -> kernel, ...). */
function readLeaf(s: StoreContext, groupPath: string, layer: Layer, layerPath: string): void {
  const cellVars = joinH5(groupPath, "cell/vars");
  const usesCell = s.h5.isGroup(cellVars) && (RECURRENT_WITH_CELL.has(layer.className) || varKeys(s.h5, joinH5(groupPath, "vars")).length === 0);
  const primary = usesCell ? cellVars : joinH5(groupPath, "vars");
  const count = varKeys(s.h5, primary).length;
  const { className, config } = namingClass(layer);
  let names = storedWeightNames(className, config);
  if (names === undefined) {
    names = Array.from({ length: count }, (_, i) => `vars/${i}`);
    if (count > 0) s.notes.push(`${layerPath}: ${layer.className} is not a known layer class; its variables are shown as vars/N`);
  } else if (names.length !== count) {
    throw new FileError(
      s.h5.label,
      `${layer.className} layer '${layerPath}' should store ${names.length} variables (${names.join(", ")}) but '${primary}' has ${count}`,
    );
  }
  const tensors = readVars(s, primary, names);
  const skip = new Set(usesCell ? ["cell"] : ["vars"]);
  if (usesCell) {
    // The RNN layer's own vars are normally empty.
    const own = varKeys(s.h5, joinH5(groupPath, "vars"));
    if (own.length > 0) {
      s.notes.push(`${layerPath}: the layer stores ${own.length} variables besides its cell's; shown as vars/N`);
      tensors.push(...readVars(s, joinH5(groupPath, "vars"), own.map((_, i) => `vars/${i}`)));
    }
    skip.add("vars");
  }
  tensors.push(...readSubObjects(s, groupPath, skip, layerPath));
  layer.weights = tensors;
}

function containerOf(h5: WeightStore, groupPath: string): string | undefined {
  for (const c of LAYER_CONTAINERS) if (h5.isGroup(joinH5(groupPath, c))) return joinH5(groupPath, c);
  return undefined;
}

/** Reads a configured layer's state from its group, recursing into wrappers and nested models. */
function readLayerGroup(s: StoreContext, groupPath: string, layer: Layer, layerPath: string, depth: number): void {
  if (depth > 32) throw new FileError(s.h5.label, `layers are nested too deeply at '${layerPath}'`);
  if (layer.className === "Bidirectional" && layer.children.length === 2) {
    const [fw, bw] = layer.children;
    for (const [child, sub] of [
      [fw, "forward_layer"],
      [bw, "backward_layer"],
    ] as const) {
      const p = joinH5(groupPath, sub);
      if (!s.h5.isGroup(p)) throw new FileError(s.h5.label, `Bidirectional layer '${layerPath}' has no '${sub}' group in the weights file`);
      readLayerGroup(s, p, child, `${layerPath}/${child.name}`, depth + 1);
    }
    return;
  }
  if (layer.className === "TimeDistributed" && layer.children.length === 1) {
    const p = joinH5(groupPath, "layer");
    if (s.h5.isGroup(p)) readLayerGroup(s, p, layer.children[0], `${layerPath}/${layer.children[0].name}`, depth + 1);
    else if (hasDatasets(s.h5, groupPath)) throw new FileError(s.h5.label, `TimeDistributed layer '${layerPath}' has no 'layer' group in the weights file`);
    return;
  }
  if (layer.children.length > 0) {
    const container = containerOf(s.h5, groupPath);
    if (container) mapContainer(s, container, layer.children, layerPath, depth + 1);
    else if (hasDatasets(s.h5, groupPath)) throw new FileError(s.h5.label, `nested model '${layerPath}' has no 'layers' group in the weights file`);
    return;
  }
  readLeaf(s, groupPath, layer, layerPath);
}

function suffixNumber(group: string, snake: string): number {
  return group === snake ? 0 : Number(group.slice(snake.length + 1));
}

/** Groups in `container` that belong to class `className`, in numeric suffix order. */
function candidateGroups(groups: string[], className: string): string[] {
  const snakes = snakeNamesOf(className);
  const found: { g: string; n: number }[] = [];
  for (const g of groups) {
    const snake = snakes.find((sn) => g === sn || new RegExp(`^${sn.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}_\\d+$`).test(g));
    if (snake !== undefined) found.push({ g, n: suffixNumber(g, snake) });
  }
  return found.sort((a, b) => a.n - b.n).map((x) => x.g);
}

/**
 * Maps config layers to the groups of a container. Keras 3 names the k-th layer of a
 * class `<snake>_k` (first one bare); tf.keras 2.13 numbers them with gaps
 * (`dense`, `dense_2`, `dense_4`), so we match by order within each class. From Keras 3.6
 * each `vars` group also records the layer's real name, which we prefer when present.
 */
function mapContainer(s: StoreContext, container: string, layers: Layer[], parentPath: string, depth: number): void {
  const groups = subgroups(s.h5, container);
  const classes = [...new Set(layers.map((l) => l.className))];
  const claimed = new Set<string>();
  for (const cls of classes) {
    const ofClass = layers.filter((l) => l.className === cls);
    const candidates = candidateGroups(groups, cls).filter((g) => !claimed.has(g));
    const where = (l: Layer) => (parentPath ? `${parentPath}/${l.name}` : l.name);
    // Keras >= 3.6: `vars` carries the layer name.
    const recorded = candidates.map((g) => stringAttr(s.h5, joinH5(joinH5(container, g), "vars"), "name"));
    const byName = new Map<string, string>();
    if (recorded.every((n) => n !== undefined)) recorded.forEach((n, i) => byName.set(n!, candidates[i]));
    const allNamed = ofClass.every((l) => byName.has(l.name)) && byName.size === candidates.length;
    let pairs: [Layer, string][];
    if (allNamed) {
      pairs = ofClass.map((l) => [l, byName.get(l.name)!]);
    } else if (candidates.length === ofClass.length) {
      pairs = ofClass.map((l, i) => [l, candidates[i]]);
    } else {
      const withData = candidates.filter((g) => hasDatasets(s.h5, joinH5(container, g)));
      if (withData.length === 0) continue; // weightless layers (InputLayer, Dropout, ...): nothing to attach
      throw new FileError(
        s.h5.label,
        `the config has ${ofClass.length} ${cls} layer(s) but the weights file has ${candidates.length} matching group(s) under '${container}' (${candidates.join(", ") || "none"})`,
      );
    }
    for (const [layer, g] of pairs) {
      claimed.add(g);
      readLayerGroup(s, joinH5(container, g), layer, where(layer), depth);
    }
  }
  for (const g of groups) {
    if (!claimed.has(g) && hasDatasets(s.h5, joinH5(container, g))) {
      if (s.strict) throw new FileError(s.h5.label, `weights group '${joinH5(container, g)}' matches no layer of the --config model; not this model's weights`);
      s.notes.push(`weights group '${joinH5(container, g)}' matches no layer of the config; ignored`);
    }
  }
}

// ---------------------------------------------------------------------------
// Entry points
// ---------------------------------------------------------------------------

function layerContainer(h5: WeightStore): string | undefined {
  return containerOf(h5, "/");
}

/**
 * The weights HDF5 as a source, with the way to open it again for later reads: a stored
 * entry is a window of the archive (opened again through `reopenArchive`), an inflated
 * one the bytes in memory.
 */
function weightsSource(archive: ByteSource, reopenArchive: OpenSource, entry: ZipEntry): { source: ByteSource; reopen: OpenSource } {
  if (entry.inflated) {
    const inflated = entry.inflated;
    return { source: new MemorySource(inflated), reopen: () => new MemorySource(inflated) };
  }
  const start = entry.storedAt!;
  return { source: new WindowSource(archive, start, entry.size), reopen: () => new WindowSource(reopenArchive(), start, entry.size) };
}

/** What metadata.json and config.json say. */
function readArchiveConfig(label: string, configBytes: Uint8Array, metadataBytes: Uint8Array | undefined) {
  const notes: string[] = [];
  let kerasVersion: string | undefined;
  if (metadataBytes) {
    const meta = parseConfigJson(decodeUtf8(metadataBytes, label, "metadata.json"), label, "metadata.json");
    if (isObject(meta) && typeof meta.keras_version === "string") kerasVersion = meta.keras_version;
  }
  let kerasMajor = kerasMajorOf(kerasVersion);
  if (kerasMajor === undefined) {
    kerasMajor = 3;
    notes.push("metadata.json does not give keras_version; treated as written by Keras 3");
  }
  const ctx: ConfigContext = { label, kerasMajor, notes };
  const configJson = parseConfigJson(decodeUtf8(configBytes, label, "config.json"), label, "config.json");
  return { kerasVersion, kerasMajor, notes, parsed: parseModelConfig(configJson, ctx, "config.json") };
}

/**
 * Reads a `.keras` zip archive from `archive`, which it owns from now on (it is closed
 * once the model is read, or on the first error); `reopenArchive` opens it again for the
 * tensor values read later.
 */
export async function readKerasArchive(
  archive: ByteSource,
  label: string,
  reopenArchive: OpenSource,
  limits: ArchiveLimits = { maxEntryBytes: MAX_ARCHIVE_ENTRY_BYTES, maxTotalBytes: MAX_ARCHIVE_TOTAL_BYTES },
  /** `--config`: the structure for a bare .npz, which records none (an archive with its own config refuses it in index.ts). */
  structure?: StructureSource,
): Promise<Model> {
  let config: ReturnType<typeof readArchiveConfig>;
  let weights: { source: ByteSource; reopen: OpenSource } | undefined;
  let npz: WeightStore | undefined;
  try {
    const bytes = new PagedReader(archive);
    const { entries, names } = unzipArchive(bytes, label, limits);
    if (!entries["config.json"]) {
      if (names.length > 0 && names.every((n) => n.endsWith(".npy"))) {
        // A bare .npz of Keras variables: model.weights.npz taken out of its archive.
        if (archive.size > limits.maxEntryBytes) throw new FileError(label, `is ${archive.size} bytes, over the ${limits.maxEntryBytes}-byte limit for an .npz read into memory`);
        const store = npzWeightStore(bytes.bytes(0, archive.size), label, "", limits.maxTotalBytes);
        const model = structure ? readKeras3WeightsWithConfig(store, structure) : readKeras3Weights(store);
        model.name = structure ? model.name : label.replace(/^.*[\\/]/, "").replace(/\.weights\.npz$|\.npz$/, "");
        model.notes = model.notes.map((n) => (n.startsWith("a .weights.h5 file does not record layer order") ? "an .npz file does not record layer order; layers are listed by name" : n));
        archive.close();
        return model;
      }
      throw new FileError(label, `zip archive without config.json; not a Keras .keras file (entries: ${names.slice(0, 8).join(", ") || "none"})`);
    }
    if (!entries[WEIGHTS_ENTRY] && !entries[NPZ_ENTRY]) throw new FileError(label, `.keras archive has no ${WEIGHTS_ENTRY} entry`);
    const metadata = entries["metadata.json"];
    config = readArchiveConfig(label, entryBytes(bytes, entries["config.json"]), metadata && entryBytes(bytes, metadata));
    if (entries[WEIGHTS_ENTRY]) weights = weightsSource(archive, reopenArchive, entries[WEIGHTS_ENTRY]);
    else npz = npzWeightStore(entryBytes(bytes, entries[NPZ_ENTRY]), `${label}!${NPZ_ENTRY}`, `${NPZ_ENTRY}:`, limits.maxTotalBytes);
  } catch (err) {
    archive.close();
    throw err;
  }
  const { kerasVersion, kerasMajor, notes, parsed } = config;
  if (npz) {
    archive.close();
    const container = layerContainer(npz);
    if (!container) throw new FileError(npz.label, "holds no layers/ variables; not Keras weights");
    mapContainer({ h5: npz, displayPrefix: "", notes }, container, parsed.layers, "", 0);
    notes.push(`weights read from ${NPZ_ENTRY} (saved with weights_format="npz"): the variables Keras pickled there were read without running the pickle`);
  } else {
    // From here the weights source owns the archive (a window of it), or the archive is done with.
    if (weights!.source instanceof MemorySource) archive.close();
    const h5 = await openH5File(weights!.source, `${label}!${WEIGHTS_ENTRY}`, weights!.reopen);
    try {
      const container = layerContainer(h5);
      if (!container) {
        if (hasDatasets(h5, "/")) throw new FileError(h5.label, "has no layers/ group; not a Keras 3 weights file");
      } else {
        mapContainer({ h5, displayPrefix: `${WEIGHTS_ENTRY}:`, notes }, container, parsed.layers, "", 0);
      }
    } finally {
      h5.close();
    }
  }
  return {
    format: "keras3-archive",
    source: label,
    kerasVersion,
    kerasMajor,
    ...modelFieldsOf(parsed),
    notes,
  };
}

/** Does this HDF5 file look like a Keras 3 weights store (`layers/` or `_layer_checkpoint_dependencies/` at the root)? */
export function isKeras3WeightsStore(h5: WeightStore): boolean {
  return layerContainer(h5) !== undefined;
}

/** Variable names for a class when only the count is known (no config). */
function namesByCount(className: string, count: number): { names: string[]; config: Record<string, unknown> } | undefined {
  const variants: Record<string, unknown>[] = [{}, { use_bias: false }, { center: false }, { scale: false }, { center: false, scale: false }];
  for (const v of variants) {
    const names = storedWeightNames(className, v);
    if (names && names.length === count) return { names, config: v };
  }
  return undefined;
}

/** A layer of a bare `.weights.h5`: class from the snake_case group name, checked against the tensor shapes. */
function inferStoreLayer(s: StoreContext, groupPath: string, groupName: string, depth: number): Layer {
  if (depth > 32) throw new FileError(s.h5.label, `groups are nested too deeply at '${groupPath}'`);
  const hint = classFromName(groupName);
  const layer: Layer = { className: hint ?? "Unknown", name: groupName, config: { name: groupName }, weights: [], children: [], inbound: [], inferred: true };
  const fw = joinH5(groupPath, "forward_layer");
  const bw = joinH5(groupPath, "backward_layer");
  if (s.h5.isGroup(fw) && s.h5.isGroup(bw)) {
    layer.className = "Bidirectional";
    const f = inferStoreLayer(s, fw, "forward_layer", depth + 1);
    const b = inferStoreLayer(s, bw, "backward_layer", depth + 1);
    f.name = `forward_${f.className === "Unknown" ? "layer" : snakeNamesOf(f.className)[0]}`;
    b.name = `backward_${b.className === "Unknown" ? "layer" : snakeNamesOf(b.className)[0]}`;
    f.config = { ...f.config, name: f.name };
    b.config = { ...b.config, name: b.name };
    layer.children = [f, b];
    return layer;
  }
  const inner = joinH5(groupPath, "layer");
  if (s.h5.isGroup(inner) && (hint === "TimeDistributed" || hint === undefined)) {
    layer.className = "TimeDistributed";
    const child = inferStoreLayer(s, inner, "layer", depth + 1);
    child.name = child.className === "Unknown" ? "layer" : snakeNamesOf(child.className)[0];
    child.config = { ...child.config, name: child.name };
    layer.children = [child];
    return layer;
  }
  const container = containerOf(s.h5, groupPath);
  if (container) {
    layer.className = hint && ["Sequential", "Functional", "Model"].includes(hint) ? hint : "Functional";
    layer.children = subgroupsInOrder(s.h5, container).map((g) => inferStoreLayer(s, joinH5(container, g), g, depth + 1));
    return layer;
  }
  // Leaf: variables under cell/vars (RNN) or vars.
  const cellVars = joinH5(groupPath, "cell/vars");
  const primary = s.h5.isGroup(cellVars) && varKeys(s.h5, cellVars).length > 0 ? cellVars : joinH5(groupPath, "vars");
  const count = varKeys(s.h5, primary).length;
  if (count === 0) return layer;
  const byCount = hint ? namesByCount(hint, count) : undefined;
  const shapes = varKeys(s.h5, primary).map((k) => s.h5.datasetInfo(joinH5(primary, k)).shape);
  const byShape = byCount ? undefined : namesFromShapes(shapes);
  const names = byCount?.names ?? byShape ?? Array.from({ length: count }, (_, i) => `vars/${i}`);
  layer.weights = readVars(s, primary, names);
  const guess = inferLayer(groupName, layer.weights);
  if (byCount && guess.className === hint) {
    layer.config = { name: groupName, ...byCount.config, ...guess.config };
  } else if (byCount) {
    layer.config = { name: groupName, ...byCount.config };
  } else if (byShape && guess.className !== "Unknown") {
    layer.className = guess.className;
    layer.config = { name: groupName, ...guess.config };
  } else {
    s.notes.push(`${groupPath}: cannot tell which variable is which; shown as vars/N`);
  }
  return layer;
}

/**
 * Variable names from shapes alone, for a group whose name does not say the class
 * (TimeDistributed's `layer`): (D, k·u) (u, k·u) bias -> recurrent; (a, b) (b) -> kernel, bias.
 */
function namesFromShapes(shapes: number[][]): string[] | undefined {
  if (shapes.length === 3) {
    const [k, r] = shapes;
    if (k.length === 2 && r.length === 2 && r[0] > 0 && r[1] % r[0] === 0 && k[1] === r[1]) return ["kernel", "recurrent_kernel", "bias"];
  }
  if (shapes.length === 2) {
    const [k, b] = shapes;
    if (k.length >= 2 && b.length === 1 && b[0] === k[k.length - 1]) return ["kernel", "bias"];
  }
  if (shapes.length === 4 && shapes.every((x) => x.length === 1 && x[0] === shapes[0][0])) {
    return ["gamma", "beta", "moving_mean", "moving_variance"];
  }
  return undefined;
}

/** Group names in a sensible order: HDF5 lists them alphabetically, so `lstm_10` is put after `lstm_9`. */
function subgroupsInOrder(h5: WeightStore, container: string): string[] {
  const split = (g: string) => {
    const m = /^(.*?)(?:_(\d+))?$/.exec(g)!;
    return { base: m[1], n: m[2] === undefined ? 0 : Number(m[2]) };
  };
  return subgroups(h5, container).sort((a, b) => {
    const x = split(a);
    const y = split(b);
    if (x.base !== y.base) return x.base < y.base ? -1 : 1;
    return x.n - y.n;
  });
}

/**
 * A bare Keras 3 `.weights.h5` read with the model's structure from `--config`
 * (load/structure.ts): groups mapped to the config's layers as in a `.keras` archive
 * (mapContainer), strictly: a group with tensors that matches no layer, or a layer that
 * stores tensors and gets none, is refused.
 */
export function readKeras3WeightsWithConfig(h5: WeightStore, structure: StructureSource): Model {
  const container = layerContainer(h5);
  if (!container) throw new FileError(h5.label, "has no layers/ group; not a Keras 3 weights file");
  const notes: string[] = [];
  let kerasMajor = kerasMajorOf(structure.kerasVersion);
  if (kerasMajor === undefined) {
    kerasMajor = container.endsWith("_layer_checkpoint_dependencies") ? 2 : 3;
    notes.push(`${structure.label} does not record keras_version; treated as Keras ${kerasMajor} from the weights file's layout`);
  }
  const parsed = parseModelConfig(structure.json, { label: structure.label, kerasMajor, notes }, "the --config model");
  mapContainer({ h5, displayPrefix: "", notes, strict: true }, container, parsed.layers, "", 0);
  for (const { layer, path } of walkLayers(parsed.layers)) {
    if (layer.children.length === 0 && storesTensors(layer) && layer.weights.length === 0) {
      throw new FileError(h5.label, `holds no weights for layer '${path}' (${layer.className}) of the model in ${structure.label}; not this model's weights`);
    }
  }
  notes.push(`the model's structure (layer settings, order, connections) comes from ${structure.label}; the weights from this file`);
  return {
    format: "keras3-weights",
    source: h5.label,
    kerasVersion: structure.kerasVersion,
    kerasMajor,
    ...modelFieldsOf(parsed),
    notes,
    configFrom: structure.label,
  };
}

/** Reads a bare Keras 3 `.weights.h5` (no config): layers inferred from group names and shapes. */
export function readKeras3Weights(h5: WeightStore): Model {
  const container = layerContainer(h5);
  if (!container) throw new FileError(h5.label, "has no layers/ group; not a Keras 3 weights file");
  const notes: string[] = [];
  const s: StoreContext = { h5, displayPrefix: "", notes };
  const tfKeras = container.endsWith("_layer_checkpoint_dependencies");
  const layers = subgroupsInOrder(h5, container).map((g) => inferStoreLayer(s, joinH5(container, g), g, 0));
  notes.unshift(
    "no model config in the file: layer classes were inferred from group names and weight shapes; settings such as return_sequences and activations are unknown",
    "a .weights.h5 file does not record layer order; layers are listed by group name",
  );
  return {
    format: "keras3-weights",
    source: h5.label,
    kerasMajor: tfKeras ? 2 : 3,
    modelClass: "(weights only)",
    name: h5.label.replace(/^.*[\\/]/, "").replace(/\.weights\.h5$|\.[^.]*$/, ""),
    layers,
    inputs: [],
    outputs: [],
    notes,
  };
}
