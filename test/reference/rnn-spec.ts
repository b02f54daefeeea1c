/**
 * Plain description of one recurrent layer, independent of src/.
 *
 * The reference implementations in this folder (tfjs.ts, numpy.ts +
 * rnn_reference.py) take this type, so a test can build a layer once and ask
 * each reference what Keras would compute. Nothing here imports from src/:
 * the references must not share code with the implementation they check.
 *
 * Layouts follow keras-formats.md §A3:
 *   kernel            row-major (inputDim, G*units)
 *   recurrentKernel   row-major (units, G*units)
 *   bias              (G*units), or for GRU reset_after=True (2, 3*units)
 *                     flattened row-major (row 0 input bias, row 1 recurrent bias)
 * with G = 4 (LSTM gates i, f, c, o), 3 (GRU gates z, r, h) or 1 (SimpleRNN).
 */

export type RnnKind = "lstm" | "gru" | "simple_rnn";

export interface RnnSpec {
  kind: RnnKind;
  units: number;
  inputDim: number;
  /** Keras activation name: tanh, sigmoid, hard_sigmoid, relu, elu, selu, softsign, softplus, swish, gelu, exponential, linear... */
  activation: string;
  /** LSTM/GRU only (ignored for SimpleRNN). */
  recurrentActivation?: string;
  useBias: boolean;
  /** GRU only. Default false. */
  resetAfter?: boolean;
  goBackwards?: boolean;
  returnSequences?: boolean;
  returnState?: boolean;
  /**
   * Keras `zero_output_for_mask`: output 0 (instead of the previous output) at
   * masked steps. Default false. Bidirectional overrides it (see BidirectionalSpec).
   */
  zeroOutputForMask?: boolean;
  kernel: Float32Array;
  recurrentKernel: Float32Array;
  /** Absent when useBias is false. */
  bias?: Float32Array;
}

export type MergeMode = "concat" | "sum" | "mul" | "ave" | null;

export interface BidirectionalSpec {
  forward: RnnSpec;
  /**
   * The backward layer as Keras stores it. Its `goBackwards` is normally true;
   * when left undefined it is taken as `!forward.goBackwards`, which is what
   * Keras does when it builds the backward layer from the forward config.
   */
  backward: RnnSpec;
  mergeMode: MergeMode;
  /** Defaults to forward.returnSequences. */
  returnSequences?: boolean;
}

export function isBidirectional(spec: RnnSpec | BidirectionalSpec): spec is BidirectionalSpec {
  return (spec as BidirectionalSpec).forward !== undefined;
}

/** Number of gate blocks G in the kernel's columns. */
export function gateCount(kind: RnnKind): number {
  return kind === "lstm" ? 4 : kind === "gru" ? 3 : 1;
}

/** Number of state tensors the layer carries (LSTM: h and c). */
export function stateCount(kind: RnnKind): number {
  return kind === "lstm" ? 2 : 1;
}

/** Expected bias length, or 0 without bias. */
export function biasLength(spec: RnnSpec): number {
  if (!spec.useBias) return 0;
  const g = gateCount(spec.kind) * spec.units;
  return spec.kind === "gru" && spec.resetAfter ? 2 * g : g;
}

/** Throws if array sizes do not match the declared shapes. */
export function checkSpec(spec: RnnSpec): void {
  const g = gateCount(spec.kind) * spec.units;
  const want = (what: string, got: number, n: number) => {
    if (got !== n) throw new Error(`RnnSpec ${spec.kind}: ${what} has ${got} values, expected ${n}`);
  };
  if (!Number.isInteger(spec.units) || spec.units < 1) throw new Error(`RnnSpec: bad units ${spec.units}`);
  if (!Number.isInteger(spec.inputDim) || spec.inputDim < 1) throw new Error(`RnnSpec: bad inputDim ${spec.inputDim}`);
  want("kernel", spec.kernel.length, spec.inputDim * g);
  want("recurrentKernel", spec.recurrentKernel.length, spec.units * g);
  if (spec.useBias) {
    if (!spec.bias) throw new Error(`RnnSpec ${spec.kind}: useBias is true but bias is missing`);
    want("bias", spec.bias.length, biasLength(spec));
  } else if (spec.bias && spec.bias.length > 0) {
    throw new Error(`RnnSpec ${spec.kind}: useBias is false but a bias was given`);
  }
}

/** The backward direction's effective go_backwards flag (see BidirectionalSpec.backward). */
export function backwardGoesBackwards(spec: BidirectionalSpec): boolean {
  return spec.backward.goBackwards ?? !(spec.forward.goBackwards ?? false);
}
