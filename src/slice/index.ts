/**
 * The "slice" stage: from a layer's stored tensors to its weights named and cut by
 * gate, as the seed notebook names them (kernel_i, recurrent_kernel_f, bias_o, ...).
 * Everything that shows or writes gate weights (weights, export, explain, check,
 * diff) reads these reports; none of them re-slices.
 *
 * The per-kind knowledge (gate order, Keras 1 assembly, CuDNN conversion, shape
 * checks) lives in layers/ (RecurrentKind.cellWeights); this module only gathers
 * it per layer, adds ConvLSTM (evaluated by layers/conv-lstm.ts), walks wrappers and nested
 * models, and computes each tensor's statistics.
 */
import { activationName, hardSigmoidFor } from "../activations.js";
import { UsageError } from "../errors.js";
import type { Floats, RecurrentKindName } from "../eval/trace.js";
import { recurrentKindOf } from "../layers/registry.js";
import { type DType, type Layer, type Model, scanTensor, walkLayers } from "../model.js";
import { EDGE_ITEMS } from "../abbreviate.js";
import { asFloats, columns, type GateBlock, gateBlocks } from "../layers/recurrent.js";
import { StatsAccumulator, tensorStats, type TensorStats } from "../stats.js";
import { CONV_LSTM_GATES, convLstmWeights, isConvLstm } from "./conv-lstm.js";

export type TensorRole = "kernel" | "recurrent_kernel" | "bias" | "recurrent_bias";
export type GatedKind = RecurrentKindName | "conv_lstm";

/** One gate's block of one tensor. */
export interface GateTensor {
  /** kernel_i, recurrent_kernel_f, bias_o, recurrent_bias_z (GRU reset_after); SimpleRNN: kernel, recurrent_kernel, bias. */
  name: string;
  role: TensorRole;
  /** Gate letter, or null for SimpleRNN (one block). */
  gate: string | null;
  /** LSTM/GRU/SimpleRNN: (inputDim, units), (units, units), (units). ConvLSTM: (*kernel_size, channels, filters), (filters). */
  shape: number[];
  /**
   * Row-major values, as stored (float32 stays Float32Array). For LSTM/GRU/SimpleRNN the
   * block is copied out of the packed tensor each time this is read (read it once): a
   * report of a large layer holds no copies (`weights --layer` of a 4096-unit LSTM).
   */
  data: Floats;
  /**
   * One value by its row-major index in the block, read in place (what an abbreviated print
   * needs, without the copy). Of a kernel streamed from the file, the first and last
   * EDGE_ITEMS rows come from the pass that made `stats`; any other row reads it whole.
   */
  at(index: number): number;
  /** What the first axis of a 2-D block indexes: an input feature (kernel) or a unit of h₍ₜ₋₁₎ (recurrent kernel). */
  rows: "input" | "hidden" | null;
  /** Made on first use, for every block of the packed tensor in one pass (packedPass). */
  stats: TensorStats;
}

/** A tensor in the packed Keras 2 layout (after any Keras 1 assembly or CuDNN conversion). */
export interface PackedTensor {
  name: "kernel" | "recurrent_kernel" | "bias";
  shape: number[];
  /** As stored where the layout is Keras 2's (no copy; read from the file when first asked for); converted layouts are new arrays. */
  data: Floats;
}

