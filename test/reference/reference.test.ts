/**
 * Self-tests of the two independent references (tfjs.ts, numpy.ts) before
 * anything else is checked against them:
 *  (a) the seed example, numbers given by the user;
 *  (b) Keras 3's own golden outputs (keras/src/layers/rnn/{lstm,gru,simple_rnn,
 *      bidirectional}_test.py, listed in keras-formats.md §C), reproduced by
 *      numpy and, where tfjs has the feature, by tfjs;
 *  (c) tfjs and numpy agreeing on seeded random configurations.
 *
 * Tolerances: Keras' golden assertions use atol = rtol = 1e-5 (lstm_test.py);
 * we use the same. The seed example's values are printed with 6 decimals
 * (rounding error <= 5e-7) and come from float64 arithmetic; a float32 value
 * near |x| = 10 is within half an ulp (4.8e-7) of the float64 one, so 1e-6
 * covers both. tfjs vs numpy: both float32, different op order,
 * so they differ by a few ulp; 1e-5 absolute leaves ample room and still
 * catches any formula error (those show up at 1e-2 and above).
 */
import { afterAll, describe, expect, it } from "vitest";

import { closeNumpy, noteNumpySkipped, numpyAvailable, runNumpy, type NumpyRequest, type NumpyTrace } from "./numpy.js";
import type { BidirectionalSpec, RnnKind, RnnSpec } from "./rnn-spec.js";
import { runTfjs, tfjsLimitations, tfjsSupportsActivation, TfjsUnsupportedError, type TfjsOptions } from "./tfjs.js";
import { Draw, G, GOLDEN, prng, type Golden, type Nested } from "./keras-golden.js";
import { SEED_TABLE } from "../support/seed.js";

const HAVE_NUMPY = numpyAvailable();
noteNumpySkipped();
afterAll(() => closeNumpy());

// ------------------------------------------------------------------ helpers

function flat(v: Nested): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v];
}

function shapeOf(v: Nested): number[] {
  return Array.isArray(v) ? [v.length, ...(v.length ? shapeOf(v[0]) : [])] : [];
}

/** |a - e| <= atol + rtol * |e| everywhere, with equal shapes (numpy.allclose). */
function expectClose(actual: unknown, expected: Nested, atol: number, rtol = 0, what = "value"): void {
  expect(shapeOf(actual as Nested), `${what}: shape`).toEqual(shapeOf(expected));
  const a = flat(actual as Nested);
  const e = flat(expected);
  let worst = 0;
  let at = -1;
  for (let k = 0; k < e.length; k++) {
    const excess = Math.abs(a[k] - e[k]) - (atol + rtol * Math.abs(e[k]));
    if (!(excess <= 0) && (at < 0 || excess > worst)) {
      worst = excess;
      at = k;
    }
  }
  if (at >= 0) {
    expect.fail(`${what}: element ${at} is ${a[at]}, expected ${e[at]} (atol ${atol}, rtol ${rtol})`);
  }
}

interface RefResult {
  output: unknown;
  states?: number[][][];
}
type Ref = "tfjs" | "numpy";

async function runRef(ref: Ref, spec: RnnSpec | BidirectionalSpec, x: number[][][], opts: TfjsOptions = {}): Promise<RefResult> {
  if (ref === "tfjs") return runTfjs(spec, x, opts);
  const { initialState, mask, hardSigmoid } = opts;
  return runNumpy({ spec, x, initialState, mask, hardSigmoid });
}

function withReturnState(spec: RnnSpec | BidirectionalSpec): RnnSpec | BidirectionalSpec {
  if ("forward" in spec) {
    return { ...spec, forward: { ...spec.forward, returnState: true }, backward: { ...spec.backward, returnState: true } };
  }
  return { ...spec, returnState: true };
}

// ------------------------------------------------------------------ (a) seed example

