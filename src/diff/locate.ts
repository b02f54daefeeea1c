/**
 * Where a Keras model's recurrent weights lie inside an export that has no RNN op (an ONNX
 * graph unrolled or looped, a TFLite WHILE loop or unrolled cell): `diff KERAS EXPORT` and
 * `check EXPORT --reference KERAS` on such a file.
 *
 * Each Keras weight is cut into its gate blocks (kernel_i … recurrent_kernel_o, bias_z …;
 * layers/recurrent.ts gateBlocks), and each block (rows × units) is looked for among the
 * export's constants (load/export-constants.ts) in every layout converters use:
 * - as stored: a constant (rows, k·units) whose columns s·u … (s+1)·u hold the block
 *   (Keras' own layout, per gate in any order, or the whole tensor);
 * - transposed: a constant (k·units, rows) whose rows hold it (ONNX W / R, TFLite
 *   FULLY_CONNECTED weights, per-gate tensors);
 * - a bias block: units consecutive values of a vector (or of a (2, k·u) GRU bias), and the
 *   sum of the two halves of a (2·k·u) vector, ONNX's B = [Wb ; Rb] applied as Wb + Rb; a
 *   GRU(reset_after=True)'s input and recurrent bias blocks, found nowhere apart, are looked
 *   for as their float32 sum (an export that folds them into one bias).
 * Leading dimensions of size 1 are dropped first (ONNX W [1, 4u, in]).
 *
 * Finding is positional, never by sorting values: exact float32 copies are looked up by
 * the bits of the block's first value in an index of every candidate slot's first value,
 * then compared element by element; quantized constants (int8 and the like, float16) are
 * screened on a few sampled positions within one step, then compared whole. A block is
 * - exact: every value bit for bit;
 * - within quantization: every |Δ| at most half the constant's quantization step (what
 *   rounding the same weights to that step gives; float16: half its spacing at the value),
 *   the largest |Δ| in steps reported;
 * - different: not found, but its siblings' constant has a slot of its shape left where it
 *   belongs (or, with no sibling found, a slot of its shape exists): the nearest such slot is
 *   named with the largest |Δ| and where;
 * - not stored: found nowhere and the export reads resource variables it gives no value;
 * - not found: no constant of a layout that could hold it.
 */
import { float16Spacing } from "./index.js";
import { recurrentKindOf } from "../layers/registry.js";
import { columns, gateBlocks } from "../layers/recurrent.js";
import type { ExportConstant, ExportConstants } from "../load/export-constants.js";
import { type Model, walkLayers } from "../model.js";

export type BlockVerdict = "exact" | "quantized" | "different" | "not-stored" | "not-found";

/** One slot of one constant: where a block of `rows × units` could lie. */
export interface Place {
  constant: string;
  graph: string;
  users: string[];
  shape: number[];
  dtype: string;
  /** The block is the constant's rows (the Keras block transposed), not its columns. */
  transposed: boolean;
  /** `[:, 128:256]`, `[128:256, :]`, `[0:64]`; `[0:64] + [256:320]` for a summed bias. */
  slice: string;
  /** Which of the constant's blocks of this size it is (0-based). */
  slot: number;
  /** ONNX B = [Wb ; Rb]: the block is the sum of two slots. */
  summed?: boolean;
  /** How the constant is stored when not as float32 (`int8 per channel (along dimension 0, zero point 0)`). */
  storage?: string;
}

export interface BlockResult {
  /** kernel_i, recurrent_kernel_f, bias_o, recurrent_bias_z (SimpleRNN: kernel, …). */
  name: string;
  weight: string;
  gate: string;
  rows: number;
  units: number;
  verdict: BlockVerdict;
  /** Where it was found (or, when different, where it should have been). */
  place?: Place;
  /**
   * Found as a sum of Keras blocks (`bias_z + recurrent_bias_z`): the export adds GRU's input
   * and recurrent biases into one (the comparison is of that float32 sum).
   */
  sumOf?: string;
  /** Other constants holding the same values (an unrolled graph may copy them). */
  also?: Place[];
  maxAbsDiff?: number;
  /** Quantized constants: the largest |Δ| in quantization steps. */
  maxSteps?: number;
  /** The largest difference: [row, column] of the Keras block, Keras' value and the export's. */
  worst?: { index: [number, number]; keras: number; export: number };
  /** Every value of the block is the same: where it was found is not telling. */
  uniform?: boolean;
  /** The resource variables that stand for it (not stored). */
  variables?: string[];
}

