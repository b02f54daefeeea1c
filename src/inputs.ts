/**
 * The inputs a user gives: `--input "1,10;2,20"` strings, JSON (nested arrays),
 * CSV (one row per time step), .npy files, or standard input. Everything becomes
 * an NdArray; fitting it to a layer's expected shape is `fitToShape`.
 */
import { readFileSync, statSync } from "node:fs";
import { UsageError } from "./errors.js";
import { isNpy, type NdArray, readNpy } from "./npy.js";

/** Largest input file we read. */
const MAX_INPUT_BYTES = 256 * 1024 * 1024;
const MAX_JSON_DEPTH = 8;

function parseNumber(text: string, where: string): number {
  const t = text.trim();
  if (/^[+-]?nan$/i.test(t)) return NaN;
  if (/^[+-]?inf(inity)?$/i.test(t)) return t.startsWith("-") ? -Infinity : Infinity;
  const v = Number(t);
  if (t === "" || Number.isNaN(v)) throw new UsageError(`${where}: '${text.trim()}' is not a number`);
  return v;
}

/** Rows (≥ 1) of equal width to a 2-D array; ragged rows are an error naming the row. */
function rowsToArray(rows: number[][], where: string): NdArray {
  if (rows.length === 0) throw new UsageError(`${where}: no values given`);
  const width = rows[0].length;
  rows.forEach((r, k) => {
    if (r.length !== width) throw new UsageError(`${where}: row ${k + 1} has ${r.length} values, row 1 has ${width}; every step needs the same number of features`);
  });
  return { shape: [rows.length, width], data: Float64Array.from(rows.flat()) };
}

/** "1,10;2,20" -> shape (2, 2): rows are time steps separated by ';', features by ','. */
export function parseInlineValues(text: string, where = "--input"): NdArray {
  const trimmed = text.trim();
  if (trimmed.startsWith("[")) return parseJsonValues(trimmed, where);
  const rows = trimmed
    .split(/;|\n/)
    .map((r) => r.trim())
    .filter((r) => r !== "")
    .map((r, k) => r.split(/[,\s]+/).filter((s) => s !== "").map((v) => parseNumber(v, `${where}, step ${k + 1}`)));
  return rowsToArray(rows, where);
}

export function parseJsonValues(text: string, where: string): NdArray {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${where}: not valid JSON (${(e as Error).message})`);
  }
  const shape: number[] = [];
  let probe: unknown = value;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    if (shape.length > MAX_JSON_DEPTH) throw new UsageError(`${where}: arrays nested deeper than ${MAX_JSON_DEPTH} levels`);
    probe = probe[0];
  }
  if (shape.length === 0) throw new UsageError(`${where}: expected nested arrays of numbers`);
  const data: number[] = [];
  const walk = (v: unknown, depth: number, path: string) => {
    if (depth === shape.length) {
      if (typeof v === "number") data.push(v);
      else if (typeof v === "string") data.push(parseNumber(v, `${where} at ${path}`));
      else if (v === null) data.push(NaN);
      else throw new UsageError(`${where}: ${JSON.stringify(v)?.slice(0, 40)} at ${path} is not a number`);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[depth]) {
      throw new UsageError(`${where}: ragged array at ${path}: expected ${shape[depth]} entries, found ${Array.isArray(v) ? v.length : "a scalar"}`);
    }
    v.forEach((x, i) => walk(x, depth + 1, `${path}[${i}]`));
  };
  walk(value, 0, "");
  return { shape, data: Float64Array.from(data) };
}

export function parseCsvValues(text: string, where: string): NdArray {
  const rows = text
    .split(/\r?\n/)
    .map((r) => r.trim())
    .filter((r) => r !== "" && !r.startsWith("#"));
  // A header row of names is skipped.
  if (rows.length > 0 && rows[0].split(",").some((c) => c.trim() !== "" && Number.isNaN(Number(c)) && !/^[+-]?(nan|inf)/i.test(c.trim()))) rows.shift();
  return rowsToArray(
    rows.map((r, k) => r.split(",").map((v) => parseNumber(v, `${where}, line ${k + 1}`))),
    where,
  );
}

/** Reads `--input-file F` (`-` for standard input): .npy, JSON or CSV, told apart by content. */
export function readInputFile(file: string): NdArray {
  let bytes: Uint8Array;
  try {
    if (file === "-") {
      bytes = readFileSync(0);
    } else {
      const st = statSync(file);
      if (st.isDirectory()) throw new UsageError(`${file}: is a directory, not an input file`);
      if (st.size > MAX_INPUT_BYTES) throw new UsageError(`${file}: ${st.size} bytes is over the ${MAX_INPUT_BYTES}-byte input limit`);
      bytes = readFileSync(file);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${file}: cannot read input file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const where = file === "-" ? "standard input" : file;
  if (isNpy(bytes)) return readNpy(bytes, where);
  const text = new TextDecoder().decode(bytes);
  if (text.trim().startsWith("[")) return parseJsonValues(text, where);
  return parseCsvValues(text, where);
}

/**
 * Fits user values to a layer input of `rank` dimensions per sample (2 for a
 * (steps, features) sequence, 1 for a vector or token ids): an array of rank+1
 * is a batch; of rank, one sample; a sequence given as one flat row is one step.
 * Returns (batch, ...sample shape).
 */
export function fitToShape(values: NdArray, sampleShape: (number | null)[], where: string): NdArray {
  const rank = sampleShape.length;
  let shape = values.shape;
  if (shape.length === rank + 1) {
    // already a batch
  } else if (shape.length === rank) {
    shape = [1, ...shape];
  } else if (rank === 2 && shape.length === 1) {
    shape = [1, 1, shape[0]];
  } else if (rank === 1 && shape.length === 2 && shape[0] >= 1) {
    // rows given for a vector input: each row is a sample
  } else {
    throw new UsageError(`${where}: values of shape (${values.shape.join(", ")}) do not fit an input of shape (${sampleShape.map((d) => d ?? "any").join(", ")}) per sample`);
  }
  sampleShape.forEach((d, k) => {
    if (d !== null && shape[k + 1] !== d) {
      const what = k === sampleShape.length - 1 ? "features" : k === 0 && rank >= 2 ? "time steps" : `entries on axis ${k + 1}`;
      throw new UsageError(`${where}: the model expects ${d} ${what} per ${k === sampleShape.length - 1 && rank >= 2 ? "step" : "sample"}, but the input has ${shape[k + 1]}`);
    }
  });
  if (shape.slice(1).some((d) => d === 0)) throw new UsageError(`${where}: the input is empty`);
  return { shape, data: values.data };
}
