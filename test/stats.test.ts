// Tensor statistics (src/stats.ts): chunked sums merged by Chan, Golub and LeVeque's update.
// Checked against a two-pass computation in float64 over the same values (mean = Σv / n,
// then Σ(v - mean)² / n), which is the textbook-accurate reference: relative tolerance 1e-12,
// since both are float64 sums of up to 10^5 terms in different orders (each order's rounding
// is about n·2^-53 ≈ 1e-11 at worst, and far smaller on these values). A block read in place
// and the same block copied out give the same bits (tolerance 0: the same values in the same
// order go through the same chunks).
import { describe, expect, it } from "vitest";
import { blockStats, StatsAccumulator, tensorStats } from "../src/stats.js";

function twoPass(values: number[]): { mean: number; std: number } {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  return { mean, std: Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length) };
}

/** A deterministic pseudo-random float32 sequence, around `offset`. */
function values(n: number, offset: number, seed: number): Float32Array {
  let a = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return offset + (a / 2 ** 32 - 0.5) * 0.1;
  });
}

describe("tensor statistics", () => {
  it.each([
    [1, 0],
    [2, 0],
    [1023, 0],
    [1024, 0],
    [1025, 0],
    [100_000, 0],
    [100_000, 1000],
  ])("%i values around %i: the two-pass mean and std", (n, offset) => {
    const v = values(n, offset, n + offset);
    const s = tensorStats(v);
    const ref = twoPass(Array.from(v));
    expect(s.count).toBe(n);
    expect(s.min).toBe(Math.min(...v));
    expect(s.max).toBe(Math.max(...v));
    expect(Math.abs(s.mean! - ref.mean)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(ref.mean)));
    expect(Math.abs(s.std! - ref.std)).toBeLessThanOrEqual(1e-12 * Math.max(ref.std, 1e-300) + 1e-15);
  });

  it("counts NaN and Inf apart and leaves them out of the rest; all-NaN has no statistics", () => {
    const s = tensorStats([1, NaN, Infinity, 3, -Infinity, NaN]);
    expect(s).toEqual({ count: 6, min: 1, max: 3, mean: 2, std: 1, nan: 2, inf: 2 });
    expect(tensorStats([NaN, NaN])).toEqual({ count: 2, min: null, max: null, mean: null, std: null, nan: 2, inf: 0 });
  });

  it("a block read in place gives the same bits as the block copied out", () => {
    const rows = 300;
    const cols = 40;
    const m = values(rows * cols, 0.5, 7);
    m[1234] = NaN;
    for (const [from, to] of [
      [0, 10],
      [10, 20],
      [13, 40],
    ]) {
      const copy = Float32Array.from({ length: rows * (to - from) }, (_, i) => m[Math.floor(i / (to - from)) * cols + from + (i % (to - from))]);
      expect(blockStats(m, rows, cols, from, to)).toEqual(tensorStats(copy));
    }
  });

  it("values added in pieces of any size give the same bits as all at once", () => {
    const v = values(10_000, 0.25, 11);
    v[17] = NaN;
    v[5000] = -Infinity;
    const whole = tensorStats(v);
    let seed = 3;
    for (const most of [1, 7, 1023, 1025, 4096]) {
      const acc = new StatsAccumulator();
      for (let at = 0; at < v.length; ) {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        const n = Math.min(v.length - at, 1 + (seed % most));
        acc.add(v, at, at + n);
        at += n;
      }
      // Exact: JSON prints each double to the last bit.
      expect(JSON.stringify(acc.result()), `pieces of at most ${most}`).toBe(JSON.stringify(whole));
    }
    expect(new StatsAccumulator().result()).toEqual({ count: 0, min: null, max: null, mean: null, std: null, nan: 0, inf: 0 });
  });
});
