/**
 * `diff A B`: compares the weights of two model or weights files, of any formats.
 *
 * Layers that hold weights are matched by path (`bidirectional_1/forward_lstm_1`), then
 * by layer name, then, for what is left, by order (with a warning naming each pair).
 * Recurrent layers are compared in Keras 2's packed layout (LSTM/GRU/SimpleRNN
 * `cellWeights`), so a Keras 1 file with per-gate arrays, a CuDNNLSTM and an LSTM of the
 * same weights compare equal, and every change is also reported per gate
 * (kernel_f, recurrent_kernel_f, bias_f, ...). Other layers are compared tensor by
 * tensor by name (Keras 1's W, U, b read as kernel, recurrent_kernel, bias).
 *
 * Exports read as layers only in part (ONNX: its recurrent nodes, `Model.layersRead`) are
 * compared on what they hold: the other file's non-recurrent layers are named in a warning,
 * not counted. With `partial`, B is taken as part of A (one stage of a model exported in
 * pieces): A's layers that B lacks are named in a warning too.
 *
 * Default tolerance 0: two saves of the same model store the same float32 values
 * bit for bit (HDF5 datasets and .keras archives both hold raw IEEE floats), so any
 * difference is a change. A float64 copy of a float32 model differs by up to half a
 * float32 ulp (≈ 6e-8 relative); compare those with --atol.
 */
import { recurrentKindOf } from "../layers/registry.js";
import type { CellWeights } from "../layers/kind.js";
import { type Layer, type Model, walkLayers } from "../model.js";
import { unravel } from "../check/tolerance.js";

export const DEFAULT_DIFF_ATOL = 0;

export type TensorStatus = "equal" | "different" | "shape" | "only-a" | "only-b";

export interface TensorDiff {
  name: string;
  shapeA: number[] | null;
  shapeB: number[] | null;
  status: TensorStatus;
  count: number;
  /** Elements with |Δ| > atol (NaN against a number counts; NaN against NaN does not). */
  changed: number;
  maxAbsDiff: number | null;
  /** max |Δ| / max |A|: the change relative to the tensor's scale. */
  relativeDiff: number | null;
  worst: { index: number[]; a: number; b: number; gate?: string; unit?: number } | null;
}

export interface GateDiff {
  gate: string;
  changed: boolean;
  changedValues: number;
  maxAbsDiff: number;
  relativeDiff: number;
  /** Where the largest change is, e.g. `kernel_f[0, 3]`. */
  worst: string | null;
}

export type LayerStatus = "equal" | "different" | "only-a" | "only-b";

export interface LayerDiff {
  pathA: string | null;
  pathB: string | null;
  classA: string | null;
  classB: string | null;
  matchedBy: "path" | "name" | "order" | null;
  status: LayerStatus;
  /** True when compared in Keras 2's packed recurrent layout. */
  canonical: boolean;
  tensors: TensorDiff[];
  gates: GateDiff[];
  /** Config settings that differ (both files must record them). */
  configChanges: string[];
  notes: string[];
}

export interface FileInfo {
  file: string;
  format: string;
  kerasVersion: string | null;
}

export interface DiffReport {
  a: FileInfo;
  b: FileInfo;
  atol: number;
  warnings: string[];
  layers: LayerDiff[];
  verdict: "equal" | "different";
  counts: { layers: number; different: number; tensors: number; differentTensors: number };
}

interface Weighted {
  layer: Layer;
  path: string;
  model: Model;
}

function weightedLayers(model: Model): Weighted[] {
  return [...walkLayers(model.layers)].filter(({ layer }) => layer.weights.length > 0).map(({ layer, path }) => ({ layer, path, model }));
}

/** Keras 1 names for the tensors Keras 2 calls kernel, recurrent_kernel, bias, embeddings. */
function canonicalName(layer: Layer, name: string): string {
  const has = (n: string) => layer.weights.some((t) => t.name === n);
  if (name === "W" && !has("kernel")) return layer.className === "Embedding" ? "embeddings" : "kernel";
  if (name === "U" && !has("recurrent_kernel")) return "recurrent_kernel";
  if (name === "b" && !has("bias")) return "bias";
  return name;
}

