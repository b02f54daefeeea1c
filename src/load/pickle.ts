/**
 * Reading numpy arrays out of a Python pickle without running it.
 *
 * Keras 3's NpzIOStore (keras/src/saving/saving_lib.py, Keras 3.15.1) saves each layer's
 * variables as a dict {"0": variable, "1": ...} and hands it to np.savez, which pickles
 * it (an object array) into a `.npy` member: what is pickled is the backend's variable
 * object (on JAX a keras Variable whose `_value` is rebuilt by jax._src.array._reconstruct_array
 * from a numpy array), so the values are numpy arrays somewhere inside. Unpickling would run
 * whatever the file names; this reader instead follows the pickle opcodes (Python's
 * Lib/pickletools.py documents them) and builds a tree: a global is a name, a call is the
 * name with its arguments, BUILD attaches the state. Nothing is imported or called. A
 * numpy array is the call numpy(._core|.core).multiarray._reconstruct(ndarray, ...) whose
 * state is (version, shape, dtype, fortran_order, raw bytes) and whose dtype is
 * numpy.dtype(code, False, True) with state (version, byte order, ...); those are decoded.
 * Opcodes that reach outside the pickle (persistent ids, extension registry) are refused.
 */

export interface PickleGlobal {
  kind: "global";
  name: string;
}

export interface PickleCall {
  kind: "call";
  fn: unknown;
  args: unknown[];
  state?: unknown;
}

/** A tuple or list is an array; a dict a Map; bytes a Uint8Array; ints numbers (bigints past 2^53). */
export type PickleValue = unknown;

const MAX_DEPTH = 256;

export class PickleError extends Error {}

