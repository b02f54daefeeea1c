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

/** 10^k for k = 0 … 22: exact doubles (read from their decimal spelling, which is exact). */
const POW10 = Array.from({ length: 23 }, (_, k) => Number(`1e${k}`));

/** The shortest p-digit decimal reading back as the float32 v, counting p up from 1, by toPrecision. */
function shortestByStrings(v: number): number {
  for (let p = 1; p <= 9; p++) {
    const candidate = Number(v.toPrecision(p));
    if (Math.fround(candidate) === v) return candidate;
  }
  return v;
}

/**
 * |v| (a float32, as a = |v| with e = floor(log10 a)) rounded to p significant digits, as
 * Number(v.toPrecision(p)) gives it: sets `found` to digits·10^-scale and returns true,
 * or returns false where double arithmetic cannot be sure to match toPrecision.
 * a·10^scale (scale = p − 1 − e) is computed with an error below 1e-7 (a is exact, 10^scale
 * an exact double for |scale| ≤ 22, the product is below 10^9), so rounding it to an
 * integer gives toPrecision's digits unless it lies within 1e-6 of a half; and
 * digits / 10^scale, both exact, is the double nearest the decimal, as Number() reads it.
 */
function roundTo(a: number, e: number, p: number): boolean {
  const scale = p - 1 - e;
  const scaled = scale >= 0 ? a * POW10[scale] : a / POW10[-scale];
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  if (Math.abs(fraction - 0.5) < 1e-6) return false;
  const digits = fraction > 0.5 ? floor + 1 : floor;
  // p digits, or 10^p when rounding carried (9.99… to 10.0, as toPrecision does too); else e was off.
  if (digits < POW10[p - 1] || digits > POW10[p]) return false;
  found.digits = digits;
  found.scale = scale;
  found.value = scale >= 0 ? digits / POW10[scale] : digits * POW10[-scale];
  return true;
}

/** What roundTo and shortestDigits found: |value| = digits · 10^-scale. */
const found = { digits: 0, scale: 0, value: 0 };

const bits = new Uint32Array(1);
const asFloat = new Float32Array(bits.buffer);

/**
 * Finds the shortest rounding of the float32 v that reads back (into `found`, for |v|), or
 * returns false where the strings must decide. The answer is the first p from 1 to 9 whose
 * p-digit rounding reads back, as `shortestByStrings` finds it; JSON of a long trace is
 * millions of numbers, and toPrecision and Number() were most of its time, so the
 * roundings are made with double arithmetic (`roundTo`). The nearest (p+1)-digit decimal
 * is never farther from v than the nearest p-digit one, and v's float32 rounding interval
 * is symmetric unless v is a power of two, so whether p digits read back is monotone in
 * p: searching down from 8 digits takes about two tries instead of eight. Powers of two,
 * whose interval is narrower below, count up.
 */
function shortestDigits(v: number): boolean {
  const a = Math.abs(v);
  if (!(a >= 1e-10 && a < 1e10)) return false;
  const e = Math.floor(Math.log10(a));
  asFloat[0] = a;
  if ((bits[0] & 0x7fffff) === 0) {
    for (let p = 1; p <= 9; p++) {
      if (!roundTo(a, e, p)) return false;
      if (Math.fround(found.value) === a) return true;
    }
    return false;
  }
  if (!roundTo(a, e, 8)) return false;
  if (Math.fround(found.value) !== a) return roundTo(a, e, 9) && Math.fround(found.value) === a;
  let { digits, scale, value } = found;
  for (let p = 7; p >= 1; p--) {
    if (!roundTo(a, e, p)) return false;
    if (Math.fround(found.value) !== a) break;
    ({ digits, scale, value } = found);
  }
  found.digits = digits;
  found.scale = scale;
  found.value = value;
  return true;
}

/**
 * The shortest decimal that reads back as the same float32: a float32 value printed as
 * Keras / numpy print it (-3.2529106, not -3.252910614013672). Non-float32 values pass through.
 */
export function shortestFloat32(v: number): number {
  if (!Number.isFinite(v) || Math.fround(v) !== v) return v;
  if (!shortestDigits(v)) return shortestByStrings(v);
  return v < 0 ? -found.value : found.value;
}

/** Writes an ASCII string's bytes at `at`; returns the position after it. */
function writeAscii(text: string, out: Uint8Array, at: number): number {
  for (let k = 0; k < text.length; k++) out[at++] = text.charCodeAt(k);
  return at;
}

const ZERO = 48;

/**
 * Writes String(shortestFloat32(v)) as ASCII bytes into `out` at `at` (out needs 32 bytes of
 * room) and returns the position after it. Spelled from the digits found, without making a
 * string: String() of a double costs as much again as finding its digits, and the strings
 * were most of the garbage, for each of a long trace's millions of numbers. JavaScript's
 * spelling (Number::toString): plain digits up to 21 integer digits and down to 0.000001,
 * else d.ddde±x. NaN and infinities as String() spells them.
 */
export function writeShortestFloat32(v: number, out: Uint8Array, at: number): number {
  if (!Number.isFinite(v) || Math.fround(v) !== v || !shortestDigits(v)) return writeAscii(String(shortestFloat32(v)), out, at);
  // The significant digits, trailing zeros dropped, into `digitBytes` (below 2^31: whole-number arithmetic is exact).
  let digits = found.digits;
  let k = 1;
  while (k < 10 && digits >= POW10[k]) k++;
  // The decimal point sits `point` digits from the left of the digits as found.
  const point = k - found.scale;
  while (digits % 10 === 0) {
    digits /= 10;
    k--;
  }
  for (let d = k - 1; d >= 0; d--) {
    const rest = Math.floor(digits / 10);
    digitBytes[d] = ZERO + digits - 10 * rest;
    digits = rest;
  }
  if (v < 0) out[at++] = 45; // -
  if (k <= point && point <= 21) {
    // An integer: the digits, then zeros.
    for (let d = 0; d < k; d++) out[at++] = digitBytes[d];
    for (let z = k; z < point; z++) out[at++] = ZERO;
  } else if (0 < point && point <= 21) {
    for (let d = 0; d < k; d++) {
      if (d === point) out[at++] = 46; // .
      out[at++] = digitBytes[d];
    }
  } else if (-6 < point && point <= 0) {
    out[at++] = ZERO;
    out[at++] = 46;
    for (let z = 0; z < -point; z++) out[at++] = ZERO;
    for (let d = 0; d < k; d++) out[at++] = digitBytes[d];
  } else {
    out[at++] = digitBytes[0];
    if (k > 1) out[at++] = 46;
    for (let d = 1; d < k; d++) out[at++] = digitBytes[d];
    out[at++] = 101; // e
    const exponent = point - 1;
    out[at++] = exponent >= 0 ? 43 : 45; // + or -
    at = writeAscii(String(Math.abs(exponent)), out, at);
  }
  return at;
}

const digitBytes = new Uint8Array(10);

const scratch = new Uint8Array(32);

/** String(shortestFloat32(v)), as writeShortestFloat32 spells it. */
export function shortestFloat32Text(v: number): string {
  return String.fromCharCode(...scratch.subarray(0, writeShortestFloat32(v, scratch, 0)));
}
