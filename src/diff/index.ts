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
 *
 * Quantized exports (Tensor.quantizationStep: TFLite int8, tfjs uint8/uint16; and
 * Tensor.storedAsFloat16) are measured in their quantization step: a tensor, gate or layer
 * whose every value lies within half a step of the other file's (what quantizing those very
 * weights gives) is "within quantization", not "different", unless `exact` asks for
 * values within atol only. Either way the largest |Δ| in steps is reported.
 */
import { recurrentKindOf } from "../layers/registry.js";
import type { CellWeights } from "../layers/kind.js";
import { gateBlocks } from "../layers/recurrent.js";
import { type Layer, type Model, walkLayers } from "../model.js";
import { unravel } from "../check/tolerance.js";

export const DEFAULT_DIFF_ATOL = 0;

/** within-quantization: not equal, but every value within half a quantization step (quantizationFit). */
export type TensorStatus = "equal" | "within-quantization" | "different" | "shape" | "only-a" | "only-b";

/**
 * Where one file holds a tensor quantized (integer codes times a scale, `step`) or as float16
 * numbers (`float16`, whose step at a value is the float16 spacing there): how far the other
 * file's values lie, in steps.
 */
export interface QuantizationFit {
  /** The file that holds the quantized values. */
  side: "A" | "B";
  scheme: "step" | "float16";
  /** Largest |Δ| in quantization steps, over the quantized values (≤ 0.5, plus float32 rounding, when quantizing these very weights explains them). */
  maxSteps: number;
  /** Values further apart than half a step (with the float32 slack) and than atol: what makes the tensor different. */
  beyond: number;
}

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
  /** The largest change: in quantization steps where one file is quantized (a value beyond half a step first), else in |Δ|. */
  worst: { index: number[]; a: number; b: number; gate?: string; unit?: number } | null;
  /** Present where one file holds this tensor quantized or as float16. */
  quantization?: QuantizationFit;
}

export type GateStatus = "equal" | "within-quantization" | "different";

export interface GateDiff {
  gate: string;
  status: GateStatus;
  /** Some value differs by more than atol (within quantization or not). */
  changed: boolean;
  changedValues: number;
  maxAbsDiff: number;
  relativeDiff: number;
  /** Largest |Δ| in quantization steps over the gate's quantized values; null where neither file quantized them. */
  maxSteps: number | null;
  /** Where the largest change is, e.g. `kernel_f[0, 3]` (in steps where quantized, as TensorDiff.worst). */
  worst: string | null;
  /** The unit (column of the gate block) of `worst`. */
  unit: number | null;
}

export type LayerStatus = "equal" | "within-quantization" | "different" | "only-a" | "only-b";

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
  /** Quantized values had to be within atol too (--exact): nothing is "within quantization". */
  exact: boolean;
  warnings: string[];
  layers: LayerDiff[];
  /** within-quantization: no layer differs, and some only within their quantization step. */
  verdict: "equal" | "within-quantization" | "different";
  counts: { layers: number; different: number; withinQuantization: number; tensors: number; differentTensors: number; withinQuantizationTensors: number };
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
  /** As on Tensor: the step of each index of the last axis, for a quantized export's values. */
  quantizationStep?: Float64Array;
  storedAsFloat16?: boolean;
}

/**
 * Room for float32 rounding beyond half a step, per unit of the largest |value| quantized with
 * the same parameters (the columns that share the step: a whole tfjs tensor, one TFLite gate
 * tensor, or one TFLite channel). The runtimes dequantize in float32 (TFLite: float(scale ·
 * (q − zero_point)); tfjs: q·scale + min rounded to float32), and the quantizer picked q from
 * x/scale (x − min) computed in float32 too: at most four roundings, each within 2^-24 of a
 * quantity no larger than twice that largest |value| (a value's distance from min or from the
 * zero point, which lie in the quantized range). 4 · 2^-24 · 2 = 2^-21: 6e-5 of an int8 step,
 * 0.016 of a uint16 step.
 */