export interface LayerLocation {
  path: string;
  className: string;
  units: number;
  inputDim: number;
  status: "equal" | "different" | "not-stored";
  blocks: BlockResult[];
}

export interface LocateReport {
  keras: { file: string; format: string; kerasVersion: string | null };
  export: { file: string; format: string };
  /** Which side of the command's arguments the export was. */
  exportSide: "A" | "B";
  notes: string[];
  warnings: string[];
  layers: LayerLocation[];
  verdict: "equal" | "different" | "not-stored";
  counts: { layers: number; blocks: number; exact: number; quantized: number; different: number; notStored: number; notFound: number };
}

// ---------------------------------------------------------------------------
// Constants as matrices, and their slots
// ---------------------------------------------------------------------------

interface Prepared {
  c: ExportConstant;
  /** The shape without leading ones. */
  dims: number[];
  /** |Δ| allowed at flat index k (half a quantization step), or null: exact float32. */
  halfStep: ((k: number) => number) | null;
  step: ((k: number) => number) | null;
}

function prepare(c: ExportConstant): Prepared {
  const dims = [...c.shape];
  while (dims.length > 1 && dims[0] === 1) dims.shift();
  const q = c.quantization;
  let step: ((k: number) => number) | null = null;
  if (q?.float16) step = (k) => float16Spacing(c.values[k]);
  else if (q?.steps) {
    const { axis, values } = q.steps;
    if (values.length === 1) {
      const s = values[0];
      step = () => s;
    } else {
      const inner = c.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      step = (k) => values[Math.floor(k / inner) % values.length];
    }
  }
  return { c, dims, step, halfStep: step ? (k) => step!(k) / 2 : null };
}

interface Slot {
  p: Prepared;
  transposed: boolean;
  slot: number;
  /** Flat index of the block's (row r, unit j) value. */
  at: (r: number, j: number) => number;
  /** For a summed bias: the second value's index. */
  second?: (j: number) => number;
  slice: string;
}

/** The slots of `p` that could hold a rows × units block. */
function slotsOf(p: Prepared, rows: number, units: number): Slot[] {
  const out: Slot[] = [];
  const d = p.dims;
  if (rows === 1) {
    // A vector (any dimensions of size 1 aside), or the rows of a (2, k·u) GRU bias: consecutive runs of `units` values.
    const long = d.filter((x) => x !== 1);
    if (long.length > 2 || (long.length === 2 && long[0] > 2)) return out;
    const n = p.c.values.length;
    if (n % units !== 0) return out;
    // A (2, k·u) bias is named by its row: [1, 0:64].
    const rowsOf = long.length === 2;
    const width = rowsOf ? long[1] : n;
    const sliceOf = (from: number) => (rowsOf ? `[${Math.floor(from / width)}, ${from % width}:${(from % width) + units}]` : `[${from}:${from + units}]`);
    for (let s = 0; s < n / units; s++) out.push({ p, transposed: false, slot: s, at: (_r, j) => s * units + j, slice: sliceOf(s * units) });
    return out;
  }
  if (d.length !== 2) return out;
  const [P, Q] = d;
  if (P === rows && Q % units === 0) {
    for (let s = 0; s < Q / units; s++) out.push({ p, transposed: false, slot: s, at: (r, j) => r * Q + s * units + j, slice: `[:, ${s * units}:${(s + 1) * units}]` });
  }
  if (Q === rows && P % units === 0) {
    for (let s = 0; s < P / units; s++) out.push({ p, transposed: true, slot: s, at: (r, j) => (s * units + j) * Q + r, slice: `[${s * units}:${(s + 1) * units}, :]` });
  }
  return out;
}

/** ONNX's B = [Wb ; Rb] read as Wb + Rb: slot s of the first half plus slot s of the second. */
function summedSlotsOf(p: Prepared, units: number): Slot[] {
  const n = p.c.values.length;
  if (p.dims.length !== 1 || n % (2 * units) !== 0) return [];
  const half = n / 2;
  return Array.from({ length: half / units }, (_, s) => ({
    p,
    transposed: false,
    slot: s,
    at: (_r: number, j: number) => s * units + j,
    second: (j: number) => half + s * units + j,
    slice: `[${s * units}:${(s + 1) * units}] + [${half + s * units}:${half + (s + 1) * units}]`,
  }));
}

