/**
 * A check on the bytes the HDF5 library reads, made before it parses them, because the
 * library itself would hang rather than fail.
 *
 * Global heap collections ("GCOL", where variable-length strings such as
 * `model_config` and `weight_names` live) are parsed by HDF5 in a loop that advances
 * by each object's size (H5HG cache deserialize). A free-space object (index 0) of size
 * 0 never advances, so a corrupt collection makes HDF5 — and `h5dump` too — spin
 * forever on the first string attribute read. Found by mutating a real fixture. We walk
 * each collection the same way and refuse the file if the walk would not advance.
 *
 * The library reads a collection whole, from its first byte, before parsing it, and every
 * read it makes passes through the file node of hdf5.ts. So instead of searching the
 * whole file for collections up front (which would read every byte of a file of any
 * size), hdf5.ts hands each block the library reads to globalHeapLoopIn, which walks the
 * collections that start in it. A block with a signature anywhere in it is walked, not
 * only one that starts with it: a cache image block (serialized metadata cache entries)
 * carries collections inside it.
 */
import type { PagedReader } from "./byte-source.js";

/** "GCOL" then version 1. */
const GCOL = Buffer.from([0x47, 0x43, 0x4f, 0x4c, 0x01]);

function readUint(bytes: PagedReader, at: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + bytes.u8(at + i);
  return v;
}

/** Size of "lengths" from the superblock at `base` (8 in every file h5py writes). */
function sizeOfLengths(bytes: PagedReader, base: number): number {
  const version = bytes.u8(base + 8);
  const at = version <= 1 ? base + 14 : base + 10;
  const s = bytes.u8(at);
  return s === 2 || s === 4 || s === 8 ? s : 8;
}

/**
 * Whether HDF5 would parse the global heap collection at `at` forever; `superblock` is
 * where the signature is (it gives the size of lengths). Walks the collection through
 * the page cache, bounded by its recorded size and the end of the file.
 */
export function isGlobalHeapLoop(bytes: PagedReader, at: number, superblock = 0): boolean {
  const lengthSize = sizeOfLengths(bytes, superblock);
  const headerSize = 2 + 2 + 4 + lengthSize; // index, reference count, reserved, size
  if (at + 8 + lengthSize > bytes.size) return false;
  const collectionSize = readUint(bytes, at + 8, lengthSize);
  const end = Math.min(at + collectionSize, bytes.size);
  let p = at + 8 + lengthSize;
  while (p < end) {
    if (p + headerSize > end) break; // too small for a header: HDF5 counts the rest as free space
    const index = bytes.u8(p) | (bytes.u8(p + 1) << 8);
    const size = readUint(bytes, p + 8, lengthSize);
    const need = index === 0 ? size : headerSize + Math.ceil(size / 8) * 8;
    if (need === 0) return true;
    p += need;
  }
  return false;
}

/** The problem, in words, for a collection at `at` that isGlobalHeapLoop refuses. */
export function globalHeapLoopProblem(at: number): string {
  return `corrupt HDF5 global heap at byte ${at} (an object of size 0)`;
}

/**
 * The file position of a global heap collection that starts in `block` (bytes the
 * library just read from file position `position`) and would be parsed forever, or
 * undefined. Only signatures are looked for in the block; each collection is then walked
 * through `bytes`, the same file, so one longer than the block is walked to its end.
 */
export function globalHeapLoopIn(block: Uint8Array, position: number, bytes: PagedReader, superblock = 0): number | undefined {
  const haystack = Buffer.from(block.buffer, block.byteOffset, block.byteLength);
  for (let i = haystack.indexOf(GCOL); i >= 0; i = haystack.indexOf(GCOL, i + 1)) {
    if (isGlobalHeapLoop(bytes, position + i, superblock)) return position + i;
  }
  return undefined;
}
