/**
 * Reading the entries of a `.keras` zip that the loader needs, treating every header
 * field as a claim to verify (APPNOTE.TXT 6.3: end of central directory, central
 * directory records, local headers). Before anything is inflated:
 * - the central directory must lie inside the file and hold as many records as it says
 *   (a lying entry count would otherwise make the reader loop billions of times);
 * - zip64 records (an archive past 4 GB or 65,535 entries: APPNOTE 4.3.14-15, 4.5.3) are
 *   read as the same claims: the 64-bit counts, sizes and offsets must be safe integers
 *   that fit the file like any other;
 * - every entry name is checked for absolute paths and `..`;
 * - a wanted entry may appear only once (two `config.json` would let two readers see
 *   two different models);
 * - its declared size must be under the limits and possible for its data (a stored
 *   entry is as long as its data; deflate cannot expand more than 1032:1).
 * The length and the CRC-32 must then match the central directory, so a flipped byte in
 * a stored `model.weights.h5` is an error, not a silently different weight.
 *
 * The archive is read through a page cache (byte-source.ts), not whole. A stored entry is
 * left where it is: its bytes are checked against the CRC as they stream past, and the
 * caller reads it in place (keras3.ts makes the weights HDF5 a window of the archive).
 * Keras writes every entry stored (Python's zipfile default, which Keras 3's saving_lib
 * keeps): all nine `.keras` fixtures, from Keras 3.x and tf.keras 2.13-2.15, store all
 * three entries. A deflated entry is inflated into memory by zlib with a hard stop at
 * its declared size (inflateDeclared): a stream that would inflate further is refused
 * after at most one more chunk of work, not after inflating what it holds (a 2.4 MB
 * stream inflating to 2.4 GB behind headers that claim 54 KB took 12 s of CPU).
 * Nothing is written to disk.
 */
import { createRequire } from "node:module";
import { FileError } from "../errors.js";
import type { PagedReader } from "./byte-source.js";

export interface ZipReadLimits {
  /** Largest declared size of one wanted entry held in memory, by name. */
  maxEntryBytes: (name: string) => number;
  /** Largest total of the wanted entries held in memory. */
  maxTotalBytes: number;
  /**
   * Entries the caller reads in place when they are stored: nothing of them is held in
   * memory, so the limits above do not apply to them (they do when such an entry is
   * deflated and has to be inflated).
   */
  inPlace?: Set<string>;
}

/** A wanted entry, checked: either stored in the archive at `storedAt`, or `inflated` into memory. */
export interface ZipEntry {
  name: string;
  /** Bytes once uncompressed. */
  size: number;
  /** A stored entry: where its bytes start in the archive. */
  storedAt?: number;
  /** A deflated entry: its inflated bytes. */
  inflated?: Uint8Array;
}

export interface ZipRead {
  entries: Record<string, ZipEntry>;
  /** Every entry name, in central-directory order. */
  names: string[];
}

