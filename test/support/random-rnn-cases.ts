/**
 * Seeded random recurrent layers for the evaluator's tests (random-agreement, dtype):
 * LSTM, GRU (reset_after false and true), SimpleRNN and Bidirectional with every merge
 * mode; units 1-64, features 1-32, steps 1-50, biased toward small sizes; activations,
 * go_backwards, return_sequences, return_state, use_bias, initial states and masks
 * (zero-padded steps behind a Masking layer). Each case is a reference spec
 * (test/reference/rnn-spec.ts) plus inputs, and `evaluate` runs it through a written
 * model file, the loader, and evaluateStep (or predict).
 */
import { expect } from "vitest";

import { predict } from "../../src/eval/predict.js";
import { evaluateStep } from "../../src/eval/step.js";
import type { EvalDType, LayerTrace } from "../../src/eval/trace.js";
import { Draw, prng } from "../reference/keras-golden.js";
import { gateCount, isBidirectional, stateCount, type BidirectionalSpec, type MergeMode, type RnnKind, type RnnSpec } from "../reference/rnn-spec.js";
import { loadRnnModel } from "./rnn-model-file.js";


/** Activations tfjs computes as Keras does (softmax aside). */
export const TFJS_ACTS = ["tanh", "sigmoid", "hard_sigmoid", "relu", "relu6", "elu", "selu", "softplus", "softsign", "swish", "silu", "gelu", "mish", "linear"];
/** Only numpy has these; leaky_relu and hard_silu as activation names exist from Keras 3 on. */
export const NUMPY_ONLY = ["exponential", "leaky_relu", "hard_silu"];
export const KERAS3_ONLY = new Set(["leaky_relu", "hard_silu"]);
export const ALL_ACTS = [...TFJS_ACTS, ...NUMPY_ONLY];
/**
 * Gate activations. Unbounded ones (linear, relu6) are left out here (they are drawn as
 * `activation`): gates outside [0, 1] make the cell expansive, and float32 rounding then
 * grows with the values (numpy and tfjs differ by 2e-4 at |h| ~ 140 on a GRU with linear
 * gates), a property of the arithmetic, not of any implementation.
 */
export const REC_ACTS = ["sigmoid", "hard_sigmoid", "tanh", "softsign"];

export interface RandomCase {
  seed: number;
  spec: RnnSpec | BidirectionalSpec;
  x: number[][][];
  mask?: boolean[][];
  /** Reference layout: (n_states, B, u); Bidirectional forward states then backward. */
  initialState?: number[][][];
  kerasVersion: string;
  hardSigmoid: "keras2" | "keras3";
  /** Bidirectional: run through predict with distinct forward/backward states instead of evaluateStep. */
  viaPredict: boolean;
}

export function scaled(d: Draw, n: number, fan: number): Float32Array {
  const a = 0.9 / Math.sqrt(fan);
  return d.floats(n, -a, a);
}

export function randomSpec(d: Draw, kind: RnnKind, units: number, inputDim: number, activation: string, resetAfter: boolean): RnnSpec {
  const g = gateCount(kind) * units;
  const useBias = d.bool(0.8);
  return {
    kind,
    units,
    inputDim,
    activation,
    recurrentActivation: kind === "simple_rnn" ? undefined : d.bool(0.4) ? "sigmoid" : d.pick(REC_ACTS),
    useBias,
    resetAfter: kind === "gru" ? resetAfter : undefined,
    kernel: scaled(d, inputDim * g, inputDim),
    recurrentKernel: scaled(d, units * g, units),
    bias: useBias ? d.floats(kind === "gru" && resetAfter ? 2 * g : g, -0.5, 0.5) : undefined,
  };
}

/** A mask with leading padding, trailing padding and gaps; rarely a fully masked row. */
export function randomMask(d: Draw, b: number, t: number): boolean[][] {
  return Array.from({ length: b }, () => {
    if (t > 1 && d.bool(0.05)) return Array<boolean>(t).fill(false);
    const lead = d.bool(0.3) ? d.int(0, Math.floor(t / 2)) : 0;
    const trail = d.bool(0.5) ? d.int(0, Math.floor(t / 2)) : 0;
    return Array.from({ length: t }, (_, s) => s >= lead && s < t - trail && d.bool(0.85));
  });
}

