/**
 * The box tables every printer draws. Unwrapped, they must be what cli-table3 drew before
 * (the first versions used it with `style: { head: [], border: [] }`, `compact` for weights):
 * checked against cli-table3 itself on random tables. Wrapped to a width, every line fits
 * and every column appears once, in order, each block repeating the row labels.
 */
import Table from "cli-table3";
import { describe, expect, it } from "vitest";
import { displayWidth } from "../../src/present/notation.js";
import { columnBlocks, tableLines } from "../../src/present/table.js";

/** A small deterministic generator, so a failure names its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ["", "0", "-0.123456", "unit 12", "x[3]", "…", "lstm_1/kernel", "层_ü", "(3, 4)", "NaN", "12345678901234"];

function randomTable(seed: number) {
  const r = random(seed);
  const pick = () => WORDS[Math.floor(r() * WORDS.length)];
  const columns = 1 + Math.floor(r() * 6);
  const rows = Math.floor(r() * 5);
  return {
    head: Array.from({ length: columns }, pick),
    rows: Array.from({ length: rows }, () => Array.from({ length: columns }, pick)),
    align: Array.from({ length: columns }, () => (r() < 0.5 ? ("left" as const) : ("right" as const))),
    rules: r() < 0.5,
  };
}

describe("tableLines", () => {
  it("draws what cli-table3 drew, with and without rules between rows", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const t = randomTable(seed);
      const old = new Table({ head: t.head, style: { head: [], border: [], compact: !t.rules }, colAligns: t.align });
      for (const row of t.rows) old.push(row);
      expect([...tableLines(t)].join("\n"), `seed ${seed}`).toBe(old.toString());
    }
  });

  it("cuts a wide table into blocks that fit, each with the row labels, every column once and in order", () => {
    const head = ["unit", ...Array.from({ length: 40 }, (_, c) => `unit ${c}`)];
    const rows = Array.from({ length: 5 }, (_, r) => [`h[${r}]`, ...Array.from({ length: 40 }, (_, c) => (r * c * 0.001 - 0.07).toFixed(6))]);
    for (const width of [40, 60, 80, 120]) {
      const lines = [...tableLines({ head, rows, align: ["left", ...head.slice(1).map(() => "right" as const)] }, width)];
      for (const l of lines) expect(displayWidth(l), l).toBeLessThanOrEqual(width);
      const heads = lines.filter((l) => l.startsWith("│ unit ")).map((l) => l.split("│").slice(1, -1).map((c) => c.trim()));
      expect(heads.every((h) => h[0] === "unit")).toBe(true);
      expect(heads.flatMap((h) => h.slice(1))).toEqual(head.slice(1));
      // Every block holds every row, labels first.
      const labelled = lines.filter((l) => l.startsWith("│ h["));
      expect(labelled.length).toBe(5 * heads.length);
    }
  });

  it("keeps a column wider than the width in a block of its own rather than dropping it", () => {
    expect(columnBlocks([6, 30, 30, 5], 20)).toEqual([[0, 1], [0, 2], [0, 3]]);
    expect(columnBlocks([6, 10, 10, 10], Infinity)).toEqual([[0, 1, 2, 3]]);
  });

  it("measures wide characters as two columns, as a terminal shows them", () => {
    const lines = [...tableLines({ head: ["层", "a"], rows: [["ab", "層層"]] })];
    const widths = lines.map(displayWidth);
    expect(new Set(widths).size).toBe(1);
    expect(lines[1]).toBe("│ 层 │ a    │");
  });
});
