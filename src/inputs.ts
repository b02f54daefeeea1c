/**
 * The inputs a user gives: `--input "1,10;2,20"` strings, JSON (nested arrays, or an
 * object of them keyed by model input name), CSV or TSV (one row per time step), .npy and
 * .npz files, or standard input. Everything becomes an NdArray; fitting it to a layer's
 * expected shape is `fitToShape`.
 */
import { readFileSync, statSync } from "node:fs";
import { FileError, systemReason, UsageError } from "./errors.js";
import { PagedReader } from "./load/byte-source.js";
import { entryBytes, readZipEntries } from "./load/zip.js";
import { isNpy, type NdArray, readNpy } from "./npy.js";

/** One array the user gave, with the model input it names, if it names one. */
export interface GivenInput {
  name?: string;
  values: NdArray;
}

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

/**
 * One row's fields: split on `delimiter` (',' or a tab), where an empty field is an error
 * ('1,,10' is not [1, 10]), or on runs of spaces when there is no delimiter.
 */
function splitFields(row: string, delimiter: "," | "\t" | " ", where: string): string[] {
  if (delimiter === " ") return row.split(/\s+/).filter((f) => f !== "");
  const fields = row.split(delimiter).map((f) => f.trim());
  const empty = fields.indexOf("");
  if (empty >= 0) {
    const name = delimiter === "," ? "comma" : "tab";
    throw new UsageError(`${where}: field ${empty + 1} of '${row.trim().slice(0, 60)}' is empty (two ${name}s in a row, or a ${name} at an end)`);
  }
  return fields;
}

/** "1,10;2,20" -> shape (2, 2): rows are time steps separated by ';', features by ','. */
export function parseInlineValues(text: string, where = "--input"): NdArray {
  const trimmed = text.trim();
  if (trimmed === "-") throw new UsageError(`${where}: '-' is not a value; to read standard input use --input-file -`);
  if (trimmed.startsWith("[")) return parseJsonValues(trimmed, where);
  const rows = trimmed
    .split(/;|\n/)
    .map((r) => r.trim())
    .filter((r) => r !== "")
    .map((r, k) => splitFields(r, r.includes(",") ? "," : r.includes("\t") ? "\t" : " ", `${where}, step ${k + 1}`).map((v) => parseNumber(v, `${where}, step ${k + 1}`)));
  return rowsToArray(rows, where);
}

/**
 * `--input VALUES`: inline values, or a JSON object of them keyed by model input name
 * (`{"x": [[1, 10]], "y": [2]}`).
 */
