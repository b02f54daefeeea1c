/**
 * The two ways a recurrent cell is run over a sequence, behind one interface: the
 * reference (each kind's readable `step`, every product through dotColumns) and the
 * kernel (x·W and h·U in the WebAssembly SIMD kernel, the rest in the kind's fast step),
 * which give the same bits. eval/recurrent.ts wraps either in Keras' sequence semantics.
 */
import { type Floats, type PackedMatrix, packPanels, Workspace } from "../kernel/gemm.js";
import type { CellActivations, CellWeights, FastStep, RecurrentKind, StepProducts, Value } from "../layers/kind.js";
import { windows } from "../layers/conv-lstm.js";
import { lstmGates } from "../layers/lstm.js";
import type { Layer, Model } from "../model.js";
import type { EvalDType } from "./trace.js";

/**
 * One evaluation of a cell over a layer's sequences: `step(t)` writes every intermediate of
 * processing step t of the current sample into `out`, from the states in `prev`. Engines are
 * classes, not closures, so that V8's optimized runner serves every layer it evaluates.
 */
export interface Engine {
  /** State vectors the steps read (h first); the runner copies the new states into them. */
  readonly prev: Floats[];
  readonly out: Floats;
  /** Starts sample b; processing step t reads input time index timeIndex[t]. */
  beginSample(b: number): void;
  step(t: number): void;
}

/** The readable path: the kind's step on Float64Arrays, every product through dotColumns. */
export class ReferenceEngine implements Engine {
  readonly prev: Float64Array[];
  readonly out: Float64Array;
  private readonly x: Float64Array;
  private base = 0;

  constructor(
    private readonly kind: RecurrentKind,
    private readonly w: CellWeights,
    private readonly act: CellActivations,
    private readonly input: Value,
    private readonly timeIndex: Int32Array,
    private readonly round: (x: number) => number,
  ) {
    this.x = new Float64Array(input.shape[2]);
    this.prev = kind.stateNames.map(() => new Float64Array(w.units));
    this.out = new Float64Array(kind.intermediates.length * w.units);
  }

  beginSample(b: number): void {
    this.base = b * this.input.shape[1];
  }

  step(t: number): void {
    const features = this.x.length;
    const row = (this.base + this.timeIndex[t]) * features;
    for (let d = 0; d < features; d++) this.x[d] = this.round(this.input.data[row + d]);
    this.kind.step(this.w, this.act, this.x, this.prev, this.out, this.round);
  }
}

/** Steps of input projected by one kernel call: x·W of a chunk is at most about 4 MB. */
const PROJECTION_ELEMENTS = 1 << 20;

/** A layer's cell prepared once per process: its canonical weights and, per dtype, its kernel layouts. */
export interface PreparedCell {
  w: CellWeights;
  /** Per dtype: the kernel's panel layouts, or null where the kernel cannot reproduce the reference. */
  panels: Partial<Record<EvalDType, KernelPanels | null>>;
}

export interface KernelPanels {
  /** x·W: all G·units columns of the kernel. */
  W: Floats;
  /** h₍ₜ₋₁₎·U: the first `recurrentColumns` columns of the recurrent kernel. */
  U: Floats;
  /** The rest of the recurrent kernel (GRU with reset_after false: U_h), multiplied by r ⊙ h₍ₜ₋₁₎. */
  Uh?: Floats;
}

const preparedCells = new WeakMap<Layer, PreparedCell>();

export function prepareCell(kind: RecurrentKind, layer: Layer, model: Model): PreparedCell {
  let cell = preparedCells.get(layer);
  if (!cell) {
    cell = { w: kind.cellWeights(layer, model), panels: {} };
    preparedCells.set(layer, cell);
  }
  return cell;
}

/**
 * The kernel's layouts of a cell for a dtype, or null where the kernel cannot reproduce
 * the reference: it holds weights in the evaluation dtype, so in float32 mode every weight
 * must be a float32 value (a float64 file's weights then go through the reference path,
 * which multiplies them unrounded).
 */
export function kernelPanels(kind: RecurrentKind, cell: PreparedCell, dtype: EvalDType): KernelPanels | null {
  if (!kind.fast) return null;
  const cached = cell.panels[dtype];
  if (cached !== undefined) return cached;
  const w = cell.w;
  const exact = (a: Floats) => {
    // float32 weights are exact in either arithmetic; only float64 ones are checked.
    if (dtype === "float64" || a instanceof Float32Array) return true;
    for (let k = 0; k < a.length; k++) if (Math.fround(a[k]) !== a[k] && !Number.isNaN(a[k])) return false;
    return true;
  };
  let panels: KernelPanels | null = null;
  if (exact(w.kernel) && exact(w.recurrentKernel)) {
    const width = w.kernel.length / Math.max(1, w.inputDim);
    const recCols = kind.fast.recurrentColumns(w);
    panels = {
      W: packPanels(w.kernel, w.inputDim, width, 0, width, dtype),
      U: packPanels(w.recurrentKernel, w.units, width, 0, recCols, dtype),
      Uh: recCols < width ? packPanels(w.recurrentKernel, w.units, width, recCols, width - recCols, dtype) : undefined,
    };
  }
  cell.panels[dtype] = panels;
  return panels;
}