describe("seed example: LSTM(1) on 2 features, input [1, 10]", () => {
  const seed: RnnSpec = {
    kind: "lstm",
    units: 1,
    inputDim: 2,
    activation: "tanh",
    recurrentActivation: "sigmoid",
    useBias: true,
    // row-major (2, 4): gates i, f, c, o
    kernel: new Float32Array([-0.7879, -0.7968972, 0.9924617, -0.6057646, -0.14056396, -0.34560132, 0.9574034, 0.7960496]),
    recurrentKernel: new Float32Array([-0.0660542, -0.32508007, -0.8477706, 0.41381747]),
    bias: new Float32Array([0, 1, 0, 0]),
  };
  const x = [[[1, 10]]];

  it("tfjs gives h = 0.0999329 (1e-6: value printed with 6 decimals)", async () => {
    const r = await runTfjs(seed, x);
    expectClose(r.output, [[0.0999329]], 1e-6);
  });

  it.skipIf(!HAVE_NUMPY)("numpy gives h and every intermediate (1e-6)", async () => {
    const r = await runNumpy({ spec: seed, x });
    expectClose(r.output, [[0.0999329]], 1e-6, 0, "h");
    const tr = r.trace as NumpyTrace;
    expect(tr.timeIndex).toEqual([0]);
    const want = SEED_TABLE;
    for (const [name, v] of Object.entries(want)) expectClose(tr.steps[name], [[[v]]], 1e-6, 0, name);
    // final states are [h, c]
    expectClose(r.states, [[[0.0999329]], [[0.100332]]], 1e-6, 0, "states");
  });
});

// ------------------------------------------------------------------ (b) Keras 3 golden values


async function goldenValue(ref: Ref, g: Golden): Promise<Nested> {
  let opts = g.opts ?? {};
  if (g.stateful) {
    const first = await runRef(ref, withReturnState(g.spec), g.x, opts);
    opts = { ...opts, initialState: first.states };
  }
  const spec = g.stateful ? withReturnState(g.spec) : g.spec;
  const r = await runRef(ref, spec, g.x, opts);
  if (g.withStates) return [r.output as Nested, ...(r.states as Nested[])];
  return r.output as Nested;
}

describe("Keras 3 golden values (atol = rtol = 1e-5, as in Keras' tests)", () => {
  describe.skipIf(!HAVE_NUMPY)("numpy", () => {
    for (const g of GOLDEN) {
      it(g.name, async () => {
        expectClose(await goldenValue("numpy", g), g.expected, 1e-5, 1e-5, g.name);
      });
    }
  });

  describe("tfjs", () => {
    for (const g of GOLDEN) {
      const limits = tfjsLimitations(g.spec, g.opts ?? {});
      if (limits.length === 0) {
        it(g.name, async () => {
          expectClose(await goldenValue("tfjs", g), g.expected, 1e-5, 1e-5, g.name);
        });
      } else {
        it(`${g.name}: tfjs refuses (${limits.join("; ")})`, async () => {
          await expect(runTfjs(g.spec, g.x, g.opts)).rejects.toBeInstanceOf(TfjsUnsupportedError);
        });
      }
    }
  });

  it("tfjs covers the cases it should (guards against silently skipping everything)", () => {
    const refused = GOLDEN.filter((g) => tfjsLimitations(g.spec, g.opts ?? {}).length > 0).map((g) => g.name);
    // reset_after=True GRUs (tfjs has none) and zero_output_for_mask (tfjs has none)
    expect(refused.every((n) => n.includes("GRU") || n.includes("zero_output_for_mask"))).toBe(true);
    expect(GOLDEN.length - refused.length).toBeGreaterThanOrEqual(25);
  });
});

// ------------------------------------------------------------------ (c) tfjs vs numpy on random configurations


const ACTS = ["tanh", "sigmoid", "hard_sigmoid", "relu", "relu6", "elu", "selu", "softplus", "softsign", "swish", "gelu", "mish", "linear", "softmax"];
const REC_ACTS = ["sigmoid", "hard_sigmoid", "tanh", "softsign"];

function randomLayer(d: Draw, kind: RnnKind, units: number, inputDim: number, flags: Partial<RnnSpec>): RnnSpec {
  const g = G[kind] * units;
  const useBias = d.bool(0.8);
  return {
    kind,
    units,
    inputDim,
    activation: d.bool(0.5) ? "tanh" : d.pick(ACTS),
    recurrentActivation: kind === "simple_rnn" ? undefined : d.bool(0.5) ? "sigmoid" : d.pick(REC_ACTS),
    useBias,
    resetAfter: kind === "gru" ? false : undefined,
    kernel: d.floats(inputDim * g, -0.6, 0.6),
    recurrentKernel: d.floats(units * g, -0.6, 0.6),
    bias: useBias ? d.floats(g, -0.5, 0.5) : undefined,
    ...flags,
  };
}

