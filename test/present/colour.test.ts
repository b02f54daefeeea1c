// The page's number colours must be readable: WCAG 2's AA level for text asks for a contrast
// ratio of at least 4.5:1, here against the page's white background, for every value a number
// can take (the colour is a continuous mix, so it is sampled finely on both scales).
import { describe, expect, it } from "vitest";
import { contrastRatio, pageRgb, rgbHex } from "../../src/present/colour.js";

const WHITE = { r: 255, g: 255, b: 255 };

describe("page colours", () => {
  it("contrastRatio is WCAG 2's: black on white 21, #767676 on white 4.54 (the usual AA grey)", () => {
    expect(contrastRatio({ r: 0, g: 0, b: 0 }, WHITE)).toBeCloseTo(21, 6);
    // WebAIM's contrast checker gives 4.54:1 for #767676 on #FFFFFF (two decimals).
    expect(contrastRatio({ r: 0x76, g: 0x76, b: 0x76 }, WHITE)).toBeCloseTo(4.54, 2);
    expect(contrastRatio(WHITE, WHITE)).toBe(1);
  });

  it("every value's colour, on both scales, has at least 4.5:1 contrast on white (AA)", () => {
    let worst = Infinity;
    for (const scale of [1, 4]) {
      for (let k = -2000; k <= 2000; k++) {
        const v = (k / 1000) * scale;
        worst = Math.min(worst, contrastRatio(pageRgb(v, scale), WHITE));
      }
      for (const v of [NaN, Infinity, -Infinity]) worst = Math.min(worst, contrastRatio(pageRgb(v, scale), WHITE));
    }
    expect(worst).toBeGreaterThanOrEqual(4.5);
  });

  it("the sign decides the hue and the magnitude the strength: 0 grey, ±scale and beyond full", () => {
    expect(rgbHex(pageRgb(0, 1))).toBe("#666666");
    expect(rgbHex(pageRgb(1, 1))).toBe("#b33c00");
    expect(rgbHex(pageRgb(9, 4))).toBe("#b33c00");
    expect(rgbHex(pageRgb(-4, 4))).toBe("#1f5fb0");
    expect(pageRgb(0.25, 1)).not.toEqual(pageRgb(-0.25, 1));
  });
});
