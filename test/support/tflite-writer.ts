/**
 * A minimal TFLite writer for tests: lays out a flatbuffer by hand, independently of the
 * reader in src/load/tflite-schema.ts (its own layout: each vtable just before its table,
 * every referenced object after the field that references it, so every uoffset is forward),
 * and maps a Keras LSTM's kernel / recurrent_kernel / bias to the per-gate tensors of a
 * fused UNIDIRECTIONAL_SEQUENCE_LSTM on its own. Field numbers, from schema.fbs:
 *
 *   Model          0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers
 *   OperatorCode   0 deprecated_builtin_code (byte), 1 custom_code, 2 version, 3 builtin_code (int)
 *   SubGraph       0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name
 *   Tensor         0 shape, 1 type (byte), 2 buffer (uint), 3 name, 4 quantization, 5 is_variable
 *   Quantization   2 scale [float], 3 zero_point [long], 6 quantized_dimension
 *   Operator       0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options
 *   Buffer         0 data [ubyte]
 *   UnidirectionalSequenceLSTMOptions 0 fused_activation_function (byte), 1 cell_clip, 2 proj_clip, 3 time_major
 */

type Scalar = { kind: "u8" | "i8" | "i32" | "u32" | "f32"; value: number };
type Ref = { kind: "ref"; value: FbObject };
type Field = Scalar | Ref;
export type FbObject =
  | { t: "table"; fields: (Field | undefined)[] }
  | { t: "bytes"; count: number; data: Uint8Array; align: number }
  | { t: "tables"; items: FbObject[] }
  | { t: "string"; s: string };

const WIDTH = { u8: 1, i8: 1, i32: 4, u32: 4, f32: 4, ref: 4 } as const;

export const u8 = (value: number): Field => ({ kind: "u8", value });
export const i8 = (value: number): Field => ({ kind: "i8", value });
export const i32 = (value: number): Field => ({ kind: "i32", value });
export const u32 = (value: number): Field => ({ kind: "u32", value });
export const f32 = (value: number): Field => ({ kind: "f32", value });
export const ref = (value: FbObject): Field => ({ kind: "ref", value });
export const table = (fields: (Field | undefined)[]): FbObject => ({ t: "table", fields });
export const tables = (items: FbObject[]): FbObject => ({ t: "tables", items });
export const str = (s: string): FbObject => ({ t: "string", s });
export function i32s(values: number[]): FbObject {
  const data = new Uint8Array(4 * values.length);
  const v = new DataView(data.buffer);
  values.forEach((x, k) => v.setInt32(4 * k, x, true));
  return { t: "bytes", count: values.length, data, align: 4 };
}
export function f32s(values: number[]): FbObject {
  const data = new Uint8Array(4 * values.length);
  const v = new DataView(data.buffer);
  values.forEach((x, k) => v.setFloat32(4 * k, x, true));
  return { t: "bytes", count: values.length, data, align: 4 };
}
export function i64s(values: number[]): FbObject {
  const data = new Uint8Array(8 * values.length);
  const v = new DataView(data.buffer);
  values.forEach((x, k) => v.setBigInt64(8 * k, BigInt(x), true));
  return { t: "bytes", count: values.length, data, align: 8 };
}
export const ubytes = (data: Uint8Array): FbObject => ({ t: "bytes", count: data.length, data, align: 16 });

class Out {
  /** Where each object was written: written once, every later reference points at it (shared tables, as a hostile file may have). */
  written = new Map<FbObject, number>();
  bytes = new Uint8Array(1024);
  view = new DataView(this.bytes.buffer);
  size = 0;
  reserve(n: number, align = 1): number {
    while (this.size % align !== 0) this.size++;
    const at = this.size;
    this.size += n;
    if (this.size > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.size, 2 * this.bytes.length));
      grown.set(this.bytes);
      this.bytes = grown;
      this.view = new DataView(grown.buffer);
    }
    return at;
  }
}

