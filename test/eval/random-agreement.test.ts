/**
 * The evaluator against two implementations we did not write, on seeded random
 * layers: tfjs-layers (CPU backend) and the float32 numpy reference
 * (test/reference/rnn_reference.py). Every case goes through the whole path a user's
 * file takes: the layer is written into a Keras 2.2-layout model file by
 * samples/keras-h5-writer.mjs (Keras 3 legacy .h5 for some), loaded with
 * loadModelFromBytes, the layer found by evaluateStep (or the model run by predict),
 * and its trace and outputs compared.
 *
 * Covered: LSTM, GRU (reset_after false; true via numpy only, tfjs has none),
 * SimpleRNN, Bidirectional with every merge mode (concat, sum, mul, ave, None);
 * units 1-64, features 1-32, steps 1-50, biased toward small sizes; every
 * activation tfjs has (softmax excepted: the evaluator refuses it inside a cell,
 * see the last test) plus exponential / leaky_relu / hard_silu via numpy;
 * hard_sigmoid as Keras 2 (0.2x + 0.5, the same in tfjs) and, for Keras 3 files,
 * clip(x/6 + 0.5) (keras/src/backend/tensorflow/nn.py, hard_sigmoid), numpy only;
 * go_backwards, return_sequences, return_state, use_bias false, initial states,
 * and masking through a Masking(mask_value=0) layer with zero-padded steps.
 * tfjs is used wherever tfjsLimitations says it computes what Keras does (its
 * masked-output rule differs when a non-zero initial state meets a masked first
 * step, and it lacks Bidirectional's forced zero_output_for_mask).
 *
 * With numpy, every per-step intermediate the trace shows (x_i x_f x_c x_o i f c o h,
 * x_z x_r x_h z r hh h, x h) is compared by name. numpy records the cell's values
 * before masking; at a masked step our trace records the carried states, so there
 * h (and c) are compared with numpy's state from the last real step (or the initial state).
 *
 * Tolerance: atol = rtol = 1e-5, as Keras' own RNN tests (lstm_test.py). All three
 * compute in float32 with different operation order, so they differ by a few ulp
 * compounded over the steps; a formula or layout error shows up at 1e-3 and above.
 */
import { afterAll, describe, expect, it } from "vitest";

import { predict } from "../../src/eval/predict.js";
import { evaluateStep } from "../../src/eval/step.js";
import { loadModelFromBytes } from "../../src/load/index.js";
import type { LayerTrace, StepTrace } from "../../src/eval/trace.js";
import { UnsupportedError } from "../../src/errors.js";
import { Draw, prng } from "../reference/keras-golden.js";
import { closeNumpy, noteNumpySkipped, numpyAvailable, runNumpy, type NumpyResult, type NumpyTrace } from "../reference/numpy.js";
import { isBidirectional, stateCount, type BidirectionalSpec, type RnnSpec } from "../reference/rnn-spec.js";
import { runTfjs, tfjsLimitations, type TfjsOptions } from "../reference/tfjs.js";
import { ErrorLog, expectAllClose, flat } from "../support/compare.js";
import { ALL_ACTS, describeCase, evaluate, flatStates, makeCase, randomSpec, TFJS_ACTS, type RandomCase } from "../support/random-rnn-cases.js";
import { layerConfig, layerWeights, loadRnnModel, writer } from "../support/rnn-model-file.js";

const HAVE_NUMPY = numpyAvailable();
noteNumpySkipped();
const log = new ErrorLog();
const counts = { cases: 0, tfjs: 0, numpy: 0, tfjsRefused: 0 };
afterAll(() => {
  closeNumpy();
  console.log(
    log.summary(
      `random agreement: ${counts.cases} cases, ${counts.tfjs} checked against tfjs (${counts.tfjsRefused} not expressible in tfjs), ${counts.numpy} against numpy`,
    ),
  );
});

const TOL = { atol: 1e-5, rtol: 1e-5 };


/** The layer's outputs in Keras' order, each flattened over samples. */
function ourOutputs(trace: LayerTrace): Float64Array[] {
  return trace.outputs.map((o) => o.tensor.data);
}

