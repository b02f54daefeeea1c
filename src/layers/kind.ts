/**
 * What a layer kind module provides. Each Keras layer class is handled by exactly
 * one module in `layers/`, which knows its weights, its output shape and its math.
 */
import type { HardSigmoidVariant } from "../activations.js";
import type { EvalDType, FeatureMapShape, GateWeights, RecurrentKindName } from "../eval/trace.js";
import type { Floats } from "../kernel/gemm.js";
import type { Layer, Model, Tensor } from "../model.js";

/** A shape with the batch dimension first; null where unknown (the batch, or a variable length). */
export type Shape = (number | null)[];

/** A concrete tensor during a forward pass: batch dimension first. */
export interface Value {
  shape: number[];
  data: Float64Array;
  /** Keras timestep mask, shape (batch, steps), 1 = keep. Only on 3-D (batch, steps, features) values. */
  mask?: Uint8Array;
}

export interface EvalOptions {
  dtype: EvalDType;
  /** Overrides the hard_sigmoid definition chosen from the writer's Keras version. */
  hardSigmoid?: HardSigmoidVariant;
  /**
   * Recurrent layers run on the SIMD kernel (the default) or on the readable reference
   * code (`step` of each kind); both give the same bits. The reference is for tests and the bench.
   */
  engine?: "kernel" | "reference";
}

export interface EvalContext extends EvalOptions {
  model: Model;
  /** Rounds to the evaluation dtype: Math.fround for float32, identity for float64. */
  round: (x: number) => number;
  hardSigmoidVariant: HardSigmoidVariant;
  /** Path of the layer being evaluated, for messages. */
  path: string;
  /** The call's arguments as the config records them, each tensor replaced by its value. */
  call?: ResolvedCall;
}

/** A call's positional and keyword arguments with their tensors evaluated. */
export interface ResolvedCall {
  args: unknown[];
  kwargs: Record<string, unknown>;
}

export interface LayerKind {
  /** Keras class names this module handles. */
  readonly classNames: readonly string[];
  /** Output shapes (batch first) for the given input shapes; used by `summary`. */
  outputShapes(layer: Layer, inputs: Shape[], model: Model): Shape[];
  /**
   * `model.predict` arithmetic for this layer. Absent when the kind can be shown but
   * not evaluated. Recurrent kinds are run by eval/recurrent.ts through their cell.
   */
  forward?(layer: Layer, inputs: Value[], ctx: EvalContext): Value[];
}

/** Canonical (Keras 2+ layout) weights of a recurrent cell, ready for evaluation and display. */
export interface CellWeights {
  units: number;
  inputDim: number;
  /** (inputDim, G·units) row-major, gate blocks side by side in Keras order. */
  kernel: Floats;
  /** (units, G·units) row-major. */
  recurrentKernel: Floats;
  /** (G·units) input-side bias, or null when use_bias is false. */
  bias: Floats | null;
  /** (G·units) recurrent-side bias: GRU with reset_after only. */
  recurrentBias: Floats | null;
  /** GRU only: whether the reset gate is applied after the recurrent matrix product. */
  resetAfter?: boolean;
  /** The same numbers sliced by gate and named as in the seed notebook (kernel_i, recurrent_kernel_f, bias_o, ...). */
  gates: GateWeights;
  /**
   * The stored tensors `kernel` and `recurrentKernel` are, value for value, when the file
   * holds them in Keras 2's packed layout (nothing assembled or converted); then those two
   * are read from the file when first used, and `weights` streams a large one instead
   * (Tensor.scan, slice/index.ts). Absent when the values were made from other tensors.
   */
  stored?: { kernel: Tensor; recurrentKernel: Tensor };
  /** How the stored tensors became these (Keras 1 per-gate arrays assembled, CuDNN converted, ...). */
  notes: string[];
  /**
   * ConvLSTM only: the convolution geometry for one input shape. Then units are
   * (output positions)·filters, inputDim (input positions)·channels, and kernel /
   * recurrentKernel are the stored (kernel_size…, channels, 4·filters) arrays, row-major.
   */
  featureMap?: FeatureMapShape;
}