const valueAt = (s: Slot, r: number, j: number): number => {
  const v = s.p.c.values;
  // float32 addition, as a runtime adds the two biases.
  return s.second ? Math.fround(v[s.at(r, j)] + v[s.second(j)]) : v[s.at(r, j)];
};

/** Slots of every constant for one block size, with an index of exact ones by their first value. */
class SlotIndex {
  readonly all: Slot[];
  private readonly byFirst = new Map<number, Slot[]>();
  readonly quantized: Slot[];

  constructor(all: Slot[]) {
    this.all = all;
    this.quantized = all.filter((s) => s.p.step);
    for (const s of all) {
      if (s.p.step) continue;
      const key = valueAt(s, 0, 0);
      const list = this.byFirst.get(key);
      if (list) list.push(s);
      else this.byFirst.set(key, [s]);
    }
  }

  /** Exact slots whose first value is `x` (a Map key: NaN finds NaN, 0 finds -0). */
  exact(x: number): Slot[] {
    return this.byFirst.get(x) ?? [];
  }
}

// ---------------------------------------------------------------------------
// Comparing a block with a slot
// ---------------------------------------------------------------------------

interface Block {
  name: string;
  weight: string;
  gate: string;
  rows: number;
  units: number;
  data: ArrayLike<number>;
}

interface Comparison {
  maxAbsDiff: number;
  maxSteps: number;
  /** Every |Δ| within half a step (exact: zero). */
  within: boolean;
  worst: { index: [number, number]; keras: number; export: number } | null;
}

/** A few positions spread over the block, for a cheap screen before the whole comparison. */
function samples(b: Block): [number, number][] {
  const out: [number, number][] = [];
  const n = b.rows * b.units;
  for (let k = 0; k < 8; k++) {
    const flat = Math.min(n - 1, Math.floor((k * (n - 1)) / 7));
    out.push([Math.floor(flat / b.units), flat % b.units]);
  }
  return out;
}

/** Whether every sampled value is within one step (exact slots: equal). */
function screen(b: Block, s: Slot, at: [number, number][]): boolean {
  for (const [r, j] of at) {
    const x = b.data[r * b.units + j];
    const y = valueAt(s, r, j);
    const step = s.p.step ? s.p.step(s.at(r, j)) : 0;
    if (!(Math.abs(x - y) <= step)) return false;
  }
  return true;
}

/** The whole comparison; stops early once |Δ| passes `giveUp` (a nearer slot is known). */
function compare(b: Block, s: Slot, giveUp = Infinity): Comparison {
  let maxAbsDiff = 0;
  let maxSteps = 0;
  let within = true;
  let worst: Comparison["worst"] = null;
  for (let r = 0; r < b.rows; r++) {
    for (let j = 0; j < b.units; j++) {
      const x = b.data[r * b.units + j];
      const y = valueAt(s, r, j);
      const same = x === y || (Number.isNaN(x) && Number.isNaN(y));
      const d = same ? 0 : Number.isFinite(x) && Number.isFinite(y) ? Math.abs(x - y) : Infinity;
      if (d === 0) continue;
      const step = s.p.step ? s.p.step(s.at(r, j)) : 0;
      if (step > 0) {
        const inSteps = d / step;
        if (inSteps > maxSteps) maxSteps = inSteps;
        // float32 rounding of scale · q adds a few ulps to half a step.
        if (inSteps > 0.5 + 1e-5) within = false;
      } else within = false;
      if (d > maxAbsDiff || worst === null) {
        maxAbsDiff = d;
        worst = { index: [r, j], keras: x, export: y };
      }
      if (maxAbsDiff > giveUp) return { maxAbsDiff, maxSteps, within: false, worst };
    }
  }
  return { maxAbsDiff, maxSteps, within, worst };
}

function placeOf(s: Slot): Place {
  return {
    constant: s.p.c.name,
    graph: s.p.c.graph,
    users: s.p.c.users,
    shape: s.p.c.shape,
    dtype: s.p.c.dtype,
    transposed: s.transposed,
    slice: s.slice,
    slot: s.slot,
    ...(s.second ? { summed: true } : {}),
    ...(s.p.c.quantization ? { storage: s.p.c.quantization.scheme.replace(/, (dequantized|widened) .*$/, "") } : {}),
  };
}

