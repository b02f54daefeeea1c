/**
 * safe(): what a string from a file may look like once printed. Exact expectations
 * written by hand from the escaping rule (no tolerance: this is text). Shortest float32
 * decimals: against their definition (the fewest digits toPrecision gives that read back).
 */
import { describe, expect, it } from "vitest";
import { evaluateStep } from "../../src/eval/step.js";
import { toJson } from "../../src/present/json.js";
import { stepJson } from "../../src/present/step.js";
import { safe, shortestFloat32, shortestFloat32Text } from "../../src/present/text.js";
import { loadRnnModel } from "../support/rnn-model-file.js";

describe("safe() neutralizes what could drive or fool a terminal", () => {
  it("escapes C0, DEL and C1 controls as \\xNN", () => {
    expect(safe("\u001b[31mred\u0007")).toBe("\\x1b[31mred\\x07");
    expect(safe("a\nb\tc\u007f\u009b")).toBe("a\\x0ab\\x09c\\x7f\\x9b");
  });

  it("escapes bidirectional overrides and isolates as \\uNNNN", () => {
    expect(safe("\u202eevil\u2066x\u2069")).toBe("\\u202eevil\\u2066x\\u2069");
  });

  it("escapes a surrogate without its pair, so it is not shown as U+FFFD", () => {
    expect(safe("\ud800lone")).toBe("\\ud800lone");
    expect(safe("tail\udc00")).toBe("tail\\udc00");
    expect(safe("\udc00\ud800")).toBe("\\udc00\\ud800");
  });

  it("leaves ordinary text alone, astral characters included", () => {
    for (const s of ["lstm_1", "dense/kernel:0", "層_ü", "emoji_😀", "\ud83d\ude00"]) expect(safe(s)).toBe(s);
  });
});

/** The definition shortestFloat32 keeps: the fewest significant digits p whose rounding reads back. */
function byDefinition(v: number): number {
  for (let p = 1; p <= 9; p++) {
    const c = Number(v.toPrecision(p));
    if (Math.fround(c) === v) return c;
  }
  return v;
}

describe("shortest float32 decimals (step --json, predict --json)", () => {
  it("every value of a random LSTM trace reads back as the same float32, by the definition, in text and in JSON", async () => {
    const r = (() => {
      let a = 7;
      return () => ((a = (a * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
    })();
    const units = 16;
    const inputDim = 5;
    const floats = (n: number, scale: number) => Float32Array.from({ length: n }, () => scale * r());
    const spec = { kind: "lstm" as const, units, inputDim, activation: "tanh", recurrentActivation: "sigmoid", useBias: true, returnSequences: true, kernel: floats(inputDim * 4 * units, 1.5), recurrentKernel: floats(units * 4 * units, 0.8), bias: floats(4 * units, 0.5) };
    const { model } = await loadRnnModel(spec);
    // Inputs over many magnitudes, so the values go from tiny to large.
    const steps = 60;
    const x = Float64Array.from({ length: steps * inputDim }, (_, k) => Math.fround(r() * 10 ** ((k % 12) - 6)));
    const { trace } = evaluateStep(model, { inputs: [{ shape: [1, steps, inputDim], data: x }], rawInput: true, dtype: "float32" });
    const t = trace.directions[0];
    const values = [...t.values, ...t.inputs];
    expect(values.length).toBeGreaterThan(10_000);
    for (const v of values) {
      const text = shortestFloat32Text(v);
      // == rather than Object.is: -0 is written 0, as it always was.
      expect(Math.fround(Number(text)) === v, `${v} as ${text}`).toBe(true);
      expect(text).toBe(String(byDefinition(v)));
      expect(shortestFloat32(v)).toBe(byDefinition(v));
    }
    // The JSON document writes the same decimals, and they read back as the trace's values.
    const doc = JSON.parse(toJson(stepJson(trace, {})));
    const hs = doc.directions[0].samples[0].map((s: { h: number[] }) => s.h);
    for (let k = 0; k < steps; k++) {
      for (let j = 0; j < units; j++) expect(Math.fround(hs[k][j]) === t.get(0, k, "h", j)).toBe(true);
    }
  });

  it("agrees with the definition on random bit patterns, powers of two, and where halves and carries are", () => {
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    let seed = 12345;
    const next = () => (seed = (seed * 1103515245 + 12345) >>> 0);
    const check = (v: number) => {
      expect(shortestFloat32(v), String(v)).toBe(byDefinition(v));
      expect(shortestFloat32Text(v), String(v)).toBe(String(byDefinition(v)));
    };
    for (let k = 0; k < 100_000; k++) {
      bits[0] = next() ^ (next() << 16);
      check(f[0]);
    }
    for (let e = -149; e <= 127; e++) check(Math.fround(2 ** e));
    // Around 2^24, where float32s are integers and a rounding's half can be a short decimal.
    for (let b = 0x4b7ffff0; b < 0x4b800100; b++) {
      bits[0] = b;
      check(f[0]);
    }
    for (const v of [0, -0, 1, -1, 0.1, 9.999999, 99999.99, 1e-7, 1e-6, 1e21, 3.4028234663852886e38, 1.401298464324817e-45, NaN, Infinity, -Infinity, 0.1 + 0.2]) check(Math.fround(v));
  });
});
