/**
 * JSON output shared by every command's --json: indented objects, arrays of numbers
 * kept on one line, typed arrays as arrays, and NaN / ±Infinity (which JSON lacks)
 * as the strings "NaN", "Infinity", "-Infinity".
 *
 * A document is written in pieces (`jsonChunks`), and a big one can hold `lazyArray`s
 * whose items are made only when written, so `step --json` of a long trace never holds
 * the whole document, as objects or as one string.
 */

import { writeShortestFloat32 } from "./text.js";

const LAZY = Symbol("lazy array");

/** An array whose items are made as they are written. Its items must be objects or arrays (written one per line). */
export interface LazyArray {
  readonly [LAZY]: true;
  readonly length: number;
  at(index: number): unknown;
}

export function lazyArray(length: number, at: (index: number) => unknown): LazyArray {
  return { [LAZY]: true, length, at };
}

function isLazy(value: unknown): value is LazyArray {
  return typeof value === "object" && value !== null && LAZY in value;
}

const FLOAT32 = Symbol("float32 values");

/** Numbers written as their shortest float32 decimals (as shortestFloat32 gives them), on one line. */
export interface Float32Values {
  readonly [FLOAT32]: ArrayLike<number>;
}

export function float32Values(values: ArrayLike<number>): Float32Values {
  return { [FLOAT32]: values };
}

function isFloat32Values(value: unknown): value is Float32Values {
  return typeof value === "object" && value !== null && FLOAT32 in value;
}

function normalize(value: unknown): unknown {
  if (typeof value === "number") {
    if (Number.isFinite(value)) return value;
    return Number.isNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";
  }
  if (isLazy(value)) return lazyArray(value.length, (i) => normalize(value.at(i)));
  if (isFloat32Values(value)) return value;
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>, normalize);
  if (Array.isArray(value)) return value.map(normalize);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, normalize(v)]),
    );
  }
  return value;
}

/**
 * JSON.stringify escapes C0 controls (ESC becomes \u001b) but writes DEL, C1 controls
 * (U+009B is a CSI to many terminals), bidirectional overrides and line separators raw.
 * Names come from untrusted files, so those are escaped too; JSON.parse gives them back.
 * Found by the fuzz suite: layer names "csi\u009b2J" and "rtl\u202eevil" reached the terminal.
 */
function quote(v: unknown): string {
  const text = JSON.stringify(v);
  return typeof v === "string" ? text.replace(/[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`) : text;
}

/**
 * `[v0, v1, …]` as ASCII bytes, each value its shortest float32 decimal, NaN and infinities
 * as the strings toJson writes for them. Bytes, not a string: a long trace has millions of
 * these numbers, and their strings were most of the work and the garbage.
 */
function float32Bytes(values: ArrayLike<number>): Uint8Array {
  // At most 32 bytes per value with its separator (String() of a double is at most 24), and the brackets.
  if (scratch.length < 32 * values.length + 2) scratch = new Uint8Array(32 * values.length + 2);
  const out = scratch;
  let at = 0;
  out[at++] = 91; // [
  for (let i = 0; i < values.length; i++) {
    if (i > 0) {
      out[at++] = 44; // ,
      out[at++] = 32;
    }
    const v = values[i];
    if (Number.isFinite(v)) at = writeShortestFloat32(v, out, at);
    else for (const c of quote(normalize(v))) out[at++] = c.charCodeAt(0);
  }
  out[at++] = 93; // ]
  return out.slice(0, at);
}

let scratch = new Uint8Array(1 << 14);

function isLeaf(v: unknown): boolean {
  return v === null || typeof v !== "object";
}

/**
 * The JSON text of a normalized value, in pieces: arrays of leaves whole, other arrays and
 * objects item by item. A piece is a string, or ASCII bytes for float32 values.
 */
function* render(value: unknown, indent: string): Generator<string | Uint8Array> {
  if (isFloat32Values(value)) {
    yield float32Bytes(value[FLOAT32]);
    return;
  }
  if (Array.isArray(value) || isLazy(value)) {
    const n = value.length;
    if (n === 0) {
      yield "[]";
      return;
    }
    if (Array.isArray(value) && value.every(isLeaf)) {
      // Numbers are most of a big document: String() is JSON's spelling of a finite number.
      yield `[${value.map((v) => (typeof v === "number" ? String(v) : quote(v))).join(", ")}]`;
      return;
    }
    const item = Array.isArray(value) ? (i: number) => value[i] : (i: number) => value.at(i);
    const inner = indent + "  ";
    yield "[\n";
    for (let i = 0; i < n; i++) {
      yield inner;
      yield* render(item(i), inner);
      if (i < n - 1) yield ",\n";
    }
    yield `\n${indent}]`;
    return;
  }
  if (value && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) {
      yield "{}";
      return;
    }
    const inner = indent + "  ";
    yield "{\n";
    for (let i = 0; i < entries.length; i++) {
      const [k, v] = entries[i];
      yield `${inner}${quote(k)}: `;
      yield* render(v, inner);
      if (i < entries.length - 1) yield ",\n";
    }
    yield `\n${indent}}`;
    return;
  }
  yield quote(value);
}

/** The document toJson writes, in pieces (strings, or ASCII bytes) to write as they come. */
export function jsonChunks(value: unknown): Generator<string | Uint8Array> {
  return render(normalize(value), "");
}

export function toJson(value: unknown): string {
  const latin1 = new TextDecoder("latin1");
  return Array.from(jsonChunks(value), (piece) => (typeof piece === "string" ? piece : latin1.decode(piece))).join("");
}

/** One number as toJson writes it inside an array (NaN and infinities as strings). */
export function jsonNumber(v: number): string {
  return quote(normalize(v));
}
