/**
 * Tells the container format from a file's first bytes, never from its extension:
 * a real public `bilstm_model.keras` is HDF5, and tf.keras 2.8 wrote HDF5 to
 * `.keras` names (docs/keras-formats.md A1.7). Reads a few bytes through the page
 * cache, however large the file.
 */
import type { PagedReader } from "./byte-source.js";

export type ContainerKind = "hdf5" | "zip";

export interface Sniffed {
  kind: ContainerKind;
  /** HDF5 only: where the superblock signature was found (0, or a user-block size 512, 1024, 2048, ...). */
  offset: number;
}

/** `\x89HDF\r\n\x1a\n` */
export const HDF5_SIGNATURE = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);

function hasSignatureAt(bytes: PagedReader, offset: number): boolean {
  if (offset + HDF5_SIGNATURE.length > bytes.size) return false;
  for (let i = 0; i < HDF5_SIGNATURE.length; i++) {
    if (bytes.u8(offset + i) !== HDF5_SIGNATURE[i]) return false;
  }
  return true;
}

/**
 * The HDF5 spec puts the superblock at 0 or, after a user block, at 512 and then
 * every power of two above it. The library searches the same places, 0 then 2^9, 2^10, ...
 * below the file's size (H5FD_locate_signature), and then takes the place it found as the
 * base of every address in the file, whatever base address the superblock records: so a
 * small file behind 4 GiB of anything opens with all its addresses past 2^32.
 */
export function findHdf5Signature(bytes: PagedReader): number | undefined {
  if (hasSignatureAt(bytes, 0)) return 0;
  for (let offset = 512; offset + HDF5_SIGNATURE.length <= bytes.size; offset *= 2) {
    if (hasSignatureAt(bytes, offset)) return offset;
  }
  return undefined;
}

/** `PK\x03\x04` (a local file header) or `PK\x05\x06` (the end record of an empty archive). */
function isZip(bytes: PagedReader): boolean {
  return (
    bytes.size >= 4 &&
    bytes.u8(0) === 0x50 &&
    bytes.u8(1) === 0x4b &&
    ((bytes.u8(2) === 0x03 && bytes.u8(3) === 0x04) || (bytes.u8(2) === 0x05 && bytes.u8(3) === 0x06))
  );
}

export function sniff(bytes: PagedReader): Sniffed | undefined {
  if (isZip(bytes)) return { kind: "zip", offset: 0 };
  const offset = findHdf5Signature(bytes);
  if (offset !== undefined) return { kind: "hdf5", offset };
  return undefined;
}

/** The first bytes as hex, for "starts with bytes 7b 22 ..." messages. */
export function leadingBytesHex(bytes: PagedReader, count = 8): string {
  return Array.from(bytes.bytes(0, count), (b) => b.toString(16).padStart(2, "0")).join(" ");
}