export function parseInputText(text: string, where = "--input"): GivenInput[] {
  const trimmed = text.trim();
  if (trimmed.startsWith("{")) return parseJsonObject(trimmed, where);
  return [{ values: { ...parseInlineValues(text, where), source: where } }];
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${where}: not valid JSON (${(e as Error).message})`);
  }
}

export function parseJsonValues(text: string, where: string): NdArray {
  return jsonArray(parseJson(text, where), where);
}

/** `{"NAME": nested arrays, …}`: one array per model input, by name. */
function parseJsonObject(text: string, where: string): GivenInput[] {
  const value = parseJson(text, where);
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new UsageError(`${where}: expected a JSON object of arrays keyed by input name`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) throw new UsageError(`${where}: the JSON object names no input`);
  return entries.map(([name, v]) => ({ name, values: { ...jsonArray(v, `${where}, input '${name}'`), source: `${where}, input '${name}'` } }));
}

function jsonArray(value: unknown, where: string): NdArray {
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

/** CSV, TSV or space-separated rows (the first data line's separator decides); '#' lines are comments. */
export function parseCsvValues(text: string, where: string): NdArray {
  const rows = text
    .split(/\r?\n/)
    .map((r) => r.replace(/\s+$/, "").replace(/^ +/, ""))
    .filter((r) => r !== "" && !r.startsWith("#"));
  const delimiter = rows.length === 0 ? "," : rows[0].includes(",") ? "," : rows[0].includes("\t") ? "\t" : " ";
  // A header row of names is skipped.
  if (rows.length > 0 && splitFields(rows[0], delimiter, `${where}, line 1`).some((c) => Number.isNaN(Number(c)) && !/^[+-]?(nan|inf)/i.test(c))) rows.shift();
  return rowsToArray(
    rows.map((r, k) => splitFields(r, delimiter, `${where}, line ${k + 1}`).map((v) => parseNumber(v, `${where}, line ${k + 1}`))),
    where,
  );
}

const ZIP_MAGIC = [0x50, 0x4b, 0x03, 0x04];

/**
 * numpy's .npz (np.savez): a zip of .npy members, `NAME.npy` for each input by name; numpy
 * names positional arrays arr_0, arr_1, …, which stay positional here. Members are
 * inflated only after their declared sizes are checked against the input limit, and a
 * member that inflates to other than its declared size is refused.
 */
function readNpz(bytes: Uint8Array, where: string): GivenInput[] {
  const archive = PagedReader.of(bytes);
  const members: Record<string, Uint8Array> = {};
  try {
    // The same checks as a .keras archive: sizes declared under the limit, inflation that stops at the declared size, CRCs.
    const { entries } = readZipEntries(archive, where, () => true, { maxEntryBytes: () => MAX_INPUT_BYTES, maxTotalBytes: MAX_INPUT_BYTES });
    for (const [name, entry] of Object.entries(entries)) members[name] = entryBytes(archive, entry);
  } catch (e) {
    if (e instanceof FileError) throw new UsageError(`${where}: not a readable .npz (${e.problem})`);
    throw e;
  }
  const names = Object.keys(members);
  if (names.length === 0) throw new UsageError(`${where}: the .npz holds no arrays`);
  return names.map((member) => {
    if (!member.endsWith(".npy")) throw new UsageError(`${where}: member '${member.slice(0, 60)}' is not a .npy array`);
    const name = member.slice(0, -4);
    const label = `${where}, array '${name}'`;
    return { name: /^arr_\d+$/.test(name) ? undefined : name, values: { ...readNpy(members[member], label), source: label } };
  });
}

/** Reads a file of one array (`check --expect Y`): .npy, JSON or CSV. */
export function readInputFile(file: string): NdArray {
  const arrays = readInputFileArrays(file, file === "-" ? "standard input" : file);
  if (arrays.length !== 1) throw new UsageError(`${file}: holds ${arrays.length} arrays; give one`);
  return arrays[0].values;
}

/**
 * Reads `--input-file F` (`-` for standard input): .npy, .npz, JSON (an array, or an object
 * of arrays by input name), CSV or TSV, told apart by content.
 */
export function readInputFileArrays(file: string, where = file === "-" ? "--input-file - (standard input)" : `--input-file ${file}`): GivenInput[] {
  let bytes: Uint8Array;
  try {
    if (file === "-") {
      bytes = readFileSync(0);
    } else {
      const st = statSync(file);
      if (st.isDirectory()) throw new UsageError(`${where}: is a directory, not an input file`);
      if (st.size > MAX_INPUT_BYTES) throw new UsageError(`${where}: ${st.size} bytes is over the ${MAX_INPUT_BYTES}-byte input limit`);
      bytes = readFileSync(file);
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`${where}: ${systemReason(e)}`);
  }
  const one = (values: NdArray): GivenInput[] => [{ values: { ...values, source: where } }];
  if (isNpy(bytes)) return one(readNpy(bytes, where));
  if (ZIP_MAGIC.every((b, i) => bytes[i] === b)) return readNpz(bytes, where);
  const text = new TextDecoder().decode(bytes);
  const start = text.trimStart();
  if (start.startsWith("{")) return parseJsonObject(text, where);
  if (start.startsWith("[")) return one(parseJsonValues(text, where));
  return one(parseCsvValues(text, where));
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