/** Node's zlib, loaded at the first inflate: most commands on most files never inflate, and loading it costs start-up. */
let zlibModule: typeof import("node:zlib") | undefined;
function zlib(): typeof import("node:zlib") {
  zlibModule ??= createRequire(import.meta.url)("node:zlib") as typeof import("node:zlib");
  return zlibModule;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** Deflate's best case: a 258-byte match costs at least 2 bits, about 1032:1; the slack covers block headers. */
const DEFLATE_MAX_RATIO = 1032;
/** A stored entry's CRC is computed over blocks of this size. */
const CRC_BLOCK_BYTES = 4 * 1024 * 1024;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, the one zip uses) of `data`, continuing from the CRC of what came before it. */
export function crc32(data: Uint8Array, previous = 0): number {
  // zlib's crc32 (Node 20.15 and later) is many times faster than a table in JavaScript on a large stored entry.
  const nativeCrc32 = (zlib() as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;
  if (nativeCrc32) return nativeCrc32(data, previous);
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC-32 of `length` bytes of the archive from `start`, read a block at a time. */
function crc32Of(bytes: PagedReader, start: number, length: number): number {
  const source = bytes.source;
  const block = new Uint8Array(Math.min(CRC_BLOCK_BYTES, length));
  let crc = 0;
  for (let done = 0; done < length; ) {
    const n = Math.min(block.length, length - done);
    const part = source.view?.(start + done, n) ?? block.subarray(0, source.read(block.subarray(0, n), start + done));
    if (part.length === 0) break;
    crc = crc32(part, crc);
    done += part.length;
  }
  return crc;
}

export function isUnsafeEntryName(name: string): boolean {
  return name.startsWith("/") || name.startsWith("\\") || /^[A-Za-z]:/.test(name) || name.split(/[\\/]/).includes("..");
}

function decodeName(bytes: Uint8Array, utf8: boolean): string {
  if (utf8) return new TextDecoder("utf-8").decode(bytes);
  // Without the UTF-8 flag, zip names are CP437; latin1 keeps ASCII names exact, which is all Keras writes.
  return String.fromCharCode(...bytes);
}

interface CentralRecord {
  name: string;
  flags: number;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localOffset: number;
}

function findEnd(bytes: PagedReader, label: string): number {
  const lowest = Math.max(0, bytes.size - 22 - 0xffff);
  for (let e = bytes.size - 22; e >= lowest; e--) {
    if (bytes.u32(e) === EOCD_SIG) return e;
  }
  throw new FileError(label, "not a readable zip archive (no end-of-central-directory record); the file may be truncated or corrupt");
}

/** An unsigned little-endian 64-bit field, or -1 past 2^53 (no archive this tool reads is that large). */
function u64(bytes: PagedReader, at: number): number {
  const high = bytes.u32(at + 4);
  return high < 0x200000 ? bytes.u32(at) + high * 0x100000000 : -1;
}

const ZIP64_END_SIG = 0x06064b50;
const ZIP64_EXTRA = 0x0001;

/**
 * Where the central directory is and how many records it holds: from the end record, or,
 * when a zip64 locator precedes it, from the zip64 end record it points at.
 */
function directoryExtent(bytes: PagedReader, label: string, e: number): { count: number; cdSize: number; cdStart: number; end: number } {
  if (e < 20 || bytes.u32(e - 20) !== ZIP64_LOCATOR_SIG) return { count: bytes.u16(e + 10), cdSize: bytes.u32(e + 12), cdStart: bytes.u32(e + 16), end: e };
  const z = u64(bytes, e - 20 + 8);
  if (z < 0 || z + 56 > e - 20 || bytes.u32(z) !== ZIP64_END_SIG) {
    throw new FileError(label, "not a readable zip archive (its zip64 locator points at no zip64 end record); the file may be truncated or corrupt");
  }
  const [count, cdSize, cdStart] = [u64(bytes, z + 32), u64(bytes, z + 40), u64(bytes, z + 48)];
  if (count < 0 || cdSize < 0 || cdStart < 0) throw new FileError(label, "not a readable zip archive (its zip64 end record claims more than 2^53 entries or bytes)");
  return { count, cdSize, cdStart, end: z };
}

/**
 * A central record's 64-bit sizes and offset: each field the record sets to 0xFFFFFFFF is
 * in its zip64 extra field, in this order (APPNOTE 4.5.3).
 */
function zip64Fields(bytes: PagedReader, label: string, record: CentralRecord, extraAt: number, extraEnd: number, index: number): void {
  const wanted = (["size", "compressedSize", "localOffset"] as const).filter((f) => record[f] === 0xffffffff);
  if (wanted.length === 0) return;
  for (let p = extraAt; p + 4 <= extraEnd; p += 4 + bytes.u16(p + 2)) {
    if (bytes.u16(p) !== ZIP64_EXTRA) continue;
    if (bytes.u16(p + 2) < 8 * wanted.length || p + 4 + 8 * wanted.length > extraEnd) break;
    wanted.forEach((f, k) => {
      const v = u64(bytes, p + 4 + 8 * k);
      if (v < 0) throw new FileError(label, `not a readable zip archive (central directory record ${index} claims more than 2^53 bytes)`);
      record[f] = v;
    });
    return;
  }
  throw new FileError(label, `not a readable zip archive (central directory record ${index} defers its sizes to a zip64 field it does not hold); the file may be corrupt`);
}

function centralDirectory(bytes: PagedReader, label: string): CentralRecord[] {
  const { count, cdSize, cdStart, end: e } = directoryExtent(bytes, label, findEnd(bytes, label));
  if (cdStart + cdSize > e || count * 46 > cdSize) {
    throw new FileError(label, `not a readable zip archive (the central directory claims ${count} entries in ${cdSize} bytes at ${cdStart}, which do not fit); the file may be truncated or corrupt`);
  }
  const records: CentralRecord[] = [];
  let p = cdStart;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdStart + cdSize || bytes.u32(p) !== CENTRAL_SIG) {
      throw new FileError(label, `not a readable zip archive (central directory record ${i + 1} of ${count} is damaged); the file may be truncated or corrupt`);
    }
    const flags = bytes.u16(p + 8);
    const nameLen = bytes.u16(p + 28);
    const next = p + 46 + nameLen + bytes.u16(p + 30) + bytes.u16(p + 32);
    if (next > cdStart + cdSize) {
      throw new FileError(label, `not a readable zip archive (central directory record ${i + 1} runs past the directory); the file may be truncated or corrupt`);
    }
    const record: CentralRecord = {
      name: decodeName(bytes.bytes(p + 46, nameLen), (flags & 0x0800) !== 0),
      flags,
      method: bytes.u16(p + 10),
      crc: bytes.u32(p + 16),
      compressedSize: bytes.u32(p + 20),
      size: bytes.u32(p + 24),
      localOffset: bytes.u32(p + 42),
    };
    zip64Fields(bytes, label, record, p + 46 + nameLen, p + 46 + nameLen + bytes.u16(p + 30), i + 1);
    records.push(record);
    p = next;
  }
  return records;
}

