/**
 * Colour for the teaching printers (explain, diagram, heatmap, HTML): one decision
 * per run about what the terminal supports, and one rule for painting a value by its
 * sign and magnitude, shared by the terminal (chalk) and the HTML page (CSS colours).
 *
 * NO_COLOR (any non-empty value; `--no-color` sets it in cli/main.ts) turns colour off
 * whatever the terminal claims; otherwise chalk's own detection decides (a pipe or a
 * file gets none, FORCE_COLOR forces it).
 */
import { Chalk, type ChalkInstance, supportsColor } from "chalk";

export type ColourLevel = 0 | 1 | 2 | 3;

/** The colour level for standard output, decided from the environment at call time. */
export function terminalColourLevel(env: NodeJS.ProcessEnv = process.env): ColourLevel {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return 0;
  const detected = supportsColor ? (supportsColor.level as ColourLevel) : 0;
  // FORCE_COLOR=2 or 3 asks for that many colours; chalk caps it at 1 on TERM=xterm.
  const forced = Number(env.FORCE_COLOR);
  return forced >= 1 && forced <= 3 && forced > detected && detected > 0 ? (forced as ColourLevel) : detected;
}

/** A chalk instance for the given level (level 0 returns strings unchanged). */
export function makeChalk(level: ColourLevel): ChalkInstance {
  return new Chalk({ level });
}

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

const GREY: Rgb = { r: 150, g: 150, b: 150 };
const POSITIVE: Rgb = { r: 230, g: 85, b: 13 }; // orange-red
const NEGATIVE: Rgb = { r: 49, g: 130, b: 220 }; // blue

function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return { r: Math.round(a.r + (b.r - a.r) * t), g: Math.round(a.g + (b.g - a.g) * t), b: Math.round(a.b + (b.b - a.b) * t) };
}

/**
 * The colour of a value: blue when negative, orange-red when positive, from grey at 0
 * to full strength at |v| ≥ scale. NaN and infinities are painted at full strength
 * (NaN grey), so they stand out.
 */
export function valueRgb(v: number, scale: number): Rgb {
  if (Number.isNaN(v)) return GREY;
  const t = Math.min(1, Math.abs(v) / (scale > 0 ? scale : 1));
  return mix(GREY, v < 0 ? NEGATIVE : POSITIVE, Math.sqrt(t));
}

export function rgbHex(c: Rgb): string {
  return `#${[c.r, c.g, c.b].map((x) => x.toString(16).padStart(2, "0")).join("")}`;
}

/** Paints text in the colour of `v` (see valueRgb). Level 1 terminals get blue / red / grey. */
export function paintValue(chalk: ChalkInstance, text: string, v: number, scale: number): string {
  if (chalk.level === 0) return text;
  if (chalk.level === 1) {
    const t = Math.abs(v) / (scale > 0 ? scale : 1);
    if (Number.isNaN(v) || t < 0.1) return chalk.gray(text);
    return v < 0 ? chalk.blue(text) : chalk.red(text);
  }
  const c = valueRgb(v, scale);
  return chalk.rgb(c.r, c.g, c.b)(text);
}

/**
 * The page's colours (HTML and its SVG): the same rule as valueRgb, from darker ends, so
 * that every mix has at least 4.5:1 contrast on white (WCAG AA for text; test/present/
 * colour.test.ts computes it): grey #666666 at 0, #b33c00 for positive, #1f5fb0 for negative.
 */
export const PAGE_PALETTE = { grey: { r: 102, g: 102, b: 102 }, positive: { r: 179, g: 60, b: 0 }, negative: { r: 31, g: 95, b: 176 } } as const;

export function pageRgb(v: number, scale: number): Rgb {
  if (Number.isNaN(v)) return PAGE_PALETTE.grey;
  const t = Math.min(1, Math.abs(v) / (scale > 0 ? scale : 1));
  return mix(PAGE_PALETTE.grey, v < 0 ? PAGE_PALETTE.negative : PAGE_PALETTE.positive, Math.sqrt(t));
}

/** WCAG 2 contrast ratio of two colours (1 to 21). */
export function contrastRatio(a: Rgb, b: Rgb): number {
  const lum = (c: Rgb) =>
    [c.r, c.g, c.b].map((x) => {
      const s = x / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    }).reduce((acc, x, i) => acc + x * [0.2126, 0.7152, 0.0722][i], 0);
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