const STEP_SLACK = 2 ** -21;

/** The spacing of float16 numbers at |v|: 2^(e − 10) in [2^e, 2^(e+1)), 2^-24 below 2^-14 (subnormals). */
export function float16Spacing(v: number): number {
  const m = Math.abs(v);
  if (!(m >= 2 ** -14)) return 2 ** -24;
  let e = Math.min(Math.floor(Math.log2(m)), 15);
  // log2 of a value just below a power of two can round up to it.
  if (2 ** e > m) e--;
  return 2 ** (e - 10);
}

/** How one value pair is judged where a file is quantized: the step there and the float32 room beyond half of it. */
interface Judge {
  fit: Omit<QuantizationFit, "maxSteps" | "beyond">;
  /** The step at index k of values x (A) and y (B); 0 where the value was not quantized. */
  step(k: number, x: number, y: number): number;
  slack(k: number, x: number, y: number): number;
}

/**
 * The judge for two tensors of the same shape of which one (B first) is quantized, or undefined.
 * float16: x rounded to the float16 y moves it by at most half the spacing between y and its
 * neighbour towards x, the spacing at min(|x|, |y|); the slack is one float32 rounding of the
 * value (the float32 weight may itself be a rounding of what the converter rounded).
 */
function judgeOf(a: Named, b: Named): Judge | undefined {
  const side = b.quantizationStep || b.storedAsFloat16 ? "B" : a.quantizationStep || a.storedAsFloat16 ? "A" : null;
  if (!side) return undefined;
  const q = side === "B" ? b : a;
  if (!q.quantizationStep) {
    return {
      fit: { side, scheme: "float16" },
      step: (_k, x, y) => float16Spacing(Math.min(Math.abs(x), Math.abs(y))),
      slack: (_k, x, y) => 2 ** -24 * Math.max(Math.abs(x), Math.abs(y)),
    };
  }
  const steps = q.quantizationStep;
  const cols = steps.length;
  if (cols === 0 || q.shape[q.shape.length - 1] !== cols) return undefined;
  const byColumn = new Float64Array(cols);
  for (let k = 0; k < a.data.length; k++) {
    const m = Math.max(Number.isFinite(a.data[k]) ? Math.abs(a.data[k]) : 0, Number.isFinite(b.data[k]) ? Math.abs(b.data[k]) : 0);
    if (m > byColumn[k % cols]) byColumn[k % cols] = m;
  }
  // Columns with the same step were quantized together: the largest |value| of them all.
  const byStep = new Map<number, number>();
  steps.forEach((s, c) => byStep.set(s, Math.max(byStep.get(s) ?? 0, byColumn[c])));
  const largest = Float64Array.from(steps, (s) => byStep.get(s)!);
  return { fit: { side, scheme: "step" }, step: (k) => steps[k % cols], slack: (k) => STEP_SLACK * largest[k % cols] };
}

/** The |Δ| of two values: NaN against a number, or two different infinities, are Infinity apart; NaN and NaN 0. */
function distance(x: number, y: number): number {
  if (Number.isNaN(x) || Number.isNaN(y)) return Number.isNaN(x) && Number.isNaN(y) ? 0 : Infinity;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return x === y ? 0 : Infinity;
  return Math.abs(x - y);
}

/** Value pairs added one by one: how many changed, the largest |Δ| and, where quantized, in steps. */
class Tally {
  changed = 0;
  maxAbsDiff = 0;
  maxAbsA = 0;
  worstIndex: number | null = null;
  maxSteps = 0;
  beyond = 0;
  private worstWithin = true;
  private worstRank = 0;

  constructor(
    private readonly atol: number,
    private readonly judge?: Judge,
  ) {}