/** One recurrent cell: a plain recurrent layer, or one direction of a Bidirectional. */
export interface CellReport {
  /** Path in the model (`lstm_1`, `bidirectional_1/forward_lstm_1`). */
  path: string;
  name: string;
  className: string;
  direction: "forward" | "backward";
  kind: GatedKind;
  /** units (filters for ConvLSTM). */
  units: number;
  /** Input features per step (input channels for ConvLSTM). */
  inputDim: number;
  /** ConvLSTM only: the kernel's spatial size. */
  kernelSize?: number[];
  /** Gate letters in Keras' storage order; empty for SimpleRNN. */
  gates: readonly string[];
  /** Activation names by role, as the layer applies them. */
  activations: Record<string, string>;
  /** Which hard_sigmoid formula applies, when an activation is hard_sigmoid. */
  hardSigmoid: "keras2" | "keras3" | null;
  useBias: boolean;
  /** GRU (and CuDNNGRU, always true); null for other kinds. */
  resetAfter: boolean | null;
  goBackwards: boolean;
  /** float32 when every stored tensor of the layer is float32. */
  dtype: "float32" | "float64";
  /** Gate blocks, grouped by role (kernel, recurrent_kernel, bias, recurrent_bias), gates in Keras order within each. */
  tensors: GateTensor[];
  /** The canonical packed tensors; GRU with reset_after has bias (2, 3u): input row then recurrent row. */
  packed: PackedTensor[];
  /** Converted or assembled layouts, inferred classes: what the user should know. */
  notes: string[];
  /** True when the layer's class was inferred from a weights-only file. */
  inferred: boolean;
}

export interface RecurrentReport {
  type: "recurrent";
  path: string;
  name: string;
  className: string;
  /** Bidirectional only: concat, sum, mul, ave, or null (both outputs returned). */
  mergeMode?: string | null;
  /** One cell, or forward then backward for a Bidirectional (only the requested one when a direction's path was asked for). */
  cells: CellReport[];
}

export interface PlainTensor {
  name: string;
  shape: number[];
  dtype: DType;
  /** The values, row-major (a stored tensor is read from the file when this is first asked for). */
  data: Floats;
  /**
   * One value by its row-major index. Of a tensor streamed from the file, the first and last
   * EDGE_ITEMS rows (indices of all but the last axis) come from the pass that made
   * `stats`; any other reads `data`.
   */
  at(index: number): number;
  /** Made on first use, in one pass over the values (streamed from the file where Tensor.scan). */
  stats: TensorStats;
}

export interface PlainReport {
  type: "plain";
  path: string;
  name: string;
  className: string;
  inferred: boolean;
  tensors: PlainTensor[];
}

export type LayerReport = RecurrentReport | PlainReport;

/** Passes a tensor's values to `visit` in row-major order, a block at a time (Tensor.scan), or all at once from memory. */
type Scan = (visit: (values: Floats, first: number) => void) => void;

/** What one pass over a packed tensor gives: each gate block's statistics, and the rows it keeps. */
interface PackedPass {
  stats: TensorStats[];
  /** Of a streamed tensor, the first and last EDGE_ITEMS rows, by index: all an abbreviated print of a block reads. */
  rows: Map<number, Floats>;
}

/**
 * One pass over a packed (rows × cols) tensor whose columns are gate blocks of `units`
 * side by side: each block's statistics, its values taken in the order blockStats takes
 * them (so the same bits), and, when `streamed` from the file (Tensor.scan), a copy of
 * the rows an abbreviated print shows, which is then all it holds: `weights --layer` of a
 * 4096-unit LSTM reads its two 256 MiB kernels through a few MiB. Values in memory are
 * read where they are.
 */
function packedPass(scan: Scan, streamed: boolean, rows: number, cols: number, units: number): PackedPass {
  const blocks = units > 0 ? Math.round(cols / units) : 0;
  const accs = Array.from({ length: blocks }, () => new StatsAccumulator());
  const kept = new Map<number, Floats>();
  scan((values, first) => {
    const end = first + values.length;
    for (let p = first; p < end; ) {
      const r = Math.floor(p / cols);
      const rowEnd = Math.min(end, (r + 1) * cols);
      const c0 = p - r * cols;
      const c1 = rowEnd - r * cols;
      if (streamed && (r < EDGE_ITEMS || r >= rows - EDGE_ITEMS)) {
        let row = kept.get(r);
        if (!row) kept.set(r, (row = values instanceof Float32Array ? new Float32Array(cols) : new Float64Array(cols)));
        row.set(values.subarray(p - first, rowEnd - first), c0);
      }
      for (let g = Math.floor(c0 / units); g < blocks && g * units < c1; g++) {
        const base = r * cols - first;
        accs[g].add(values, base + Math.max(c0, g * units), base + Math.min(c1, (g + 1) * units));
      }
      p = rowEnd;
    }
  });
  return { stats: accs.map((a) => a.result()), rows: kept };
}

