/**
 * TensorFlow.js (tfjs-layers 4.22, CPU backend) as an independent reference for
 * Keras recurrent layers. We only build tfjs' own LSTM/GRU/SimpleRNN/
 * Bidirectional layers, load our weights with setWeights and run them; no math
 * of ours is involved.
 *
 * What tfjs-layers can and cannot stand in for (facts read from
 * node_modules/@tensorflow/tfjs-layers/dist, sources tfjs-layers/src/...):
 *
 * Layers (layers/recurrent.ts):
 * - LSTM: gate order i, f, c, o, bias (4u); tfjs always computes implementation
 *   2: (x.W + h.U) + b. Its default recurrentActivation is hardSigmoid (Keras 2
 *   era), so we always pass it explicitly.
 * - GRU: only reset_after = false. `GRUCell` throws "GRUCell does not support
 *   reset_after parameter set to true", so the default Keras 3 / tf.keras v2
 *   GRU has NO tfjs reference (use the numpy reference). Bias is (3u);
 *   hh = act(x.W_h + b_h + (r * h).U_h).
 * - SimpleRNN: h = act(x.W + b + h.U).
 * - go_backwards: the returned sequence is in processing order (reversed), as
 *   in Keras.
 * - Masking (`rnn()` in recurrent.ts): pass the mask as `apply(x, {mask})`.
 *   Layers do not propagate masks between each other in eager mode, so a
 *   tf.layers.masking layer in front does nothing here. At a masked step the
 *   states keep their values and the output is states[0], the carried h, i.e.
 *   h0 at a leading masked step. Keras 3 (TF/JAX) and tf.keras 2 emit the
 *   previous OUTPUT, 0 before the first real step; the two agree unless a
 *   non-zero initial state meets a masked first processed step. tfjs has no
 *   zero_output_for_mask.
 * - Bidirectional (layers/wrappers.ts): builds the backward layer from the
 *   forward layer's config with goBackwards flipped, so both directions must
 *   share their config (weights may differ). It flips the backward sequence
 *   back before merging; merge modes concat, sum, mul, ave (0.5 * (y + y_rev))
 *   and null. It does NOT force zero_output_for_mask = return_sequences as
 *   Keras >= tf.keras 2 does, so with a mask and return_sequences its masked
 *   rows differ from Keras'.
 * - initialState: `apply(x, {initialState: [h, c]})`; Bidirectional takes
 *   forward states then backward states.
 *
 * Activations (tfjs-layers/src/activations.ts, tfjs-layers/src/backend/tfjs_backend.ts,
 * tfjs-core/src/ops/selu_util.ts, tfjs-backend-cpu/src/kernels/Erf.ts):
 * - hardSigmoid = clip(0.2x + 0.5, 0, 1) (tfjs_backend.ts hardSigmoid): the
 *   Keras 1/2 / tf.keras formula. Keras 3's hard_sigmoid (x/6 + 0.5) has no
 *   tfjs equivalent.
 * - elu: alpha 1 only (K.elu throws for other alphas); selu: SELU_SCALE =
 *   1.0507009873554805, SELU_SCALEALPHA = 1.7580993408473768 (= scale * alpha),
 *   the same constants as Keras.
 * - gelu: exact form 0.5x(1 + erf(x/sqrt 2)), matching Keras' "gelu" by name,
 *   but tfjs' CPU erf is the Abramowitz-Stegun 7.1.26 polynomial (|error| <=
 *   1.5e-7); gelu_new is the tanh approximation.
 * - swish: x * sigmoid(x) (alpha 1) = Keras swish/silu. softsign x/(|x|+1).
 *   softplus, relu, relu6, mish, softmax, linear, tanh, sigmoid as usual.
 * - Missing in tfjs: exponential, leaky_relu (as an activation name),
 *   hard_silu/hard_swish, Keras 3 hard_sigmoid, and the other Keras 3-only
 *   names (celu, log_sigmoid, squareplus, ...).
 */
import * as tf from "@tensorflow/tfjs";

