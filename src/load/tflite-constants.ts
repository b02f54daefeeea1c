/**
 * The constants of a TFLite model without a fused LSTM op (export-constants.ts): every
 * tensor of every subgraph (the main graph, WHILE bodies and conditions, CALL_ONCE
 * initializers) that holds values in a buffer and is produced by no op, with the ops that
 * read it. Values are read by tflite.ts' tensorValues, as for a fused LSTM: float32 and
 * float64 as stored, float16 widened exactly, int8 / uint8 / int16 / int32 with a scale
 * dequantized as TFLite's DEQUANTIZE computes, float(scale · (q − zero_point)), per tensor or
 * per channel; its shape is checked against its buffer's bytes first, and the bytes read in
 * all against the file's size.
 *
 * Variables: a VAR_HANDLE whose variable no ASSIGN_VARIABLE gives a value (Keras 3 exports
 * that keep weights as resource variables without an initializer) is listed as unstored, so
 * `diff` can say those weights are not in the file rather than "not found".
 */
import { FileError } from "../errors.js";
import type { ExportConstant, ExportConstants, Quantization } from "./export-constants.js";
import { MIN_CONSTANT_VALUES } from "./export-constants.js";
import { type Context, tensorValues } from "./tflite.js";
import { decodeTflite, FlatbufferError, Op, opName, TENSOR_TYPE_NAMES, TensorType, type TfliteModel } from "./tflite-schema.js";

/** Tensor types read as weights (integers only with a quantization scale). */
const FLOAT_TYPES = new Set<number>([TensorType.FLOAT32, TensorType.FLOAT16, TensorType.FLOAT64]);
const INTEGER_TYPES = new Set<number>([TensorType.INT8, TensorType.UINT8, TensorType.INT16, TensorType.INT32]);

/** Bytes of float values read at most, relative to the file: int8 widened to float32 takes 4×; sharing gets some room. */
const MAX_ALLOCATED_FACTOR = 8;

/** Reads the constants of a TFLite flatbuffer already in memory (see the header). */
export function tfliteConstants(bytes: Uint8Array, label: string): ExportConstants {
  try {
    return constantsOf(decodeTflite(bytes), bytes, label);
  } catch (err) {
    if (err instanceof FlatbufferError) throw new FileError(label, `is not a readable TFLite model: ${err.message}`, { cause: err });
    throw err;
  }
}

function constantsOf(model: TfliteModel, bytes: Uint8Array, label: string): ExportConstants {
  const ctx: Context = { label, bytes, model, materialized: 0 };
  const constants: ExportConstant[] = [];
  const handles = new Map<string, boolean>(); // shared_name → assigned
  let allocated = 0;
  let ops = 0;
  for (const [gi, graph] of model.subgraphs.entries()) {
    const where = `subgraph ${gi}${graph.name ? ` '${graph.name.slice(0, 80)}'` : ""}`;
    const produced = new Set<number>();
    const readers = new Map<number, string[]>();
    const handleOf = new Map<number, string>(); // VAR_HANDLE output tensor → shared_name
    for (const [oi, op] of graph.operators.entries()) {
      ops++;
      const code = model.operatorCodes[op.opcodeIndex];
      if (!code) throw new FileError(label, `operator ${oi} of subgraph ${gi} names operator code ${op.opcodeIndex}, but the file has ${model.operatorCodes.length}`);
      const name = opName(code);
      for (const o of op.outputs) produced.add(o);
      for (const i of new Set(op.inputs)) {
        if (i < 0) continue;
        const list = readers.get(i) ?? [];
        if (list.length < 8) list.push(`${name} op ${oi}`);
        readers.set(i, list);
      }
      if (code.builtin === Op.VAR_HANDLE) {
        // VarHandleOptions: container (field 0), shared_name (field 1).
        const shared = op.options?.string(1) || graph.tensors[op.outputs[0] ?? -1]?.name || `variable of ${name} op ${oi} of ${where}`;
        if (op.outputs[0] !== undefined) handleOf.set(op.outputs[0], shared);
        if (!handles.has(shared)) handles.set(shared, false);
      }
      if (code.builtin === Op.ASSIGN_VARIABLE) {
        const shared = handleOf.get(op.inputs[0] ?? -1);
        if (shared !== undefined) handles.set(shared, true);
      }
    }
    for (const [ti, t] of graph.tensors.entries()) {
      if (produced.has(ti) || t.isVariable) continue;
      const buffer = model.buffers[t.buffer];
      if (!buffer || buffer.length === 0) continue;
      const integer = INTEGER_TYPES.has(t.type);
      if (!FLOAT_TYPES.has(t.type) && !(integer && t.quantization)) continue;
      const read = tensorValues(graph, ti, ctx, `tensor ${ti} of ${where}`);
      // Values as float take up to 4 bytes per stored byte (int8); tensors sharing buffers must not multiply that.
      allocated += read.values.byteLength;
      if (allocated > MAX_ALLOCATED_FACTOR * bytes.length + (1 << 20)) {
        throw new FileError(label, `its constants share buffers over and over (over ${allocated} bytes of values from a ${bytes.length}-byte file)`);
      }
      if (read.values.length < MIN_CONSTANT_VALUES) continue;
      let quantization: Quantization | undefined;
      if (t.type === TensorType.FLOAT16) quantization = { scheme: "float16, widened exactly", float16: true };
      else if (integer && t.quantization) {
        const perChannel = t.quantization.scale.length > 1;
        quantization = {
          scheme: read.how ?? "quantized",
          steps: { axis: perChannel ? t.quantization.quantizedDimension : 0, values: Float64Array.from(t.quantization.scale, Math.abs) },
        };
      }
      constants.push({
        name: t.name,
        graph: where,
        users: readers.get(ti) ?? [],
        shape: read.shape,
        dtype: TENSOR_TYPE_NAMES[t.type] ?? `type ${t.type}`,
        values: read.values,
        ...(quantization ? { quantization } : {}),
      });
    }
  }
  const unstoredVariables = [...handles].filter(([, assigned]) => !assigned).map(([name]) => name);
  const whiles = model.subgraphs.reduce((n, g) => n + g.operators.filter((o) => model.operatorCodes[o.opcodeIndex]?.builtin === Op.WHILE).length, 0);
  return {
    format: "tflite",
    source: label,
    constants,
    unstoredVariables,
    notes: [
      `TFLite model without a fused LSTM op: ${ops} op(s) in ${model.subgraphs.length} subgraph(s)${whiles > 0 ? ` (WHILE ×${whiles}: the loop bodies' constants were searched too)` : ""}; ${constants.length} constant(s) of at least ${MIN_CONSTANT_VALUES} values searched`,
      ...(unstoredVariables.length > 0 ? [`${unstoredVariables.length} resource variable(s) are read but given no value in the file (no ASSIGN_VARIABLE)`] : []),
    ],
  };
}
