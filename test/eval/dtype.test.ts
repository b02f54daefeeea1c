/**
 * float32 mode (what Keras computes) against float64 mode (a reference without
 * rounding), on the seed example and on the seeded random layers of
 * random-agreement.test.ts, through model files.
 *
 * Bound. In float32 mode every product, sum and activation is rounded to float32,
 * a relative error of at most u = 2^-24 each. A pre-activation is a dot product over
 * D inputs and U recurrent units plus a bias, each term a rounded product added with a
 * rounded sum, so its error is at most 2(D + U)·u·S, S = Σ|terms| (the classic γ_2n
 * bound); the gate arithmetic after it (activation, products with the state, the
 * update c = f·c + i·c̃ or h = z·h + (1 - z)·hh) adds a few roundings more, counted as
 * 16·u·S. The cells drawn here are contracting (recurrent weights scaled to
 * 0.9/√U, gates in [0, 1]), so errors carried from earlier steps do not grow and add
 * up at most linearly: at processing step s (from 0)
 *
 *     |v32 - v64| <= (s + 1) · (2(D + U) + 16) · 2^-24 · S,
 *     S = D·max|x|·max|W| + U·max|h|·max|U| + max|b| + max(1, |v64|)
 *
 * with the maxima over the case (x inputs, W kernels, U recurrent kernels, h the float64
 * states, b biases). Cases using `exponential` are left out: e^x is not Lipschitz-bounded.
 * Also: every number a float32 run produces is a float32 value, and the two modes do
 * differ (float32 mode really rounds).
 */
import { describe, expect, it } from "vitest";

import { evaluateStep } from "../../src/eval/step.js";
import type { LayerTrace } from "../../src/eval/trace.js";
import { loadModel } from "../../src/load/index.js";
import { isBidirectional, type RnnSpec } from "../reference/rnn-spec.js";
import { describeCase, evaluate, makeCase, type RandomCase } from "../support/random-rnn-cases.js";
import { fileURLToPath } from "node:url";

const U32 = 2 ** -24;
const SEED_FILE = fileURLToPath(new URL("../../samples/seed-lstm.h5", import.meta.url));
const stats = { cases: 0, values: 0, maxAbs: 0, maxRatio: 0, differing: 0 };

function maxAbs(xs: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < xs.length; k++) m = Math.max(m, Math.abs(xs[k]));
  return m;
}

interface Scale {
  D: number;
  U: number;
  maxX: number;
  maxW: number;
  maxR: number;
  maxB: number;
}

/** Checks every trace value and output against the bound. */
function compareModes(a: LayerTrace, b: LayerTrace, scale: Scale, what: string): void {
  expect(a.directions.length).toBe(b.directions.length);
  const maxH = Math.max(...b.directions.map((t) => maxAbs(t.values)), ...b.directions.map((t) => maxAbs(t.initialState)));
  const S0 = scale.D * scale.maxX * scale.maxW + scale.U * maxH * scale.maxR + scale.maxB;
  let worstRatio = 0;
  a.directions.forEach((t32, k) => {
    const t64 = b.directions[k];
    expect(t32.dtype).toBe("float32");
    expect(t64.dtype).toBe("float64");
    const perStep = t32.names.length * t32.units;
    for (let i = 0; i < t32.values.length; i++) {
      const v32 = t32.values[i];
      const v64 = t64.values[i];
      expect(Math.fround(v32), `${what}: float32 mode produced a non-float32 value`).toBe(v32);
      const step = Math.floor(i / perStep) % t32.steps;
      const bound = (step + 1) * (2 * (scale.D + scale.U) + 16) * U32 * (S0 + Math.max(1, Math.abs(v64)));
      const d = Math.abs(v32 - v64);
      if (d > 0) stats.differing++;
      stats.values++;
      stats.maxAbs = Math.max(stats.maxAbs, d);
      worstRatio = Math.max(worstRatio, d / bound);
      if (!(d <= bound)) expect.fail(`${what}: ${t32.names[Math.floor(i / t32.units) % t32.names.length]} differs by ${d} > bound ${bound} at step ${step}`);
    }
  });
  // Outputs are trace values, or a Bidirectional merge of two (sum, mul, ave: two errors
  // combined plus one rounding, |values| <= S): three times the last step's bound.
  const T = a.directions[0].steps;
  a.outputs.forEach((o, k) => {
    const ref = b.outputs[k].tensor.data;
    o.tensor.data.forEach((v, i) => {
      expect(Math.fround(v), `${what}: output ${o.name} is not a float32 value`).toBe(v);
      const bound = 3 * T * (2 * (scale.D + scale.U) + 16) * U32 * (S0 + Math.max(1, Math.abs(ref[i])));
      if (!(Math.abs(v - ref[i]) <= bound)) expect.fail(`${what}: output ${o.name}[${i}] differs by ${Math.abs(v - ref[i])} > ${bound}`);
    });
  });
  stats.maxRatio = Math.max(stats.maxRatio, worstRatio);
}

function scaleOf(c: RandomCase): Scale {
  const layers: RnnSpec[] = isBidirectional(c.spec) ? [c.spec.forward, c.spec.backward] : [c.spec];
  return {
    D: layers[0].inputDim,
    U: layers[0].units,
    maxX: maxAbs(c.x.flat(2)),
    maxW: Math.max(...layers.map((l) => maxAbs(l.kernel))),
    maxR: Math.max(...layers.map((l) => maxAbs(l.recurrentKernel))),
    maxB: Math.max(0, ...layers.map((l) => (l.bias ? maxAbs(l.bias) : 0))),
  };
}

describe("float32 vs float64 mode: within accumulated float32 rounding", () => {
  it("seed LSTM (samples/seed-lstm.h5), 3 steps", async () => {
    const model = await loadModel(SEED_FILE);
    const x = { shape: [1, 3, 2], data: Float64Array.of(1, 10, -2, 0.5, 3, -4) };
    // The file declares one time step; feed the layer directly for a longer sequence.
    const run = (dtype: "float32" | "float64") => evaluateStep(model, { inputs: [x], dtype, rawInput: true }).trace;
    const a = run("float32");
    const b = run("float64");
    // weights from the file (the seed notebook's), inputs up to |10|
    compareModes(a, b, { D: 2, U: 1, maxX: 10, maxW: 0.9924617, maxR: 0.8477706, maxB: 1 }, "seed");
    // the seed's x_f really differs between the modes (see seed-lstm.test.ts)
    expect(a.directions[0].get(0, 0, "x_f", 0)).not.toBe(b.directions[0].get(0, 0, "x_f", 0));
    stats.cases++;
  });

  const cases = Array.from({ length: 65 }, (_, k) => makeCase(k)).filter((c) => {
    const l = isBidirectional(c.spec) ? c.spec.forward : c.spec;
    return l.activation !== "exponential";
  });
  for (const c of cases) {
    it(describeCase(c), async () => {
      const a = await evaluate(c, "float32");
      const b = await evaluate(c, "float64");
      compareModes(a, b, scaleOf(c), describeCase(c));
      stats.cases++;
    });
  }

  it("the modes differ and the bound is not vacuous", () => {
    console.log(
      `float32 vs float64: ${stats.cases} cases, ${stats.values} values, ${stats.differing} differ; max |difference| ${stats.maxAbs.toExponential(2)}, at most ${(stats.maxRatio * 100).toFixed(2)}% of the bound`,
    );
    expect(stats.differing).toBeGreaterThan(stats.values / 10);
    expect(stats.maxAbs).toBeGreaterThan(0);
  });
});
