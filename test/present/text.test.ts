/**
 * safe(): what a string from a file may look like once printed. Exact expectations
 * written by hand from the escaping rule (no tolerance: this is text).
 */
import { describe, expect, it } from "vitest";
import { safe } from "../../src/present/text.js";

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
