/**
 * Reading and writing numpy's .npy format (version 1.0–3.0), as documented in
 * numpy/lib/format.py: magic "\x93NUMPY", version, a little-endian header length,
 * a Python-literal dict {'descr', 'fortran_order', 'shape'}, then the raw values.
 */
import { UsageError } from "./errors.js";

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
/** Largest array we read: 2^28 elements (2 GiB as float64). */
const MAX_ELEMENTS = 2 ** 28;

export interface NdArray {
  shape: number[];
  data: Float64Array;
  /** Where the values came from, for messages (`--input-file x.npy`, `--input 'x'`); absent when not from the user. */
  source?: string;
}

export function isNpy(bytes: Uint8Array): boolean {
  return MAGIC.every((b, i) => bytes[i] === b);
}

const READERS: Record<string, { size: number; read: (v: DataView, o: number, le: boolean) => number }> = {
  f2: { size: 2, read: (v, o, le) => halfToFloat(v.getUint16(o, le)) },
  f4: { size: 4, read: (v, o, le) => v.getFloat32(o, le) },
  f8: { size: 8, read: (v, o, le) => v.getFloat64(o, le) },
  i1: { size: 1, read: (v, o) => v.getInt8(o) },
  u1: { size: 1, read: (v, o) => v.getUint8(o) },
  b1: { size: 1, read: (v, o) => v.getUint8(o) },
  i2: { size: 2, read: (v, o, le) => v.getInt16(o, le) },
  u2: { size: 2, read: (v, o, le) => v.getUint16(o, le) },
  i4: { size: 4, read: (v, o, le) => v.getInt32(o, le) },
  u4: { size: 4, read: (v, o, le) => v.getUint32(o, le) },
  i8: { size: 8, read: (v, o, le) => Number(v.getBigInt64(o, le)) },
  u8: { size: 8, read: (v, o, le) => Number(v.getBigUint64(o, le)) },
};

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** A .npy file's header: dtype descr (`<f4`, `|O`, ...), shape, order, and where the values start. */
export interface NpyHeader {
  descr: string;
  shape: number[];
  fortran: boolean;
  offset: number;
}

/** Parses a .npy header; `fail` says why it cannot be read (and throws). */
export function readNpyHeader(bytes: Uint8Array, fail: (why: string) => never): NpyHeader {
  if (!isNpy(bytes)) fail("missing the \\x93NUMPY magic");
  if (bytes.length < 10) fail("truncated header");
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) fail("truncated header");
    headerLen = view.getUint32(8, true);
    start = 12;
  } else {
    return fail(`unknown format version ${major}`);
  }
  if (start + headerLen > bytes.length) fail("truncated header");
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1] === "True";
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || shapeText === undefined) return fail("header lacks 'descr' or 'shape'");
  const shape = shapeText
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "")
    .map((s) => (/^\d+$/.test(s) ? Number(s) : fail(`bad dimension '${s}'`)));
  return { descr, shape, fortran, offset: start + headerLen };
}

/** Parses .npy bytes into a float64 array with its shape. `label` names the source in messages. */
export function readNpy(bytes: Uint8Array, label: string): NdArray {
  const fail = (why: string): never => {
    throw new UsageError(`${label}: not a readable .npy file: ${why}`);
  };
  const { descr, shape, fortran, offset } = readNpyHeader(bytes, fail);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const m = /^([<>|=])([fiub])(\d+)$/.exec(descr);
  const reader = m ? READERS[`${m[2]}${m[3]}`] : undefined;
  if (!m || !reader) return fail(`dtype '${descr}' is not supported (use float32, float64 or an integer type)`);
  const littleEndian = m[1] !== ">";
  const count = shape.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(count) || count > MAX_ELEMENTS) fail(`shape (${shape.join(", ")}) is too large`);
  if (offset + count * reader.size > bytes.length) {
    fail(`body is truncated: shape (${shape.join(", ")}) needs ${count * reader.size} bytes, the file has ${bytes.length - offset}`);
  }
  const data = new Float64Array(count);
  for (let k = 0; k < count; k++) data[k] = reader.read(view, offset + k * reader.size, littleEndian);
  return { shape, data: fortran ? fortranToC(data, shape) : data };
}

function fortranToC(data: Float64Array, shape: number[]): Float64Array {
  const out = new Float64Array(data.length);
  const n = shape.length;
  const idx = new Array<number>(n).fill(0);
  for (let c = 0; c < data.length; c++) {
    // idx is the C-order multi-index of c; its Fortran offset is Σ idx[k]·Π_{j<k} shape[j].
    let f = 0;
    let stride = 1;
    for (let k = 0; k < n; k++) {
      f += idx[k] * stride;
      stride *= shape[k];
    }
    out[c] = data[f];
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Writes a float32 C-order .npy (version 1.0) file's bytes. */
/** The header of a .npy file (version 1.0) holding a little-endian float32 or float64 array of `shape`, C order. */
export function npyHeader(shape: number[], dtype: "float32" | "float64"): Uint8Array {
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
  let header = `{'descr': '${dtype === "float32" ? "<f4" : "<f8"}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // Pad so that magic + version + length + header + "\n" is a multiple of 64.
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  return out;
}

/** Values as the little-endian bytes of a .npy body in `dtype`. */
export function npyValues(data: ArrayLike<number>, dtype: "float32" | "float64"): Uint8Array {
  const size = dtype === "float32" ? 4 : 8;
  const out = new Uint8Array(data.length * size);
  const view = new DataView(out.buffer);
  if (dtype === "float32") for (let k = 0; k < data.length; k++) view.setFloat32(k * 4, data[k], true);
  else for (let k = 0; k < data.length; k++) view.setFloat64(k * 8, data[k], true);
  return out;
}

export function writeNpyFloat32(shape: number[], data: ArrayLike<number>): Uint8Array {
  const header = npyHeader(shape, "float32");
  const out = new Uint8Array(header.length + data.length * 4);
  out.set(header, 0);
  out.set(npyValues(data, "float32"), header.length);
  return out;
}
