/**
 * A ceiling on the growth of h5wasm's heap during one call, so that what a file declares,
 * not what its bytes turn out to hold, bounds the work of reading it.
 *
 * The HDF5 library's deflate filter (H5Zdeflate.c, H5Z__filter_deflate) inflates a chunk
 * into a buffer of the chunk's stored size and doubles it (H5MM_realloc) each time the
 * output fills it, until the stream ends; nothing compares the output with the chunk's
 * declared size. One 1 MB chunk whose stream inflates to 1 GB so cost 6 s and 1.1 GB of
 * memory before the library gave up at its 2 GB heap. A chunk's buffers are all the heap
 * a read needs beyond what it had, and the library's heap grows only through emscripten's
 * growMemory, which calls the grow method of the module's WebAssembly.Memory: refusing
 * that call past a ceiling makes the library's allocation fail, which its filter reports
 * as an error ("memory allocation failed for deflate uncompression"), so the read stops
 * after at most the ceiling's worth of output.
 *
 * The method is replaced on WebAssembly.Memory's prototype, not on the instance, so the
 * ceiling holds however h5wasm was loaded (tests import it before this module, and a
 * trap gives a fresh instance). Outside `withHeapCeiling`, and for any other memory, it
 * is the original method.
 */

interface GrowableMemory {
  grow(pages: number): number;
  readonly buffer: ArrayBuffer;
}

const WASM_PAGE = 65536;
const MemoryClass = (globalThis as unknown as { WebAssembly: { Memory: { prototype: GrowableMemory } } }).WebAssembly.Memory;
const originalGrow = MemoryClass.prototype.grow;

/** The heap whose growth is bounded now (its buffer: a memory's buffer changes only when it grows), and how far it may grow. */
let bounded: { buffer: ArrayBufferLike; ceiling: number; refused: number } | undefined;

function boundedGrow(this: GrowableMemory, pages: number): number {
  const b = bounded;
  if (b && this.buffer === b.buffer) {
    const size = this.buffer.byteLength + pages * WASM_PAGE;
    if (size > b.ceiling) {
      b.refused = Math.max(b.refused, size);
      // What Memory.grow throws past its maximum: emscripten's growMemory catches it and reports failure to malloc.
      throw new RangeError("WebAssembly.Memory.grow(): refused past the heap ceiling of this read");
    }
    const result = originalGrow.call(this, pages);
    b.buffer = this.buffer;
    return result;
  }
  return originalGrow.call(this, pages);
}

MemoryClass.prototype.grow = boundedGrow;

/** What `withHeapCeiling` saw: whether growth was refused, and the largest heap size asked for. */
export interface HeapCeilingReport {
  refused: boolean;
  /** Largest heap size (bytes) refused, 0 when none. */
  asked: number;
}

/**
 * Runs `fn` (one synchronous call into the module whose heap is `heap`, e.g. h5wasm's
 * HEAPU8) with the heap allowed to grow by at most `growth` bytes. `report` is filled in
 * before `fn`'s result or error leaves, so a caller can tell an allocation the ceiling
 * refused from any other failure. Calls do not nest: an inner call replaces the ceiling
 * for its duration.
 */
export function withHeapCeiling<T>(heap: Uint8Array, growth: number, report: HeapCeilingReport, fn: () => T): T {
  const outer = bounded;
  const state = { buffer: heap.buffer, ceiling: heap.buffer.byteLength + Math.max(0, growth), refused: 0 };
  bounded = state;
  try {
    return fn();
  } finally {
    bounded = outer;
    report.refused = state.refused > 0;
    report.asked = state.refused;
  }
}
