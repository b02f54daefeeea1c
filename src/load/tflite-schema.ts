/**
 * A reader of the TFLite flatbuffer (tensorflow/lite/schema/schema.fbs), for the few tables
 * keras-inspect needs: Model, OperatorCode, SubGraph, Tensor, QuantizationParameters, Buffer,
 * Operator and the options of the fused recurrent ops. Written here from the schema's field
 * order (a table's fields are numbered in declaration order; a union takes two numbers, its
 * type byte then its table), not generated: the flatbuffers runtime trusts its input, and a
 * TFLite file is untrusted bytes.
 *
 * Flatbuffer facts used (flatbuffers' "internals" doc):
 * - the root: a uoffset_t (u32, little-endian) at byte 0 to the root table; bytes 4..8 hold
 *   the file identifier, "TFL3" for TFLite;
 * - a table at `t` starts with a soffset_t (i32) to its vtable at `t - i32(t)`; the vtable is
 *   u16 vtable size, u16 table size, then one u16 per field: the field's offset in the
 *   table, 0 where the field is absent (and takes its default);
 * - a field holding a table, vector or string holds a uoffset_t relative to the field's own
 *   position; a vector (and a string) is a u32 element count followed by the elements.
 *
 * Every offset and length is checked against the buffer before it is read, and a vector's
 * element count against the bytes left after it, so nothing is allocated for a claim the
 * file cannot back. The schema is read at its fixed depth (Model → SubGraph → Tensor →
 * QuantizationParameters), never by following references generically, so a cyclic or deeply
 * nested file cannot make the reader recurse or loop: it reads each table it needs once. Tables
 * shared by many references (a DAG that would multiply the work) are bounded by a budget of
 * decoded elements proportional to the file's size.
 */

export class FlatbufferError extends Error {}

/** Most entries in one vector of tables we decode (tensors, operators, buffers): a bound on work, far above real models. */
export const MAX_TABLE_VECTOR = 1_000_000;

export class Table {
  constructor(
    readonly fb: Flatbuffer,
    readonly pos: number,
    private readonly vtable: number,
    private readonly vtableSize: number,
    private readonly tableSize: number,
  ) {}

  /** The absolute position of field `id` of `width` bytes, or undefined when absent. */
  field(id: number, width: number): number | undefined {
    const entry = 4 + 2 * id;
    if (entry + 2 > this.vtableSize) return undefined;
    const off = this.fb.u16(this.vtable + entry);
    if (off === 0) return undefined;
    if (off + width > this.tableSize) throw new FlatbufferError(`a table at byte ${this.pos} puts field ${id} past its own end`);
    return this.pos + off;
  }

  u8(id: number, fallback: number): number {
    const at = this.field(id, 1);
    return at === undefined ? fallback : this.fb.u8(at);
  }

  i8(id: number, fallback: number): number {
    const at = this.field(id, 1);
    return at === undefined ? fallback : (this.fb.u8(at) << 24) >> 24;
  }

  i32(id: number, fallback: number): number {
    const at = this.field(id, 4);
    return at === undefined ? fallback : this.fb.i32(at);
  }

  u32(id: number, fallback: number): number {
    const at = this.field(id, 4);
    return at === undefined ? fallback : this.fb.u32(at);
  }

  f32(id: number, fallback: number): number {
    const at = this.field(id, 4);
    return at === undefined ? fallback : this.fb.f32(at);
  }

  /** A u64 field as a number; one past 2^53 is refused. */
  u64(id: number, fallback: number): number {
    const at = this.field(id, 8);
    return at === undefined ? fallback : this.fb.u64(at);
  }

  bool(id: number): boolean {
    return this.u8(id, 0) !== 0;
  }

  table(id: number): Table | undefined {
    const at = this.field(id, 4);
    return at === undefined ? undefined : this.fb.tableAt(this.fb.follow(at));
  }