/** Random mask that keeps the first processed step, so tfjs' masking rule equals Keras'. */
function randomMask(d: Draw, b: number, t: number, goBackwards: boolean): boolean[][] {
  return Array.from({ length: b }, () => {
    const row = Array.from({ length: t }, () => d.bool(0.7));
    row[goBackwards ? t - 1 : 0] = true;
    return row;
  });
}

async function compareBoth(spec: RnnSpec | BidirectionalSpec, x: number[][][], opts: TfjsOptions, extra: Partial<NumpyRequest> = {}) {
  expect(tfjsLimitations(spec, opts)).toEqual([]);
  const t = await runTfjs(spec, x, opts);
  const n = await runNumpy({ spec, x, initialState: opts.initialState, mask: opts.mask, hardSigmoid: opts.hardSigmoid, ...extra });
  // 1e-5: both are float32 with different op order (a few ulp apart)
  expectClose(t.output, n.output as Nested, 1e-5, 1e-5, "output");
  if (t.states) expectClose(t.states, n.states, 1e-5, 1e-5, "states");
  return { t, n };
}

describe.skipIf(!HAVE_NUMPY)("tfjs and numpy agree on seeded random layers (1e-5)", () => {
  const kinds: RnnKind[] = ["lstm", "gru", "simple_rnn"];
  for (const kind of kinds) {
    for (let k = 0; k < 8; k++) {
      const seed = 1000 * kinds.indexOf(kind) + k;
      it(`${kind} #${k} (seed ${seed})`, async () => {
        const d = new Draw(prng(seed));
        const units = d.int(1, 8);
        const inputDim = d.int(1, 5);
        const b = d.int(1, 3);
        const t = d.int(1, 7);
        const goBackwards = d.bool();
        const spec = randomLayer(d, kind, units, inputDim, { goBackwards, returnSequences: d.bool(), returnState: d.bool() });
        const x = d.tensor(b, t, inputDim, -2, 2);
        const opts: TfjsOptions = { hardSigmoid: "keras2" };
        if (d.bool(0.4)) opts.initialState = d.states(kind === "lstm" ? 2 : 1, b, units);
        if (d.bool(0.4)) opts.mask = randomMask(d, b, t, goBackwards);
        await compareBoth(spec, x, opts);
      });
    }
  }

  for (let k = 0; k < 6; k++) {
    const seed = 5000 + k;
    it(`Bidirectional #${k} (seed ${seed})`, async () => {
      const d = new Draw(prng(seed));
      const kind = d.pick(kinds);
      const units = d.int(1, 6);
      const inputDim = d.int(1, 4);
      const b = d.int(1, 3);
      const t = d.int(2, 6);
      const returnSequences = d.bool();
      const returnState = d.bool();
      const fw = randomLayer(d, kind, units, inputDim, { returnSequences, returnState });
      const bw: RnnSpec = {
        ...fw,
        goBackwards: true,
        kernel: d.floats(fw.kernel.length, -0.6, 0.6),
        recurrentKernel: d.floats(fw.recurrentKernel.length, -0.6, 0.6),
        bias: fw.bias ? d.floats(fw.bias.length, -0.5, 0.5) : undefined,
      };
      const spec: BidirectionalSpec = { forward: fw, backward: bw, mergeMode: (["concat", "sum", "mul", "ave", null] as const)[k % 5] };
      const x = d.tensor(b, t, inputDim, -2, 2);
      const opts: TfjsOptions = { hardSigmoid: "keras2" };
      if (d.bool(0.5)) opts.initialState = d.states(2 * (kind === "lstm" ? 2 : 1), b, units);
      // Keras zeroes masked outputs of a Bidirectional with return_sequences; tfjs cannot, so mask only without.
      if (!returnSequences && d.bool(0.5)) {
        const m = randomMask(d, b, t, false);
        m.forEach((row) => (row[t - 1] = true)); // first step of the backward pass too
        opts.mask = m;
      }
      await compareBoth(spec, x, opts);
    });
  }

  it("tfjs' own masking rule equals numpy's previous_state rule (masked first step, non-zero h0)", async () => {
    const d = new Draw(prng(77));
    const spec = randomLayer(d, "lstm", 3, 2, { returnSequences: true, activation: "tanh", recurrentActivation: "sigmoid" });
    const x = d.tensor(2, 5, 2, -1, 1);
    const mask = [
      [false, false, true, true, false],
      [true, false, true, false, true],
    ];
    const opts: TfjsOptions = { initialState: d.states(2, 2, 3), mask, acceptTfjsMasking: true };
    expect(tfjsLimitations(spec, { ...opts, acceptTfjsMasking: false }).length).toBe(1);
    const { n } = await compareBoth(spec, x, opts, { maskedOutput: "previous_state" });
    // under that rule the leading masked outputs are h0
    expectClose((n.output as number[][][])[0][0], opts.initialState![0][0], 0, 0, "h0 carried");
    // Keras 3's rule (the default) emits zeros there instead
    const keras = await runNumpy({ spec, x, initialState: opts.initialState, mask });
    expectClose((keras.output as number[][][])[0].slice(0, 2), [[0, 0, 0], [0, 0, 0]], 0, 0, "Keras 3 zeros");
    expectClose((keras.output as number[][][])[1], (n.output as number[][][])[1], 0, 0, "rows with a real first step agree");
  });

  it("Bidirectional + mask + return_sequences: tfjs equals numpy without the forced zero outputs", async () => {
    const d = new Draw(prng(78));
    const fw = randomLayer(d, "gru", 2, 3, { returnSequences: true, activation: "tanh", recurrentActivation: "sigmoid" });
    const spec: BidirectionalSpec = { forward: fw, backward: { ...fw, goBackwards: true, kernel: d.floats(18, -0.6, 0.6) }, mergeMode: "concat" };
    const x = d.tensor(2, 4, 3, -1, 1);
    const mask = [
      [true, true, false, false],
      [true, false, true, true],
    ];
    await compareBoth(spec, x, { mask, acceptTfjsMasking: true }, { bidirectionalZeroOutputForMask: false });
    // Keras' rule: zeros at masked steps in both halves
    const keras = await runNumpy({ spec, x, mask });
    const out = keras.output as number[][][];
    expect(out[0][2]).toEqual([0, 0, 0, 0]);
    expect(out[0][3]).toEqual([0, 0, 0, 0]);
    expect(out[1][1]).toEqual([0, 0, 0, 0]);
  });

  it("numpy's per-step trace h equals tfjs' return_sequences output, in processing order", async () => {
    for (const [kind, seed] of [["lstm", 91], ["gru", 92], ["simple_rnn", 93]] as const) {
      const d = new Draw(prng(seed));
      const spec = randomLayer(d, kind, 4, 3, { returnSequences: true, goBackwards: true });
      const x = d.tensor(2, 5, 3, -1, 1);
      const { t, n } = await compareBoth(spec, x, { hardSigmoid: "keras2" });
      const tr = n.trace as NumpyTrace;
      expect(tr.timeIndex).toEqual([4, 3, 2, 1, 0]);
      const seq = t.output as number[][][]; // (B, T, u) in processing order
      const fromTrace = seq.map((_, bi) => tr.steps.h.map((step) => step[bi]));
      expectClose(seq, fromTrace, 1e-5, 1e-5, `${kind} trace h`);
      if (kind === "lstm") {
        // the last step's c is the final cell state
        expectClose(tr.steps.c[4], n.states[1], 0, 0, "c");
      }
    }
  });

  it("activations: tfjs and numpy agree on every activation tfjs has (1e-6)", async () => {
    // SimpleRNN(3) with identity kernel, zero recurrent kernel, no bias: output = act(x).
    const eye = new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]);
    const xs = [-6, -3.2, -2.5, -1, -0.3, 0, 0.4, 1, 2.5, 3.1, 6, 9].map(Math.fround);
    const x = [[0, 1, 2, 3].map((s) => xs.slice(3 * s, 3 * s + 3))];
    for (const activation of [...ACTS, "silu"]) {
      expect(tfjsSupportsActivation(activation)).toBe(true);
      const spec: RnnSpec = { kind: "simple_rnn", units: 3, inputDim: 3, activation, useBias: false, returnSequences: true, kernel: eye, recurrentKernel: new Float32Array(9) };
      const t = await runTfjs(spec, x);
      const n = await runNumpy({ spec, x, hardSigmoid: "keras2" });
      // gelu: tfjs' CPU erf is a polynomial with |error| <= 1.5e-7, times |x| <= 9
      expectClose(t.output, n.output as Nested, activation === "gelu" ? 2e-6 : 1e-6, 1e-6, activation);
    }
  });
});

