/**
 * HDF5 metadata checked on the raw bytes before the HDF5 library reads it: the places
 * where the library (2.0.0, compiled to wasm) trusts a field enough to allocate by it or
 * to read memory it never wrote.
 *
 * - Variable-length strings (`model_config`, `keras_version`, Keras 3's `name` on `vars`
 *   groups...). On disk such a value is a reference: a 4-byte length, then the address of a
 *   global heap collection and an object index in it (HDF5 File Format Specification 3.0,
 *   IV.A.2.j and III.E). HDF5 allocates a buffer of the recorded length before it looks at
 *   the heap object (in the fuzz suite: 775 MB and 7 seconds for a 21 KB file, or "memory
 *   allocation failed" past 2 GB), then copies the heap object into it. Every reference must
 *   point at an existing heap object of exactly the recorded length.
 * - Datatypes of attributes and datasets (IV.A.2.d). A variable-length type whose size
 *   field is not the 16 bytes of its reference, or a fixed type whose elements do not fit
 *   the attribute message, made HDF5 read uninitialized memory: the same file gave a
 *   different error on each try, sometimes a wasm trap ("memory access out of bounds")
 *   that left the library broken for later files, and a hang. Classes Keras never writes
 *   and whose decoding walks nested structures (compound, array, reference...) are refused.
 * - Dataspaces: at most 32 dimensions, as HDF5 allows.
 * - Lengths HDF5 allocates a buffer by before reading: object header blocks and their
 *   continuations, local heap data segments, global heap collections. Each must lie
 *   inside the file (fuzz suite: 32 flipped bits in a continuation message made HDF5 try
 *   to allocate more than the 2 GB its heap can hold).
 *
 * Objects are found from the root: superblock v0-v3, object headers v1 and v2 (with
 * continuation blocks), symbol-table groups (v1 B-trees, symbol nodes) and link messages.
 * Dense link or attribute storage (fractal heaps) is not followed; h5py writes compact
 * storage for the small groups Keras files hold. The walk is bounded and never throws: it
 * answers with a description of the first problem, or undefined.
 */

import { inflateSync } from "node:zlib";
import type { PagedReader } from "./byte-source.js";
import { globalHeapLoopProblem, isGlobalHeapLoop } from "./hdf5-guard.js";

const MAX_STEPS = 2_000_000;

/** The file as the walk reads it: bytes through the page cache, with the superblock's sizes and base address. */
class Bytes {
  steps = 0;
  /** Bytes in the file. */
  readonly end: number;
  constructor(
    readonly b: PagedReader,
    readonly o: number,
    readonly l: number,
    /** Where the superblock is, which HDF5 takes as the base of every address. */
    readonly superblock: number,
  ) {
    this.end = b.size;
  }

  has(at: number, n: number): boolean {
    return Number.isSafeInteger(at) && at >= 0 && n >= 0 && at + n <= this.end;
  }

  u8(at: number): number {
    return this.b.u8(at);
  }

  u16(at: number): number {
    return this.b.u16(at);
  }

  u32(at: number): number {
    return this.b.u32(at);
  }

  /** Unsigned little-endian of n bytes as a number (exact below 2^53); -1 for the undefined address. */
  uN(at: number, n: number): number {
    let v = 0;
    let ones = true;
    for (let i = n - 1; i >= 0; i--) {
      const x = this.b.u8(at + i);
      if (x !== 0xff) ones = false;
      v = v * 256 + x;
    }
    return ones ? -1 : v;
  }

  tag(at: number, t: string): boolean {
    return this.has(at, 4) && this.u8(at) === t.charCodeAt(0) && this.u8(at + 1) === t.charCodeAt(1) && this.u8(at + 2) === t.charCodeAt(2) && this.u8(at + 3) === t.charCodeAt(3);
  }

  /** An address from the file, made absolute; -1 when undefined or outside the file. */
  addr(at: number): number {
    const a = this.uN(at, this.o);
    if (a < 0) return -1;
    const abs = this.superblock + a;
    return abs < this.end ? abs : -1;
  }
}

