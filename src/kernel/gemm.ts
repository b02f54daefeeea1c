/**
 * The WebAssembly SIMD kernel (gemm.wat) and the memory it works in.
 *
 * One product: out = x·w, x (rows × depth), w packed in panels (see gemm.wat), every
 * output summed in order of d with each product and partial sum rounded to the element
 * type: bit for bit what `dotColumns` (layers/recurrent.ts) computes.
 *
 * The module is compiled on first use, so commands that evaluate nothing never pay for it.
 */
import { InspectError } from "../errors.js";
import type { EvalDType, Floats } from "../eval/trace.js";
import { GEMM_WASM_BASE64 } from "./gemm-wasm.js";

export type { Floats };

/** Bytes of one panel row: 32 float32 or 16 float64 columns. */
const PANEL_BYTES = 128;
const PAGE = 65536;
/** Rows of x per kernel call (see Workspace.gemm). */
const ROWS_PER_CALL = 8;
/** wasm32 addresses 4 GiB; V8 allows a memory of that size. */
const MAX_BYTES = 4 * 1024 * 1024 * 1024;

// The lib this project compiles against (ES2022, Node's types) does not declare WebAssembly's JS API.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
};

interface GemmExports {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  gemm_f32(x: number, rows: number, depth: number, w: number, panels: number, out: number): void;
  gemm_f64(x: number, rows: number, depth: number, w: number, panels: number, out: number): void;
}

let compiled: GemmExports | undefined;
/** Incremented by every new Workspace: only the newest may use the shared memory. */
let generation = 0;

function kernel(): GemmExports {
  if (!compiled) {
    const module = new WebAssembly.Module(Buffer.from(GEMM_WASM_BASE64, "base64"));
    compiled = new WebAssembly.Instance(module, {}).exports as unknown as GemmExports;
  }
  return compiled;
}

/** A matrix packed into panels in the kernel's memory. */
export interface PackedMatrix {
  /** Byte offset of panel 0. */
  ptr: number;
  rows: number;
  cols: number;
  panels: number;
  /** Row stride of a product's output, in elements: panels × panel width. */
  outWidth: number;
}

/**
 * One evaluation's regions of the kernel's memory. Regions are reserved first, then the
 * memory is grown once (`commit`) and views made: growing it later would detach every
 * view, so a workspace is planned whole. Workspaces share one memory: making a new one
 * retires the previous (using a retired one is a bug, and throws).
 */
export class Workspace {
  /** Panel width in elements. */
  readonly width: number;
  readonly elementBytes: 4 | 8;
  private top = 0;
  private committed = false;
  private readonly generation: number;
  private readonly k: GemmExports;

  constructor(readonly dtype: EvalDType) {
    this.elementBytes = dtype === "float32" ? 4 : 8;
    this.width = panelWidth(dtype);
    this.k = kernel();
    this.generation = ++generation;
  }

  /** Reserves `elements` values, 16-byte aligned; returns the byte offset. */
  reserve(elements: number): number {
    if (this.committed) throw new Error("Workspace.reserve after commit");
    const ptr = this.top;
    this.top += Math.ceil((elements * this.elementBytes) / 16) * 16;
    if (this.top > MAX_BYTES) {
      throw new InspectError(`this evaluation needs ${(this.top / 2 ** 30).toFixed(1)} GiB of kernel memory, more than WebAssembly's 4 GiB`);
    }
    return ptr;
  }

  /** Reserves a (rows × cols) matrix in packed panels. */
  matrix(rows: number, cols: number): PackedMatrix {
    const panels = Math.ceil(cols / this.width);
    return { ptr: this.reserve(rows * panels * this.width), rows, cols, panels, outWidth: panels * this.width };
  }

  /** Grows the memory to hold every reserved region. */
  commit(): void {
    this.check();
    const memory = this.k.memory;
    const need = Math.ceil(this.top / PAGE) - memory.buffer.byteLength / PAGE;
    if (need > 0) {
      try {
        memory.grow(need);
      } catch {
        throw new InspectError(`could not allocate ${(this.top / 2 ** 20).toFixed(0)} MiB of kernel memory for this evaluation`);
      }
    }
    this.committed = true;
  }

  /** A typed view of `length` elements at byte offset `ptr` (valid until the next workspace commits). */
  view(ptr: number, length: number): Floats {
    this.check();
    if (!this.committed) throw new Error("Workspace.view before commit");
    const buffer = this.k.memory.buffer;
    return this.dtype === "float32" ? new Float32Array(buffer, ptr, length) : new Float64Array(buffer, ptr, length);
  }

  /** Copies a matrix packed by `packPanels` (for this dtype) into `m`. */
  load(m: PackedMatrix, packed: Floats): void {
    this.view(m.ptr, m.rows * m.outWidth).set(packed);
  }

  /** out (rows × m.outWidth) = x (rows × m.rows) · m, at byte offsets xPtr and outPtr. */
  gemm(xPtr: number, rows: number, m: PackedMatrix, outPtr: number): void {
    this.check();
    const f = this.dtype === "float32" ? this.k.gemm_f32 : this.k.gemm_f64;
    // A few rows a call: V8 first runs WebAssembly from its baseline compiler and swaps in
    // optimized code between calls (never inside one), so one long call would run unoptimized.
    const rowBytes = m.rows * this.elementBytes;
    const outBytes = m.outWidth * this.elementBytes;
    for (let r = 0; r < rows; r += ROWS_PER_CALL) {
      f(xPtr + r * rowBytes, Math.min(ROWS_PER_CALL, rows - r), m.rows, m.ptr, m.panels, outPtr + r * outBytes);
    }
  }

  private check(): void {
    if (this.generation !== generation) throw new Error("a retired kernel Workspace was used after a newer one was made");
  }
}

/** Panel width in elements for a dtype: 32 float32 or 16 float64 columns. */
export function panelWidth(dtype: EvalDType): number {
  return PANEL_BYTES / (dtype === "float32" ? 4 : 8);
}

/**
 * Columns [col0, col0 + cols) of a row-major (rows × srcCols) matrix, in the kernel's
 * panel layout for `dtype` (zeros past the last column): what Workspace.load copies in.
 */
export function packPanels(src: ArrayLike<number>, rows: number, srcCols: number, col0: number, cols: number, dtype: EvalDType): Floats {
  const w = panelWidth(dtype);
  const panels = Math.ceil(cols / w);
  const dst = dtype === "float32" ? new Float32Array(rows * panels * w) : new Float64Array(rows * panels * w);
  let o = 0;
  for (let p = 0; p < panels; p++) {
    const first = p * w;
    const n = Math.min(w, cols - first);
    for (let d = 0; d < rows; d++) {
      const row = d * srcCols + col0 + first;
      for (let k = 0; k < n; k++) dst[o + k] = src[row + k];
      o += w;
    }
  }
  return dst;
}
