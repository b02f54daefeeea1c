/**
 * Small helpers every printer uses: making strings from untrusted files safe for a
 * terminal, and formatting numbers the same way everywhere.
 */

/**
 * C0 controls, DEL, C1 controls, bidirectional overrides/isolates, and UTF-16 surrogates
 * without their pair (a config's JSON may spell one as "\ud800"; written raw it would reach
 * the terminal as U+FFFD, hiding what the file holds).
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/**
 * Neutralizes control characters (ANSI escape sequences included) and lone surrogates in
 * a string that came from a file, so a crafted layer name cannot drive the user's terminal
 * and is shown as it is. They are shown as \xNN / \uNNNN escapes.
 */
export function safe(s: string): string {
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, "0")}` : `\\u${code.toString(16).padStart(4, "0")}`;
  });
}

/** A number with `digits` decimals (default 6, as the seed notebook prints), NaN/Inf spelled out. */
export function fixed(v: number, digits = 6): string {
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Inf" : "-Inf";
  const s = v.toFixed(digits);
  // Avoid "-0.000000".
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}

/** A number with `digits` significant digits, for values of any magnitude. */
export function significant(v: number | null, digits = 6): string {
  if (v === null) return "-";
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "Inf" : "-Inf";
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1e-4 && a < 1e6) return String(Number(v.toPrecision(digits)));
  return v.toExponential(digits - 1);
}

/**
 * 12345 -> "12,345", as Keras prints parameter counts. Grouped by hand: toLocaleString
 * loads ICU's locale data, 60 ms of a command's start-up.
 */
export function thousands(n: number): string {
  if (!Number.isSafeInteger(n)) return String(n);
  return String(n).replace(/\B(?=(\d{3})+$)/g, ",");
}

/** Pads/truncates like Keras' print_row: each field ends at its column position. */
export function kerasRow(fields: string[], positions: number[]): string {
  let line = "";
  fields.forEach((field, i) => {
    if (i > 0) line = line.slice(0, -1) + " ";
    line += field;
    line = line.slice(0, positions[i]);
    line += " ".repeat(Math.max(0, positions[i] - line.length));
  });
  return line;
}

/**
 * The shortest decimal that reads back as the same float32: a float32 value printed as
 * Keras / numpy print it (-3.2529106, not -3.252910614013672). Non-float32 values pass through.
 */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v) || Math.fround(v) !== v) return v;
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(v.toPrecision(p));
    if (Math.fround(candidate) === v) return candidate;
  }
  return v;
}