function checkIntermediates(c: RandomCase, t: StepTrace, ref: NumpyTrace, initial: number[][][] | undefined, label: string): void {
  const B = c.x.length;
  const T = c.x[0].length;
  const u = t.units;
  expect(Array.from(t.timeIndex), `${label}: processing order`).toEqual(ref.timeIndex);
  for (let b = 0; b < B; b++) {
    // The state carried into each step: the initial state, then the last real step's state.
    const carried: Record<string, number[]> = {};
    t.stateNames.forEach((s, k) => (carried[s] = initial ? initial[k][b] : Array<number>(u).fill(0)));
    for (let s = 0; s < T; s++) {
      const ti = ref.timeIndex[s];
      const masked = c.mask ? !c.mask[b][ti] : false;
      expect(t.mask[b * T + s] === 1, `${label}: mask of sample ${b} step ${s}`).toBe(masked);
      expect(Array.from(t.input(b, s)), `${label}: x of sample ${b} step ${s}`).toEqual(c.x[b][ti]);
      for (const name of t.columns) {
        const isState = t.stateNames.includes(name);
        const expected = masked && isState ? carried[name] : ref.steps[name][s][b];
        expectAllClose(t.vector(b, s, name), expected, TOL, `${label}: ${name} of sample ${b} at step ${s}`, { log, kind: "numpy: per-step intermediates" });
      }
      if (!masked) for (const st of t.stateNames) carried[st] = ref.steps[st][s][b];
    }
  }
}

function lastStates(t: StepTrace): number[][] {
  return t.stateNames.map((s) => Array.from({ length: t.samples }, (_, b) => Array.from(t.vector(b, t.steps - 1, s))).flat());
}

async function checkNumpy(c: RandomCase, trace: LayerTrace): Promise<void> {
  const ref: NumpyResult = await runNumpy({ spec: c.spec, x: c.x, initialState: c.initialState, mask: c.mask, hardSigmoid: c.hardSigmoid });
  counts.numpy++;
  const s = c.spec;
  const mergeNull = isBidirectional(s) && s.mergeMode === null;
  const refOutputs = mergeNull ? (ref.output as number[][][]).map(flat) : [flat(ref.output)];
  const returnState = isBidirectional(s) ? s.forward.returnState : s.returnState;
  const expected = returnState ? [...refOutputs, ...ref.states.map(flat)] : refOutputs;
  const ours = ourOutputs(trace);
  expect(ours.length, "number of outputs").toBe(expected.length);
  ours.forEach((o, k) => expectAllClose(o, expected[k], TOL, `output ${trace.outputs[k].name}`, { log, kind: "numpy: layer outputs" }));
  // Final states, whether or not the layer returns them.
  const finals = trace.directions.flatMap(lastStates);
  finals.forEach((f, k) => expectAllClose(f, flat(ref.states[k]), TOL, `final state ${k}`, { log, kind: "numpy: final states" }));
  if (isBidirectional(s)) {
    const tr = ref.trace as { forward: NumpyTrace; backward: NumpyTrace };
    const n = stateCount(s.forward.kind);
    checkIntermediates(c, trace.directions[0], tr.forward, c.initialState?.slice(0, n), "forward");
    checkIntermediates(c, trace.directions[1], tr.backward, c.initialState?.slice(n), "backward");
  } else {
    checkIntermediates(c, trace.directions[0], ref.trace as NumpyTrace, c.initialState, "layer");
  }
}

async function checkTfjs(c: RandomCase, trace: LayerTrace): Promise<boolean> {
  const opts: TfjsOptions = { initialState: c.initialState, mask: c.mask, hardSigmoid: c.hardSigmoid };
  if (tfjsLimitations(c.spec, opts).length > 0) {
    counts.tfjsRefused++;
    return false;
  }
  const ref = await runTfjs(c.spec, c.x, opts);
  counts.tfjs++;
  const s = c.spec;
  const mergeNull = isBidirectional(s) && s.mergeMode === null;
  const outs = mergeNull ? (ref.output as number[][][][]).map(flat) : [flat(ref.output)];
  const expected = [...outs, ...(ref.states ?? []).map(flat)];
  const ours = ourOutputs(trace);
  expect(ours.length, "number of outputs").toBe(expected.length);
  ours.forEach((o, k) => expectAllClose(o, expected[k], TOL, `output ${trace.outputs[k].name} vs tfjs`, { log, kind: "tfjs: layer outputs" }));
  return true;
}

const N_CASES = 65;
const CASES = Array.from({ length: N_CASES }, (_, k) => makeCase(k));