interface Named {
  name: string;
  shape: number[];
  data: ArrayLike<number>;
}

function compareTensor(name: string, a: Named | undefined, b: Named | undefined, atol: number): TensorDiff {
  const base = { name, shapeA: a?.shape ?? null, shapeB: b?.shape ?? null, count: 0, changed: 0, maxAbsDiff: null, relativeDiff: null, worst: null };
  if (!a) return { ...base, status: "only-b" };
  if (!b) return { ...base, status: "only-a" };
  if (a.shape.length !== b.shape.length || a.shape.some((d, k) => d !== b.shape[k])) return { ...base, status: "shape" };
  const r = compareValues(a.data, b.data, atol);
  return {
    ...base,
    count: a.data.length,
    changed: r.changed,
    maxAbsDiff: r.maxAbsDiff,
    relativeDiff: r.relativeDiff,
    worst: r.worstIndex === null ? null : { index: unravel(r.worstIndex, a.shape), a: a.data[r.worstIndex], b: b.data[r.worstIndex] },
    status: r.changed > 0 ? "different" : "equal",
  };
}

function compareValues(a: ArrayLike<number>, b: ArrayLike<number>, atol: number) {
  let changed = 0;
  let maxAbsDiff = 0;
  let maxAbsA = 0;
  let worstIndex: number | null = null;
  for (let k = 0; k < a.length; k++) {
    const x = a[k];
    const y = b[k];
    if (Number.isFinite(x)) maxAbsA = Math.max(maxAbsA, Math.abs(x));
    let d: number;
    if (Number.isNaN(x) || Number.isNaN(y)) d = Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity;
    else if (!Number.isFinite(x) || !Number.isFinite(y)) d = x === y ? 0 : Infinity;
    else d = Math.abs(x - y);
    if (d > atol) changed++;
    if (d > maxAbsDiff || (worstIndex === null && d > 0)) {
      maxAbsDiff = d;
      worstIndex = k;
    }
  }
  const relativeDiff = maxAbsA > 0 ? maxAbsDiff / maxAbsA : maxAbsDiff > 0 ? Infinity : 0;
  return { changed, maxAbsDiff, relativeDiff, worstIndex };
}

/** The packed recurrent tensors of CellWeights, with their shapes. */
function packed(w: CellWeights, gates: number): Named[] {
  const width = Math.max(gates, 1) * w.units;
  const out: Named[] = [
    { name: "kernel", shape: [w.inputDim, width], data: w.kernel },
    { name: "recurrent_kernel", shape: [w.units, width], data: w.recurrentKernel },
  ];
  if (w.bias) out.push({ name: "bias", shape: [width], data: w.bias });
  if (w.recurrentBias) out.push({ name: "recurrent_bias", shape: [width], data: w.recurrentBias });
  return out;
}

function tryCellWeights(entry: Weighted): CellWeights | null {
  const kind = recurrentKindOf(entry.layer.className);
  // A ConvLSTM's canonical form depends on its input's shape: compared tensor by tensor.
  if (!kind || kind.kind === "conv_lstm") return null;
  try {
    return kind.cellWeights(entry.layer, entry.model);
  } catch {
    return null; // malformed: compared tensor by tensor instead
  }
}

const CONFIG_KEYS = ["units", "activation", "recurrent_activation", "use_bias", "return_sequences", "return_state", "go_backwards", "reset_after", "filters", "kernel_size"];

/**
 * A setting as compared: plain values as JSON; a serialized object (an activation
 * layer given as `activation`) by its class name, since Keras 3 adds bookkeeping keys
 * (module, registered_name, build_config) to the same object.
 */
function settingText(v: unknown): string {
  if (v !== null && typeof v === "object" && !Array.isArray(v) && "class_name" in v) return String((v as { class_name: unknown }).class_name);
  return JSON.stringify(v);
}

