/**
 * `weights` as text and JSON. Recurrent layers: one table per tensor per gate (rows =
 * input feature or hidden unit, columns = unit), each followed by its statistics.
 * Other layers: their tensors as stored. A tensor of more than 1,000 values is
 * abbreviated as numpy abbreviates it (first and last 3 entries of each longer axis
 * around an ellipsis) unless `full` is set. The text is written line by line and fitted to
 * the width asked for: tables too wide are cut into blocks of columns.
 */
import type { Model } from "../model.js";
import type { CellReport, GateTensor, LayerReport, PlainTensor, RecurrentReport } from "../slice/index.js";
import type { TensorStats } from "../stats.js";
import { abbreviates, axisIndices } from "../abbreviate.js";
import { ELLIPSIS } from "./array.js";
import { wrapLine } from "./notation.js";
import { tableLines } from "./table.js";
import { fixed, safe, shortestFloat32 } from "./text.js";

export interface WeightsView {
  digits: number;
  /** Print every value instead of abbreviating tensors of more than 1,000 values. */
  full: boolean;
  /** Columns to fit (Infinity, the default: no limit). */
  width?: number;
}

function shape(s: number[]): string {
  return s.length === 0 ? "scalar" : s.join(" × ");
}

export function formatStats(s: TensorStats, digits: number): string {
  if (s.min === null || s.max === null || s.mean === null || s.std === null) {
    return s.count === 0 ? "(empty)" : `no finite values (NaN ${s.nan}, Inf ${s.inf})`;
  }
  const parts = [`min ${fixed(s.min, digits)}`, `max ${fixed(s.max, digits)}`, `mean ${fixed(s.mean, digits)}`, `std ${fixed(s.std, digits)}`];
  if (s.count > 1 && s.min === s.max && s.nan === 0 && s.inf === 0) parts.push(`(all ${s.count} values equal ${fixed(s.min, digits)})`);
  if (s.nan > 0) parts.push(`NaN ${s.nan}`);
  if (s.inf > 0) parts.push(`Inf ${s.inf}`);
  return parts.join("  ");
}

interface Labels {
  row: (r: number) => string;
  col: (c: number) => string;
}

/** A (rows × cols) row-major block as a table, its axes abbreviated when `abbreviate`. */
function matrixTable(rows: number, cols: number, at: (r: number, c: number) => number, labels: Labels, view: WeightsView, abbreviate: boolean, corner = ""): Iterable<string> {
  const rIdx = axisIndices(rows, abbreviate);
  const cIdx = axisIndices(cols, abbreviate);
  const body = rIdx.map((r) =>
    r === null ? [ELLIPSIS, ...cIdx.map(() => ELLIPSIS)] : [labels.row(r), ...cIdx.map((c) => (c === null ? ELLIPSIS : fixed(at(r, c), view.digits)))],
  );
  return tableLines(
    { head: [corner, ...cIdx.map((c) => (c === null ? ELLIPSIS : labels.col(c)))], rows: body, align: ["left", ...cIdx.map(() => "right" as const)] },
    view.width ?? Infinity,
  );
}

/**
 * Any-rank tensor: a scalar on one line, a vector as a one-row table, a matrix as a
 * table, higher ranks as one table per leading index (`name[0, 1, :, :]`), each axis
 * abbreviated on its own when the tensor has more than 1,000 values.
 */
function* tensorLines(name: string, dims: number[], at: (index: number) => number, labels: Labels, view: WeightsView): Generator<string> {
  if (dims.length === 0) {
    yield `${name} = ${fixed(at(0), view.digits)}`;
    return;
  }
  if (dims.some((d) => d === 0)) {
    yield `${name}: (empty)`;
    return;
  }
  const abbreviate = abbreviates(dims.reduce((a, b) => a * b, 1), view.full);
  if (dims.length === 1) {
    yield* matrixTable(1, dims[0], (_r, c) => at(c), { row: () => name, col: labels.col }, view, abbreviate);
    return;
  }
  const [rows, cols] = dims.slice(-2);
  if (dims.length === 2) {
    yield* matrixTable(rows, cols, (r, c) => at(r * cols + c), labels, view, abbreviate);
    return;
  }
  const lead = dims.slice(0, -2);
  // Each leading axis is abbreviated on its own, as numpy does; an elided run prints one "…".
  let combos: (number | null)[][] = [[]];
  for (const n of lead) combos = combos.flatMap((c) => axisIndices(n, abbreviate).map((i) => [...c, i]));
  let elided = false;
  for (const index of combos) {
    if (index.includes(null)) {
      if (!elided) yield ELLIPSIS;
      elided = true;
      continue;
    }
    elided = false;
    const p = (index as number[]).reduce((acc, i, k) => acc * lead[k] + i, 0);
    const offset = p * rows * cols;
    yield `${name}[${index.join(", ")}, :, :]`;
    yield* matrixTable(rows, cols, (r, c) => at(offset + r * cols + c), labels, view, abbreviate);
  }
}