describe.skipIf(!HAVE_NUMPY)("numpy activations against hand-computed values", () => {
  const xs = [-4, -3, -1, 0, 1, 2.5, 3, 4];
  const x = [xs.map((v) => [v])];
  const one = (activation: string): RnnSpec => ({
    kind: "simple_rnn",
    units: 1,
    inputDim: 1,
    activation,
    useBias: false,
    returnSequences: true,
    kernel: new Float32Array([1]),
    recurrentKernel: new Float32Array([0]),
  });
  const col = (vals: number[]) => [vals.map((v) => [v])];

  it("hard_sigmoid keras2 = clip(0.2x + 0.5), keras3 = clip(x/6 + 0.5) (1e-6)", async () => {
    const k2 = await runNumpy({ spec: one("hard_sigmoid"), x, hardSigmoid: "keras2" });
    expectClose(k2.output as Nested, col([0, 0, 0.3, 0.5, 0.7, 1, 1, 1]), 1e-6);
    const k3 = await runNumpy({ spec: one("hard_sigmoid"), x, hardSigmoid: "keras3" });
    expectClose(k3.output as Nested, col([0, 0, 1 / 3, 0.5, 2 / 3, 0.9166667, 1, 1]), 1e-6);
    const tf = await runTfjs(one("hard_sigmoid"), x);
    expectClose(tf.output, col([0, 0, 0.3, 0.5, 0.7, 1, 1, 1]), 1e-6, 0, "tfjs hardSigmoid is the Keras 2 formula");
    await expect(runNumpy({ spec: one("hard_sigmoid"), x })).rejects.toThrow(/hard_sigmoid/);
    await expect(runTfjs(one("hard_sigmoid"), x, { hardSigmoid: "keras3" })).rejects.toBeInstanceOf(TfjsUnsupportedError);
  });

  it("exponential, leaky_relu, hard_silu (not in tfjs) (1e-6 relative)", async () => {
    for (const name of ["exponential", "leaky_relu", "hard_silu"]) expect(tfjsSupportsActivation(name)).toBe(false);
    const exp = await runNumpy({ spec: one("exponential"), x });
    expectClose(exp.output as Nested, col([0.01831564, 0.04978707, 0.36787944, 1, 2.71828183, 12.18249396, 20.08553692, 54.59815003]), 0, 1e-6);
    const lr = await runNumpy({ spec: one("leaky_relu"), x });
    expectClose(lr.output as Nested, col([-0.8, -0.6, -0.2, 0, 1, 2.5, 3, 4]), 1e-6);
    const hs = await runNumpy({ spec: one("hard_silu"), x });
    expectClose(hs.output as Nested, col([0, 0, -1 / 3, 0, 2 / 3, 2.2916667, 3, 4]), 1e-6);
  });

  it("selu and elu constants (1e-6)", async () => {
    const selu = await runNumpy({ spec: one("selu"), x: [[[-1], [1]]] });
    // scale * alpha * (e^-1 - 1), scale * 1
    expectClose(selu.output as Nested, [[[-1.1113307], [1.050701]]], 1e-6);
    const elu = await runNumpy({ spec: one("elu"), x: [[[-1], [1]]] });
    expectClose(elu.output as Nested, [[[-0.6321206], [1]]], 1e-6);
  });

  it("rejects unknown activations and bad shapes with one line", async () => {
    await expect(runNumpy({ spec: one("celu_typo"), x })).rejects.toThrow(/unknown activation 'celu_typo'/);
    await expect(runNumpy({ spec: { ...one("tanh"), kernel: new Float32Array(2) }, x })).rejects.toThrow(/kernel has 2 values/);
  });
});
