/**
 * Keras 3's own golden outputs (keras/src/layers/rnn/{lstm,gru,simple_rnn,bidirectional}_test.py,
 * keras-formats.md §C; the cases live in test/reference/keras-golden.ts) computed by OUR
 * evaluator through model files: each layer is written by samples/keras-h5-writer.mjs
 * in the Keras 2.2 layout (reset_after, zero_output_for_mask and stateful set in the
 * config; kernel 0.01, recurrent kernel 0.02, bias 0.03, LSTM forget bias 1.0 with
 * unit_forget_bias), loaded with loadModelFromBytes and evaluated with evaluateStep
 * (predict for Bidirectional layers given distinct forward/backward states).
 * A mask is given as zero-padded steps behind a Masking(mask_value=0) layer: Keras
 * never reads a masked step's input (states are carried), so zeroing it changes nothing.
 * A stateful "second call" starts from the first call's final states.
 *
 * Tolerance: atol = rtol = 1e-5, Keras' own assertion in these tests.
 */
import { describe, expect, it } from "vitest";

import { predict } from "../../src/eval/predict.js";
import { evaluateStep } from "../../src/eval/step.js";
import type { LayerTrace } from "../../src/eval/trace.js";
import { GOLDEN, type Golden } from "../reference/keras-golden.js";
import { isBidirectional, stateCount } from "../reference/rnn-spec.js";
import { ErrorLog, expectAllClose, flat } from "../support/compare.js";
import { loadRnnModel } from "../support/rnn-model-file.js";

const log = new ErrorLog();

async function evaluateGolden(g: Golden, initialState?: Float64Array[]): Promise<LayerTrace> {
  const mask = g.opts?.mask;
  const x = g.x.map((row, b) => row.map((v, t) => (mask && !mask[b][t] ? v.map(() => 0) : v)));
  const { model, path } = await loadRnnModel(g.spec, { masking: mask !== undefined, extra: g.stateful ? { stateful: true } : {} });
  const input = { shape: [x.length, x[0].length, x[0][0].length], data: Float64Array.from(x.flat(2)) };
  const states = initialState ?? g.opts?.initialState?.map((s) => Float64Array.from(s.flat()));
  if (states && isBidirectional(g.spec)) {
    const r = predict(model, [input], { dtype: "float32", initialStates: new Map([[path, states]]) });
    return r.traces.find((t) => t.layer === path)!;
  }
  return evaluateStep(model, { inputs: [input], h0: states?.[0], c0: states?.[1], dtype: "float32" }).trace;
}

/** Final states per direction as (B·u) vectors, in Keras' order. */
function finalStates(trace: LayerTrace): Float64Array[] {
  return trace.directions.flatMap((t) =>
    t.stateNames.map((s) => Float64Array.from(Array.from({ length: t.samples }, (_, b) => Array.from(t.vector(b, t.steps - 1, s))).flat())),
  );
}

describe("Keras 3 golden outputs through model files and our evaluator (atol = rtol = 1e-5)", () => {
  for (const g of GOLDEN) {
    it(g.name, async () => {
      let trace = await evaluateGolden(g);
      if (g.stateful) {
        const carried = finalStates(trace);
        const kind = isBidirectional(g.spec) ? g.spec.forward.kind : g.spec.kind;
        expect(carried.length).toBe(stateCount(kind) * (isBidirectional(g.spec) ? 2 : 1));
        trace = await evaluateGolden(g, carried);
        expect(trace.notes.join(" ")).toMatch(/stateful/);
      }
      const outputs = trace.outputs.map((o) => Array.from(o.tensor.data));
      const mergeNull = isBidirectional(g.spec) && g.spec.mergeMode === null;
      const expected = g.withStates || mergeNull ? (g.expected as number[][]).map(flat) : [flat(g.expected)];
      expect(outputs.length, "number of outputs").toBe(expected.length);
      outputs.forEach((o, k) => expectAllClose(o, expected[k], { atol: 1e-5, rtol: 1e-5 }, `${g.name}: ${trace.outputs[k].name}`, { log, kind: "golden" }));
    });
  }

  it("covers the cases listed in keras-formats.md §C", () => {
    const names = GOLDEN.map((g) => g.name);
    for (const want of ["LSTM(3)", "LSTM(3) go_backwards", "LSTM(3) unit_forget_bias=False", "LSTM(3) use_bias=False", "LSTM(2) initial_state", "LSTM(2) mask", "GRU(3) reset_after=True", "GRU(3) reset_after=False", "GRU(3) go_backwards", "GRU(3) use_bias=False"]) {
      expect(names).toContain(want);
    }
  });

  it("reports the largest error", () => {
    const s = log.byKind.get("golden");
    expect(s?.comparisons).toBeGreaterThanOrEqual(GOLDEN.length);
    console.log(log.summary(`Keras golden outputs: ${GOLDEN.length} cases`));
  });
});