import {
  backwardGoesBackwards,
  checkSpec,
  isBidirectional,
  stateCount,
  type BidirectionalSpec,
  type RnnSpec,
} from "./rnn-spec.js";

export type HardSigmoidVariant = "keras2" | "keras3";

/** Keras activation name -> tfjs-layers identifier (where tfjs has the same function). */
const TFJS_ACTIVATIONS: Record<string, string> = {
  linear: "linear",
  tanh: "tanh",
  sigmoid: "sigmoid",
  hard_sigmoid: "hardSigmoid", // Keras 1/2 formula only
  relu: "relu",
  relu6: "relu6",
  elu: "elu",
  selu: "selu",
  softplus: "softplus",
  softsign: "softsign",
  swish: "swish",
  silu: "swish",
  gelu: "gelu",
  mish: "mish",
  softmax: "softmax",
};

/**
 * Whether tfjs computes the Keras activation `name` with the same formula.
 * hard_sigmoid: true for the Keras 1/2 formula (default), false for Keras 3's.
 */
export function tfjsSupportsActivation(name: string, hardSigmoid: HardSigmoidVariant = "keras2"): boolean {
  if (name === "hard_sigmoid") return hardSigmoid === "keras2";
  return Object.prototype.hasOwnProperty.call(TFJS_ACTIVATIONS, name);
}

export interface TfjsOptions {
  /** (n_states, B, units): LSTM [h, c], GRU/SimpleRNN [h]; Bidirectional forward states then backward. */
  initialState?: number[][][];
  /** (B, T); true = real step. */
  mask?: boolean[][];
  /** Which hard_sigmoid the caller means (default keras2, the only one tfjs has). */
  hardSigmoid?: HardSigmoidVariant;
  /**
   * Run even where tfjs' masking rule differs from Keras 3 (masked first step
   * with a non-zero initial state; Bidirectional + return_sequences + mask).
   * The result is then tfjs' own semantics ("previous_state", no forced zeros).
   */
  acceptTfjsMasking?: boolean;
}

export type Matrix = number[][];
export type Sequence = number[][][];

export interface TfjsResult {
  /** (B, u) or (B, T, u); Bidirectional with mergeMode null: [y, y_rev]. */
  output: Matrix | Sequence | Array<Matrix | Sequence>;
  /** Final states, only when returnState is set (forward then backward for Bidirectional). */
  states?: Matrix[];
}

export class TfjsUnsupportedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TfjsUnsupportedError";
  }
}

function layerLimitations(spec: RnnSpec, opts: TfjsOptions, where: string): string[] {
  const out: string[] = [];
  const hs = opts.hardSigmoid ?? "keras2";
  if (!tfjsSupportsActivation(spec.activation, hs)) out.push(`${where}activation ${spec.activation} (${hs}) is not in tfjs`);
  if (spec.kind !== "simple_rnn") {
    const ra = spec.recurrentActivation ?? "sigmoid";
    if (!tfjsSupportsActivation(ra, hs)) out.push(`${where}recurrent_activation ${ra} (${hs}) is not in tfjs`);
  }
  if (spec.kind === "gru" && spec.resetAfter) out.push(`${where}tfjs GRU has no reset_after=true`);
  if (opts.mask && spec.zeroOutputForMask) out.push(`${where}tfjs has no zero_output_for_mask`);
  return out;
}

function hasNonZero(states: number[][][] | undefined): boolean {
  return !!states && states.some((s) => s.some((row) => row.some((v) => v !== 0)));
}

/** First processed step masked for some sample? */
function leadingMasked(mask: boolean[][], goBackwards: boolean): boolean {
  return mask.some((row) => row.length > 0 && !row[goBackwards ? row.length - 1 : 0]);
}

/**
 * Reasons the tfjs result would not be what Keras 3 computes for this case;
 * an empty list means tfjs is a valid reference. runTfjs throws
 * TfjsUnsupportedError with these reasons instead of returning a wrong number.
 */
