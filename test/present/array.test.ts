/**
 * Long vectors and matrices in text: abbreviated as numpy abbreviates them (more than
 * 1,000 values: the first and last 3 of each axis longer than 6), laid out as numpy's
 * repr lays them out when they do not fit one line. Expectations written from numpy's
 * rules (np.set_printoptions defaults threshold=1000, edgeitems=3), not from our output.
 */
import { describe, expect, it } from "vitest";
import { abbreviates, axisIndices, EDGE_ITEMS, THRESHOLD } from "../../src/abbreviate.js";
import { arrayLines } from "../../src/present/array.js";
import { displayWidth } from "../../src/present/notation.js";

const text = (i: number) => String(i);

describe("abbreviation", () => {
  it("starts past numpy's threshold of 1,000 values, never with full", () => {
    expect(THRESHOLD).toBe(1000);
    expect(EDGE_ITEMS).toBe(3);
    expect(abbreviates(1000, false)).toBe(false);
    expect(abbreviates(1001, false)).toBe(true);
    expect(abbreviates(10 ** 6, true)).toBe(false);
  });

  it("keeps the first and last 3 of an axis longer than 6", () => {
    expect(axisIndices(6, true)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(axisIndices(7, true)).toEqual([0, 1, 2, null, 4, 5, 6]);
    expect(axisIndices(5000, true)).toEqual([0, 1, 2, null, 4997, 4998, 4999]);
    expect(axisIndices(5000, false)).toHaveLength(5000);
  });

  it("abbreviates every long axis of a big array, as numpy does", () => {
    // np.arange(2000) → [   0    1    2 ... 1997 1998 1999]
    expect(arrayLines("", [2000], text, { full: false, width: Infinity })).toEqual(["[0, 1, 2, …, 1997, 1998, 1999]"]);
    // A 905 × 64 output: rows 0-2 and 902-904, columns 0-2 and 61-63 of each.
    const [line] = arrayLines("y: ", [905, 64], text, { full: false, width: Infinity });
    expect(line).toBe("y: [[0, 1, 2, …, 61, 62, 63], [64, 65, 66, …, 125, 126, 127], [128, 129, 130, …, 189, 190, 191], …, " +
      "[57728, 57729, 57730, …, 57789, 57790, 57791], [57792, 57793, 57794, …, 57853, 57854, 57855], [57856, 57857, 57858, …, 57917, 57918, 57919]]");
    // An axis of 6 or fewer is never cut, even in a big array: 300 × 4.
    expect(arrayLines("", [300, 4], text, { full: false, width: Infinity })[0]).toMatch(/^\[\[0, 1, 2, 3\], \[4, 5, 6, 7\], \[8, 9, 10, 11\], …, \[1188, 1189, 1190, 1191\]/);
  });

  it("prints everything with full, and small arrays always", () => {
    expect(arrayLines("", [1001], text, { full: true, width: Infinity })[0].split(", ")).toHaveLength(1001);
    expect(arrayLines("", [10, 100], text, { full: false, width: Infinity })[0]).not.toContain("…");
  });
});

describe("layout", () => {
  it("stays on one line, as before, when it fits", () => {
    expect(arrayLines("output (2 × 2): ", [2, 2], (i) => ["0.1", "-0.2", "0.3", "0.4"][i], { full: false, width: 80 })).toEqual(["output (2 × 2): [[0.1, -0.2], [0.3, 0.4]]"]);
    expect(arrayLines("h = ", [], () => "0.5", { full: false, width: 80 })).toEqual(["h = 0.5"]);
  });

  it("otherwise puts each row on its own line(s), values right-aligned to one width, as numpy's repr", () => {
    const values = ["1", "-22", "333", "4", "5", "6"];
    const lines = arrayLines("a: ", [2, 3], (i) => values[i], { full: false, width: 24 });
    expect(lines).toEqual(["a: [[  1, -22, 333],", "    [  4,   5,   6]]"]);
  });

  it("wraps a long row under its first value and never passes the width", () => {
    for (const width of [30, 50, 80]) {
      const lines = arrayLines("output (3 × 40): ", [3, 40], (i) => (i * 0.0123 - 0.5).toFixed(6), { full: false, width });
      for (const l of lines) expect(displayWidth(l), l).toBeLessThanOrEqual(width);
      // Every value is there once, in order.
      const numbers = lines.join(" ").match(/-?\d+\.\d+/g)!;
      expect(numbers).toEqual(Array.from({ length: 120 }, (_, i) => (i * 0.0123 - 0.5).toFixed(6)));
    }
  });

  it("starts the array on its own line when the prefix leaves too little room", () => {
    const lines = arrayLines("a rather long prefix that takes most of the line: ", [3], text, { full: false, width: 60 });
    expect(lines).toEqual(["a rather long prefix that takes most of the line: [0, 1, 2]"]);
    const narrow = arrayLines("a rather long prefix that takes most of the line: ", [20], text, { full: false, width: 60 });
    expect(narrow[0]).toBe("a rather long prefix that takes most of the line:");
    expect(narrow[1].startsWith("[ 0,  1,  2,")).toBe(true);
  });

  it("separates the blocks of a 3-D array by a blank line, and elided rows and blocks by …", () => {
    const lines = arrayLines("", [2, 2, 2], text, { full: false, width: 12 });
    expect(lines).toEqual(["[[[0, 1],", "  [2, 3]],", "", " [[4, 5],", "  [6, 7]]]"]);
    const big = arrayLines("", [20, 10, 10], text, { full: false, width: 60 });
    expect(big).toContain(" …,");
    expect(big).toContain("  …,");
    for (const l of big) expect(displayWidth(l)).toBeLessThanOrEqual(60);
  });
});
