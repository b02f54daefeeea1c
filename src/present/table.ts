/**
 * Box-drawn tables, written line by line, in the look the first versions got from
 * cli-table3 (one space of padding, ─│┌┬┐├┼┤└┴┘). Drawn here because cli-table3 lays out
 * every cell against every other one: a 5000-row table took minutes, 905 step tables
 * seconds. Here each cell is measured once.
 *
 * A table wider than the width it must fit is cut into blocks of whole columns, each
 * block repeating the first column (the row labels), as pandas wraps a wide frame.
 */
import { displayWidth } from "./notation.js";

export type Align = "left" | "right";

export interface TableSpec {
  /** Column titles; the first column holds the row labels. */
  head: string[];
  /** Rows of cells, one per column. */
  rows: string[][];
  /** Alignment per column (default left). */
  align?: Align[];
  /** A rule between body rows, as step and summary tables have; weights tables are compact. */
  rules?: boolean;
}

let spaces = " ".repeat(64);
function pad(n: number): string {
  while (spaces.length < n) spaces += spaces;
  return spaces.slice(0, n);
}

/** The blocks of column indices (each starting with the label column 0) that fit `width`. */
export function columnBlocks(widths: number[], width: number): number[][] {
  // A line is "│" plus, per column, its padded width and a closing "│".
  const label = 1 + widths[0] + 1;
  const blocks: number[][] = [];
  let block = [0];
  let used = label;
  for (let c = 1; c < widths.length; c++) {
    if (block.length > 1 && used + widths[c] + 1 > width) {
      blocks.push(block);
      block = [0];
      used = label;
    }
    block.push(c);
    used += widths[c] + 1;
  }
  blocks.push(block);
  return blocks;
}

/** The table's lines, fitted to `width` columns (Infinity: one block, however wide). */
export function* tableLines(t: TableSpec, width = Infinity): Generator<string> {
  const columns = t.head.length;
  // Padded widths: the widest cell plus a space each side.
  const widths = t.head.map((h) => displayWidth(h) + 2);
  const cellWidths = t.rows.map((row) =>
    row.map((cell, c) => {
      const w = displayWidth(cell);
      if (w + 2 > widths[c]) widths[c] = w + 2;
      return w;
    }),
  );
  const headWidths = t.head.map(displayWidth);
  const align = Array.from({ length: columns }, (_, c) => t.align?.[c] ?? "left");
  const cell = (text: string, w: number, c: number) =>
    align[c] === "right" ? ` ${pad(widths[c] - 2 - w)}${text} ` : ` ${text}${pad(widths[c] - 2 - w)} `;
  for (const block of columnBlocks(widths, width)) {
    const rule = (left: string, mid: string, right: string) => left + block.map((c) => "─".repeat(widths[c])).join(mid) + right;
    const between = rule("├", "┼", "┤");
    yield rule("┌", "┬", "┐");
    yield `│${block.map((c) => cell(t.head[c], headWidths[c], c)).join("│")}│`;
    if (t.rows.length > 0) yield between;
    for (let r = 0; r < t.rows.length; r++) {
      if (r > 0 && t.rules) yield between;
      const row = t.rows[r];
      const w = cellWidths[r];
      let line = "│";
      for (const c of block) line += `${cell(row[c], w[c], c)}│`;
      yield line;
    }
    yield rule("└", "┴", "┘");
  }
}