/** Writes `obj` at the end of `out` (once) and returns its position (a table's, past its vtable). */
function write(out: Out, obj: FbObject): number {
  const done = out.written.get(obj);
  if (done !== undefined) return done;
  const at = writeNew(out, obj);
  out.written.set(obj, at);
  return at;
}

function writeNew(out: Out, obj: FbObject): number {
  if (obj.t === "string") {
    const b = new TextEncoder().encode(obj.s);
    const at = out.reserve(4 + b.length + 1, 4);
    out.view.setUint32(at, b.length, true);
    out.bytes.set(b, at + 4);
    return at;
  }
  if (obj.t === "bytes") {
    // The elements (not the count) aligned as the schema's force_align asks.
    while ((out.size + 4) % obj.align !== 0) out.size++;
    const at = out.reserve(4 + obj.data.length);
    out.view.setUint32(at, obj.count, true);
    out.bytes.set(obj.data, at + 4);
    return at;
  }
  if (obj.t === "tables") {
    const at = out.reserve(4 + 4 * obj.items.length, 4);
    out.view.setUint32(at, obj.items.length, true);
    obj.items.forEach((item, k) => {
      const slot = at + 4 + 4 * k;
      const target = write(out, item);
      out.view.setUint32(slot, target - slot, true);
    });
    return at;
  }
  // A table: vtable, then the table (soffset to the vtable, then the fields at their widths).
  const present = obj.fields.map((f, id) => ({ f, id })).filter((e): e is { f: Field; id: number } => e.f !== undefined);
  let offset = 4;
  const offsets = new Map<number, number>();
  for (const { f, id } of present) {
    const w = WIDTH[f.kind];
    while (offset % w !== 0) offset++;
    offsets.set(id, offset);
    offset += w;
  }
  const tableSize = offset;
  const vtableSize = 4 + 2 * obj.fields.length;
  const vt = out.reserve(vtableSize, 2);
  while ((out.size % 4) !== 0) out.size++;
  const at = out.reserve(tableSize, 4);
  out.view.setUint16(vt, vtableSize, true);
  out.view.setUint16(vt + 2, tableSize, true);
  obj.fields.forEach((_, id) => out.view.setUint16(vt + 4 + 2 * id, offsets.get(id) ?? 0, true));
  out.view.setInt32(at, at - vt, true);
  const refs: { slot: number; value: FbObject }[] = [];
  for (const { f, id } of present) {
    const p = at + offsets.get(id)!;
    if (f.kind === "ref") refs.push({ slot: p, value: f.value });
    else if (f.kind === "u8") out.view.setUint8(p, f.value);
    else if (f.kind === "i8") out.view.setInt8(p, f.value);
    else if (f.kind === "i32") out.view.setInt32(p, f.value, true);
    else if (f.kind === "u32") out.view.setUint32(p, f.value, true);
    else out.view.setFloat32(p, f.value, true);
  }
  for (const { slot, value } of refs) {
    const target = write(out, value);
    out.view.setUint32(slot, target - slot, true);
  }
  return at;
}

/** A whole flatbuffer: the root offset, the `TFL3` identifier, then `root`. */
export function flatbuffer(root: FbObject, identifier = "TFL3"): Uint8Array {
  const out = new Out();
  out.reserve(8);
  new TextEncoder().encode(identifier).forEach((c, k) => out.view.setUint8(4 + k, c));
  const at = write(out, root);
  out.view.setUint32(0, at, true);
  return out.bytes.slice(0, out.size);
}

// ---------------------------------------------------------------------------
// A fused LSTM from Keras weights
// ---------------------------------------------------------------------------

export const TFL = { FLOAT32: 0, FLOAT16: 1, INT32: 2, INT8: 9, DEQUANTIZE: 6, UNIDIRECTIONAL_SEQUENCE_LSTM: 44, WHILE: 119, VAR_HANDLE: 142, READ_VARIABLE: 143, CUSTOM: 32 };