  /** A vector field: where its elements start and how many there are (each `width` bytes). */
  vector(id: number, width: number): { start: number; length: number } | undefined {
    const at = this.field(id, 4);
    if (at === undefined) return undefined;
    const v = this.fb.follow(at);
    const length = this.fb.u32(v);
    const start = v + 4;
    if (length * width > this.fb.size - start) {
      throw new FlatbufferError(`a vector at byte ${v} claims ${length} elements of ${width} bytes, past the end of the file`);
    }
    this.fb.spend(length);
    return { start, length };
  }

  string(id: number): string | undefined {
    const v = this.vector(id, 1);
    return v === undefined ? undefined : new TextDecoder("utf-8").decode(this.fb.bytes.subarray(v.start, v.start + v.length));
  }

  i32s(id: number): number[] {
    const v = this.vector(id, 4);
    if (!v) return [];
    if (v.length > MAX_TABLE_VECTOR) throw new FlatbufferError(`a vector of ${v.length} integers is longer than this tool reads`);
    return Array.from({ length: v.length }, (_, k) => this.fb.i32(v.start + 4 * k));
  }

  f32s(id: number): number[] {
    const v = this.vector(id, 4);
    if (!v) return [];
    if (v.length > MAX_TABLE_VECTOR) throw new FlatbufferError(`a vector of ${v.length} floats is longer than this tool reads`);
    return Array.from({ length: v.length }, (_, k) => this.fb.f32(v.start + 4 * k));
  }

  i64s(id: number): number[] {
    const v = this.vector(id, 8);
    if (!v) return [];
    if (v.length > MAX_TABLE_VECTOR) throw new FlatbufferError(`a vector of ${v.length} integers is longer than this tool reads`);
    return Array.from({ length: v.length }, (_, k) => this.fb.i64(v.start + 8 * k));
  }

  tables(id: number): Table[] {
    const v = this.vector(id, 4);
    if (!v) return [];
    if (v.length > MAX_TABLE_VECTOR) throw new FlatbufferError(`a vector of ${v.length} tables is longer than this tool reads`);
    return Array.from({ length: v.length }, (_, k) => this.fb.tableAt(this.fb.follow(v.start + 4 * k)));
  }
}

export class Flatbuffer {
  private readonly view: DataView;
  readonly size: number;
  /** Vector elements decoded so far, against `budget`. */
  private work = 0;
  private readonly budget: number;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.size = bytes.byteLength;
    // Tables may be shared (every vector entry pointing at one big subgraph), so a small file
    // could make a reader decode the same elements over and over; a real file decodes each once.
    this.budget = 4 * bytes.byteLength + 100_000;
  }

  /** Counts `elements` decoded; refuses a file whose shared tables would have far more decoded than it holds. */
  spend(elements: number): void {
    this.work += elements;
    if (this.work > this.budget) {
      throw new FlatbufferError(`its tables refer to the same data over and over (over ${this.budget} elements to decode from ${this.size} bytes)`);
    }
  }

  private check(at: number, width: number): void {
    if (!Number.isSafeInteger(at) || at < 0 || at + width > this.size) {
      throw new FlatbufferError(`an offset points to byte ${at}, outside the ${this.size}-byte file`);
    }
  }

  u8(at: number): number {
    this.check(at, 1);
    return this.view.getUint8(at);
  }

  u16(at: number): number {
    this.check(at, 2);
    return this.view.getUint16(at, true);
  }

  i32(at: number): number {
    this.check(at, 4);
    return this.view.getInt32(at, true);
  }

  u32(at: number): number {
    this.check(at, 4);
    return this.view.getUint32(at, true);
  }

  f32(at: number): number {
    this.check(at, 4);
    return this.view.getFloat32(at, true);
  }

  u64(at: number): number {
    this.check(at, 8);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new FlatbufferError(`a 64-bit field at byte ${at} holds ${v}, too large to be an offset or size`);
    return Number(v);
  }

  i64(at: number): number {
    this.check(at, 8);
    const v = this.view.getBigInt64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < -BigInt(Number.MAX_SAFE_INTEGER)) throw new FlatbufferError(`a 64-bit integer at byte ${at} holds ${v}, out of range`);
    return Number(v);
  }

  /** The target of the uoffset_t stored at `at`. */
  follow(at: number): number {
    return at + this.u32(at);
  }

  tableAt(pos: number): Table {
    this.check(pos, 4);
    const vtable = pos - this.i32(pos);
    this.check(vtable, 4);
    const vtableSize = this.u16(vtable);
    const tableSize = this.u16(vtable + 2);
    if (vtableSize < 4 || vtableSize % 2 !== 0) throw new FlatbufferError(`the table at byte ${pos} has a vtable of ${vtableSize} bytes`);
    this.check(vtable, vtableSize);
    if (tableSize < 4) throw new FlatbufferError(`the table at byte ${pos} claims ${tableSize} bytes`);
    this.check(pos, tableSize);
    return new Table(this, pos, vtable, vtableSize, tableSize);
  }

  root(): Table {
    return this.tableAt(this.follow(0));
  }
}