  add(k: number, x: number, y: number): void {
    if (Number.isFinite(x)) this.maxAbsA = Math.max(this.maxAbsA, Math.abs(x));
    const d = distance(x, y);
    if (d > this.atol) this.changed++;
    if (!this.judge) {
      if (d > this.maxAbsDiff || (this.worstIndex === null && d > 0)) {
        this.maxAbsDiff = d;
        this.worstIndex = k;
      }
      return;
    }
    this.maxAbsDiff = Math.max(this.maxAbsDiff, d);
    const step = Number.isFinite(d) ? this.judge.step(k, x, y) : 0;
    if (step > 0) this.maxSteps = Math.max(this.maxSteps, d / step);
    const within = d <= this.atol || (step > 0 && d <= step / 2 + this.judge.slack(k, x, y));
    if (!within) this.beyond++;
    // The worst value: one beyond quantization before any within it, then the most steps apart.
    const rank = step > 0 ? d / step : d > 0 ? Infinity : 0;
    if (this.worstIndex === null ? d > 0 : (this.worstWithin && !within) || (this.worstWithin === within && rank > this.worstRank)) {
      this.worstIndex = k;
      this.worstWithin = within;
      this.worstRank = rank;
    }
  }

  get relativeDiff(): number {
    return this.maxAbsA > 0 ? this.maxAbsDiff / this.maxAbsA : this.maxAbsDiff > 0 ? Infinity : 0;
  }

  /** equal: every value within atol; within-quantization: the others within half a step (unless exact). */
  status(exact: boolean): GateStatus {
    if (this.changed === 0) return "equal";
    return this.judge && !exact && this.beyond === 0 ? "within-quantization" : "different";
  }

  fit(): QuantizationFit | undefined {
    return this.judge ? { ...this.judge.fit, maxSteps: this.maxSteps, beyond: this.beyond } : undefined;
  }
}

function compareTensor(name: string, a: Named | undefined, b: Named | undefined, atol: number, exact: boolean): TensorDiff {
  const base = { name, shapeA: a?.shape ?? null, shapeB: b?.shape ?? null, count: 0, changed: 0, maxAbsDiff: null, relativeDiff: null, worst: null };
  if (!a) return { ...base, status: "only-b" };
  if (!b) return { ...base, status: "only-a" };
  if (a.shape.length !== b.shape.length || a.shape.some((d, k) => d !== b.shape[k])) return { ...base, status: "shape" };
  const r = new Tally(atol, judgeOf(a, b));
  for (let k = 0; k < a.data.length; k++) r.add(k, a.data[k], b.data[k]);
  const fit = r.fit();
  return {
    ...base,
    count: a.data.length,
    changed: r.changed,
    maxAbsDiff: r.maxAbsDiff,
    relativeDiff: r.relativeDiff,
    worst: r.worstIndex === null ? null : { index: unravel(r.worstIndex, a.shape), a: a.data[r.worstIndex], b: b.data[r.worstIndex] },
    status: r.status(exact),
    ...(fit ? { quantization: fit } : {}),
  };
}

/**
 * A packed tensor with the quantization of the stored tensor it was read from: only where its
 * values are that tensor's own (same name, same last axis, equal values from a row boundary:
 * GRU's packed recurrent_bias is row 1 of its stored bias), so that the steps of the last axis
 * line up with its columns. A layout the layer kind rearranged (Keras 1 per-gate arrays,
 * CuDNN) keeps none; no export stores those.
 */