function configChanges(a: Layer, b: Layer): string[] {
  if (a.inferred || b.inferred) return [];
  const out: string[] = [];
  for (const key of CONFIG_KEYS) {
    if (!(key in a.config) || !(key in b.config)) continue;
    const x = settingText(a.config[key]);
    const y = settingText(b.config[key]);
    if (x !== y) out.push(`${key}: ${x} → ${y}`);
  }
  return out;
}

function compareLayers(a: Weighted, b: Weighted, matchedBy: LayerDiff["matchedBy"], atol: number): LayerDiff {
  const kindA = recurrentKindOf(a.layer.className);
  const kindB = recurrentKindOf(b.layer.className);
  const notes: string[] = [];
  const changes = configChanges(a.layer, b.layer);
  if (a.layer.className !== b.layer.className) {
    if (kindA && kindB && kindA.kind === kindB.kind) notes.push(`class ${a.layer.className} in A, ${b.layer.className} in B (compared as ${kindA.kind.toUpperCase()} weights)`);
    else changes.unshift(`class: ${a.layer.className} → ${b.layer.className}`);
  }
  let tensors: TensorDiff[];
  let gates: GateDiff[] = [];
  let canonical = false;
  const wa = kindA && kindB && kindA.kind === kindB.kind ? tryCellWeights(a) : null;
  const wb = wa ? tryCellWeights(b) : null;
  if (kindA && wa && wb) {
    canonical = true;
    const G = kindA.gates.length;
    const pa = packed(wa, G);
    const pb = packed(wb, G);
    const names = [...new Set([...pa.map((t) => t.name), ...pb.map((t) => t.name)])];
    tensors = names.map((n) => compareTensor(n, pa.find((t) => t.name === n), pb.find((t) => t.name === n), atol));
    // Which gate and unit the largest change of a packed tensor falls in.
    for (const t of tensors) {
      if (t.worst && G > 0) {
        const col = t.worst.index[t.worst.index.length - 1];
        t.worst.gate = kindA.gates[Math.floor(col / wa.units)];
        t.worst.unit = col % wa.units;
      }
    }
    const sameShape = wa.units === wb.units && wa.inputDim === wb.inputDim;
    if (sameShape) gates = gateDiffs(kindA.gates, wa, wb, atol);
    const layoutA = wa.notes[0];
    const layoutB = wb.notes[0];
    if (layoutA && layoutA === layoutB) notes.push(`compared in Keras 2's packed layout; A and B: ${layoutA}`);
    else if (layoutA || layoutB) notes.push(`compared in Keras 2's packed layout${layoutA ? `; A: ${layoutA}` : ""}${layoutB ? `; B: ${layoutB}` : ""}`);
  } else {
    const na: Named[] = a.layer.weights.map((t) => ({ ...t, name: canonicalName(a.layer, t.name) }));
    const nb: Named[] = b.layer.weights.map((t) => ({ ...t, name: canonicalName(b.layer, t.name) }));
    const names = [...new Set([...na.map((t) => t.name), ...nb.map((t) => t.name)])];
    tensors = names.map((n) => compareTensor(n, na.find((t) => t.name === n), nb.find((t) => t.name === n), atol));
  }
  notes.push(...quantizationNotes(a.layer, b.layer));
  const different = changes.length > 0 || tensors.some((t) => t.status !== "equal");
  return {
    pathA: a.path,
    pathB: b.path,
    classA: a.layer.className,
    classB: b.layer.className,
    matchedBy,
    status: different ? "different" : "equal",
    canonical,
    tensors,
    gates,
    configChanges: changes,
    notes,
  };
}

/**
 * Dequantized export weights (Tensor.quantizationStep) against the other file's tensor of the
 * same name and shape: the largest |Δ| in quantization steps. Rounding to the step moves a
 * value by at most half a step, so ≤ 0.5 is what quantizing these very weights gives.
 */