// ---------------------------------------------------------------------------
// The search
// ---------------------------------------------------------------------------

interface Found {
  slot: Slot;
  cmp: Comparison;
}

/** Candidate slots compared whole when looking for where a block that was not found belongs. */
const NEAREST_WHOLE = 4;

class Locator {
  private readonly prepared: Prepared[];
  private readonly indexes = new Map<string, SlotIndex>();
  private readonly summed = new Map<number, SlotIndex>();

  constructor(readonly exp: ExportConstants) {
    this.prepared = exp.constants.map(prepare);
  }

  index(rows: number, units: number): SlotIndex {
    const key = `${rows}x${units}`;
    let ix = this.indexes.get(key);
    if (!ix) {
      ix = new SlotIndex(this.prepared.flatMap((p) => slotsOf(p, rows, units)));
      this.indexes.set(key, ix);
    }
    return ix;
  }

  summedIndex(units: number): SlotIndex {
    let ix = this.summed.get(units);
    if (!ix) {
      ix = new SlotIndex(this.prepared.flatMap((p) => summedSlotsOf(p, units)));
      this.summed.set(units, ix);
    }
    return ix;
  }

  /** Every slot holding the block exactly or within half a step. */
  matches(b: Block, ix: SlotIndex): Found[] {
    const out: Found[] = [];
    const first = b.data[0];
    const at = samples(b);
    for (const s of [...ix.exact(first), ...ix.quantized]) {
      if (!screen(b, s, at)) continue;
      const cmp = compare(b, s);
      if (cmp.within) out.push({ slot: s, cmp });
    }
    return out;
  }

  /**
   * The slot of `candidates` nearest to the block (smallest max |Δ|). Many candidates (another
   * model's export: every slot of the block's size) are ranked on 256 spread positions first,
   * and only the nearest few compared whole, so the search costs a few blocks' worth, not all.
   */
  nearest(b: Block, candidates: Slot[]): Found | undefined {
    if (candidates.length > NEAREST_WHOLE) {
      const n = b.rows * b.units;
      const at: [number, number][] = [];
      for (let k = 0; k < Math.min(n, 256); k++) {
        const flat = Math.floor((k * n) / Math.min(n, 256));
        at.push([Math.floor(flat / b.units), flat % b.units]);
      }
      const sampled = (s: Slot) => {
        let worst = 0;
        for (const [r, j] of at) {
          const d = Math.abs(b.data[r * b.units + j] - valueAt(s, r, j));
          worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
        }
        return worst;
      };
      const scored = candidates.map((s) => ({ s, score: sampled(s) }));
      scored.sort((x, y) => x.score - y.score);
      candidates = scored.slice(0, NEAREST_WHOLE).map((x) => x.s);
    }
    let best: Found | undefined;
    for (const s of candidates) {
      const cmp = compare(b, s, best ? best.cmp.maxAbsDiff : Infinity);
      if (!best || cmp.maxAbsDiff < best.cmp.maxAbsDiff) best = { slot: s, cmp };
    }
    return best;
  }
}

const isUniform = (b: Block) => {
  for (let k = 1; k < b.data.length; k++) if (b.data[k] !== b.data[0]) return false;
  return true;
};

/** The resource variables that could stand for a weight: the same role, this layer's name first. */
function variablesFor(unstored: string[], weight: string, layerName: string): string[] {
  const role = weight === "recurrent_bias" ? "bias" : weight;
  const same = unstored.filter((v) => v.split("/").pop()?.replace(/:\d+$/, "") === role);
  const mine = same.filter((v) => v.split("/").some((part) => part === layerName));
  if (mine.length > 0) return mine;
  // Exported names are often the layer's renamed (lstm → lstm_4): a recurrent cell's variable of that role.
  const cells = same.filter((v) => /lstm|gru|rnn/i.test(v));
  return cells.length > 0 ? cells : same;
}