export function tfjsLimitations(spec: RnnSpec | BidirectionalSpec, opts: TfjsOptions = {}): string[] {
  const out: string[] = [];
  if (isBidirectional(spec)) {
    out.push(...layerLimitations(spec.forward, opts, "forward: "), ...layerLimitations(spec.backward, opts, "backward: "));
    const f = spec.forward;
    const b = spec.backward;
    const same =
      f.kind === b.kind &&
      f.units === b.units &&
      f.inputDim === b.inputDim &&
      f.activation === b.activation &&
      (f.recurrentActivation ?? "sigmoid") === (b.recurrentActivation ?? "sigmoid") &&
      f.useBias === b.useBias &&
      !!f.resetAfter === !!b.resetAfter &&
      !!f.returnSequences === !!b.returnSequences &&
      !!f.returnState === !!b.returnState &&
      backwardGoesBackwards(spec) === !(f.goBackwards ?? false);
    if (!same) out.push("tfjs Bidirectional needs the backward layer to share the forward layer's config");
    const rs = spec.returnSequences ?? f.returnSequences ?? false;
    if (rs !== !!f.returnSequences) out.push("tfjs Bidirectional takes return_sequences from the wrapped layer");
    if (!opts.acceptTfjsMasking && opts.mask) {
      if (rs) out.push("with a mask and return_sequences Keras zeroes masked outputs in Bidirectional, tfjs does not");
      const half = opts.initialState ? opts.initialState.length / 2 : 0;
      if (
        (hasNonZero(opts.initialState?.slice(0, half)) && leadingMasked(opts.mask, f.goBackwards ?? false)) ||
        (hasNonZero(opts.initialState?.slice(half)) && leadingMasked(opts.mask, backwardGoesBackwards(spec)))
      ) {
        out.push("masked first step with a non-zero initial state: tfjs emits h0, Keras emits 0");
      }
    }
  } else {
    out.push(...layerLimitations(spec, opts, ""));
    if (!opts.acceptTfjsMasking && opts.mask && hasNonZero(opts.initialState) && leadingMasked(opts.mask, spec.goBackwards ?? false)) {
      out.push("masked first step with a non-zero initial state: tfjs emits h0, Keras emits 0");
    }
  }
  return out;
}

let backendReady: Promise<void> | undefined;

function ensureBackend(): Promise<void> {
  backendReady ??= (async () => {
    // tfjs' CPU backend prints a "you are running TensorFlow.js in Node.js"
    // banner through its warn(), which is silent in PROD mode. PROD only
    // changes logging.
    tf.env().set("PROD", true);
    await tf.setBackend("cpu");
    await tf.ready();
  })();
  return backendReady;
}

function layerConfig(spec: RnnSpec): Record<string, unknown> {
  const cfg: Record<string, unknown> = {
    units: spec.units,
    activation: TFJS_ACTIVATIONS[spec.activation],
    useBias: spec.useBias,
    goBackwards: spec.goBackwards ?? false,
    returnSequences: spec.returnSequences ?? false,
    returnState: spec.returnState ?? false,
    // Weights are overwritten by setWeights; zeros avoids orthogonal init work.
    kernelInitializer: "zeros",
    recurrentInitializer: "zeros",
    biasInitializer: "zeros",
  };
  if (spec.kind !== "simple_rnn") cfg.recurrentActivation = TFJS_ACTIVATIONS[spec.recurrentActivation ?? "sigmoid"];
  if (spec.kind === "lstm") cfg.unitForgetBias = false;
  return cfg;
}

function makeRnn(spec: RnnSpec): tf.layers.Layer {
  // The tfjs arg types list activation identifiers as a string union; our map holds exactly those.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const cfg = layerConfig(spec) as any;
  switch (spec.kind) {
    case "lstm":
      return tf.layers.lstm(cfg);
    case "gru":
      return tf.layers.gru(cfg);
    case "simple_rnn":
      return tf.layers.simpleRNN(cfg);
  }
}