describe("evaluator vs tfjs and numpy on seeded random layers, through model files (atol = rtol = 1e-5)", () => {
  for (const c of CASES) {
    it(describeCase(c), async () => {
      counts.cases++;
      const trace = await evaluate(c);
      const usedTfjs = await checkTfjs(c, trace);
      if (HAVE_NUMPY) await checkNumpy(c, trace);
      // Each case is checked by at least one reference (numpy is required where tfjs cannot stand in).
      expect(usedTfjs || HAVE_NUMPY).toBe(true);
    });
  }

  it("the sample covers what it claims", () => {
    const layers = CASES.flatMap((c) => (isBidirectional(c.spec) ? [c.spec.forward] : [c.spec]));
    const acts = new Set(layers.flatMap((l) => [l.activation, l.recurrentActivation ?? l.activation]));
    for (const a of ALL_ACTS) expect(acts.has(a), `activation ${a} drawn`).toBe(true);
    const bidi = CASES.map((c) => c.spec).filter(isBidirectional);
    expect(new Set(bidi.map((b) => b.mergeMode))).toEqual(new Set(["concat", "sum", "mul", "ave", null]));
    expect(layers.some((l) => l.kind === "gru" && l.resetAfter)).toBe(true);
    expect(layers.some((l) => l.kind === "gru" && !l.resetAfter)).toBe(true);
    expect(layers.some((l) => !l.useBias)).toBe(true);
    expect(layers.some((l) => l.goBackwards)).toBe(true);
    expect(layers.some((l) => l.returnState)).toBe(true);
    expect(layers.some((l) => l.returnSequences)).toBe(true);
    expect(Math.max(...layers.map((l) => l.units))).toBeGreaterThanOrEqual(32);
    expect(Math.min(...layers.map((l) => l.units))).toBe(1);
    expect(Math.max(...layers.map((l) => l.inputDim))).toBeGreaterThanOrEqual(16);
    expect(Math.max(...CASES.map((c) => c.x[0].length))).toBeGreaterThanOrEqual(30);
    expect(CASES.some((c) => c.mask && c.initialState)).toBe(true);
    expect(CASES.some((c) => c.mask && isBidirectional(c.spec) && c.spec.forward.returnSequences)).toBe(true);
    expect(CASES.some((c) => c.viaPredict)).toBe(true);
    expect(CASES.some((c) => c.kerasVersion.startsWith("3") && (isBidirectional(c.spec) ? [c.spec.forward] : [c.spec]).some((l) => l.activation === "hard_sigmoid" || l.recurrentActivation === "hard_sigmoid"))).toBe(true);
  });
});

/**
 * Without return_sequences Keras returns backend.rnn's last_output, the last EMITTED
 * output (keras/src/backend/tensorflow/rnn.py: last_output = outputs[-1]), not the
 * final h: a sample masked throughout emits zeros even with a non-zero initial state
 * (the previous output starts at 0), and with zero_output_for_mask a masked last step
 * emits zeros. The states returned by return_state are the carried ones.
 * Expected values here follow from that rule by hand; numpy (same rule) agrees.
 */
describe("the output without return_sequences when the last steps are masked", () => {
  const d = new Draw(prng(4242));
  const run = async (spec: RnnSpec | BidirectionalSpec, x: number[][][], initialState?: number[][][]) => {
    const { model } = await loadRnnModel(spec, { masking: true });
    const B = x.length;
    const T = x[0].length;
    const input = { shape: [B, T, x[0][0].length], data: Float64Array.from(x.flat(2)) };
    const states = initialState ? flatStates(initialState) : [];
    return evaluateStep(model, { inputs: [input], h0: states[0], c0: states[1], dtype: "float32" }).trace;
  };

  it("a sample masked at every step outputs zeros, while its returned states stay at h0 and c0", async () => {
    const spec: RnnSpec = { ...randomSpec(d, "lstm", 2, 3, "tanh", false), returnState: true };
    // sample 0: real steps; sample 1: all padding
    const x = [
      [[0.5, -1, 2], [1, 1, -1]],
      [[0, 0, 0], [0, 0, 0]],
    ];
    const init = [[[0.1, 0.2], [0.5, -0.5]], [[0.3, 0.4], [1, 1]]];
    const trace = await run(spec, x, init);
    const [output, h, c] = trace.outputs.map((o) => Array.from(o.tensor.data));
    expect(output.slice(2)).toEqual([0, 0]);
    expect(h.slice(2)).toEqual([0.5, -0.5]);
    expect(c.slice(2)).toEqual([1, 1]);
    // sample 0 has a real last step: its output is its final h
    expect(output.slice(0, 2)).toEqual(h.slice(0, 2));
    if (HAVE_NUMPY) {
      const mask = [[true, true], [false, false]];
      const ref = await runNumpy({ spec, x, initialState: init, mask });
      expectAllClose(output, flat(ref.output), TOL, "output vs numpy");
    }
  });

  it("zero_output_for_mask: a masked last step outputs zeros, the returned h is the carried state", async () => {
    const spec: RnnSpec = { ...randomSpec(d, "simple_rnn", 3, 2, "tanh", false), returnState: true, zeroOutputForMask: true };
    const x = [[[1, 2], [3, -4], [0, 0]]];
    const trace = await run(spec, x);
    const [output, h] = trace.outputs.map((o) => Array.from(o.tensor.data));
    expect(output).toEqual([0, 0, 0]);
    // the carried state is the h computed at step 2
    expect(h).toEqual(Array.from(trace.directions[0].vector(0, 1, "h")));
    expect(h.some((v) => v !== 0)).toBe(true);
    if (HAVE_NUMPY) {
      const ref = await runNumpy({ spec, x, mask: [[true, true, false]] });
      expectAllClose(output, flat(ref.output), TOL, "output vs numpy");
      expectAllClose(h, flat(ref.states[0]), TOL, "h vs numpy");
    }
  });

  it("Bidirectional: a fully masked sample merges two zero outputs despite non-zero initial states", async () => {
    const fw = randomSpec(d, "gru", 2, 2, "tanh", true);
    const spec: BidirectionalSpec = { forward: fw, backward: { ...fw, goBackwards: true, kernel: d.floats(fw.kernel.length, -0.5, 0.5) }, mergeMode: "sum" };
    const x = [[[0, 0], [0, 0], [0, 0]]];
    const trace = await run(spec, x, [[[0.7, -0.2]]]);
    expect(Array.from(trace.outputs[0].tensor.data)).toEqual([0, 0]);
  });
});