function locateLayer(locator: Locator, layerPath: string, layerName: string, className: string, blocks: Block[], units: number, inputDim: number): LayerLocation {
  const results: BlockResult[] = [];
  const claimed = new Set<Slot>();
  // Blocks of one weight (kernel_i … kernel_o) are placed together: their constant is where a missing sibling belongs.
  const byWeight = new Map<string, Block[]>();
  for (const b of blocks) byWeight.set(b.weight, [...(byWeight.get(b.weight) ?? []), b]);
  for (const [weight, group] of byWeight) {
    const found = new Map<Block, Found[]>();
    const summedWith = new Map<Block, string>();
    for (const b of group) {
      let m = locator.matches(b, locator.index(b.rows, b.units));
      if (m.length === 0 && b.rows === 1) m = locator.matches(b, locator.summedIndex(b.units));
      // GRU(reset_after=True) keeps an input and a recurrent bias; an export may hold their sum.
      const partner = m.length === 0 ? blocks.find((x) => x.gate === b.gate && x.weight === (weight === "bias" ? "recurrent_bias" : weight === "recurrent_bias" ? "bias" : "")) : undefined;
      if (partner) {
        const sum = { ...b, data: Float32Array.from(b.data, (x, j) => Math.fround(x + partner.data[j])) };
        m = locator.matches(sum, locator.index(b.rows, b.units));
        const [first, second] = weight === "bias" ? [b.name, partner.name] : [partner.name, b.name];
        if (m.length > 0) summedWith.set(b, `${first} + ${second}`);
      }
      found.set(b, m);
    }
    // The constant holding most of this weight's blocks is the primary place of each.
    const votes = new Map<ExportConstant, number>();
    for (const m of found.values()) for (const c of new Set(m.map((f) => f.slot.p.c))) votes.set(c, (votes.get(c) ?? 0) + 1);
    const rank = (f: Found) => -(votes.get(f.slot.p.c) ?? 0);
    const home: Slot[] = [];
    for (const b of group) {
      const m = [...found.get(b)!].sort((x, y) => rank(x) - rank(y) || (claimed.has(x.slot) ? 1 : 0) - (claimed.has(y.slot) ? 1 : 0));
      const base = { name: b.name, weight: b.weight, gate: b.gate, rows: b.rows, units: b.units, ...(isUniform(b) && b.data.length > 1 ? { uniform: true } : {}) };
      if (m.length > 0) {
        const best = m[0];
        claimed.add(best.slot);
        home.push(best.slot);
        const quantized = best.cmp.maxAbsDiff > 0;
        results.push({
          ...base,
          verdict: quantized ? "quantized" : "exact",
          place: placeOf(best.slot),
          ...(summedWith.has(b) ? { sumOf: summedWith.get(b) } : {}),
          ...(m.length > 1 ? { also: m.slice(1, 4).map((f) => placeOf(f.slot)) } : {}),
          ...(quantized ? { maxAbsDiff: best.cmp.maxAbsDiff, maxSteps: best.cmp.maxSteps, ...(best.cmp.worst ? { worst: best.cmp.worst } : {}) } : {}),
        });
      } else results.push({ ...base, verdict: "not-found" });
    }
    // A block not found: where its siblings are, the slot left for it; else the nearest slot of its shape.
    for (const r of results.filter((x) => x.weight === weight && x.verdict === "not-found")) {
      const b = group.find((x) => x.name === r.name)!;
      const ix = locator.index(b.rows, b.units);
      const homes = new Set(home.map((s) => `${s.p.c.name}\u0000${s.p.c.graph}\u0000${s.transposed}`));
      const beside = ix.all.filter((s) => homes.has(`${s.p.c.name}\u0000${s.p.c.graph}\u0000${s.transposed}`) && !claimed.has(s));
      // With no sibling found, only constants the size of the whole weight (or of one gate) are where it could be.
      const whole = b.rows * b.units * group.length;
      const sized = (s: Slot) => [whole, b.rows * b.units, ...(b.rows === 1 ? [2 * whole] : [])].includes(s.p.c.values.length);
      const candidates = beside.length > 0 ? beside : ix.all.filter((s) => !claimed.has(s) && sized(s));
      const variables = variablesFor(locator.exp.unstoredVariables, weight, layerName);
      if (candidates.length === 0 || (beside.length === 0 && locator.exp.unstoredVariables.length > 0)) {
        if (locator.exp.unstoredVariables.length > 0) {
          r.verdict = "not-stored";
          r.variables = variables.length > 0 ? variables : locator.exp.unstoredVariables.slice(0, 8);
        }
        continue;
      }
      const near = locator.nearest(b, candidates)!;
      r.verdict = "different";
      r.place = placeOf(near.slot);
      r.maxAbsDiff = near.cmp.maxAbsDiff;
      if (near.slot.p.step) r.maxSteps = near.cmp.maxSteps;
      if (near.cmp.worst) r.worst = near.cmp.worst;
    }
  }
  // In Keras' order: kernel, recurrent_kernel, bias, recurrent_bias, gate by gate.
  const order = blocks.map((b) => b.name);
  results.sort((x, y) => order.indexOf(x.name) - order.indexOf(y.name));
  const status = results.some((r) => r.verdict === "different" || r.verdict === "not-found")
    ? "different"
    : results.some((r) => r.verdict === "not-stored")
      ? "not-stored"
      : "equal";
  return { path: layerPath, className, units, inputDim, status, blocks: results };
}