/**
 * The fast path: x·W for a chunk of steps at once and h₍ₜ₋₁₎·U at each step in the SIMD
 * kernel, the elementwise rest in the kind's FastStep. Equal to the reference bit for bit.
 */
export class KernelEngine implements Engine, StepProducts {
  readonly prev: Floats[];
  readonly out: Floats;
  // StepProducts, handed to the kind's FastStep: the engine itself, so that every engine
  // offers the same multiplyResetH function (a closure per engine would deoptimize the cell).
  readonly xw: Floats;
  xo = 0;
  readonly rec: Floats;
  readonly resetH?: Floats;
  private readonly recH?: Floats;
  private readonly ws: Workspace;
  private readonly fastStep: FastStep;
  private readonly W: PackedMatrix;
  private readonly U: PackedMatrix;
  private readonly Uh?: PackedMatrix;
  private readonly xs: Floats;
  private readonly chunk: number;
  private readonly xPtr: number;
  private readonly xwPtr: number;
  private readonly hPtr: number;
  private readonly recPtr: number;
  private readonly rhPtr: number;
  private readonly recHPtr: number;
  private base = 0;
  /** The processing steps [first, first + count) whose x·W is in the kernel's memory. */
  private first = 0;
  private count = 0;

  constructor(
    kind: RecurrentKind,
    private readonly w: CellWeights,
    panels: KernelPanels,
    private readonly act: CellActivations,
    private readonly input: Value,
    private readonly timeIndex: Int32Array,
    dtype: EvalDType,
  ) {
    const [, steps, features] = input.shape;
    const u = w.units;
    const width = w.kernel.length / Math.max(1, w.inputDim);
    if (!kind.fast) throw new Error(`${kind.kind} has no kernel path`);
    const recCols = kind.fast.recurrentColumns(w);
    this.fastStep = kind.fast[dtype];

    const ws = (this.ws = new Workspace(dtype));
    const W = (this.W = ws.matrix(w.inputDim, width));
    const U = (this.U = ws.matrix(u, recCols));
    const Uh = (this.Uh = panels.Uh ? ws.matrix(u, width - recCols) : undefined);
    this.chunk = Math.max(1, Math.min(steps, Math.floor(PROJECTION_ELEMENTS / W.outWidth)));
    this.xPtr = ws.reserve(this.chunk * features);
    this.xwPtr = ws.reserve(this.chunk * W.outWidth);
    this.hPtr = ws.reserve(u);
    this.recPtr = ws.reserve(U.outWidth);
    this.rhPtr = Uh ? ws.reserve(u) : 0;
    this.recHPtr = Uh ? ws.reserve(Uh.outWidth) : 0;
    ws.commit();
    ws.load(W, panels.W);
    ws.load(U, panels.U);
    if (Uh && panels.Uh) ws.load(Uh, panels.Uh);

    this.xs = ws.view(this.xPtr, this.chunk * features);
    this.xw = ws.view(this.xwPtr, this.chunk * W.outWidth);
    this.rec = ws.view(this.recPtr, U.outWidth);
    if (Uh) {
      this.resetH = ws.view(this.rhPtr, u);
      this.recH = ws.view(this.recHPtr, Uh.outWidth);
    }
    const floats = (n: number): Floats => (dtype === "float32" ? new Float32Array(n) : new Float64Array(n));
    this.prev = [ws.view(this.hPtr, u), ...kind.stateNames.slice(1).map(() => floats(u))];
    this.out = floats(kind.intermediates.length * u);
  }

  multiplyResetH(): Floats {
    this.ws.gemm(this.rhPtr, 1, this.Uh!, this.recHPtr);
    return this.recH!;
  }

  beginSample(b: number): void {
    this.base = b * this.input.shape[1];
    this.first = 0;
    this.count = 0;
  }

  step(t: number): void {
    if (t >= this.first + this.count) this.project(t);
    this.xo = (t - this.first) * this.W.outWidth;
    this.ws.gemm(this.hPtr, 1, this.U, this.recPtr);
    this.fastStep(this.w, this.act, this, this.prev, this.out);
  }

  /** x·W for the chunk of processing steps from t. */
  private project(t: number): void {
    const steps = this.input.shape[1];
    const features = this.input.shape[2];
    const data = this.input.data;
    this.first = t;
    this.count = Math.min(this.chunk, steps - t);
    for (let k = 0; k < this.count; k++) {
      const row = (this.base + this.timeIndex[t + k]) * features;
      for (let d = 0; d < features; d++) this.xs[k * features + d] = data[row + d];
    }
    this.ws.gemm(this.xPtr, this.count, this.W, this.xwPtr);
  }
}