interface Message {
  type: number;
  at: number;
  size: number;
  flags: number;
}

/**
 * The first metadata problem found (see above), described in words; undefined if none.
 * `superblock` is where the signature is: as the HDF5 library does (H5F__super_read),
 * every address is taken relative to it, whatever base address the superblock records,
 * so a file behind a user block is walked where the library will read it.
 */
export function checkHdf5Metadata(bytes: PagedReader, superblock = 0, deflated?: Map<string, DeflatedChunks>): string | undefined {
  const version = bytes.u8(superblock + 8);
  let r: Bytes;
  let root: number;
  if (version === 0 || version === 1) {
    const o = bytes.u8(superblock + 13);
    const l = bytes.u8(superblock + 14);
    if (![2, 4, 8].includes(o) || ![2, 4, 8].includes(l)) return undefined;
    const p = superblock + 24 + (version === 1 ? 4 : 0);
    r = new Bytes(bytes, o, l, superblock);
    if (!r.has(p, 4 * o + 2 * o + 24)) return undefined;
    root = r.addr(p + 4 * o + o);
  } else if (version === 2 || version === 3) {
    const o = bytes.u8(superblock + 9);
    const l = bytes.u8(superblock + 10);
    if (![2, 4, 8].includes(o) || ![2, 4, 8].includes(l)) return undefined;
    r = new Bytes(bytes, o, l, superblock);
    if (!r.has(superblock + 12, 4 * o)) return undefined;
    root = r.addr(superblock + 12 + 3 * o);
  } else {
    return undefined;
  }
  if (root < 0) return undefined;
  const queue: { at: number; path: string }[] = [{ at: root, path: "/" }];
  const seen = new Set<number>();
  while (queue.length > 0) {
    const { at, path } = queue.shift()!;
    if (seen.has(at)) continue;
    seen.add(at);
    const badHeader = headerProblem(r, at, path);
    if (badHeader) return badHeader;
    const messages = objectMessages(r, at);
    if (deflated) {
      const chunks = deflatedChunks(r, messages);
      if (chunks) deflated.set(path, chunks);
    }
    for (const m of messages) {
      if (++r.steps > MAX_STEPS) return undefined;
      if (m.type === 0x0010 && r.has(m.at, r.o + r.l)) {
        // HDF5 allocates a buffer of the continuation's length before reading it.
        const c = r.addr(m.at);
        const len = r.uN(m.at + r.o, r.l);
        if (c < 0 || len <= 0 || c + len > r.end) return `the object header of '${path}' continues at a block of ${len} bytes that is not inside the file`;
      } else if (m.type === 0x000c) {
        const bad = checkAttribute(r, m, path);
        if (bad) return bad;
      } else if (m.type === 0x0003) {
        const bad = checkDatatype(r, m.at, m.at + m.size, `the datatype of '${path}'`);
        if (bad) return bad;
      } else if (m.type === 0x0001) {
        if (r.has(m.at, 2) && r.u8(m.at + 1) > 32) return `the dataspace of '${path}' claims ${r.u8(m.at + 1)} dimensions (HDF5 allows 32)`;
      } else if (m.type === 0x0011 && r.has(m.at, 2 * r.o)) {
        const heap = r.addr(m.at + r.o);
        if (heap >= 0 && r.tag(heap, "HEAP") && r.has(heap, 8 + 2 * r.l + r.o)) {
          const size = r.uN(heap + 8, r.l);
          const data = r.addr(heap + 8 + 2 * r.l);
          if (size < 0 || data < 0 || data + size > r.end) return `the local heap of group '${path}' claims ${size} bytes that are not inside the file`;
        }
        const names = localHeapNames(r, heap);
        for (const child of groupChildren(r, r.addr(m.at), 0, new Set())) {
          const name = names(child.nameOffset);
          queue.push({ at: child.at, path: path === "/" ? `/${name}` : `${path}/${name}` });
        }
      } else if (m.type === 0x0006) {
        const child = linkTarget(r, m);
        if (child && child.at >= 0) queue.push({ at: child.at, path: path === "/" ? `/${child.name}` : `${path}/${child.name}` });
      }
    }
    if (r.steps > MAX_STEPS) return undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// Deflated chunks
// ---------------------------------------------------------------------------

/**
 * A chunked dataset whose chunks the HDF5 library inflates, as checkHdf5Metadata found it
 * (it fills the map it is given, by path): data layout message version 3, class 2, whose
 * chunk index is a version 1 B-tree (IV.A.2.i; what h5py and h5wasm write), and a filter
 * pipeline (IV.A.2.l) whose deflate filter is preceded only by shuffle, which keeps a
 * chunk's size, and followed only by fletcher32, whose 4-byte checksum ends each stored
 * chunk. A chunk of such a dataset inflates to exactly its declared size.
 */
export interface DeflatedChunks {
  /** The walk's sizes of offsets and lengths, and where the superblock is. */
  o: number;
  l: number;
  superblock: number;
  /** Absolute address of the chunk B-tree. */
  btree: number;
  /** Bytes of one chunk: the product of the chunk dims and the element size (the layout's last "dim"). */
  chunkBytes: number;
  /** Dims the B-tree keys record, the element size included. */
  rank: number;
  /** Positions of deflate and of fletcher32 (-1: none) in the pipeline, for the chunks' filter masks. */
  deflate: number;
  fletcher32: number;
}

const FILTER_DEFLATE = 1;
const FILTER_SHUFFLE = 2;
const FILTER_FLETCHER32 = 3;

/** The filter ids of a pipeline message, in order; undefined when it cannot be read. */
function pipelineFilters(r: Bytes, m: Message): number[] | undefined {
  const version = r.u8(m.at);
  const count = r.u8(m.at + 1);
  const end = m.at + m.size;
  let p = m.at + (version === 1 ? 8 : 2);
  if ((version !== 1 && version !== 2) || count > 32) return undefined;
  const ids: number[] = [];
  for (let k = 0; k < count; k++) {
    if (!r.has(p, 8) || p + 6 > end) return undefined;
    const id = r.u16(p);
    const named = version === 1 || id >= 256;
    const nameLength = named ? r.u16(p + 2) : 0;
    p += named ? 4 : 2;
    const values = r.u16(p + 2);
    p += 4;
    p += version === 1 ? (nameLength + 7) & ~7 : nameLength;
    p += 4 * values + (version === 1 && values % 2 === 1 ? 4 : 0);
    if (p > end) return undefined;
    ids.push(id);
  }
  return ids;
}

function deflatedChunks(r: Bytes, messages: Message[]): DeflatedChunks | undefined {
  const layout = messages.find((m) => m.type === 0x0008);
  const pipeline = messages.find((m) => m.type === 0x000b);
  if (!layout || !pipeline || !r.has(layout.at, 3) || r.u8(layout.at) !== 3 || r.u8(layout.at + 1) !== 2) return undefined;
  const rank = r.u8(layout.at + 2);
  if (rank < 1 || rank > 33 || 3 + r.o + 4 * rank > layout.size) return undefined;
  const btree = r.addr(layout.at + 3);
  let chunkBytes = 1;
  for (let i = 0; i < rank; i++) chunkBytes *= r.u32(layout.at + 3 + r.o + 4 * i);
  const filters = pipelineFilters(r, pipeline);
  if (btree < 0 || !Number.isSafeInteger(chunkBytes) || chunkBytes <= 0 || !filters) return undefined;
  const deflate = filters.indexOf(FILTER_DEFLATE);
  if (deflate < 0 || filters.slice(0, deflate).some((id) => id !== FILTER_SHUFFLE)) return undefined;
  const after = filters.slice(deflate + 1);
  if (after.length > 1 || (after.length === 1 && after[0] !== FILTER_FLETCHER32)) return undefined;
  return { o: r.o, l: r.l, superblock: r.superblock, btree, chunkBytes, rank, deflate, fletcher32: after.length === 1 ? deflate + 1 : -1 };
}

/** A zlib stream inflated with a hard stop past `limit` bytes: "too long" past it, undefined when zlib cannot decode it. */
function inflateAtMost(stream: Uint8Array, limit: number): Uint8Array | "too long" | undefined {
  try {
    return inflateSync(stream, { maxOutputLength: limit });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") return "too long";
    return undefined;
  }
}

/**
 * The most a zlib stream of `n` bytes takes: zlib's compressBound(), with room for an encoder
 * that falls back to stored blocks smaller than zlib's (5 bytes each; 1/64 of the chunk
 * allows blocks down to ~320 bytes), so no honest writer is refused; the bound is there to
 * keep a lying stored size from being read, not to grade encoders.
 */
function compressBound(n: number): number {
  return n + Math.floor(n / 4096) + Math.floor(n / 16384) + Math.floor(n / 33554432) + 13 + Math.ceil(n / 64) + 64;
}

/**
 * The first chunk of the dataset `what` (found by checkHdf5Metadata) that does not hold a
 * deflate stream of exactly its declared size, in words; undefined when all do. Each chunk's
 * stored size must be what a zlib stream of the chunk can take (compressBound), and its
 * stream is inflated here with a hard stop one byte past the chunk, so the work is bounded
 * by the declared sizes whatever the streams hold. A stream zlib cannot decode is left to
 * the HDF5 library, which reports it. Bounded like the walk; chunks the filter mask says
 * were not deflated are skipped.
 */
export function deflatedChunkProblem(bytes: PagedReader, chunks: DeflatedChunks, what: string): string | undefined {
  const r = new Bytes(bytes, chunks.o, chunks.l, chunks.superblock);
  const declared = chunks.chunkBytes;
  const seen = new Set<number>();
  const visit = (at: number, depth: number): string | undefined => {
    if (at < 0 || depth > 64 || seen.has(at) || !r.tag(at, "TREE") || r.u8(at + 4) !== 1) return undefined;
    seen.add(at);
    const level = r.u8(at + 5);
    const used = r.u16(at + 6);
    const keyBytes = 8 + 8 * chunks.rank;
    let p = at + 8 + 2 * r.o;
    for (let i = 0; i < used && ++r.steps < MAX_STEPS; i++) {
      if (!r.has(p, keyBytes + r.o)) return undefined;
      const stored = r.u32(p);
      const mask = r.u32(p + 4);
      const child = r.addr(p + keyBytes);
      p += keyBytes + r.o;
      if (level > 0) {
        const bad = visit(child, depth + 1);
        if (bad) return bad;
        continue;
      }
      if (child < 0 || mask & (1 << chunks.deflate)) continue;
      const withTrailer = chunks.fletcher32 >= 0 && !(mask & (1 << chunks.fletcher32)) ? 4 : 0;
      if (stored - withTrailer > compressBound(declared)) {
        return `a chunk of ${what} stores ${stored} bytes, more than a deflate stream of its declared ${declared} bytes can take; the file is corrupt or a decompression bomb`;
      }
      if (!r.has(child, stored) || stored <= withTrailer) continue;
      const out = inflateAtMost(bytes.bytes(child, stored - withTrailer), declared);
      if (out === "too long") return `a chunk of ${what} inflates past its declared ${declared} bytes; the file is corrupt or a decompression bomb`;
      if (out !== undefined && out.length !== declared) return `a chunk of ${what} inflates to ${out.length} bytes, not its declared ${declared}; the file is corrupt`;
    }
    return undefined;
  };
  return visit(chunks.btree, 0);
}

/** An object header whose first block, by its recorded size, does not fit the file (HDF5 allocates that size). */
function headerProblem(r: Bytes, at: number, path: string): string | undefined {
  if (r.tag(at, "OHDR")) {
    const flags = r.u8(at + 5);
    const p = at + 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
    const n = 1 << (flags & 3);
    if (!r.has(p, n)) return `the object header of '${path}' is cut short`;
    const size = r.uN(p, n);
    if (size < 0 || p + n + size + 4 > r.end) return `the object header of '${path}' claims ${size} bytes that are not inside the file`;
    return undefined;
  }
  if (r.has(at, 16) && r.u8(at) === 1 && at + 16 + r.u32(at + 8) > r.end) {
    return `the object header of '${path}' claims ${r.u32(at + 8)} bytes that are not inside the file`;
  }
  return undefined;
}

function objectMessages(r: Bytes, at: number): Message[] {
  if (r.tag(at, "OHDR")) return v2Messages(r, at);
  if (!r.has(at, 16) || r.u8(at) !== 1) return [];
  const out: Message[] = [];
  const count = r.u16(at + 2);
  const blocks: [number, number][] = [[at + 16, at + 16 + r.u32(at + 8)]];
  for (let bi = 0; bi < blocks.length && bi < 256; bi++) {
    let [p, end] = blocks[bi];
    end = Math.min(end, r.end);
    while (p + 8 <= end && out.length < count && ++r.steps < MAX_STEPS) {
      const type = r.u16(p);
      const size = r.u16(p + 2);
      const flags = r.u8(p + 4);
      if (p + 8 + size > end) break;
      out.push({ type, at: p + 8, size, flags });
      if (type === 0x0010 && r.has(p + 8, r.o + r.l)) {
        const c = r.addr(p + 8);
        const len = r.uN(p + 8 + r.o, r.l);
        if (c >= 0 && len > 0) blocks.push([c, c + len]);
      }
      // Each message takes its size rounded up to 8 bytes, counted from the header (H5O__chunk_deserialize), which
      // need not be 8-aligned in the file: rounding the address skipped the messages of such headers.
      p += 8 + Math.ceil(size / 8) * 8;
    }
  }
  return out;
}

function v2Messages(r: Bytes, at: number): Message[] {
  if (!r.has(at, 8)) return [];
  const flags = r.u8(at + 5);
  let p = at + 6;
  if (flags & 0x20) p += 16;
  if (flags & 0x10) p += 4;
  const n = 1 << (flags & 3);
  if (!r.has(p, n)) return [];
  const size0 = r.uN(p, n);
  p += n;
  const tracked = (flags & 0x04) !== 0;
  const out: Message[] = [];
  const chunks: [number, number][] = [[p, p + size0]];
  for (let ci = 0; ci < chunks.length && ci < 256; ci++) {
    let [q, end] = chunks[ci];
    end = Math.min(end, r.end);
    const head = 4 + (tracked ? 2 : 0);
    while (q + head <= end && ++r.steps < MAX_STEPS) {
      const type = r.u8(q);
      const size = r.u16(q + 1);
      const mflags = r.u8(q + 3);
      if (q + head + size > end) break;
      out.push({ type, at: q + head, size, flags: mflags });
      if (type === 0x0010 && r.has(q + head, r.o + r.l)) {
        const c = r.addr(q + head);
        const len = r.uN(q + head + r.o, r.l);
        if (c >= 0 && len > 8 && r.tag(c, "OCHK")) chunks.push([c + 4, c + len - 4]);
      }
      q += head + size;
    }
  }
  return out;
}

/** Member names of a symbol-table group, from its local heap (for messages only: "?" when unreadable). */
function localHeapNames(r: Bytes, heap: number): (offset: number) => string {
  if (heap < 0 || !r.tag(heap, "HEAP") || !r.has(heap, 8 + 2 * r.l + r.o)) return () => "?";
  const size = r.uN(heap + 8, r.l);
  const data = r.addr(heap + 8 + 2 * r.l);
  return (offset: number) => {
    if (data < 0 || offset < 0 || offset >= size) return "?";
    let name = "";
    for (let p = data + offset; p < r.end && p < data + size && r.u8(p) !== 0 && name.length < 200; p++) name += String.fromCharCode(r.u8(p));
    return name || "?";
  };
}

/** Members of a symbol-table group (v1 B-tree of type 0, then symbol nodes): object header and name offset. */
function groupChildren(r: Bytes, at: number, level: number, seen: Set<number>): { at: number; nameOffset: number }[] {
  if (at < 0 || level > 32 || seen.has(at) || !r.tag(at, "TREE") || r.u8(at + 4) !== 0) return [];
  seen.add(at);
  const nodeLevel = r.u8(at + 5);
  const used = r.u16(at + 6);
  const out: { at: number; nameOffset: number }[] = [];
  let p = at + 8 + 2 * r.o + r.l;
  for (let i = 0; i < used && r.has(p, r.o) && ++r.steps < MAX_STEPS; i++) {
    const child = r.addr(p);
    p += r.o + r.l;
    if (child < 0) continue;
    if (nodeLevel > 0) out.push(...groupChildren(r, child, level + 1, seen));
    else if (r.tag(child, "SNOD") && !seen.has(child)) {
      seen.add(child);
      const count = r.u16(child + 6);
      const entry = 2 * r.o + 24;
      for (let k = 0; k < count && r.has(child + 8 + k * entry, entry); k++) {
        const header = r.addr(child + 8 + k * entry + r.o);
        if (header >= 0) out.push({ at: header, nameOffset: r.uN(child + 8 + k * entry, r.o) });
      }
    }
  }
  return out;
}

function linkTarget(r: Bytes, m: Message): { name: string; at: number } | undefined {
  let p = m.at;
  const end = m.at + m.size;
  if (!r.has(p, 2) || r.u8(p) !== 1) return undefined;
  const flags = r.u8(p + 1);
  p += 2;
  let type = 0;
  if (flags & 0x08) type = r.u8(p++);
  if (flags & 0x04) p += 8;
  if (flags & 0x10) p += 1;
  const n = 1 << (flags & 3);
  const nameLen = r.uN(p, n);
  p += n;
  if (type !== 0 || nameLen <= 0 || p + nameLen + r.o > end) return undefined;
  let name = "";
  for (let i = 0; i < nameLen && i < 200; i++) name += String.fromCharCode(r.u8(p + i));
  return { name, at: r.addr(p + nameLen) };
}

/** Size of the object `index` in the global heap collection at `at`, or -1 when there is none. */
function heapObjectSize(r: Bytes, at: number, index: number): number {
  if (at < 0 || !r.tag(at, "GCOL") || !r.has(at, 8 + r.l)) return -1;
  const size = r.uN(at + 8, r.l);
  const end = Math.min(at + Math.max(0, size), r.end);
  let p = at + 8 + r.l;
  const head = 8 + r.l;
  while (p + head <= end && ++r.steps < MAX_STEPS) {
    const idx = r.u16(p);
    const objSize = r.uN(p + 8, r.l);
    if (idx === 0 || objSize < 0) return -1;
    if (idx === index) return p + head + objSize <= end ? objSize : -1;
    p += head + Math.ceil(objSize / 8) * 8;
  }
  return -1;
}

const CLASS_NAMES = ["integer", "float", "time", "string", "bitfield", "opaque", "compound", "reference", "enum", "variable-length", "array"];

/**
 * A datatype message at `at` (its bytes end at `end`): a class Keras files use, with a size
 * that class can have. Undefined when fine, else the problem in words.
 */
function checkDatatype(r: Bytes, at: number, end: number, what: string): string | undefined {
  if (!r.has(at, 8) || at + 8 > end) return `${what} is cut short`;
  const cls = r.u8(at) & 0x0f;
  const size = r.u32(at + 4);
  switch (cls) {
    case 0:
      return [1, 2, 4, 8].includes(size) ? undefined : `${what} is a ${CLASS_NAMES[cls]} of ${size} bytes`;
    case 1:
      if (![2, 4, 8].includes(size)) return `${what} is a ${CLASS_NAMES[cls]} of ${size} bytes`;
      return size === 2 ? halfLayoutProblem(r, at, end, what) : undefined;
    case 5: {
      // Opaque: Keras 3 writes bfloat16 so (ml_dtypes.bfloat16 is numpy kind 'V'); the tag's
      // length is the low byte of the class bits, its bytes follow the 8-byte header.
      const tagLength = r.u8(at + 1);
      if (size < 1 || size > 64) return `${what} is an opaque type of ${size} bytes`;
      if (!r.has(at + 8, tagLength) || at + 8 + tagLength > end) return `${what} is an opaque type whose tag is cut short`;
      return undefined;
    }
    case 3:
      return size >= 1 ? undefined : `${what} is a string of 0 bytes`;
    case 8: {
      // h5py writes booleans as an enum over a 1-byte integer.
      if (![1, 2, 4, 8].includes(size) || !r.has(at + 8, 8) || (r.u8(at + 8) & 0x0f) !== 0 || r.u32(at + 12) !== size) return `${what} is a malformed enum`;
      return undefined;
    }
    case 9: {
      const ref = 4 + r.o + 4;
      if (size !== ref) return `${what} is a variable-length type of ${size} bytes (its references take ${ref})`;
      return checkDatatype(r, at + 8, end, `the base type of ${what}`);
    }
    default:
      return `${what} is of class ${cls < CLASS_NAMES.length ? CLASS_NAMES[cls] : cls}, which Keras files do not use`;
  }
}

/**
 * The floating-point properties of IEEE 754 half, single and double precision, by size in
 * bytes, as a datatype message lists them (IV.A.2.d): bit offset, precision, exponent
 * location and size, mantissa location and size, exponent bias.
 */
const IEEE_FLOAT_FIELDS: Readonly<Record<number, readonly number[]>> = {
  2: [0, 16, 10, 5, 0, 10, 15],
  4: [0, 32, 23, 8, 0, 23, 127],
  8: [0, 64, 52, 11, 0, 52, 1023],
};

/** A float datatype message's properties at `at` (its 20 bytes must be in the file), in IEEE_FLOAT_FIELDS' order. */
function floatFields(b: PagedReader, at: number): number[] {
  return [b.u16(at + 8), b.u16(at + 10), b.u8(at + 12), b.u8(at + 13), b.u8(at + 14), b.u8(at + 15), b.u32(at + 16)];
}

/**
 * Whether the float datatype message at `at` (20 bytes in the file) is IEEE 754 of `size`
 * bytes: not VAX order (bit 6), an implied leading 1 (mantissa normalization, bits 4-5 = 2),
 * the sign at the top bit and the standard fields. The direct reader (hdf5-direct.ts) reads
 * only these; a half of another layout is refused here, since its bits are decoded by us.
 */
export function isIeeeFloat(b: PagedReader, at: number, size: number): boolean {
  const bits = b.u8(at + 1);
  const want = IEEE_FLOAT_FIELDS[size];
  return want !== undefined && (bits & 0x40) === 0 && ((bits >> 4) & 0x03) === 2 && b.u8(at + 2) === 8 * size - 1 && floatFields(b, at).every((v, i) => v === want[i]);
}

/**
 * A 2-byte float must be IEEE 754 half precision, the layout numpy's float16 has and h5py
 * writes (HDF5 File Format Specification IV.A.2.d, floating-point properties): sign at bit
 * 15, exponent bits 10-14 with bias 15, mantissa bits 0-9, no offset, little- or big-endian
 * (the library hands the bytes over little-endian). Its values are decoded from their bits
 * (half.ts), so any other layout would be read as the wrong numbers: it is refused instead.
 */
function halfLayoutProblem(r: Bytes, at: number, end: number, what: string): string | undefined {
  if (!r.has(at, 20) || at + 20 > end) return `${what} is cut short`;
  if (!isIeeeFloat(r.b, at, 2)) {
    const layout = floatFields(r.b, at);
    return `${what} is a 16-bit float that is not IEEE half precision (offset ${layout[0]}, precision ${layout[1]}, exponent at bit ${layout[2]} of ${layout[3]} bits, mantissa at bit ${layout[4]} of ${layout[5]} bits, bias ${layout[6]}); it cannot be decoded`;
  }
  return undefined;
}

function checkAttribute(r: Bytes, m: Message, owner: string): string | undefined {
  const version = r.u8(m.at);
  const end = m.at + m.size;
  if (version < 1 || version > 3 || !r.has(m.at, 8) || m.size < 8) return `an attribute message of '${owner}' is malformed`;
  const aflags = version >= 2 ? r.u8(m.at + 1) : 0;
  if (aflags & 0x03) return undefined; // shared datatype or dataspace: not followed
  const nameSize = r.u16(m.at + 2);
  const typeSize = r.u16(m.at + 4);
  const spaceSize = r.u16(m.at + 6);
  const pad = (n: number) => (version === 1 ? (n + 7) & ~7 : n);
  let p = m.at + 8 + (version === 3 ? 1 : 0);
  let name = "";
  for (let i = 0; i < nameSize - 1 && i < 200 && r.has(p + i, 1); i++) name += String.fromCharCode(r.u8(p + i));
  const what = `attribute '${name}' of '${owner}'`;
  p += pad(nameSize);
  const type = p;
  p += pad(typeSize);
  const space = p;
  p += pad(spaceSize);
  if (p > end) return `${what} is cut short`;
  const badType = checkDatatype(r, type, type + typeSize, `the datatype of ${what}`);
  if (badType) return badType;
  const count = elementCount(r, space);
  if (count === undefined) return `the dataspace of ${what} is malformed`;
  const cls = r.u8(type) & 0x0f;
  const elementSize = cls === 9 ? 4 + r.o + 4 : r.u32(type + 4);
  if (count * elementSize > end - p) return `${what} claims ${count} value(s) of ${elementSize} bytes, more than its ${end - p} bytes hold`;
  if (cls !== 9) return undefined;
  // Variable-length: every element is (length, collection address, index).
  const baseSize = Math.max(1, r.u32(type + 8 + 4));
  for (let k = 0; k < count; k++) {
    const ref = p + k * elementSize;
    const length = r.u32(ref);
    if (length === 0) continue;
    const heap = r.addr(ref + 4);
    const index = r.u32(ref + 4 + r.o);
    // HDF5 reads a whole collection at once, by its recorded size (seen trapping when that size lied).
    if (heap >= 0 && r.tag(heap, "GCOL") && r.has(heap, 8 + r.l)) {
      const collection = r.uN(heap + 8, r.l);
      if (collection < 8 + r.l || heap + collection > r.end) return `${what} points into a global heap collection at byte ${heap} that claims ${collection} bytes, past the end of the file`;
      // Then parses it, forever if an object's size does not advance the walk (hdf5-guard.ts).
      if (isGlobalHeapLoop(r.b, heap, r.superblock)) return globalHeapLoopProblem(heap);
    }
    const size = heapObjectSize(r, heap, index);
    if (size < 0) return `${what} points at a global heap object that does not exist`;
    if (length * baseSize !== size) return `${what} records a length of ${length} but its heap object holds ${size} bytes`;
  }
  return undefined;
}

/** Elements of a dataspace message: 1 for a scalar, the product of the dims, undefined when unreadable. */
function elementCount(r: Bytes, at: number): number | undefined {
  if (!r.has(at, 4)) return undefined;
  const version = r.u8(at);
  const rank = r.u8(at + 1);
  if (version === 2 && r.u8(at + 3) === 2) return 0; // null dataspace
  if (rank === 0) return 1;
  if (rank > 32) return undefined;
  const first = version === 1 ? at + 8 : at + 4;
  let n = 1;
  for (let i = 0; i < rank; i++) {
    if (!r.has(first + i * r.l, r.l)) return undefined;
    n *= r.uN(first + i * r.l, r.l);
    if (!Number.isSafeInteger(n) || n < 0) return Number.MAX_SAFE_INTEGER;
  }
  return n;
}