// ---------------------------------------------------------------------------
// The TFLite schema (schema.fbs), the parts read here
// ---------------------------------------------------------------------------

/** `TFL3` at bytes 4..8. */
export function hasTfliteIdentifier(head: ArrayLike<number>): boolean {
  return head.length >= 8 && head[4] === 0x54 && head[5] === 0x46 && head[6] === 0x4c && head[7] === 0x33;
}

/** enum TensorType : byte. */
export const TensorType = {
  FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, STRING: 5, BOOL: 6, INT16: 7, COMPLEX64: 8, INT8: 9,
  FLOAT64: 10, COMPLEX128: 11, UINT64: 12, RESOURCE: 13, VARIANT: 14, UINT32: 15, UINT16: 16, INT4: 17, BFLOAT16: 18,
} as const;
export const TENSOR_TYPE_NAMES: string[] = Object.keys(TensorType).map((k) => k.toLowerCase());

/** enum BuiltinOperator, the codes this tool names. */
export const Op = {
  DEQUANTIZE: 6,
  FULLY_CONNECTED: 9,
  LOGISTIC: 14,
  LSTM: 16,
  TANH: 28,
  CUSTOM: 32,
  UNIDIRECTIONAL_SEQUENCE_RNN: 35,
  UNIDIRECTIONAL_SEQUENCE_LSTM: 44,
  BIDIRECTIONAL_SEQUENCE_RNN: 46,
  BIDIRECTIONAL_SEQUENCE_LSTM: 52,
  WHILE: 119,
  CALL_ONCE: 129,
  VAR_HANDLE: 142,
  READ_VARIABLE: 143,
  ASSIGN_VARIABLE: 144,
} as const;
const OP_NAMES = new Map<number, string>(Object.entries(Op).map(([k, v]) => [v, k]));
Object.entries({ ADD: 0, CONCATENATION: 2, MUL: 18, RESHAPE: 22, SOFTMAX: 25, SPLIT: 49, TRANSPOSE: 39, STRIDED_SLICE: 45, QUANTIZE: 114, SHAPE: 77, PACK: 83, UNPACK: 88, GATHER: 36, SUB: 41, MEAN: 40, LESS: 58, LOGICAL_AND: 86, FILL: 94, BATCH_MATMUL: 126 }).forEach(([k, v]) => OP_NAMES.set(v, k));

/** enum ActivationFunctionType : byte. */
export const ACTIVATION_NAMES = ["NONE", "RELU", "RELU_N1_TO_1", "RELU6", "TANH", "SIGN_BIT"];

export interface TfliteOperatorCode {
  /** max(deprecated_builtin_code, builtin_code), as TFLite's GetBuiltinCode takes it. */
  builtin: number;
  custom?: string;
}

export interface TfliteQuantization {
  scale: number[];
  zeroPoint: number[];
  quantizedDimension: number;
}

