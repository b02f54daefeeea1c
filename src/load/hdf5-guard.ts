/**
 * Checks on raw HDF5 bytes that must run before the HDF5 library sees them, because
 * the library itself would hang rather than fail.
 *
 * Global heap collections ("GCOL", where variable-length strings such as
 * `model_config` and `weight_names` live) are parsed by HDF5 in a loop that advances
 * by each object's size (H5HG cache deserialize). A free-space object (index 0) of size
 * 0 never advances, so a corrupt collection makes HDF5 — and `h5dump` too — spin
 * forever on the first string attribute read. Found by mutating a real fixture. We walk
 * each collection the same way and refuse the file if the walk would not advance.
 */

const GCOL = [0x47, 0x43, 0x4f, 0x4c];

function readUint(bytes: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let i = size - 1; i >= 0; i--) v = v * 256 + bytes[at + i];
  return v;
}

/** Size of "lengths" from the superblock at `base` (8 in every file h5py writes). */
function sizeOfLengths(bytes: Uint8Array, base: number): number {
  const version = bytes[base + 8];
  const at = version <= 1 ? base + 14 : base + 10;
  const s = bytes[at];
  return s === 2 || s === 4 || s === 8 ? s : 8;
}

/**
 * The byte offset of a global heap collection whose objects HDF5 would parse forever,
 * or undefined when every collection is walkable. `superblock` is where the signature is.
 */
export function findGlobalHeapLoop(bytes: Uint8Array, superblock = 0): number | undefined {
  const lengthSize = sizeOfLengths(bytes, superblock);
  const headerSize = 2 + 2 + 4 + lengthSize; // index, reference count, reserved, size
  for (let i = bytes.indexOf(GCOL[0]); i >= 0 && i + 8 + lengthSize <= bytes.length; i = bytes.indexOf(GCOL[0], i + 1)) {
    if (bytes[i + 1] !== GCOL[1] || bytes[i + 2] !== GCOL[2] || bytes[i + 3] !== GCOL[3] || bytes[i + 4] !== 1) continue;
    const collectionSize = readUint(bytes, i + 8, lengthSize);
    const end = Math.min(i + collectionSize, bytes.length);
    let p = i + 8 + lengthSize;
    while (p < end) {
      if (p + headerSize > end) break; // too small for a header: HDF5 counts the rest as free space
      const index = bytes[p] | (bytes[p + 1] << 8);
      const size = readUint(bytes, p + 8, lengthSize);
      const need = index === 0 ? size : headerSize + Math.ceil(size / 8) * 8;
      if (need === 0) return i;
      p += need;
    }
  }
  return undefined;
}
