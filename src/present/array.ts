/**
 * Long vectors and matrices in text output, abbreviated as numpy prints them: an array of
 * more than 1,000 values (numpy's threshold) shows the first and last 3 entries of each
 * longer axis (numpy's edgeitems) around "…", unless the user asks for everything.
 * JSON output is never abbreviated.
 *
 * `arrayLines` writes numpy's repr layout (nested brackets, ", " between values): on one
 * line when that fits the width, else one row per line with the values padded to one
 * width and wrapped, blocks of higher ranks separated by blank lines.
 */
import { abbreviates, axisIndices } from "../abbreviate.js";
import { displayWidth } from "./notation.js";

/** What stands for the entries left out. */
export const ELLIPSIS = "…";

export interface ArrayTextOptions {
  /** Print every value, however many. */
  full: boolean;
  /** Columns to fit; Infinity keeps the array on one line. */
  width: number;
  /** Abbreviate whatever the size (unless `full`): for arrays shown only as context. */
  abbreviate?: boolean;
}

/** The kept part of an array: a row of value texts (null: elided) or rows of sub-arrays. */
type Node = { values: (string | null)[] } | { children: (Node | null)[] };

function kept(shape: number[], value: (flat: number) => string, abbreviate: boolean): Node {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  const build = (dim: number, offset: number): Node => {
    const indices = axisIndices(shape[dim], abbreviate);
    if (dim === shape.length - 1) return { values: indices.map((i) => (i === null ? null : value(offset + i))) };
    return { children: indices.map((i) => (i === null ? null : build(dim + 1, offset + i * strides[dim]))) };
  };
  return build(0, 0);
}

function oneLine(node: Node): string {
  if ("values" in node) return `[${node.values.map((v) => v ?? ELLIPSIS).join(", ")}]`;
  return `[${node.children.map((c) => (c === null ? ELLIPSIS : oneLine(c))).join(", ")}]`;
}

function widest(node: Node): number {
  if ("values" in node) return Math.max(0, ...node.values.map((v) => (v === null ? 0 : displayWidth(v))));
  return Math.max(0, ...node.children.map((c) => (c === null ? 0 : widest(c))));
}

/**
 * The node as lines; the first line is to be written at column `col` (its text carries no
 * indent), the others carry their indent. `rank` is the node's rank, `close` the
 * characters that will follow its last line (closing brackets and a comma).
 */
function blockLines(node: Node, col: number, cell: number, width: number, close: number): string[] {
  const indent = " ".repeat(col + 1);
  if ("values" in node) {
    const lines: string[] = [];
    let line = "[";
    let used = col + 1;
    node.values.forEach((v, k) => {
      const text = v === null ? ELLIPSIS : " ".repeat(cell - displayWidth(v)) + v;
      const w = displayWidth(text);
      const last = k === node.values.length - 1;
      // Room for this value, the separator or the closing brackets that follow it.
      if (k > 0 && used + 1 + w + (last ? 1 + close : 1) > width) {
        lines.push(`${line},`);
        line = indent + text;
        used = col + 1 + w;
      } else {
        line += (k > 0 ? ", " : "") + text;
        used += (k > 0 ? 2 : 0) + w;
      }
    });
    lines.push(`${line}]`);
    return lines;
  }
  const lines: string[] = [];
  const blank = node.children.some((c) => c !== null && "children" in c);
  node.children.forEach((child, k) => {
    const last = k === node.children.length - 1;
    const inner = child === null ? [ELLIPSIS] : blockLines(child, col + 1, cell, width, last ? close + 1 : 1);
    inner[0] = (k === 0 ? "[" : indent) + inner[0];
    inner[inner.length - 1] += last ? "]" : ",";
    lines.push(...inner);
    // numpy leaves a blank line between the blocks of a 3-D or higher array.
    if (!last && blank) lines.push("");
  });
  return lines;
}

/**
 * `prefix` followed by the array (shape, value of each row-major index as text), as numpy's
 * repr lays it out, abbreviated past THRESHOLD values unless `full`.
 */
export function arrayLines(prefix: string, shape: number[], value: (flat: number) => string, opts: ArrayTextOptions): string[] {
  if (shape.length === 0) return [prefix + value(0)];
  const size = shape.reduce((a, b) => a * b, 1);
  const node = kept(shape, value, opts.abbreviate === true ? !opts.full : abbreviates(size, opts.full));
  const line = prefix + oneLine(node);
  if (!Number.isFinite(opts.width) || displayWidth(line) <= opts.width) return [line];
  const cell = widest(node);
  const col = displayWidth(prefix);
  const alone = [prefix.trimEnd(), ...blockLines(node, 0, cell, opts.width, 0)];
  // A prefix that leaves little room goes on a line of its own, and so does one under
  // which the rows would wrap when on their own they would not.
  if (col > opts.width / 2) return alone;
  const hanging = blockLines(node, col, cell, opts.width, 0);
  hanging[0] = prefix + hanging[0];
  return alone.length < hanging.length ? alone : hanging;
}