function withStoredQuantization(t: Named, layer: Layer): Named {
  const stored = layer.weights.find((w) => w.name === (t.name === "recurrent_bias" ? "bias" : t.name));
  if (!stored || !(stored.quantizationStep || stored.storedAsFloat16)) return t;
  const cols = t.shape[t.shape.length - 1];
  if (stored.shape[stored.shape.length - 1] !== cols || (stored.quantizationStep && stored.quantizationStep.length !== cols)) return t;
  const same = (at: number) => {
    for (let k = 0; k < t.data.length; k++) if (!Object.is(stored.data[at + k], t.data[k]) && stored.data[at + k] !== t.data[k]) return false;
    return true;
  };
  for (let at = 0; at + t.data.length <= stored.data.length; at += cols) {
    if (same(at)) return { ...t, quantizationStep: stored.quantizationStep, storedAsFloat16: stored.storedAsFloat16 };
  }
  return t;
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

function compareLayers(a: Weighted, b: Weighted, matchedBy: LayerDiff["matchedBy"], atol: number, exact: boolean): LayerDiff {
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
    const pa = packed(wa, G).map((t) => withStoredQuantization(t, a.layer));
    const pb = packed(wb, G).map((t) => withStoredQuantization(t, b.layer));
    const names = [...new Set([...pa.map((t) => t.name), ...pb.map((t) => t.name)])];
    tensors = names.map((n) => compareTensor(n, pa.find((t) => t.name === n), pb.find((t) => t.name === n), atol, exact));
    // Which gate and unit the largest change of a packed tensor falls in.
    for (const t of tensors) {
      if (t.worst && G > 0) {
        const col = t.worst.index[t.worst.index.length - 1];
        t.worst.gate = kindA.gates[Math.floor(col / wa.units)];
        t.worst.unit = col % wa.units;
      }
    }
    const sameShape = wa.units === wb.units && wa.inputDim === wb.inputDim;
    if (sameShape) gates = gateDiffs(kindA.gates, wa, wb, pa, pb, atol, exact);
    const layoutA = wa.notes[0];
    const layoutB = wb.notes[0];
    if (layoutA && layoutA === layoutB) notes.push(`compared in Keras 2's packed layout; A and B: ${layoutA}`);
    else if (layoutA || layoutB) notes.push(`compared in Keras 2's packed layout${layoutA ? `; A: ${layoutA}` : ""}${layoutB ? `; B: ${layoutB}` : ""}`);
  } else {
    const na: Named[] = a.layer.weights.map((t) => ({ ...t, name: canonicalName(a.layer, t.name) }));
    const nb: Named[] = b.layer.weights.map((t) => ({ ...t, name: canonicalName(b.layer, t.name) }));
    const names = [...new Set([...na.map((t) => t.name), ...nb.map((t) => t.name)])];
    tensors = names.map((n) => compareTensor(n, na.find((t) => t.name === n), nb.find((t) => t.name === n), atol, exact));
  }
  const different = changes.length > 0 || tensors.some((t) => t.status !== "equal" && t.status !== "within-quantization");
  return {
    pathA: a.path,
    pathB: b.path,
    classA: a.layer.className,
    classB: b.layer.className,
    matchedBy,
    status: different ? "different" : tensors.some((t) => t.status === "within-quantization") ? "within-quantization" : "equal",
    canonical,
    tensors,
    gates,
    configChanges: changes,
    notes,
  };
}

/**
 * Each gate's blocks (kernel_f, recurrent_kernel_f, bias_f, ...) compared as their packed
 * tensors are, with the same quantization judge: a block's value at row r, unit j is packed
 * column from + j, whose step the stored tensor gives.
 */