/**
 * A recurrent layer with return_sequences passes its input mask on unchanged, also
 * with go_backwards, although its output sequence is then in reversed order
 * (RNN.compute_mask: `output_mask = mask if self.return_sequences else None`,
 * keras/src/layers/rnn/rnn.py; the same in Keras 2.2.4 and tf.keras). So in
 * [Masking, LSTM(go_backwards, return_sequences), GRU] the GRU reads the reversed
 * sequence under the original mask. Reference: numpy run layer by layer with that mask.
 */
describe.skipIf(!HAVE_NUMPY)("the mask a go_backwards layer passes to the next one", () => {
  it("is the input mask, in input order (atol = rtol = 1e-5)", async () => {
    const d = new Draw(prng(31337));
    const first: RnnSpec = { ...randomSpec(d, "lstm", 3, 2, "tanh", false), goBackwards: true, returnSequences: true };
    const second: RnnSpec = { ...randomSpec(d, "gru", 2, 3, "tanh", true), returnSequences: true };
    const x = d.tensor(2, 5, 2, -1, 1);
    const mask = [
      [true, true, true, false, false],
      [false, true, true, true, true],
    ];
    mask.forEach((row, b) => row.forEach((keep, t) => { if (!keep) x[b][t].fill(0); }));
    const w = await writer();
    const masking = { class_name: "Masking", config: { name: "masking_1", trainable: true, mask_value: 0.0, batch_input_shape: [null, null, 2], dtype: "float32" } };
    const bytes = await w.writeKerasH5({
      modelConfig: w.sequentialConfig("sequential_1", [masking, await layerConfig(first, "lstm_1"), await layerConfig(second, "gru_1")]),
      layers: [
        { name: "masking_1", weights: [] },
        { name: "lstm_1", weights: layerWeights(first, "lstm_1") },
        { name: "gru_1", weights: layerWeights(second, "gru_1") },
      ],
    });
    const model = await loadModelFromBytes(bytes, "stacked-backwards.h5");
    const ours = predict(model, [{ shape: [2, 5, 2], data: Float64Array.from(x.flat(2)) }], { dtype: "float32" }).outputs[0].value.data;
    const y1 = (await runNumpy({ spec: first, x, mask })).output as number[][][];
    const y2 = await runNumpy({ spec: second, x: y1, mask });
    expectAllClose(ours, flat(y2.output), TOL, "second layer's output", { log, kind: "numpy: stacked, mask after go_backwards" });
  });
});

describe("an activation the evaluator does not apply inside a cell", () => {
  it("softmax as an LSTM activation is refused with an UnsupportedError naming it, not computed elementwise", async () => {
    const d = new Draw(prng(7));
    const spec = randomSpec(d, "lstm", 3, 2, "softmax", false);
    const { model } = await loadRnnModel(spec);
    const input = { shape: [1, 2, 2], data: Float64Array.of(1, 2, 3, 4) };
    let err: unknown;
    try {
      evaluateStep(model, { inputs: [input], dtype: "float32" });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UnsupportedError);
    expect((err as Error).message).toMatch(/softmax/);
  });
});
