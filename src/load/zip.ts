/**
 * Reading the entries of a `.keras` zip that the loader needs, treating every header
 * field as a claim to verify (APPNOTE.TXT 6.3: end of central directory, central
 * directory records, local headers). Before anything is inflated:
 * - the central directory must lie inside the file and hold as many records as it says
 *   (a lying entry count would otherwise make the reader loop billions of times);
 * - zip64 archives (only needed past 4 GB or 65,535 entries) are refused;
 * - every entry name is checked for absolute paths and `..`;
 * - a wanted entry may appear only once (two `config.json` would let two readers see
 *   two different models);
 * - its declared size must be under the limits and possible for its data (a stored
 *   entry is as long as its data; deflate cannot expand more than 1032:1).
 * After inflating, the length and the CRC-32 must match the central directory, so a
 * flipped byte in a stored `model.weights.h5` is an error, not a silently different
 * weight (Keras writes entries stored, without compression).
 * Inflating uses fflate; nothing is written to disk.
 */
import { inflateSync } from "fflate";
import { FileError } from "../errors.js";

export interface ZipReadLimits {
  /** Largest declared size of one wanted entry, by name. */
  maxEntryBytes: (name: string) => number;
  maxTotalBytes: number;
}

export interface ZipRead {
  files: Record<string, Uint8Array>;
  /** Every entry name, in central-directory order. */
  names: string[];
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
/** Deflate's best case: a 258-byte match costs at least 2 bits, about 1032:1; the slack covers block headers. */
const DEFLATE_MAX_RATIO = 1032;

const u16 = (b: Uint8Array, p: number) => b[p] | (b[p + 1] << 8);
const u32 = (b: Uint8Array, p: number) => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (ISO 3309, the one zip uses). */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
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

function findEnd(bytes: Uint8Array, label: string): number {
  const lowest = Math.max(0, bytes.length - 22 - 0xffff);
  for (let e = bytes.length - 22; e >= lowest; e--) {
    if (u32(bytes, e) === EOCD_SIG) return e;
  }
  throw new FileError(label, "not a readable zip archive (no end-of-central-directory record); the file may be truncated or corrupt");
}

function centralDirectory(bytes: Uint8Array, label: string): CentralRecord[] {
  const e = findEnd(bytes, label);
  if (e >= 20 && u32(bytes, e - 20) === ZIP64_LOCATOR_SIG) {
    throw new FileError(label, "is a zip64 archive (over 4 GB or 65,535 entries), beyond what a .keras file needs and this tool reads");
  }
  const count = u16(bytes, e + 10);
  const cdSize = u32(bytes, e + 12);
  const cdStart = u32(bytes, e + 16);
  if (cdStart + cdSize > e || count * 46 > cdSize) {
    throw new FileError(label, `not a readable zip archive (the central directory claims ${count} entries in ${cdSize} bytes at ${cdStart}, which do not fit); the file may be truncated or corrupt`);
  }
  const records: CentralRecord[] = [];
  let p = cdStart;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cdStart + cdSize || u32(bytes, p) !== CENTRAL_SIG) {
      throw new FileError(label, `not a readable zip archive (central directory record ${i + 1} of ${count} is damaged); the file may be truncated or corrupt`);
    }
    const flags = u16(bytes, p + 8);
    const nameLen = u16(bytes, p + 28);
    const next = p + 46 + nameLen + u16(bytes, p + 30) + u16(bytes, p + 32);
    if (next > cdStart + cdSize) {
      throw new FileError(label, `not a readable zip archive (central directory record ${i + 1} runs past the directory); the file may be truncated or corrupt`);
    }
    records.push({
      name: decodeName(bytes.subarray(p + 46, p + 46 + nameLen), (flags & 0x0800) !== 0),
      flags,
      method: u16(bytes, p + 10),
      crc: u32(bytes, p + 16),
      compressedSize: u32(bytes, p + 20),
      size: u32(bytes, p + 24),
      localOffset: u32(bytes, p + 42),
    });
    p = next;
  }
  return records;
}

/** Reads the entries named in `wanted` (all others are only name-checked). Every failure is a FileError. */
export function readZipEntries(bytes: Uint8Array, label: string, wanted: Set<string>, limits: ZipReadLimits): ZipRead {
  const records = centralDirectory(bytes, label);
  const names = records.map((r) => r.name);
  const chosen: CentralRecord[] = [];
  let total = 0;
  for (const r of records) {
    if (isUnsafeEntryName(r.name)) {
      throw new FileError(label, `zip entry '${r.name.slice(0, 100)}' has an unsafe path (absolute or with '..'); refusing the archive`);
    }
    if (!wanted.has(r.name)) continue;
    if (chosen.some((c) => c.name === r.name)) {
      throw new FileError(label, `zip archive has two entries named '${r.name}'; refusing to guess which one is the model`);
    }
    if (r.method !== 0 && r.method !== 8) {
      throw new FileError(label, `zip entry '${r.name}' uses compression method ${r.method}; only stored and deflate are supported`);
    }
    if (r.flags & 0x0001) throw new FileError(label, `zip entry '${r.name}' is encrypted, which is not supported`);
    const limit = limits.maxEntryBytes(r.name);
    if (r.size > limit) {
      throw new FileError(label, `zip entry '${r.name}' would inflate to ${r.size} bytes, over the ${limit}-byte limit`);
    }
    total += r.size;
    if (total > limits.maxTotalBytes) {
      throw new FileError(label, `zip entries would inflate to more than the ${limits.maxTotalBytes}-byte limit`);
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
  const files: Record<string, Uint8Array> = {};
  for (const r of chosen) {
    const at = r.localOffset;
    if (at + 30 > bytes.length || u32(bytes, at) !== LOCAL_SIG) {
      throw new FileError(label, `zip entry '${r.name}' points at byte ${at}, where there is no local header; the file may be truncated or corrupt`);
    }
    const start = at + 30 + u16(bytes, at + 26) + u16(bytes, at + 28);
    const end = start + r.compressedSize;
    if (end > bytes.length) {
      throw new FileError(label, `zip entry '${r.name}' runs past the end of the file; the file may be truncated`);
    }
    const raw = bytes.subarray(start, end);
    let data: Uint8Array;
    if (r.method === 0) {
      data = raw.slice();
    } else {
      try {
        // fflate writes at most `size` bytes into this buffer; a longer stream shows up as a CRC mismatch below.
        data = inflateSync(raw, { out: new Uint8Array(r.size) });
      } catch (err) {
        throw new FileError(label, `zip entry '${r.name}' does not inflate (${(err as Error).message}); the file is corrupt`, { cause: err });
      }
    }
    if (data.length !== r.size || crc32(data) !== r.crc) {
      throw new FileError(label, `zip entry '${r.name}' is damaged: its content does not match the CRC-32 and size recorded in the archive`);
    }
    files[r.name] = data;
  }
  return { files, names };
}
