/**
 * Just enough of the ZIP format (APPNOTE.TXT 6.3.x) to take a `.keras` archive apart and
 * to write archives that no well-behaved zip library would: lying sizes, duplicate or
 * unsafe entry names, raw (non-UTF-8) name bytes, wrong CRCs. Used only by the fuzzer.
 */
import * as zlib from "node:zlib";
import { deflateSync, inflateSync } from "fflate";

export interface ZipEntry {
  /** Raw name bytes, as stored. */
  name: Uint8Array;
  /** The name decoded as UTF-8 (for choosing entries). */
  text: string;
  method: number;
  flags: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** Offset of the central-directory record. */
  cdOffset: number;
  /** Offset of the local header. */
  localOffset: number;
  /** Where the entry's (compressed) data starts and ends in the archive. */
  dataStart: number;
  dataEnd: number;
}

export interface ZipLayout {
  entries: ZipEntry[];
  eocd: number;
  cdStart: number;
  cdEnd: number;
}

const u16 = (b: Uint8Array, p: number) => b[p] | (b[p + 1] << 8);
const u32 = (b: Uint8Array, p: number) => (b[p] | (b[p + 1] << 8) | (b[p + 2] << 16)) + b[p + 3] * 0x1000000;

/** Parses a well-formed archive (the pristine corpus); undefined when it is not one. */
export function readZip(bytes: Uint8Array): ZipLayout | undefined {
  let e = bytes.length - 22;
  while (e >= 0 && u32(bytes, e) !== 0x06054b50) e--;
  if (e < 0) return undefined;
  const count = u16(bytes, e + 10);
  const cdStart = u32(bytes, e + 16);
  const entries: ZipEntry[] = [];
  let p = cdStart;
  for (let i = 0; i < count; i++) {
    if (u32(bytes, p) !== 0x02014b50) return undefined;
    const nameLen = u16(bytes, p + 28);
    const extraLen = u16(bytes, p + 30);
    const commentLen = u16(bytes, p + 32);
    const localOffset = u32(bytes, p + 42);
    const name = bytes.slice(p + 46, p + 46 + nameLen);
    const lNameLen = u16(bytes, localOffset + 26);
    const lExtraLen = u16(bytes, localOffset + 28);
    const dataStart = localOffset + 30 + lNameLen + lExtraLen;
    const compressedSize = u32(bytes, p + 20);
    entries.push({
      name,
      text: new TextDecoder().decode(name),
      method: u16(bytes, p + 10),
      flags: u16(bytes, p + 8),
      crc: u32(bytes, p + 16),
      compressedSize,
      size: u32(bytes, p + 24),
      cdOffset: p,
      localOffset,
      dataStart,
      dataEnd: dataStart + compressedSize,
    });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return { entries, eocd: e, cdStart, cdEnd: p };
}

/** The stored or inflated content of an entry of a well-formed archive. */
export function entryContent(bytes: Uint8Array, e: ZipEntry): Uint8Array {
  const raw = bytes.subarray(e.dataStart, e.dataEnd);
  if (e.method === 0) return raw.slice();
  return inflateSync(raw, { out: new Uint8Array(e.size) });
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export interface WriteEntry {
  name: string | Uint8Array;
  content: Uint8Array;
  /** 0 stored (what Keras writes), 8 deflate. */
  method?: 0 | 8;
  /** Already-compressed bytes to store as is (for bombs); `content` is then only used for the CRC unless `crc` is given. */
  raw?: Uint8Array;
  /** Lies to tell in the headers. */
  declaredSize?: number;
  declaredCompressedSize?: number;
  crc?: number;
  flags?: number;
  methodField?: number;
}

export function nameBytes(name: string | Uint8Array): Uint8Array {
  return typeof name === "string" ? new TextEncoder().encode(name) : name;
}

/** Writes an archive; every header field can be made to lie through WriteEntry. */
export function writeZip(entries: WriteEntry[]): Uint8Array {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = nameBytes(e.name);
    const method = e.method ?? 0;
    const data = e.raw ?? (method === 8 ? deflateSync(e.content, { level: 6 }) : e.content);
    const crc = e.crc ?? crc32(e.content);
    const size = e.declaredSize ?? e.content.length;
    const csize = e.declaredCompressedSize ?? data.length;
    const flags = e.flags ?? 0x0800;
    const methodField = e.methodField ?? method;
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, flags, true);
    lv.setUint16(8, methodField, true);
    lv.setUint32(14, crc >>> 0, true);
    lv.setUint32(18, csize >>> 0, true);
    lv.setUint32(22, size >>> 0, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, flags, true);
    cv.setUint16(10, methodField, true);
    cv.setUint32(16, crc >>> 0, true);
    cv.setUint32(20, csize >>> 0, true);
    cv.setUint32(24, size >>> 0, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, data);
    centrals.push(central);
    offset += local.length + data.length;
  }
  const cdSize = centrals.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const parts = [...locals, ...centrals, eocd];
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const ZEROS_CHUNK = 64 * 1024 * 1024;
const deflatedZerosCache = new Map<string, Promise<Uint8Array>>();

/**
 * One raw deflate stream (about 1030:1) that inflates to `size` zero bytes, written by
 * zlib from 64 MiB chunks with no flush between them: the shape of a real bomb, with no
 * stored block for an inflater to trip over early. 2.25 GiB takes about 6 s, once per
 * size and process. `format` "zlib" wraps it as zlib's compress() does (a 2-byte header
 * and an Adler-32 trailer), as HDF5's deflate filter stores a chunk.
 */
export function deflatedZeros(size: number, format: "raw" | "zlib" = "raw"): Promise<Uint8Array> {
  const key = `${format}:${size}`;
  let made = deflatedZerosCache.get(key);
  if (!made) {
    made = new Promise<Uint8Array>((resolve, reject) => {
      const deflate = format === "zlib" ? zlib.createDeflate({ level: 9 }) : zlib.createDeflateRaw({ level: 9 });
      const parts: Buffer[] = [];
      deflate.on("data", (c: Buffer) => parts.push(c));
      deflate.on("end", () => resolve(new Uint8Array(Buffer.concat(parts))));
      deflate.on("error", reject);
      const chunk = Buffer.alloc(Math.min(ZEROS_CHUNK, size));
      let left = size;
      const pump = () => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!deflate.write(chunk.subarray(0, n))) return void deflate.once("drain", pump);
        }
        deflate.end();
      };
      pump();
    });
    deflatedZerosCache.set(key, made);
  }
  return made;
}
