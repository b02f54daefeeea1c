/**
 * The stored constants of an export whose recurrent layers have no RNN op to map (ONNX
 * graphs unrolled into MatMul/Sigmoid/Tanh or run as `Loop`/`Scan` bodies; TFLite `WHILE`
 * loops and unrolled FULLY_CONNECTED cells). Such a file is not read as a Model: its
 * adapter refuses it with a NoRecurrentOpError, and `diff`/`check --reference` ask the
 * adapter for its constants instead, to locate a Keras model's weights among them
 * (src/diff/locate.ts).
 *
 * Each constant is one stored tensor as float (dequantized where stored quantized), with
 * where it lies and which ops read it. Values are read only after the bytes that hold them
 * were checked against the shape they claim, and the total read is bounded by the file's
 * size (a small file cannot make the reader allocate by claims it cannot back).
 */
import { readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { FileError, systemReason } from "../errors.js";

export type ExportFormat = "onnx" | "tflite";

/** How a constant was stored, when not as float32. */
export interface Quantization {
  /** `int8 per channel (…)`, `float16`: the scheme in words. */
  scheme: string;
  /**
   * One step per channel along `axis` of the stored shape (one value: per tensor). A value
   * rounded to the step is within half a step of the number quantized.
   */
  steps?: { axis: number; values: Float64Array };
  /** float16: each value's own spacing (a float16 rounding is within half of it). */
  float16?: boolean;
}

export interface ExportConstant {
  /** The tensor's name in the file (an ONNX initializer or Constant output, a TFLite tensor). */
  name: string;
  /** Where it lies: `main graph`, `Loop body 'x'`, `subgraph 2 'lstm/while_body'`. */
  graph: string;
  /** The ops that read it, in words (`MatMul 'lstm/MatMul'`, `FULLY_CONNECTED op 4`). */
  users: string[];
  shape: number[];
  /** The stored element type (`float32`, `float16`, `int8`, …). */
  dtype: string;
  /** Row-major values, dequantized. */
  values: Float32Array | Float64Array;
  quantization?: Quantization;
}

export interface ExportConstants {
  format: ExportFormat;
  source: string;
  /** Every float (or dequantizable) constant with at least two values, in file order. */
  constants: ExportConstant[];
  /**
   * Variables the graph reads but the file gives no value (TFLite VAR_HANDLE / READ_VARIABLE
   * without an ASSIGN_VARIABLE of a constant): the weights they stand for are not stored.
   */
  unstoredVariables: string[];
  /** What the file holds, in a sentence or two (its ops, its loops). */
  notes: string[];
}

/**
 * An export whose recurrent layers have no RNN op keras-inspect maps to a Keras layer: the
 * one-line refusal every command gives, plus what `diff` needs to read its constants.
 */
export class NoRecurrentOpError extends FileError {
  constructor(
    file: string,
    problem: string,
    readonly format: ExportFormat,
  ) {
    super(file, problem);
    this.name = "NoRecurrentOpError";
  }
}

/** Largest export read for its constants (as the adapters' own limits). */
const MAX_EXPORT_BYTES = 1024 * 1024 * 1024;

/** Reads the constants of the export at `path` (refused as a model with `refusal`). */
export async function loadExportConstants(path: string, refusal: NoRecurrentOpError): Promise<ExportConstants> {
  let bytes: Uint8Array;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new FileError(path, "is not a regular file");
    if (st.size > MAX_EXPORT_BYTES) throw new FileError(path, `is ${st.size} bytes, over the ${MAX_EXPORT_BYTES}-byte limit for an export`);
    bytes = await readFile(path);
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(path, systemReason(err), { cause: err });
  }
  // Imported here, not at the top: the adapters import this module for the error class.
  if (refusal.format === "onnx") {
    const { onnxConstants } = await import("./onnx-constants.js");
    return onnxConstants(bytes, path, dirname(path));
  }
  const { tfliteConstants } = await import("./tflite-constants.js");
  return tfliteConstants(bytes, path);
}

/** Constants smaller than this many values are left out: scalars, shapes, axes. */
export const MIN_CONSTANT_VALUES = 2;