function gateLabels(cell: CellReport, t: GateTensor): Labels {
  const unit = cell.kind === "conv_lstm" ? "filter" : "unit";
  const recurrent = t.role === "recurrent_kernel";
  return { row: (r) => (recurrent ? `h[${r}]` : `x[${r}]`), col: (c) => `${unit} ${c}` };
}

/** A gate block's caption: its name, shape, and what its rows and columns are. */
export function gateCaption(cell: CellReport, t: GateTensor): string {
  const what = cell.kind === "conv_lstm" ? "filter" : "unit";
  if (t.role === "bias") return `${t.name} (${shape(t.shape)})${cell.resetAfter ? ", input bias" : ""}: columns = ${what}`;
  if (t.role === "recurrent_bias") return `${t.name} (${shape(t.shape)}), recurrent bias: columns = ${what}`;
  const rows = t.role === "kernel" ? (cell.kind === "conv_lstm" ? "input channel x[c]" : "input feature x[d]") : cell.kind === "conv_lstm" ? "hidden channel h[c]" : "previous hidden state h[k]";
  return `${t.name} (${shape(t.shape)}): rows = ${rows}, columns = ${what}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function describeActivations(cell: CellReport): string {
  return Object.entries(cell.activations)
    .map(([role, name]) => `${role} ${safe(name)}${name === "hard_sigmoid" && cell.hardSigmoid ? (cell.hardSigmoid === "keras3" ? " (Keras 3: clip(x/6 + 0.5, 0, 1))" : " (Keras 1/2: clip(0.2·x + 0.5, 0, 1))") : ""}`)
    .join(", ");
}

function packedShapes(cell: CellReport): string {
  return cell.packed.map((p) => `${p.name} (${shape(p.shape)})`).join(", ");
}

/** What a cell is, before its tensors: units, gate layout, biases, activations, notes (summary --html shows it too). */
export function cellHeader(cell: CellReport): string[] {
  const lines: string[] = [];
  const dir = cell.direction === "backward" ? ", backward direction" : "";
  if (cell.kind === "conv_lstm") {
    lines.push(`${safe(cell.path)} (${safe(cell.className)}${dir}): ${plural(cell.units, "filter")}, ${plural(cell.inputDim, "input channel")}, kernel size ${cell.kernelSize?.join(" × ")}, ${cell.dtype}`);
  } else {
    lines.push(`${safe(cell.path)} (${safe(cell.className)}${dir}): ${plural(cell.units, "unit")}, ${plural(cell.inputDim, "input feature")}, ${cell.dtype}`);
  }
  if (cell.gates.length > 0) {
    const axis = cell.kind === "conv_lstm" ? "the last axis" : "columns";
    const u = cell.kind === "conv_lstm" ? "filters" : "u";
    lines.push(`  gates ${cell.gates.join(", ")} (Keras order): gate k is ${axis} [k·${u}, (k+1)·${u}) of ${packedShapes(cell)}`);
  } else {
    lines.push(`  no gates: ${packedShapes(cell)}`);
  }
  if (cell.resetAfter === true) {
    lines.push(
      cell.useBias
        ? "  reset_after=True: bias row 0 is the input bias (bias_z, bias_r, bias_h), row 1 the recurrent bias (recurrent_bias_z, recurrent_bias_r, recurrent_bias_h)"
        : "  reset_after=True: the reset gate multiplies h₍ₜ₋₁₎·U_h (after the recurrent product)",
    );
  } else if (cell.resetAfter === false) {
    lines.push(cell.useBias ? "  reset_after=False: one bias, added to the input projection" : "  reset_after=False: the reset gate multiplies h₍ₜ₋₁₎ before the recurrent product");
  }
  if (!cell.useBias) lines.push("  use_bias=False: no bias");
  lines.push(`  ${describeActivations(cell)}`);
  if (cell.goBackwards && cell.direction === "forward") lines.push("  go_backwards=True: processes the sequence from the last step to the first");
  for (const n of cell.notes) lines.push(`  note: ${safe(n)}`);
  return lines;
}

function* cellLines(cell: CellReport, view: WeightsView): Generator<string> {
  const width = view.width ?? Infinity;
  for (const line of cellHeader(cell)) yield* wrapLine(line, width);
  for (const t of cell.tensors) {
    yield "";
    yield* wrapLine(gateCaption(cell, t), width);
    // A gate block is read in place, value by value: an abbreviated print of a 4096 × 4096 block copies nothing.
    yield* tensorLines(t.name, t.shape, t.at, gateLabels(cell, t), view);
    yield* wrapLine(`  ${formatStats(t.stats, view.digits)}`, width);
  }
}

function* recurrentLines(r: RecurrentReport, view: WeightsView): Generator<string> {
  const width = view.width ?? Infinity;
  if (r.mergeMode !== undefined) {
    const inner = [...new Set(r.cells.map((c) => c.className))].join("/");
    const merge = r.mergeMode === null ? "merge_mode None (both outputs returned)" : `merge_mode ${safe(r.mergeMode)}`;
    if (r.cells.length === 2) {
      yield* wrapLine(`${safe(r.path)} (${safe(r.className)}, ${merge}): a forward and a backward ${safe(inner)}`, width);
      yield "";
    } else {
      yield* wrapLine(`(one direction of a Bidirectional, ${merge})`, width);
    }
  }
  for (const [k, c] of r.cells.entries()) {
    if (k > 0) yield "";
    yield* cellLines(c, view);
  }
}

function plainLabels(): Labels {
  return { row: (r) => `[${r}]`, col: (c) => String(c) };
}

function* plainTensorLines(t: PlainTensor, view: WeightsView): Generator<string> {
  const width = view.width ?? Infinity;
  yield* wrapLine(`${safe(t.name)} (${shape(t.shape)}, ${t.dtype})`, width);
  yield* tensorLines(safe(t.name), t.shape, t.at, plainLabels(), view);
  yield* wrapLine(`  ${formatStats(t.stats, view.digits)}`, width);
}

/** The text of `weights`, line by line: a block per model note and per layer, blank lines between. */
export function* weightsLines(model: Model, reports: LayerReport[], view: WeightsView): Generator<string> {
  const width = view.width ?? Infinity;
  let first = true;
  function* block(lines: Iterable<string>): Generator<string> {
    if (!first) yield "";
    first = false;
    yield* lines;
  }
  for (const n of model.notes) yield* block(wrapLine(`note: ${safe(n)}`, width));
  for (const r of reports) {
    if (r.type === "recurrent") {
      yield* block(recurrentLines(r, view));
      continue;
    }
    yield* block(wrapLine(`${safe(r.path)} (${safe(r.className)}${r.inferred ? ", class inferred" : ""})${r.tensors.length === 0 ? ": no weights" : ""}`, width));
    for (const t of r.tensors) {
      yield "";
      yield* plainTensorLines(t, view);
    }
  }
  if (reports.length === 0) yield* block(["no layer with weights"]);
}

/** Nested arrays of `shape` from row-major data, values as their shortest float32 decimals when `f32`. */
export function nested(shapeOf: number[], data: ArrayLike<number>, f32: boolean): unknown {
  const value = (v: number) => (f32 ? shortestFloat32(v) : v);
  if (shapeOf.length === 0) return value(data[0]);
  const build = (dim: number, offset: number): unknown[] => {
    const n = shapeOf[dim];
    const stride = shapeOf.slice(dim + 1).reduce((a, b) => a * b, 1);
    if (dim === shapeOf.length - 1) return Array.from({ length: n }, (_, i) => value(data[offset + i]));
    return Array.from({ length: n }, (_, i) => build(dim + 1, offset + i * stride));
  };
  return build(0, 0);
}

/** Statistics for JSON; min and max are stored values, so they print like the values (shortest float32 decimals). */
function statsJson(s: TensorStats, f32: boolean) {
  const v = (x: number | null) => (x === null || !f32 ? x : shortestFloat32(x));
  return { min: v(s.min), max: v(s.max), mean: s.mean, std: s.std, nan: s.nan, inf: s.inf };
}

function cellJson(c: CellReport) {
  const f32 = c.dtype === "float32";
  return {
    path: c.path,
    name: c.name,
    class: c.className,
    direction: c.direction,
    kind: c.kind,
    units: c.units,
    inputDim: c.inputDim,
    ...(c.kernelSize ? { kernelSize: c.kernelSize } : {}),
    gates: c.gates,
    activations: c.activations,
    hardSigmoid: c.hardSigmoid,
    useBias: c.useBias,
    resetAfter: c.resetAfter,
    goBackwards: c.goBackwards,
    dtype: c.dtype,
    inferred: c.inferred,
    notes: c.notes,
    packedShapes: Object.fromEntries(c.packed.map((p) => [p.name, p.shape])),
    tensors: Object.fromEntries(
      c.tensors.map((t) => [t.name, { role: t.role, gate: t.gate, shape: t.shape, stats: statsJson(t.stats, f32), values: nested(t.shape, t.data, f32) }]),
    ),
  };
}

/** The documented `weights --json` document (README: JSON output). */
export function weightsJson(model: Model, reports: LayerReport[]) {
  return {
    file: model.source,
    kerasVersion: model.kerasVersion ?? null,
    notes: model.notes,
    layers: reports.map((r) =>
      r.type === "recurrent"
        ? {
            path: r.path,
            name: r.name,
            class: r.className,
            recurrent: true,
            ...(r.mergeMode !== undefined ? { mergeMode: r.mergeMode } : {}),
            cells: r.cells.map(cellJson),
          }
        : {
            path: r.path,
            name: r.name,
            class: r.className,
            recurrent: false,
            inferred: r.inferred,
            tensors: Object.fromEntries(
              r.tensors.map((t) => [
                t.name,
                { shape: t.shape, dtype: t.dtype, stats: statsJson(t.stats, t.dtype === "float32" || t.dtype === "float16" || t.dtype === "bfloat16"), values: nested(t.shape, t.data, t.dtype === "float32" || t.dtype === "float16" || t.dtype === "bfloat16") },
              ]),
            ),
          },
    ),
  };
}