/**
 * ConvLSTM's fast path, for the cell whose readable step is layers/conv-lstm.ts: each step's
 * two convolutions as products in the SIMD kernel over the windows laid out as rows (one
 * per output position: every tap and channel in the order `convolve` sums them, 0 where a
 * tap reads padding), then the LSTM's elementwise half (lstmGates).
 *
 * Bit for bit the reference: the kernel sums each output in order of d, rounding as
 * `convolve` does, and a padding tap adds round(0·w) = ±0, which leaves any sum unchanged
 * (a sum that starts at +0 is never −0). Used only where that holds: every weight finite
 * (0·∞ would be NaN where the reference skips the tap) and, in float32, a float32 value.
 */
export class ConvKernelEngine implements Engine {
  readonly prev: Floats[];
  readonly out: Floats;
  private readonly ws: Workspace;
  private readonly W: PackedMatrix;
  private readonly U: PackedMatrix;
  private readonly xRows: Floats;
  private readonly hRows: Floats;
  private readonly xw: Floats;
  private readonly rec: Floats;
  private readonly xRowsPtr: number;
  private readonly hRowsPtr: number;
  private readonly xwPtr: number;
  private readonly recPtr: number;
  private readonly x: Floats;
  private readonly ones: number[];
  private base = 0;

  /** Whether the kernel reproduces the reference for these weights (see the class comment). */
  static usable(w: CellWeights, dtype: EvalDType): boolean {
    const ok = (a: ArrayLike<number>) => {
      for (let k = 0; k < a.length; k++) {
        if (!Number.isFinite(a[k]) || (dtype === "float32" && Math.fround(a[k]) !== a[k])) return false;
      }
      return true;
    };
    return w.featureMap !== undefined && ok(w.kernel) && ok(w.recurrentKernel);
  }

  constructor(
    kind: RecurrentKind,
    private readonly w: CellWeights,
    private readonly act: CellActivations,
    private readonly input: Value,
    private readonly timeIndex: Int32Array,
    private readonly round: (x: number) => number,
    dtype: EvalDType,
  ) {
    const m = w.featureMap!;
    const f = m.filters;
    const taps = m.kernelSize.reduce((a, b) => a * b, 1);
    const positions = m.outputSpatial.reduce((a, b) => a * b, 1);
    const ws = (this.ws = new Workspace(dtype));
    this.W = ws.matrix(taps * m.channels, 4 * f);
    this.U = ws.matrix(taps * f, 4 * f);
    this.xRowsPtr = ws.reserve(positions * taps * m.channels);
    this.hRowsPtr = ws.reserve(positions * taps * f);
    this.xwPtr = ws.reserve(positions * this.W.outWidth);
    this.recPtr = ws.reserve(positions * this.U.outWidth);
    ws.commit();
    ws.load(this.W, packPanels(w.kernel, taps * m.channels, 4 * f, 0, 4 * f, dtype));
    ws.load(this.U, packPanels(w.recurrentKernel, taps * f, 4 * f, 0, 4 * f, dtype));
    this.xRows = ws.view(this.xRowsPtr, positions * taps * m.channels);
    this.hRows = ws.view(this.hRowsPtr, positions * taps * f);
    this.xw = ws.view(this.xwPtr, positions * this.W.outWidth);
    this.rec = ws.view(this.recPtr, positions * this.U.outWidth);
    const floats = (n: number): Floats => (dtype === "float32" ? new Float32Array(n) : new Float64Array(n));
    this.x = floats(w.inputDim);
    this.prev = kind.stateNames.map(() => floats(w.units));
    this.out = floats(kind.intermediates.length * w.units);
    this.ones = m.kernelSize.map(() => 1);
  }

  beginSample(b: number): void {
    this.base = b * this.input.shape[1];
  }

  step(t: number): void {
    const { w, x, xw, rec, ws, out, round } = this;
    const m = w.featureMap!;
    const f = m.filters;
    const u = w.units;
    const row = (this.base + this.timeIndex[t]) * w.inputDim;
    for (let d = 0; d < w.inputDim; d++) x[d] = this.input.data[row + d];
    windows(x, m.inputSpatial, m.channels, m.kernelSize, m.outputSpatial, m.strides, m.dilation, m.padBefore, this.xRows);
    windows(this.prev[0], m.outputSpatial, f, m.kernelSize, m.outputSpatial, this.ones, this.ones, m.recurrentPadBefore, this.hRows);
    const positions = u / f;
    ws.gemm(this.xRowsPtr, positions, this.W, this.xwPtr);
    ws.gemm(this.hRowsPtr, positions, this.U, this.recPtr);
    // (position, gate·filters + filter) rows → gate blocks of units, as the reference lays them out.
    const bias = w.bias;
    for (let g = 0; g < 4; g++) {
      for (let p = 0; p < positions; p++) {
        for (let j = 0; j < f; j++) {
          const v = xw[p * this.W.outWidth + g * f + j];
          out[g * u + p * f + j] = bias ? round(v + bias[g * f + j]) : v;
          out[(4 + g) * u + p * f + j] = rec[p * this.U.outWidth + g * f + j];
        }
      }
    }
    lstmGates(out, this.prev[1], this.act, u, round);
  }
}