function gateDiffs(letters: readonly string[], wa: CellWeights, wb: CellWeights, pa: Named[], pb: Named[], atol: number, exact: boolean): GateDiff[] {
  const blocksA = gateBlocks(letters, wa);
  const blocksB = gateBlocks(letters, wb);
  const judges = new Map<string, Judge | undefined>();
  for (const t of pa) {
    const o = pb.find((x) => x.name === t.name);
    if (o) judges.set(t.name, judgeOf(t, o));
  }
  const gates = letters.length > 0 ? letters : [""];
  return gates.map((g) => {
    const suffix = g ? `_${g}` : "";
    let maxAbsDiff = 0;
    let maxAbsA = 0;
    let changedValues = 0;
    let beyond = 0;
    let maxSteps: number | null = null;
    let quantized = false;
    let worst: string | null = null;
    let unit: number | null = null;
    let worstKey: [number, number] = [-1, 0]; // [beyond quantization ? 1 : 0, |Δ| or steps]
    for (const base of ["kernel", "recurrent_kernel", "bias", "recurrent_bias"]) {
      const ma = blocksA.find((x) => x.name === `${base}${suffix}`);
      const mb = blocksB.find((x) => x.name === `${base}${suffix}`);
      if (!ma && !mb) continue;
      if (!ma || !mb) {
        changedValues += (ma ?? mb)!.rows * ((ma ?? mb)!.to - (ma ?? mb)!.from);
        beyond++;
        maxAbsDiff = Infinity;
        worst = `${base}${suffix} (only in ${ma ? "A" : "B"})`;
        unit = null;
        worstKey = [2, Infinity];
        continue;
      }
      const judge = judges.get(base);
      const r = new Tally(atol, judge);
      const width = ma.to - ma.from;
      // Taken once: `packed` is read from the cell (and the file) when first asked for.
      const [a, b] = [ma.packed, mb.packed];
      for (let row = 0; row < ma.rows; row++) {
        for (let j = 0; j < width; j++) {
          const k = row * ma.cols + ma.from + j;
          r.add(k, a[k], b[k]);
        }
      }
      maxAbsA = Math.max(maxAbsA, r.maxAbsA);
      changedValues += r.changed;
      beyond += judge ? r.beyond : r.changed;
      maxAbsDiff = Math.max(maxAbsDiff, r.maxAbsDiff);
      if (judge) {
        quantized = true;
        maxSteps = Math.max(maxSteps ?? 0, r.maxSteps);
      }
      if (r.worstIndex !== null) {
        const at = r.worstIndex;
        const d = distance(a[at], b[at]);
        const step = judge && Number.isFinite(d) ? judge.step(at, a[at], b[at]) : 0;
        const isBeyond = d > atol && (!judge || !(step > 0 && d <= step / 2 + judge.slack(at, a[at], b[at])));
        const key: [number, number] = [isBeyond ? 1 : 0, judge ? (step > 0 ? d / step : d > 0 ? Infinity : 0) : d];
        if (key[0] > worstKey[0] || (key[0] === worstKey[0] && key[1] > worstKey[1])) {
          worstKey = key;
          const [row, col] = [Math.floor(at / ma.cols), (at % ma.cols) - ma.from];
          worst = ma.rows === 1 ? `${base}${suffix}[${col}]` : `${base}${suffix}[${row}, ${col}]`;
          unit = col;
        }
      }
    }
    const relativeDiff = maxAbsA > 0 ? maxAbsDiff / maxAbsA : maxAbsDiff > 0 ? Infinity : 0;
    const status: GateStatus = changedValues === 0 ? "equal" : quantized && !exact && beyond === 0 ? "within-quantization" : "different";
    return { gate: g || "(none)", status, changed: changedValues > 0, changedValues, maxAbsDiff, relativeDiff, maxSteps: quantized ? maxSteps : null, worst, unit };
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
  /** Quantized values too must be within atol: no "within quantization" (--exact). */
  exact?: boolean;
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
  const exact = options.exact === true;
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
    if (p) layers.push(compareLayers(p.a, p.b, p.by, atol, exact));
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
  const withinQuantization = layers.filter((l) => l.status === "within-quantization").length;
  const different = layers.filter((l) => l.status !== "equal" && l.status !== "within-quantization").length;
  const quantizedTensors = tensors.filter((t) => t.status === "within-quantization").length;
  return {
    a: info(a),
    b: info(b),
    atol,
    exact,
    warnings,
    layers,
    verdict: different > 0 ? "different" : withinQuantization > 0 ? "within-quantization" : "equal",
    counts: {
      layers: layers.length,
      different,
      withinQuantization,
      tensors: tensors.length,
      differentTensors: tensors.filter((t) => t.status !== "equal" && t.status !== "within-quantization").length,
      withinQuantizationTensors: quantizedTensors,
    },
  };
}