function quantizationNotes(a: Layer, b: Layer): string[] {
  const out: string[] = [];
  for (const [side, q, other] of [["A", a, b], ["B", b, a]] as const) {
    for (const t of q.weights) {
      const steps = t.quantizationStep;
      const o = other.weights.find((w) => w.name === t.name);
      if (!steps || !o || o.shape.join(",") !== t.shape.join(",")) continue;
      const cols = steps.length;
      let worst = 0;
      for (let k = 0; k < t.data.length; k++) {
        const step = steps[k % cols];
        if (step > 0) worst = Math.max(worst, Math.abs(t.data[k] - o.data[k]) / step);
      }
      const verdict = worst <= 0.5 + 1e-6 ? "within half a step, as quantizing the same weights gives" : "more than rounding to the step explains";
      out.push(`${side}'s ${t.name} is quantized: max |Δ| is ${worst.toPrecision(3)} of its quantization step (${verdict})`);
    }
  }
  return out;
}

function gateDiffs(letters: readonly string[], wa: CellWeights, wb: CellWeights, atol: number): GateDiff[] {
  const gates = letters.length > 0 ? letters : [""];
  return gates.map((g) => {
    const suffix = g ? `_${g}` : "";
    let maxAbsDiff = 0;
    let maxAbsA = 0;
    let changedValues = 0;
    let worst: string | null = null;
    for (const base of ["kernel", "recurrent_kernel", "bias", "recurrent_bias"]) {
      const ma = wa.gates[`${base}${suffix}`];
      const mb = wb.gates[`${base}${suffix}`];
      if (!ma && !mb) continue;
      if (!ma || !mb) {
        changedValues += (ma ?? mb)!.data.length;
        maxAbsDiff = Infinity;
        worst = `${base}${suffix} (only in ${ma ? "A" : "B"})`;
        continue;
      }
      const r = compareValues(ma.data, mb.data, atol);
      for (let k = 0; k < ma.data.length; k++) if (Number.isFinite(ma.data[k])) maxAbsA = Math.max(maxAbsA, Math.abs(ma.data[k]));
      changedValues += r.changed;
      if (r.worstIndex !== null && r.maxAbsDiff > maxAbsDiff) {
        maxAbsDiff = r.maxAbsDiff;
        const [row, col] = [Math.floor(r.worstIndex / ma.cols), r.worstIndex % ma.cols];
        worst = ma.rows === 1 ? `${base}${suffix}[${col}]` : `${base}${suffix}[${row}, ${col}]`;
      }
    }
    const relativeDiff = maxAbsA > 0 ? maxAbsDiff / maxAbsA : maxAbsDiff > 0 ? Infinity : 0;
    return { gate: g || "(none)", changed: changedValues > 0, changedValues, maxAbsDiff, relativeDiff, worst };
  });
}

function only(entry: Weighted, side: "a" | "b"): LayerDiff {
  return {
    pathA: side === "a" ? entry.path : null,
    pathB: side === "b" ? entry.path : null,
    classA: side === "a" ? entry.layer.className : null,
    classB: side === "b" ? entry.layer.className : null,
    matchedBy: null,
    status: side === "a" ? "only-a" : "only-b",
    canonical: false,
    tensors: [],
    gates: [],
    configChanges: [],
    notes: [],
  };
}

const info = (m: Model): FileInfo => ({ file: m.source, format: m.format, kerasVersion: m.kerasVersion ?? null });

export interface DiffOptions {
  /** Largest |Δ| still counted as equal (default 0). */
  atol?: number;
  /** B holds part of A: layers only in A are named in a warning instead of counted as differences. */
  partial?: boolean;
}

/** Which file holds only its recurrent layers as layers, for the warning. */
const readsOnlyRecurrent = (m: Model) => m.layersRead === "recurrent";

/**
 * Leaves out the weighted layers `other`'s adapter could not have read (its non-recurrent
 * layers, when `reader` maps only recurrent ones), naming them in a warning.
 */
function comparable(list: Weighted[], reader: Model, side: "A" | "B", warnings: string[]): Weighted[] {
  if (!readsOnlyRecurrent(reader)) return list;
  const kept = list.filter((e) => recurrentKindOf(e.layer.className) !== undefined);
  const left = list.filter((e) => !kept.includes(e));
  if (left.length > 0) {
    const other = side === "A" ? "B" : "A";
    warnings.push(`${other} (${reader.format}) holds only its recurrent layers as layers; not compared: ${side}'s ${left.map((e) => e.path).join(", ")}`);
  }
  return kept;
}