export interface KerasLstmWeights {
  units: number;
  input: number;
  /** (input, 4u), (u, 4u), (4u), row-major, gates i, f, c, o. */
  kernel: ArrayLike<number>;
  recurrentKernel: ArrayLike<number>;
  bias: ArrayLike<number>;
}

/** How the weight matrices are stored: float32, float16 behind DEQUANTIZE ops, or int8 (per tensor or per unit) with int32 biases. */
export type Storage = "float32" | "float16" | "int8" | "int8-per-channel";

/** The quantization the writer chose for one stored tensor, to check the reader's dequantization against. */
export interface StoredTensor {
  role: string;
  gate: number;
  /** [units, cols] or [units]. */
  shape: number[];
  values: number[];
  scales?: number[];
}

export function halfBits(x: number): number {
  // Round-to-nearest-even float32 → float16 (finite values in range only, as the tests use).
  const f = new Float32Array([x]);
  const b = new Uint32Array(f.buffer)[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = ((b >>> 23) & 0xff) - 127 + 15;
  const mant = b & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >>> (1 - exp);
    const rounded = (m + 0xfff + ((m >>> 13) & 1)) >>> 13;
    return sign | rounded;
  }
  const rounded = (mant + 0xfff + ((mant >>> 13) & 1)) >>> 13;
  return sign | ((exp << 10) + rounded);
}

/**
 * A TFLite model of one UNIDIRECTIONAL_SEQUENCE_LSTM with the Keras layer's weights: gate g's
 * input_to weights are kernel[:, g·u:(g+1)·u] transposed to [u, input], and so on.
 */