export interface TfliteTensor {
  shape: number[];
  type: number;
  buffer: number;
  name: string;
  quantization?: TfliteQuantization;
  isVariable: boolean;
}

export interface TfliteOperator {
  opcodeIndex: number;
  inputs: number[];
  outputs: number[];
  optionsType: number;
  options?: Table;
}

export interface TfliteSubgraph {
  name: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
}

export interface TfliteBuffer {
  /** Bytes inside the flatbuffer (`data`), or, for files over 2 GiB, `offset`/`size` from the file's start. */
  start: number;
  length: number;
}

export interface TfliteModel {
  version: number;
  description: string;
  operatorCodes: TfliteOperatorCode[];
  subgraphs: TfliteSubgraph[];
  buffers: TfliteBuffer[];
}

export function opName(code: TfliteOperatorCode): string {
  if (code.builtin === Op.CUSTOM) return code.custom ? `custom ${JSON.stringify(code.custom.slice(0, 60))}` : "CUSTOM";
  return OP_NAMES.get(code.builtin) ?? `builtin op ${code.builtin}`;
}

/** Decodes the tables named above; a FlatbufferError says which offset or length was wrong. */
export function decodeTflite(bytes: Uint8Array): TfliteModel {
  const fb = new Flatbuffer(bytes);
  const model = fb.root();
  const operatorCodes = model.tables(1).map((t) => {
    const deprecated = t.i8(0, 0);
    const builtin = Math.max(deprecated, t.i32(3, 0));
    const custom = t.string(1);
    return custom === undefined ? { builtin } : { builtin, custom };
  });
  const subgraphs = model.tables(2).map((g): TfliteSubgraph => ({
    tensors: g.tables(0).map((t): TfliteTensor => {
      const q = t.table(4);
      const quantization = q ? { scale: q.f32s(2), zeroPoint: q.i64s(3), quantizedDimension: q.i32(6, 0) } : undefined;
      return {
        shape: t.i32s(0),
        type: t.i8(1, 0),
        buffer: t.u32(2, 0),
        name: t.string(3) ?? "",
        ...(quantization && quantization.scale.length > 0 ? { quantization } : {}),
        isVariable: t.bool(5),
      };
    }),
    inputs: g.i32s(1),
    outputs: g.i32s(2),
    operators: g.tables(3).map((o): TfliteOperator => {
      const options = o.table(4);
      return { opcodeIndex: o.u32(0, 0), inputs: o.i32s(1), outputs: o.i32s(2), optionsType: o.u8(3, 0), ...(options ? { options } : {}) };
    }),
    name: g.string(4) ?? "",
  }));
  const buffers = model.tables(4).map((b): TfliteBuffer => {
    const data = b.vector(0, 1);
    if (data && data.length > 0) return { start: data.start, length: data.length };
    const offset = b.u64(1, 0);
    const size = b.u64(2, 0);
    // offset 1 is the converter's placeholder for "no data"; real data lies past the flatbuffer.
    if (offset > 1 && size > 0) {
      if (offset + size > bytes.byteLength) throw new FlatbufferError(`a buffer claims bytes ${offset} to ${offset + size}, past the end of the ${bytes.byteLength}-byte file`);
      return { start: offset, length: size };
    }
    return { start: 0, length: 0 };
  });
  return { version: model.u32(0, 0), description: model.string(3) ?? "", operatorCodes, subgraphs, buffers };
}

/** UnidirectionalSequenceLSTMOptions. */
export interface SequenceLstmOptions {
  activation: number;
  cellClip: number;
  projClip: number;
  timeMajor: boolean;
}

export function sequenceLstmOptions(t: Table | undefined): SequenceLstmOptions {
  return {
    activation: t ? t.i8(0, 0) : 0,
    cellClip: t ? t.f32(1, 0) : 0,
    projClip: t ? t.f32(2, 0) : 0,
    timeMajor: t ? t.bool(3) : false,
  };
}