export function diffModels(a: Model, b: Model, options: DiffOptions = {}): DiffReport {
  const atol = options.atol ?? DEFAULT_DIFF_ATOL;
  const warnings: string[] = [];
  const la = comparable(weightedLayers(a), b, "A", warnings);
  const lb = comparable(weightedLayers(b), a, "B", warnings);
  const pairs: { a: Weighted; b: Weighted; by: LayerDiff["matchedBy"] }[] = [];
  const restA = new Set(la);
  const restB = new Set(lb);
  const take = (x: Weighted, y: Weighted, by: LayerDiff["matchedBy"]) => {
    pairs.push({ a: x, b: y, by });
    restA.delete(x);
    restB.delete(y);
  };
  for (const x of la) {
    const y = lb.find((e) => restB.has(e) && e.path === x.path);
    if (y) take(x, y, "path");
  }
  const unique = (list: Weighted[], name: string) => list.filter((e) => e.layer.name === name);
  for (const x of [...restA]) {
    const ys = unique([...restB], x.layer.name);
    if (ys.length === 1 && unique([...restA], x.layer.name).length === 1) take(x, ys[0], "name");
  }
  const leftA = la.filter((e) => restA.has(e));
  const leftB = lb.filter((e) => restB.has(e));
  const n = Math.min(leftA.length, leftB.length);
  for (let k = 0; k < n; k++) {
    warnings.push(`layers matched by order, not name: A '${leftA[k].path}' (${leftA[k].layer.className}) ↔ B '${leftB[k].path}' (${leftB[k].layer.className})`);
    take(leftA[k], leftB[k], "order");
  }
  const layers: LayerDiff[] = [];
  // In A's order, with B-only layers at the end.
  const missingFromPart: string[] = [];
  for (const x of la) {
    const p = pairs.find((q) => q.a === x);
    if (p) layers.push(compareLayers(p.a, p.b, p.by, atol));
    else if (options.partial) missingFromPart.push(x.path);
    else layers.push(only(x, "a"));
  }
  if (missingFromPart.length > 0) warnings.push(`B is compared as part of A: A's layers not in B are not compared: ${missingFromPart.join(", ")}`);
  for (const y of lb) if (restB.has(y)) layers.push(only(y, "b"));

  // Layers without weights cannot differ in weights; one file lacking them is worth a word only.
  const bare = (m: Model) => new Set([...walkLayers(m.layers)].filter(({ layer }) => layer.weights.length === 0 && layer.children.length === 0).map(({ layer }) => layer.name));
  const [ba, bb] = [bare(a), bare(b)];
  const onlyBareA = [...ba].filter((x) => !bb.has(x));
  const onlyBareB = [...bb].filter((x) => !ba.has(x));
  // An export read only for its recurrent layers has no layer without weights to list.
  const skipBare = readsOnlyRecurrent(a) || readsOnlyRecurrent(b);
  if (onlyBareA.length && !skipBare) warnings.push(`layers without weights only in A (not compared): ${onlyBareA.join(", ")}`);
  if (onlyBareB.length && !skipBare) warnings.push(`layers without weights only in B (not compared): ${onlyBareB.join(", ")}`);
  if (a.layers.some((l) => l.inferred) || b.layers.some((l) => l.inferred)) {
    warnings.push("a weights-only file records no config: its layer classes were inferred from the tensors and settings such as activations are not compared");
  }

  const tensors = layers.flatMap((l) => l.tensors);
  const different = layers.filter((l) => l.status !== "equal").length;
  return {
    a: info(a),
    b: info(b),
    atol,
    warnings,
    layers,
    verdict: different > 0 ? "different" : "equal",
    counts: { layers: layers.length, different, tensors: tensors.length, differentTensors: tensors.filter((t) => t.status !== "equal").length },
  };
}