function weightTensors(spec: RnnSpec): tf.Tensor[] {
  const g = (spec.kind === "lstm" ? 4 : spec.kind === "gru" ? 3 : 1) * spec.units;
  const out: tf.Tensor[] = [tf.tensor2d(spec.kernel, [spec.inputDim, g]), tf.tensor2d(spec.recurrentKernel, [spec.units, g])];
  if (spec.useBias) out.push(tf.tensor1d(spec.bias!));
  return out;
}

function toArrays(t: tf.Tensor | tf.Tensor[]): Matrix | Sequence | Array<Matrix | Sequence> {
  if (Array.isArray(t)) return t.map((x) => x.arraySync() as Matrix | Sequence);
  return t.arraySync() as Matrix | Sequence;
}

/**
 * Run the layer described by `spec` on x (B, T, D) in tfjs and return plain arrays.
 * Throws TfjsUnsupportedError when tfjs cannot reproduce Keras for this case (see tfjsLimitations).
 */
export async function runTfjs(
  spec: RnnSpec | BidirectionalSpec,
  x: number[][][],
  opts: TfjsOptions = {},
): Promise<TfjsResult> {
  const limits = tfjsLimitations(spec, opts);
  if (limits.length > 0) throw new TfjsUnsupportedError(limits.join("; "));
  if (isBidirectional(spec)) {
    checkSpec(spec.forward);
    checkSpec(spec.backward);
  } else {
    checkSpec(spec);
  }
  await ensureBackend();

  const batch = x.length;
  const steps = x[0]?.length ?? 0;
  const dim = isBidirectional(spec) ? spec.forward.inputDim : spec.inputDim;
  if (batch === 0 || steps === 0) throw new Error("runTfjs: x must be (B, T, D) with B, T > 0");
  if (x.some((s) => s.length !== steps || s.some((v) => v.length !== dim))) {
    throw new Error(`runTfjs: x must be (B, T, ${dim}) with equal lengths`);
  }

  const base = isBidirectional(spec) ? spec.forward : spec;
  const layer: tf.layers.Layer = isBidirectional(spec)
    ? tf.layers.bidirectional({
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        layer: makeRnn(spec.forward) as any,
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        mergeMode: spec.mergeMode as any,
      })
    : makeRnn(spec);

  const weights = isBidirectional(spec)
    ? [...weightTensors(spec.forward), ...weightTensors(spec.backward)]
    : weightTensors(spec);
  try {
    // A symbolic call builds the layer (and its weights) for this input shape.
    layer.apply(tf.input({ shape: [steps, dim] }));
    layer.setWeights(weights);

    return tf.tidy(() => {
      const kwargs: Record<string, unknown> = {};
      if (opts.mask) {
        if (opts.mask.length !== batch || opts.mask.some((r) => r.length !== steps)) {
          throw new Error(`runTfjs: mask must be (${batch}, ${steps})`);
        }
        kwargs.mask = tf.tensor2d(opts.mask.map((r) => r.map((m) => (m ? 1 : 0))), [batch, steps], "bool");
      }
      if (opts.initialState) {
        const n = stateCount(base.kind) * (isBidirectional(spec) ? 2 : 1);
        if (opts.initialState.length !== n) {
          throw new Error(`runTfjs: ${base.kind} needs ${n} initial state tensor(s), got ${opts.initialState.length}`);
        }
        kwargs.initialState = opts.initialState.map((s) => tf.tensor2d(s, [batch, base.units]));
      }
      const result = layer.apply(tf.tensor3d(x, [batch, steps, dim]), kwargs) as tf.Tensor | tf.Tensor[];

      const returnState = base.returnState ?? false;
      const mergeNull = isBidirectional(spec) && spec.mergeMode === null;
      if (!returnState) return { output: toArrays(result) };
      const all = result as tf.Tensor[];
      const nOut = mergeNull ? 2 : 1;
      return {
        output: nOut === 1 ? toArrays(all[0]) : toArrays(all.slice(0, 2)),
        states: all.slice(nOut).map((t) => t.arraySync() as Matrix),
      };
    });
  } finally {
    weights.forEach((w) => w.dispose());
    layer.dispose();
  }
}