/** `make()` the first time, its result after. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
}

/** A packed tensor whose values are taken from the cell when first asked for (a stored kernel is read then). */
function lazyPacked(name: PackedTensor["name"], shape: number[], data: () => Floats): PackedTensor {
  return Object.defineProperty({ name, shape }, "data", { enumerable: true, get: data }) as PackedTensor;
}

const ROLES: TensorRole[] = ["kernel", "recurrent_kernel", "bias", "recurrent_bias"];

function sourceDType(layer: Layer): "float32" | "float64" {
  return layer.weights.every((t) => t.dtype === "float32" || t.dtype === "float16" || t.dtype === "bfloat16") ? "float32" : "float64";
}

function roleOf(name: string): TensorRole {
  for (const r of ["recurrent_kernel", "recurrent_bias", "kernel", "bias"] as const) if (name === r || name.startsWith(`${r}_`)) return r;
  return "kernel";
}

function orderTensors(tensors: GateTensor[], gates: readonly string[]): GateTensor[] {
  const gateIndex = (g: string | null) => (g === null ? 0 : gates.indexOf(g));
  return [...tensors].sort((a, b) => ROLES.indexOf(a.role) - ROLES.indexOf(b.role) || gateIndex(a.gate) - gateIndex(b.gate));
}

/** True for layers whose weights are cut by gate: recurrent kinds, ConvLSTM, and Bidirectional wrappers of them. */
export function isGatedLayer(layer: Layer): boolean {
  if (recurrentKindOf(layer.className) || isConvLstm(layer)) return true;
  return layer.className === "Bidirectional" && layer.children.length > 0 && isGatedLayer(layer.children[0]);
}