/**
 * A cell whose steps read and write feature maps (ConvLSTM), prepared for one input:
 * its weights for that geometry, the input as (B, T, inputDim) channels last, and the
 * conversions of results and given states between that and the layer's data_format.
 */
export interface FeatureMapCell {
  w: CellWeights;
  input: Value;
  /** (B, [T,] units) channels last → the layer's layout, (B, [T,] spatial…, filters) or (B, [T,] filters, spatial…). */
  output(v: Value): Value;
  /** A state given in the layer's layout (one sample's, or every sample's) → channels last. */
  state(data: Float64Array): Float64Array;
}

/** The activation functions a cell applies, by role. */
export interface CellActivations {
  activation: (x: number) => number;
  recurrentActivation: (x: number) => number;
}

export interface RecurrentKind extends LayerKind {
  readonly kind: RecurrentKindName;
  /** Gate letters in Keras' storage order (LSTM i f c o, GRU z r h, SimpleRNN none). */
  readonly gates: readonly string[];
  /** Intermediates recorded at each step (everything an explanation shows). */
  readonly intermediates: readonly string[];
  /** The intermediates a step table and `step --json` show, with the seed notebook's names. */
  readonly columns: readonly string[];
  /** State vectors in Keras' order; each is also an intermediate of the same name holding the new state. */
  readonly stateNames: readonly string[];
  /** Activation roles this kind uses, with their defaults for the writer's Keras version. */
  activationNames(layer: Layer, model: Model): Record<string, string>;
  /** Canonical weights from whatever the file stores; throws naming the tensor when shapes disagree with the config. */
  cellWeights(layer: Layer, model: Model): CellWeights;
  /**
   * One time step for one sample: reads x (inputDim) and the previous states,
   * writes every intermediate into `out` (intermediates.length × units, in order).
   */
  step(
    w: CellWeights,
    act: CellActivations,
    x: Float64Array,
    prev: Float64Array[],
    out: Float64Array,
    round: (x: number) => number,
  ): void;
  /**
   * The same step with the matrix products done by the SIMD kernel: what runs. `step` is its
   * reference. Absent for ConvLSTM, whose fast path is its own engine (eval/engines.ts ConvKernelEngine).
   */
  readonly fast?: FastCell;
  /** ConvLSTM: the cell for this input's spatial shape (the other kinds' cells do not depend on it). */
  featureMaps?(layer: Layer, model: Model, input: Value, path: string): FeatureMapCell;
}

/** The matrix products of one step, computed by the SIMD kernel (kernel/gemm.ts) for a FastStep. */
export interface StepProducts {
  /** x·W of this step without the bias: all G·units columns, at xw[xo …]. */
  xw: Floats;
  xo: number;
  /** h₍ₜ₋₁₎·U over the first `recurrentColumns(w)` columns of the recurrent kernel. */
  rec: Floats;
  /**
   * Only when `recurrentColumns` leaves columns over (GRU with reset_after false): the step
   * writes r ⊙ h₍ₜ₋₁₎ into `resetH`, then `multiplyResetH()` returns it times the remaining columns.
   */
  resetH?: Floats;
  multiplyResetH?: () => Floats;
}

/**
 * `step` over typed arrays, given the kernel's products: the same operations in the same
 * order, so its results equal step's bit for bit. `out` is Float32Array in float32 mode.
 */
export type FastStep = (w: CellWeights, act: CellActivations, p: StepProducts, prev: Floats[], out: Floats) => void;

/** The fast path of a recurrent kind: its step once per evaluation dtype (each specialized by V8 for its rounding). */
export interface FastCell {
  /** Columns of the recurrent kernel multiplied by h₍ₜ₋₁₎ before each step (the rest, if any, through multiplyResetH). */
  recurrentColumns(w: CellWeights): number;
  float32: FastStep;
  float64: FastStep;
}

export function isRecurrentKind(kind: LayerKind | undefined): kind is RecurrentKind {
  return kind !== undefined && "step" in kind;
}