export function makeCase(k: number): RandomCase {
  const seed = 40_000 + k;
  const d = new Draw(prng(seed));
  const category = k % 5; // lstm, gru (reset_after false), gru (true), simple_rnn, bidirectional
  const large = k % 12 === 11;
  const units = large ? d.pick([32, 48, 64]) : d.bool(0.85) ? d.int(1, 8) : d.int(9, 20);
  const inputDim = large ? d.pick([16, 24, 32]) : d.bool(0.85) ? d.int(1, 6) : d.int(7, 16);
  // Every other case walks through all activations, so each one is drawn; the rest are mostly tanh.
  const activation = k % 2 === 0 ? ALL_ACTS[(k / 2) % ALL_ACTS.length] : d.bool(0.5) ? "tanh" : d.pick(TFJS_ACTS);
  const keras3 = KERAS3_ONLY.has(activation) || d.bool(0.25);
  // e^x feeding back into itself grows without bound over long sequences: keep those short.
  let steps = activation === "exponential" ? d.int(1, 4) : large ? d.int(30, 50) : d.bool(0.8) ? d.int(1, 8) : d.int(9, 25);
  const batch = d.int(1, 3);
  const kinds: RnnKind[] = ["lstm", "gru", "gru", "simple_rnn"];
  const kind = category === 4 ? d.pick(["lstm", "gru", "simple_rnn"] as const) : kinds[category];
  const resetAfter = category === 2 || (category === 4 && kind === "gru" && d.bool(0.5));
  const flags: Partial<RnnSpec> = { goBackwards: d.bool(0.4), returnSequences: d.bool(0.5), returnState: d.bool(0.4) };
  let spec: RnnSpec | BidirectionalSpec;
  if (category === 4) {
    const fw = { ...randomSpec(d, kind, units, inputDim, activation, resetAfter), ...flags };
    // Keras 2 builds the backward layer from the forward config with go_backwards flipped; only weights differ.
    const other = randomSpec(d, kind, units, inputDim, activation, resetAfter);
    const bw: RnnSpec = { ...fw, goBackwards: !fw.goBackwards, kernel: other.kernel, recurrentKernel: other.recurrentKernel, bias: fw.useBias ? (other.bias ?? d.floats(fw.bias!.length, -0.5, 0.5)) : undefined };
    const modes: MergeMode[] = ["concat", "sum", "mul", "ave", null];
    spec = { forward: fw, backward: bw, mergeMode: modes[Math.floor(k / 5) % 5] };
  } else {
    spec = { ...randomSpec(d, kind, units, inputDim, activation, resetAfter), ...flags };
  }
  if (steps < 1) steps = 1;
  const x = d.tensor(batch, steps, inputDim, -2, 2);
  const mask = d.bool(0.35) ? randomMask(d, batch, steps) : undefined;
  if (mask) mask.forEach((row, b) => row.forEach((keep, t) => { if (!keep) x[b][t].fill(0); }));
  const nStates = stateCount(kind) * (category === 4 ? 2 : 1);
  let initialState: number[][][] | undefined;
  let viaPredict = false;
  if (d.bool(0.4)) {
    initialState = d.states(nStates, batch, units);
    if (category === 4 && d.bool(0.5)) {
      // evaluateStep gives a whole Bidirectional the same --h0/--c0 for both directions.
      initialState = [...initialState.slice(0, nStates / 2), ...initialState.slice(0, nStates / 2)];
    } else if (category === 4) {
      viaPredict = true;
    }
  }
  return { seed, spec, x, mask, initialState, kerasVersion: keras3 ? "3.1.0" : "2.2.4", hardSigmoid: keras3 ? "keras3" : "keras2", viaPredict };
}

export function describeCase(c: RandomCase): string {
  const s = c.spec;
  const one = (r: RnnSpec) =>
    `${r.kind}${r.kind === "gru" ? (r.resetAfter ? "(reset_after)" : "(reset_before)") : ""} u${r.units} d${r.inputDim} ${r.activation}${r.recurrentActivation ? `/${r.recurrentActivation}` : ""}${r.useBias ? "" : " no-bias"}${r.goBackwards ? " backwards" : ""}${r.returnSequences ? " seq" : ""}${r.returnState ? " state" : ""}`;
  const body = isBidirectional(s) ? `Bidirectional[${s.mergeMode}](${one(s.forward)})` : one(s);
  return `seed ${c.seed}: ${body}, B${c.x.length} T${c.x[0].length}${c.mask ? " masked" : ""}${c.initialState ? " init" : ""} keras ${c.kerasVersion}`;
}

/** The reference's initial states as the evaluator takes them: one (B·u) vector per state. */
export function flatStates(states: number[][][]): Float64Array[] {
  return states.map((s) => Float64Array.from(s.flat()));
}

export async function evaluate(c: RandomCase, dtype: EvalDType = "float32"): Promise<LayerTrace> {
  const { model, path } = await loadRnnModel(c.spec, { kerasVersion: c.kerasVersion, masking: c.mask !== undefined });
  expect(model.kerasMajor).toBe(c.kerasVersion.startsWith("3") ? 3 : 2);
  const B = c.x.length;
  const T = c.x[0].length;
  const D = c.x[0][0].length;
  const input = { shape: [B, T, D], data: Float64Array.from(c.x.flat(2)) };
  if (c.viaPredict) {
    const r = predict(model, [input], { dtype, initialStates: new Map([[path, flatStates(c.initialState!)]]) });
    return r.traces.find((t) => t.layer === path)!;
  }
  // A Bidirectional given one --h0/--c0 applies it to both directions (the case builds them equal).
  const given = c.initialState && isBidirectional(c.spec) ? c.initialState.slice(0, c.initialState.length / 2) : c.initialState;
  const states = given ? flatStates(given) : [];
  const { trace } = evaluateStep(model, { inputs: [input], h0: states[0], c0: states[1], dtype });
  expect(trace.layer).toBe(path);
  return trace;
}