/** Slices one recurrent (or ConvLSTM) layer. Throws InspectError naming the tensor when shapes disagree with the config. */
export function sliceCell(model: Model, layer: Layer, path: string, direction: "forward" | "backward" = "forward"): CellReport {
  const notes: string[] = [];
  if (layer.inferred) notes.push(`class ${layer.className} inferred from the tensor names and shapes (the file has no model config)`);
  const narrow = [...new Set(layer.weights.map((t) => t.dtype).filter((d) => d === "float16" || d === "bfloat16"))];
  if (narrow.length > 0) notes.push(`weights stored as ${narrow.join(" and ")}, widened exactly to float32`);
  const goBackwards = layer.config.go_backwards === true;
  const base = { path, name: layer.name, className: layer.className, direction, goBackwards, dtype: sourceDType(layer), inferred: layer.inferred === true };

  if (isConvLstm(layer)) {
    const w = convLstmWeights(layer);
    const tensors: GateTensor[] = Object.entries(w.gates).map(([name, block]) => ({
      name,
      role: roleOf(name),
      gate: name.slice(name.lastIndexOf("_") + 1),
      shape: block.shape,
      data: block.data,
      at: (i: number) => block.data[i],
      rows: null,
      stats: tensorStats(block.data),
    }));
    const activations = {
      activation: activationName(layer.config.activation, "tanh"),
      recurrent_activation: activationName(layer.config.recurrent_activation, model.kerasMajor === 3 ? "sigmoid" : "hard_sigmoid"),
    };
    const packed: PackedTensor[] = [
      { name: "kernel", shape: w.kernel.shape, data: Float64Array.from(w.kernel.data) },
      { name: "recurrent_kernel", shape: w.recurrentKernel.shape, data: Float64Array.from(w.recurrentKernel.data) },
      ...(w.bias ? [{ name: "bias" as const, shape: w.bias.shape, data: Float64Array.from(w.bias.data) }] : []),
    ];
    return {
      ...base,
      kind: "conv_lstm",
      units: w.filters,
      inputDim: w.inputChannels,
      kernelSize: w.kernelSize,
      gates: CONV_LSTM_GATES,
      activations,
      hardSigmoid: Object.values(activations).includes("hard_sigmoid") ? hardSigmoidFor(model.kerasMajor) : null,
      useBias: w.bias !== null,
      resetAfter: null,
      tensors: orderTensors(tensors, CONV_LSTM_GATES),
      packed,
      notes,
    };
  }

  const kind = recurrentKindOf(layer.className);
  if (!kind) throw new UsageError(`layer '${path}' is ${layer.className}, not a recurrent layer`);
  const w = kind.cellWeights(layer, model);
  const gates = kind.gates;
  // Each gate block stays a window of its packed tensor: one pass over that tensor gives every
  // block's statistics and the rows an abbreviated print shows (packedPass), values are copied on demand.
  const passes = new Map<GateBlock["source"], () => PackedPass>();
  const passOf = (b: GateBlock) => {
    let pass = passes.get(b.source);
    if (!pass) {
      const stored = b.source === "kernel" ? w.stored?.kernel : b.source === "recurrentKernel" ? w.stored?.recurrentKernel : undefined;
      const scan: Scan = stored ? (visit) => scanTensor(stored, visit) : (visit) => visit(b.packed, 0);
      pass = once(() => packedPass(scan, stored?.scan !== undefined, b.rows, b.cols, w.units));
      passes.set(b.source, pass);
    }
    return pass;
  };
  const tensors: GateTensor[] = gateBlocks(gates, w).map((b) => {
    const role = roleOf(b.name);
    const matrix = role === "kernel" || role === "recurrent_kernel";
    const width = b.to - b.from;
    const block = Math.floor(b.from / Math.max(1, w.units));
    const pass = passOf(b);
    const t = {
      name: b.name,
      role,
      gate: gates.length === 0 ? null : b.name.slice(b.name.lastIndexOf("_") + 1),
      shape: matrix ? [b.rows, width] : [width],
      rows: role === "kernel" ? "input" : role === "recurrent_kernel" ? "hidden" : null,
      at: (i: number) => {
        const r = Math.floor(i / width);
        const c = b.from + (i % width);
        const row = pass().rows.get(r);
        return row ? row[c] : b.packed[r * b.cols + c];
      },
    } as Omit<GateTensor, "data" | "stats">;
    return Object.defineProperties(t, {
      data: { enumerable: true, get: () => columns(b.packed, b.rows, b.cols, b.from, b.to).data },
      stats: { enumerable: true, get: () => pass().stats[block] },
    }) as GateTensor;
  });
  const width = Math.max(1, gates.length) * w.units;
  const packed: PackedTensor[] = [
    lazyPacked("kernel", [w.inputDim, width], () => w.kernel),
    lazyPacked("recurrent_kernel", [w.units, width], () => w.recurrentKernel),
  ];
  if (w.bias && w.recurrentBias) {
    const both = w.bias instanceof Float32Array && w.recurrentBias instanceof Float32Array ? new Float32Array(2 * width) : new Float64Array(2 * width);
    both.set(w.bias, 0);
    both.set(w.recurrentBias, width);
    packed.push({ name: "bias", shape: [2, width], data: both });
  } else if (w.bias) {
    packed.push({ name: "bias", shape: [width], data: w.bias });
  }
  const activations: Record<string, string> = { ...kind.activationNames(layer, model) };
  return {
    ...base,
    kind: kind.kind,
    units: w.units,
    inputDim: w.inputDim,
    gates,
    activations,
    hardSigmoid: Object.values(activations).includes("hard_sigmoid") ? hardSigmoidFor(model.kerasMajor) : null,
    useBias: w.bias !== null,
    resetAfter: kind.kind === "gru" ? w.resetAfter === true : null,
    tensors: orderTensors(tensors, gates),
    packed,
    notes: [...notes, ...w.notes],
  };
}