export function lstmTflite(w: KerasLstmWeights, storage: Storage, options: { activation?: number; cellClip?: number } = {}): { bytes: Uint8Array; stored: StoredTensor[] } {
  const { units: u, input } = w;
  const width = 4 * u;
  const tensors: FbObject[] = [];
  const buffers: FbObject[] = [table([])]; // buffer 0: the empty sentinel
  const operators: FbObject[] = [];
  const stored: StoredTensor[] = [];
  const addBuffer = (data: Uint8Array) => {
    buffers.push(table([ref(ubytes(data))]));
    return buffers.length - 1;
  };
  const addTensor = (name: string, shape: number[], type: number, buffer: number, quant?: { scale: number[]; zero: number[]; dim: number }, variable = false) => {
    const q = quant ? table([undefined, undefined, ref(f32s(quant.scale)), ref(i64s(quant.zero)), undefined, undefined, i32(quant.dim)]) : undefined;
    tensors.push(table([ref(i32s(shape)), i8(type), u32(buffer), ref(str(name)), q ? ref(q) : undefined, variable ? u8(1) : undefined]));
    return tensors.length - 1;
  };
  const floats = (values: number[]) => {
    const b = new Uint8Array(4 * values.length);
    const v = new DataView(b.buffer);
    values.forEach((x, k) => v.setFloat32(4 * k, x, true));
    return b;
  };
  const x = addTensor("serving_default_input:0", [1, 3, input], TFL.FLOAT32, 0);
  const gateMatrix = (src: ArrayLike<number>, rows: number, g: number) => {
    const out: number[] = [];
    for (let j = 0; j < u; j++) for (let k = 0; k < rows; k++) out.push(src[k * width + g * u + j]);
    return out;
  };
  const weightTensor = (role: string, g: number, values: number[], cols: number): number => {
    const shape = [u, cols];
    const name = `${role}_${"ifco"[g]}`;
    if (storage === "float32") {
      stored.push({ role, gate: g, shape, values });
      return addTensor(name, shape, TFL.FLOAT32, addBuffer(floats(values)));
    }
    if (storage === "float16") {
      const bits = values.map(halfBits);
      const b = new Uint8Array(2 * values.length);
      const v = new DataView(b.buffer);
      bits.forEach((h, k) => v.setUint16(2 * k, h, true));
      const half = addTensor(`${name}_fp16`, shape, TFL.FLOAT16, addBuffer(b));
      const out = addTensor(name, shape, TFL.FLOAT32, 0);
      operators.push(table([u32(0), ref(i32s([half])), ref(i32s([out]))]));
      stored.push({ role, gate: g, shape, values: bits });
      return out;
    }
    // Symmetric int8 (zero point 0), as the converter quantizes weights: scale = max|w| / 127, per tensor or per unit (row).
    const perChannel = storage === "int8-per-channel";
    const scales = perChannel
      ? Array.from({ length: u }, (_, j) => Math.fround(Math.max(...values.slice(j * cols, (j + 1) * cols).map(Math.abs), 1e-6) / 127))
      : [Math.fround(Math.max(...values.map(Math.abs), 1e-6) / 127)];
    const q = new Int8Array(values.length);
    values.forEach((v, k) => (q[k] = Math.max(-127, Math.min(127, Math.round(v / scales[perChannel ? Math.floor(k / cols) : 0])))));
    stored.push({ role, gate: g, shape, values: Array.from(q), scales });
    return addTensor(name, shape, TFL.INT8, addBuffer(new Uint8Array(q.buffer)), { scale: scales, zero: scales.map(() => 0), dim: 0 });
  };
  const biasTensor = (g: number): number => {
    const values = Array.from({ length: u }, (_, j) => w.bias[g * u + j]);
    const name = `bias_${"ifco"[g]}`;
    if (storage === "int8" || storage === "int8-per-channel") {
      const scale = Math.fround(Math.max(...values.map(Math.abs), 1e-6) / 2 ** 20);
      const q = Int32Array.from(values, (v) => Math.round(v / scale));
      stored.push({ role: "bias", gate: g, shape: [u], values: Array.from(q), scales: [scale] });
      return addTensor(name, [u], TFL.INT32, addBuffer(new Uint8Array(q.buffer)), { scale: [scale], zero: [0], dim: 0 });
    }
    stored.push({ role: "bias", gate: g, shape: [u], values });
    return addTensor(name, [u], TFL.FLOAT32, addBuffer(floats(values)));
  };
  const kernels = [0, 1, 2, 3].map((g) => weightTensor("kernel", g, gateMatrix(w.kernel, input, g), input));
  const recurrent = [0, 1, 2, 3].map((g) => weightTensor("recurrent_kernel", g, gateMatrix(w.recurrentKernel, u, g), u));
  const biases = [0, 1, 2, 3].map(biasTensor);
  const h = addTensor("model/sequential/lstm/zeros", [1, u], TFL.FLOAT32, 0, undefined, true);
  const c = addTensor("model/sequential/lstm/zeros1", [1, u], TFL.FLOAT32, 0, undefined, true);
  const y = addTensor("StatefulPartitionedCall:0", [1, 3, u], TFL.FLOAT32, 0);
  const inputs = [x, ...kernels, ...recurrent, -1, -1, -1, ...biases, -1, -1, h, c, -1, -1, -1, -1];
  const lstmOptions = table([i8(options.activation ?? 4), f32(options.cellClip ?? 10), f32(0)]);
  operators.push(table([u32(1), ref(i32s(inputs)), ref(i32s([y])), u8(71), ref(lstmOptions)]));
  const opcodes = [
    table([i8(TFL.DEQUANTIZE), undefined, i32(1), i32(TFL.DEQUANTIZE)]),
    table([i8(TFL.UNIDIRECTIONAL_SEQUENCE_LSTM), undefined, i32(1), i32(TFL.UNIDIRECTIONAL_SEQUENCE_LSTM)]),
  ];
  const subgraph = table([ref(tables(tensors)), ref(i32s([x])), ref(i32s([y])), ref(tables(operators)), ref(str("main"))]);
  const model = table([u32(3), ref(tables(opcodes)), ref(tables([subgraph])), ref(str("written by a keras-inspect test")), ref(tables(buffers))]);
  return { bytes: flatbuffer(model), stored };
}