export interface LocateOptions {
  /**
   * The export holds part of the Keras model (one stage of a model exported in pieces): a
   * layer none of whose blocks is found is named in a warning instead of counted.
   */
  partial?: boolean;
  /** A block within quantization counts as different (diff --exact, check --reference-exact). */
  exact?: boolean;
  /** diff's --atol, which locating does not apply (said in a warning when given). */
  atol?: number;
}

/** Locates every recurrent weight of `keras` among the constants of `exp` (see the header). */
export function locateWeights(keras: Model, exp: ExportConstants, exportSide: "A" | "B", options: LocateOptions = {}): LocateReport {
  const locator = new Locator(exp);
  const warnings: string[] = [];
  const layers: LayerLocation[] = [];
  const skipped: string[] = [];
  const absent: string[] = [];
  for (const { layer, path } of walkLayers(keras.layers)) {
    if (layer.weights.length === 0) continue;
    const kind = recurrentKindOf(layer.className);
    if (!kind) {
      skipped.push(path);
      continue;
    }
    if (kind.kind === "conv_lstm") {
      warnings.push(`${path} (${layer.className}) is not located: a ConvLSTM's weights are convolution kernels`);
      continue;
    }
    const w = kind.cellWeights(layer, keras);
    const blocks: Block[] = gateBlocks(kind.gates, w).map((g) => {
      const m = columns(g.packed, g.rows, g.cols, g.from, g.to);
      const weight = g.name.replace(/_[a-z]$/, "");
      return { name: g.name, weight: kind.gates.length > 0 ? weight : g.name, gate: kind.gates.length > 0 ? g.name.slice(-1) : "", rows: m.rows, units: m.cols, data: m.data };
    });
    const located = locateLayer(locator, path, layer.name, layer.className, blocks, w.units, w.inputDim);
    if (options.partial && !located.blocks.some((b) => b.verdict === "exact" || b.verdict === "quantized")) absent.push(path);
    else layers.push(located);
  }
  if (skipped.length > 0) warnings.push(`only recurrent layers are located; not compared: ${skipped.join(", ")}`);
  if (absent.length > 0) warnings.push(`the export is compared as part of the Keras model: layers with no weight found in it are not compared: ${absent.join(", ")}`);
  if (layers.length === 0) warnings.push(`${keras.source} has no recurrent layer to locate`);
  const all = layers.flatMap((l) => l.blocks);
  const count = (v: BlockVerdict) => all.filter((b) => b.verdict === v).length;
  const counts = {
    layers: layers.length,
    blocks: all.length,
    exact: count("exact"),
    quantized: count("quantized"),
    different: count("different"),
    notStored: count("not-stored"),
    notFound: count("not-found"),
  };
  if (options.atol !== undefined && options.atol > 0) {
    warnings.push(`--atol ${options.atol} does not apply here: a located block is exact, or within half its quantization step, or different`);
  }
  const quantizedFails = options.exact === true && counts.quantized > 0;
  if (quantizedFails) warnings.push(`${counts.quantized} gate block(s) are within quantization, not exact, which --exact counts as different`);
  const verdict = counts.different + counts.notFound > 0 || quantizedFails ? "different" : counts.notStored > 0 ? "not-stored" : layers.length > 0 ? "equal" : "different";
  return {
    keras: { file: keras.source, format: keras.format, kerasVersion: keras.kerasVersion ?? null },
    export: { file: exp.source, format: exp.format },
    exportSide,
    notes: exp.notes,
    warnings,
    layers,
    verdict,
    counts,
  };
}