function plainReport(layer: Layer, path: string): PlainReport {
  return {
    type: "plain",
    path,
    name: layer.name,
    className: layer.className,
    inferred: layer.inferred === true,
    tensors: layer.weights.map((t) => {
      // Rows of the last axis: what an abbreviated print of a matrix reads are the kept rows.
      const cols = t.shape.length === 0 ? 1 : t.shape[t.shape.length - 1];
      const rows = t.shape.length <= 1 ? 1 : t.shape.slice(0, -1).reduce((a, b) => a * b, 1);
      const data = once(() => asFloats(t.data));
      const pass = once(() => packedPass((visit) => scanTensor(t, visit), t.scan !== undefined, rows, cols, cols));
      const plain = {
        name: t.name,
        shape: t.shape,
        dtype: t.dtype,
        at: (i: number) => pass().rows.get(Math.floor(i / cols))?.[i % cols] ?? data()[i],
      } as Omit<PlainTensor, "data" | "stats">;
      return Object.defineProperties(plain, {
        data: { enumerable: true, get: data },
        stats: { enumerable: true, get: () => pass().stats[0] ?? tensorStats(data()) },
      }) as PlainTensor;
    }),
  };
}

/** The report of one layer: gate-sliced for recurrent layers (both directions of a Bidirectional), plain otherwise. */
export function sliceLayer(model: Model, layer: Layer, path: string): LayerReport {
  if (layer.className === "Bidirectional" && isGatedLayer(layer)) {
    const [fwd, bwd] = layer.children;
    const cells = [sliceCell(model, fwd, `${path}/${fwd.name}`, "forward")];
    if (bwd) cells.push(sliceCell(model, bwd, `${path}/${bwd.name}`, "backward"));
    const mode = layer.config.merge_mode === undefined ? "concat" : (layer.config.merge_mode as string | null);
    return { type: "recurrent", path, name: layer.name, className: layer.className, mergeMode: mode, cells };
  }
  if (isGatedLayer(layer)) {
    return { type: "recurrent", path, name: layer.name, className: layer.className, cells: [sliceCell(model, layer, path)] };
  }
  return plainReport(layer, path);
}

export interface FoundLayer {
  layer: Layer;
  path: string;
  /** The wrapper holding it, when it is one direction of a Bidirectional (or any nested layer). */
  parent?: { layer: Layer; path: string };
}

/** Every layer path of the model, depth first (what `--layer` accepts). */
export function layerPaths(model: Model): string[] {
  return [...walkLayers(model.layers)].map((e) => e.path);
}

function listForMessage(paths: string[], max = 40): string {
  if (paths.length === 0) return "none";
  const shown = paths.slice(0, max).join(", ");
  return paths.length > max ? `${shown}, … (${paths.length - max} more)` : shown;
}

/**
 * Finds a layer by its path (`bidirectional_1/forward_lstm_1`) or, failing that, by
 * its name anywhere in the tree. Throws a UsageError listing the layers that exist.
 */
export function findLayer(model: Model, requested: string): FoundLayer {
  const all = [...walkLayers(model.layers)];
  const found = all.find((e) => e.path === requested) ?? all.find((e) => e.layer.name === requested);
  if (!found) {
    throw new UsageError(`no layer '${requested}' in ${model.source}; its layers: ${listForMessage(all.map((e) => e.path))}`);
  }
  const cut = found.path.lastIndexOf("/");
  const parentPath = cut > 0 ? found.path.slice(0, cut) : undefined;
  const parent = parentPath === undefined ? undefined : all.find((e) => e.path === parentPath);
  return { layer: found.layer, path: found.path, parent: parent ? { layer: parent.layer, path: parent.path } : undefined };
}

