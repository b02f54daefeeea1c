// The interactive page's packed trace and compact chart lines (src/present/html-interactive.ts
// packValues, src/present/html.ts compactPath). The page's own unpacking code (taken out of
// INTERACTIVE_SCRIPT, run here with Node's atob, Blob, Response and DecompressionStream, the
// browser's APIs) must give back every value bit for bit: float32 and float64, NaN, -0,
// ±Inf, several samples; exact equality, since a page that shows a different number is wrong.
import { describe, expect, it } from "vitest";
import type { StepTrace } from "../../src/eval/trace.js";
import { compactPath } from "../../src/present/html.js";
import { INTERACTIVE_SCRIPT, packValues } from "../../src/present/html-interactive.js";

/** The script's `bytes` and `unpack`, as the page runs them, over a given D. */
function pageUnpack(D: Record<string, unknown>): (s: string) => Promise<Float32Array | Float64Array> {
  const from = (start: string, end: string) => {
    const a = INTERACTIVE_SCRIPT.indexOf(start);
    const b = INTERACTIVE_SCRIPT.indexOf(end, a);
    expect(a, start).toBeGreaterThanOrEqual(0);
    return INTERACTIVE_SCRIPT.slice(a, b + end.length);
  };
  const source = `${from("const bytes = ", "u.buffer; };")}\n${from("const unpack = async (s) => {", "\n};")}\nreturn unpack;`;
  return new Function("D", source)(D) as (s: string) => Promise<Float32Array | Float64Array>;
}

function trace(values: Float32Array | Float64Array, samples: number, steps: number, names: number, units: number): StepTrace {
  return { values, samples, steps, units, names: Array.from({ length: names }, (_, n) => `q${n}`) } as unknown as StepTrace;
}

describe("the page's packed trace", () => {
  for (const Kind of [Float32Array, Float64Array]) {
    it(`${Kind.name}: the page unpacks every value bit for bit`, async () => {
      const [samples, steps, names, units] = [2, 37, 5, 3];
      const values = new Kind(samples * steps * names * units).map((_, i) => Math.sin(i / 7) * 10 ** ((i % 9) - 4));
      values.set([NaN, -0, Infinity, -Infinity, 0, 1e-45, 3.4e38], 11);
      const packed = packValues(trace(values, samples, steps, names, units));
      const unpack = pageUnpack({ dtype: Kind === Float32Array ? "f4" : "f8", samples, steps, units, names: Array.from({ length: names }) });
      const back = await unpack(packed);
      expect(back).toBeInstanceOf(Kind);
      expect(new Uint8Array(back.buffer)).toEqual(new Uint8Array(values.buffer));
    });
  }

  it("a damaged trace is refused (the page then stays at the explained step), not read as numbers", async () => {
    const values = Float32Array.from({ length: 60 }, (_, i) => i / 7);
    const packed = Buffer.from(packValues(trace(values, 1, 20, 1, 3)), "base64");
    packed[packed.length - 3] ^= 0xff; // the zlib checksum no longer holds
    const unpack = pageUnpack({ dtype: "f4", samples: 1, steps: 20, units: 3, names: [0] });
    await expect(unpack(packed.toString("base64"))).rejects.toThrow();
  });

  it("a slowly moving series packs to much less than its base64", () => {
    const [steps, units] = [905, 64];
    const values = Float32Array.from({ length: steps * units }, (_, i) => 0.5 * Math.sin(Math.floor(i / units) / 40 + (i % units)));
    const plain = Buffer.from(values.buffer).toString("base64").length;
    expect(packValues(trace(values, 1, steps, 1, units)).length).toBeLessThan(0.8 * plain);
  });
});

describe("compact chart lines", () => {
  it("compactPath: each point relative to the one before, read back to the same integers", () => {
    const ys = [1234, 1230, 1230, 1250, 7, -3, 0, 12];
    const d = compactPath(ys);
    expect(d).toBe("M0 1234l1-4 1 0 1 20 1-1243 1-10 1 3 1 12");
    // Read it back as SVG does: the moveto, then relative pairs.
    const nums = d.slice(d.indexOf("l") + 1).match(/-?\d+/g)!.map(Number);
    const back = [Number(d.slice(3, d.indexOf("l")))];
    for (let i = 0; i < nums.length; i += 2) {
      expect(nums[i]).toBe(1);
      back.push(back[back.length - 1] + nums[i + 1]);
    }
    expect(back).toEqual(ys);
    expect(compactPath([5])).toBe("M0 5");
  });
});