/** Follows the opcodes of `bytes` (protocols 2 to 5) and returns the tree of the pickled object. */
export function readPickle(bytes: Uint8Array): PickleValue {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  let at = 0;
  const need = (n: number) => {
    if (at + n > bytes.length) throw new PickleError(`cut short at byte ${at}`);
  };
  const u8 = () => (need(1), bytes[at++]);
  const take = (n: number) => {
    if (!Number.isSafeInteger(n) || n < 0) throw new PickleError(`bad length ${n}`);
    need(n);
    const out = bytes.subarray(at, at + n);
    at += n;
    return out;
  };
  const u32 = () => (need(4), (at += 4), view.getUint32(at - 4, true));
  const u64 = () => {
    need(8);
    at += 8;
    const v = view.getBigUint64(at - 8, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new PickleError(`length ${v} too large`);
    return Number(v);
  };
  const utf8 = (b: Uint8Array) => new TextDecoder("utf-8").decode(b);
  const line = () => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) throw new PickleError("unterminated line");
    const text = utf8(bytes.subarray(at, end));
    at = end + 1;
    return text;
  };
  const pop = () => {
    if (stack.length === 0 || (marks.length > 0 && stack.length <= marks[marks.length - 1])) throw new PickleError(`stack underflow at byte ${at}`);
    return stack.pop();
  };
  const popMark = () => {
    const m = marks.pop();
    if (m === undefined) throw new PickleError(`no mark at byte ${at}`);
    return stack.splice(m);
  };
  const top = () => {
    if (stack.length === 0) throw new PickleError(`empty stack at byte ${at}`);
    return stack[stack.length - 1];
  };
  const setItems = (dict: unknown, items: unknown[]) => {
    if (!(dict instanceof Map)) throw new PickleError("SETITEM on a value that is not a dict");
    for (let k = 0; k + 1 < items.length; k += 2) dict.set(items[k], items[k + 1]);
  };
  const append = (list: unknown, items: unknown[]) => {
    if (!Array.isArray(list)) throw new PickleError("APPEND on a value that is not a list");
    for (const x of items) list.push(x);
  };
  for (;;) {
    const op = u8();
    switch (op) {
      case 0x80: u8(); break; // PROTO
      case 0x95: u64(); break; // FRAME: the length of what follows, read as it comes
      case 0x2e: // STOP
        if (stack.length !== 1) throw new PickleError(`STOP with ${stack.length} values on the stack`);
        return stack[0];
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x85: stack.push([pop()]); break; // TUPLE1
      case 0x86: { const b = pop(); const a = pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = pop(); const b = pop(); const a = pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x61: { const x = pop(); append(top(), [x]); break; } // APPEND
      case 0x65: { const items = popMark(); append(top(), items); break; } // APPENDS
      case 0x7d: stack.push(new Map()); break; // EMPTY_DICT
      case 0x64: { const items = popMark(); const d = new Map(); setItems(d, items); stack.push(d); break; } // DICT
      case 0x73: { const v = pop(); const k = pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x8f: stack.push([]); break; // EMPTY_SET (as a list)
      case 0x90: { const items = popMark(); append(top(), items); break; } // ADDITEMS
      case 0x91: stack.push(popMark()); break; // FROZENSET
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: need(4); stack.push(view.getInt32(at, true)); at += 4; break; // BININT
      case 0x4b: stack.push(u8()); break; // BININT1
      case 0x4d: need(2); stack.push(view.getUint16(at, true)); at += 2; break; // BININT2
      case 0x8a: { // LONG1
        const n = u8();
        const b = take(n);
        let v = 0n;
        for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
        if (n > 0 && b[n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: need(8); stack.push(view.getFloat64(at, false)); at += 8; break; // BINFLOAT
      case 0x8c: stack.push(utf8(take(u8()))); break; // SHORT_BINUNICODE
      case 0x58: stack.push(utf8(take(u32()))); break; // BINUNICODE
      case 0x8d: stack.push(utf8(take(u64()))); break; // BINUNICODE8
      case 0x55: stack.push(new TextDecoder("latin1").decode(take(u8()))); break; // SHORT_BINSTRING
      case 0x54: stack.push(new TextDecoder("latin1").decode(take(u32()))); break; // BINSTRING
      case 0x43: stack.push(take(u8())); break; // SHORT_BINBYTES
      case 0x42: stack.push(take(u32())); break; // BINBYTES
      case 0x8e: stack.push(take(u64())); break; // BINBYTES8
      case 0x96: stack.push(take(u64())); break; // BYTEARRAY8
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x71: memo.set(u8(), top()); break; // BINPUT
      case 0x72: memo.set(u32(), top()); break; // LONG_BINPUT
      case 0x68: case 0x6a: { // BINGET, LONG_BINGET
        const k = op === 0x68 ? u8() : u32();
        if (!memo.has(k)) throw new PickleError(`memo ${k} is not set`);
        stack.push(memo.get(k));
        break;
      }
      case 0x63: { const module = line(); const name = line(); stack.push({ kind: "global", name: `${module}.${name}` } satisfies PickleGlobal); break; } // GLOBAL
      case 0x93: { // STACK_GLOBAL
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string") throw new PickleError("STACK_GLOBAL without two names");
        stack.push({ kind: "global", name: `${module}.${name}` } satisfies PickleGlobal);
        break;
      }
      case 0x52: { const args = pop(); const fn = pop(); stack.push({ kind: "call", fn, args: Array.isArray(args) ? args : [args] } satisfies PickleCall); break; } // REDUCE
      case 0x81: { const args = pop(); const cls = pop(); stack.push({ kind: "call", fn: cls, args: Array.isArray(args) ? args : [args] } satisfies PickleCall); break; } // NEWOBJ
      case 0x92: { const kwargs = pop(); const args = pop(); const cls = pop(); stack.push({ kind: "call", fn: cls, args: [...(Array.isArray(args) ? args : [args]), kwargs] } satisfies PickleCall); break; } // NEWOBJ_EX
      case 0x62: { // BUILD
        const state = pop();
        const obj = top();
        if (obj && typeof obj === "object" && (obj as PickleCall).kind === "call") (obj as PickleCall).state = state;
        else throw new PickleError("BUILD on a value that is not an object");
        break;
      }
      case 0x30: pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x50: case 0x51: throw new PickleError("it refers to data outside the pickle (a persistent id)");
      case 0x82: case 0x83: case 0x84: throw new PickleError("it uses the extension registry");
      default:
        throw new PickleError(`opcode 0x${op.toString(16)} at byte ${at - 1} is not one numpy and Keras write`);
    }
  }
}

export interface PickledArray {
  /** numpy's type code: f2, f4, f8, i4, ...; bf16 for ml_dtypes.bfloat16. */
  code: string;
  littleEndian: boolean;
  shape: number[];
  fortran: boolean;
  data: Uint8Array;
}

const isCall = (v: unknown): v is PickleCall => !!v && typeof v === "object" && (v as PickleCall).kind === "call";
const globalName = (v: unknown) => (v && typeof v === "object" && (v as PickleGlobal).kind === "global" ? (v as PickleGlobal).name : undefined);
const RECONSTRUCT = new Set(["numpy._core.multiarray._reconstruct", "numpy.core.multiarray._reconstruct"]);

/** The numeric numpy array a node is, if it is one. */
export function asArray(v: unknown): PickledArray | undefined {
  if (!isCall(v) || !RECONSTRUCT.has(globalName(v.fn) ?? "")) return undefined;
  const state = v.state;
  if (!Array.isArray(state) || state.length < 5) return undefined;
  const [, shape, dtype, fortran, data] = state;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) return undefined;
  if (!isCall(dtype) || globalName(dtype.fn) !== "numpy.dtype") return undefined;
  // A numpy type code ("f4"), or a type class: ml_dtypes' bfloat16 (Keras' bfloat16 variables) is "bf16" here.
  const kind = dtype.args[0];
  const code = typeof kind === "string" ? kind : globalName(kind) === "ml_dtypes.bfloat16" ? "bf16" : undefined;
  if (code === undefined) return undefined;
  if (!(data instanceof Uint8Array)) return undefined; // object arrays hold a list
  const order = Array.isArray(dtype.state) ? dtype.state[1] : "|";
  return { code, littleEndian: order !== ">", shape: shape as number[], fortran: fortran === true, data };
}

/**
 * The numeric arrays inside `v`, depth first, a state's `_value` before its other
 * entries (a Keras variable keeps its value there), and any object array's elements.
 */
export function arraysIn(v: unknown, depth = 0, out: PickledArray[] = [], seen = new Set<unknown>()): PickledArray[] {
  if (depth > MAX_DEPTH || v === null || typeof v !== "object" || seen.has(v)) return out;
  seen.add(v);
  const found = asArray(v);
  if (found) {
    out.push(found);
    return out;
  }
  if (Array.isArray(v)) {
    // JAX pickles an array as _reconstruct_array(fun, args, arr_state, aval_state): numpy's
    // _reconstruct, its arguments and the array's state, handed over uncalled.
    if (v.length >= 3 && RECONSTRUCT.has(globalName(v[0]) ?? "")) {
      const array = asArray({ kind: "call", fn: v[0], args: Array.isArray(v[1]) ? v[1] : [], state: v[2] } satisfies PickleCall);
      if (array) {
        out.push(array);
        return out;
      }
    }
    for (const x of v) arraysIn(x, depth + 1, out, seen);
  }
  else if (v instanceof Map) {
    if (v.has("_value")) arraysIn(v.get("_value"), depth + 1, out, seen);
    for (const [k, x] of v) if (k !== "_value") arraysIn(x, depth + 1, out, seen);
  } else if (isCall(v)) {
    // An object array: its elements are the state's last item.
    arraysIn(v.state, depth + 1, out, seen);
    arraysIn(v.args, depth + 1, out, seen);
  }
  return out;
}