/** One direction of a Bidirectional, sliced alone but labelled with its wrapper's merge mode. */
function directionReport(model: Model, found: FoundLayer): RecurrentReport {
  const wrapper = found.parent!.layer;
  const direction = wrapper.children.indexOf(found.layer) === 1 ? "backward" : "forward";
  const mode = wrapper.config.merge_mode === undefined ? "concat" : (wrapper.config.merge_mode as string | null);
  return {
    type: "recurrent",
    path: found.path,
    name: found.layer.name,
    className: found.layer.className,
    mergeMode: mode,
    cells: [sliceCell(model, found.layer, found.path, direction)],
  };
}

/** True when a layer is a direction inside a Bidirectional. */
function isDirection(found: FoundLayer): boolean {
  return found.parent?.layer.className === "Bidirectional" && isGatedLayer(found.layer);
}

/**
 * Reports for the layers `weights` shows: every layer with weights (recurrent ones
 * gate-sliced, Bidirectional as one report with both directions), inside wrappers and
 * nested models too; or only the requested layer (a container: the layers inside it).
 */
export function layerReports(model: Model, requested?: string): LayerReport[] {
  let roots: { layer: Layer; path: string }[];
  if (requested !== undefined) {
    const found = findLayer(model, requested);
    if (isDirection(found)) return [directionReport(model, found)];
    if (isGatedLayer(found.layer) || found.layer.weights.length > 0 || found.layer.children.length === 0) {
      return [sliceLayer(model, found.layer, found.path)];
    }
    roots = found.layer.children.map((c) => ({ layer: c, path: `${found.path}/${c.name}` }));
  } else {
    roots = model.layers.map((l) => ({ layer: l, path: l.name }));
  }
  const out: LayerReport[] = [];
  const visit = (layer: Layer, path: string) => {
    if (isGatedLayer(layer)) {
      out.push(sliceLayer(model, layer, path));
      return;
    }
    if (layer.weights.length > 0) out.push(plainReport(layer, path));
    for (const c of layer.children) visit(c, `${path}/${c.name}`);
  };
  for (const r of roots) visit(r.layer, r.path);
  return out;
}

/**
 * Makes every tensor's statistics now, reading or streaming its values: a printer that
 * calls it first fails on a file it cannot read before it prints anything.
 */
export function computeStats(reports: LayerReport[]): void {
  for (const r of reports) {
    const tensors = r.type === "recurrent" ? r.cells.flatMap((c) => c.tensors) : r.tensors;
    for (const t of tensors) void t.stats;
  }
}

/**
 * Keeps only the tensors of gate `gate`. With a named layer, a layer without that gate
 * is an error; over the whole model, layers without it are left out (an error if none has it).
 */
export function selectGate(reports: LayerReport[], gate: string, layerNamed: boolean): RecurrentReport[] {
  const recurrent = reports.filter((r): r is RecurrentReport => r.type === "recurrent");
  const has = (r: RecurrentReport) => r.cells.every((c) => c.gates.includes(gate));
  const describe = (r: RecurrentReport) => {
    const c = r.cells[0];
    return c.gates.length === 0 ? `${c.className} has no gates (its tensors are kernel, recurrent_kernel, bias)` : `${c.className} has gates ${c.gates.join(", ")}`;
  };
  if (layerNamed) {
    const r = reports[0];
    if (!r || r.type !== "recurrent") {
      throw new UsageError(`--gate applies to recurrent layers; '${r?.path}' is ${r?.type === "plain" ? r.className : "not one"}`);
    }
    if (!has(r)) throw new UsageError(`layer '${r.path}' has no gate '${gate}': ${describe(r)}`);
  }
  const kept = recurrent.filter(has);
  if (kept.length === 0) {
    const kinds = [...new Set(recurrent.map(describe))];
    throw new UsageError(`no recurrent layer has a gate '${gate}'${kinds.length ? `: ${kinds.join("; ")}` : " (the model has no recurrent layer)"}`);
  }
  return kept.map((r) => ({ ...r, cells: r.cells.map((c) => ({ ...c, tensors: c.tensors.filter((t) => t.gate === gate) })) }));
}