/** Finds and checks the entries named in `wanted` (all others are only name-checked). Every failure is a FileError. */
export function readZipEntries(bytes: PagedReader, label: string, wanted: Set<string> | ((name: string) => boolean), limits: ZipReadLimits): ZipRead {
  const isWanted = typeof wanted === "function" ? wanted : (name: string) => wanted.has(name);
  const records = centralDirectory(bytes, label);
  const names = records.map((r) => r.name);
  const chosen: CentralRecord[] = [];
  let total = 0;
  for (const r of records) {
    if (isUnsafeEntryName(r.name)) {
      throw new FileError(label, `zip entry '${r.name.slice(0, 100)}' has an unsafe path (absolute or with '..'); refusing the archive`);
    }
    if (!isWanted(r.name)) continue;
    if (chosen.some((c) => c.name === r.name)) {
      throw new FileError(label, `zip archive has two entries named '${r.name}'; refusing to guess which one is the model`);
    }
    if (r.method !== 0 && r.method !== 8) {
      throw new FileError(label, `zip entry '${r.name}' uses compression method ${r.method}; only stored and deflate are supported`);
    }
    if (r.flags & 0x0001) throw new FileError(label, `zip entry '${r.name}' is encrypted, which is not supported`);
    if (r.method !== 0 || !limits.inPlace?.has(r.name)) {
      const limit = limits.maxEntryBytes(r.name);
      if (r.size > limit) {
        throw new FileError(label, `zip entry '${r.name}' would inflate to ${r.size} bytes, over the ${limit}-byte limit`);
      }
      total += r.size;
      if (total > limits.maxTotalBytes) {
        throw new FileError(label, `zip entries would inflate to more than the ${limits.maxTotalBytes}-byte limit`);
      }
    }
    const possible = r.method === 0 ? r.compressedSize : r.compressedSize * DEFLATE_MAX_RATIO + 1024;
    if (r.method === 0 ? r.size !== r.compressedSize : r.size > possible) {
      throw new FileError(
        label,
        `zip entry '${r.name}' declares ${r.size} bytes but its ${r.compressedSize} ${r.method === 0 ? "stored" : "compressed"} bytes cannot hold that; the archive is corrupt or a zip bomb`,
      );
    }
    chosen.push(r);
  }
  const entries: Record<string, ZipEntry> = {};
  for (const r of chosen) {
    const at = r.localOffset;
    if (at + 30 > bytes.size || bytes.u32(at) !== LOCAL_SIG) {
      throw new FileError(label, `zip entry '${r.name}' points at byte ${at}, where there is no local header; the file may be truncated or corrupt`);
    }
    const start = at + 30 + bytes.u16(at + 26) + bytes.u16(at + 28);
    const end = start + r.compressedSize;
    if (end > bytes.size) {
      throw new FileError(label, `zip entry '${r.name}' runs past the end of the file; the file may be truncated`);
    }
    const damaged = () => new FileError(label, `zip entry '${r.name}' is damaged: its content does not match the CRC-32 and size recorded in the archive`);
    if (r.method === 0) {
      if (crc32Of(bytes, start, r.size) !== r.crc) throw damaged();
      entries[r.name] = { name: r.name, size: r.size, storedAt: start };
      continue;
    }
    const wrongSize = (got?: number) =>
      new FileError(
        label,
        got === undefined
          ? `zip entry '${r.name}' inflates past the ${r.size} bytes the archive declares for it; the archive is corrupt or a zip bomb`
          : `zip entry '${r.name}' inflates to ${got} bytes, not the ${r.size} the archive declares; the archive is corrupt`,
      );
    const data = inflateDeclared(bytes.bytes(start, r.compressedSize), r.size, wrongSize, (err) =>
      new FileError(label, `zip entry '${r.name}' does not inflate (${err.message}); the file is corrupt`, { cause: err }),
    );
    if (crc32(data) !== r.crc) throw damaged();
    entries[r.name] = { name: r.name, size: r.size, inflated: data };
  }
  return { entries, names };
}

/**
 * A raw deflate stream inflated, if it inflates to exactly `size` bytes. zlib stops as
 * soon as its output passes `size` (maxOutputLength, checked after each output chunk;
 * the chunk is `size` + 1 bytes, so an honest stream fills one buffer with no copying and
 * a longer one stops within one more chunk), so the work is bounded by what the archive
 * declares, never by what the stream holds. `wrongSize` makes the error for a stream that inflates to more bytes (no
 * argument: how many more is not known, by design) or fewer, `broken` the one for a
 * stream zlib cannot decode.
 */
export function inflateDeclared(compressed: Uint8Array, size: number, wrongSize: (got?: number) => Error, broken: (err: Error) => Error): Uint8Array {
  let data: Buffer;
  try {
    data = zlib().inflateRawSync(compressed, { maxOutputLength: Math.max(1, size), chunkSize: Math.max(64, size + 1) });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_BUFFER_TOO_LARGE") throw wrongSize();
    throw broken(err as Error);
  }
  if (data.length !== size) throw wrongSize(data.length);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** An entry's bytes in memory: inflated ones as they are, stored ones read from the archive. */
export function entryBytes(bytes: PagedReader, entry: ZipEntry): Uint8Array {
  return entry.inflated ?? bytes.bytes(entry.storedAt!, entry.size);
}
