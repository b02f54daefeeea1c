/**
 * A read-only map of an HDF5 file's structures, written from the HDF5 File Format
 * Specification (version 3.0), so that mutations can aim at a structure: truncate inside
 * the superblock, an object header, a B-tree, a heap, dataset data; patch a dataset's
 * dataspace dims or datatype; find an attribute's value bytes.
 *
 * It understands what Keras files contain: superblock v0/v1 (h5py's default) with v1
 * object headers, symbol-table groups (v1 B-trees, SNOD nodes, local heaps), and
 * superblock v2/v3 with v2 object headers (OHDR/OCHK) and compact link messages (h5wasm's
 * writer). Anything else is found by scanning for signatures. It never throws on a
 * malformed file: it maps what it can (it runs on the pristine corpus files anyway).
 */

export type RegionKind =
  | "superblock"
  | "object-header"
  | "btree"
  | "symbol-node"
  | "local-heap"
  | "heap-data"
  | "global-heap"
  | "fractal-heap"
  | "dataset-data"
  | "attribute"
  | "message";

export interface Region {
  kind: RegionKind;
  start: number;
  end: number;
  /** Object path, attribute name, message type... for reports. */
  label: string;
}

/** A dataset's patchable fields (absolute byte offsets). */
export interface DatasetInfo {
  path: string;
  /** Offsets of each dimension (sizeof lengths bytes each) in the dataspace message. */
  dimOffsets: number[];
  lengthSize: number;
  /** Offset of the datatype message's first byte (class and version) and of its 4-byte size. */
  datatypeOffset?: number;
  /** Contiguous layout: offsets of the data address and size fields. */
  layoutAddressOffset?: number;
  layoutSizeOffset?: number;
  data?: { start: number; end: number };
}

export interface AttributeInfo {
  owner: string;
  name: string;
  message: { start: number; end: number };
  dimOffsets: number[];
  datatypeOffset: number;
  /** The attribute's raw value bytes inside the message. */
  value: { start: number; end: number };
}

export interface Hdf5Map {
  base: number;
  offsetSize: number;
  lengthSize: number;
  superblockVersion: number;
  regions: Region[];
  datasets: DatasetInfo[];
  attributes: AttributeInfo[];
}

const SIGNATURES: [string, RegionKind][] = [
  ["TREE", "btree"],
  ["SNOD", "symbol-node"],
  ["HEAP", "local-heap"],
  ["GCOL", "global-heap"],
  ["OHDR", "object-header"],
  ["OCHK", "object-header"],
  ["FRHP", "fractal-heap"],
  ["FHDB", "fractal-heap"],
  ["FHIB", "fractal-heap"],
  ["BTHD", "btree"],
  ["BTIN", "btree"],
  ["BTLF", "btree"],
];

class Reader {
  constructor(
    readonly bytes: Uint8Array,
    readonly offsetSize: number,
    readonly lengthSize: number,
  ) {}

  ok(pos: number, n: number): boolean {
    return pos >= 0 && Number.isSafeInteger(pos) && pos + n <= this.bytes.length;
  }

  u8(p: number): number {
    return this.bytes[p];
  }

  u16(p: number): number {
    return this.bytes[p] | (this.bytes[p + 1] << 8);
  }

  u32(p: number): number {
    return (this.bytes[p] | (this.bytes[p + 1] << 8) | (this.bytes[p + 2] << 16)) + this.bytes[p + 3] * 0x1000000;
  }

  /** Little-endian unsigned of n bytes; undefined addresses (all ones) give -1. */
  uN(p: number, n: number): number {
    let v = 0;
    let allOnes = true;
    for (let i = n - 1; i >= 0; i--) {
      const b = this.bytes[p + i];
      if (b !== 0xff) allOnes = false;
      v = v * 256 + b;
    }
    return allOnes ? -1 : v;
  }

  addr(p: number): number {
    return this.uN(p, this.offsetSize);
  }

  len(p: number): number {
    return this.uN(p, this.lengthSize);
  }

  tag(p: number): string {
    return this.ok(p, 4) ? String.fromCharCode(this.bytes[p], this.bytes[p + 1], this.bytes[p + 2], this.bytes[p + 3]) : "";
  }
}

interface Message {
  type: number;
  start: number;
  size: number;
}

export function mapHdf5(bytes: Uint8Array, sigOffset = 0): Hdf5Map {
  const map: Hdf5Map = { base: sigOffset, offsetSize: 8, lengthSize: 8, superblockVersion: -1, regions: [], datasets: [], attributes: [] };
  const visited = new Set<number>();
  const add = (kind: RegionKind, start: number, end: number, label: string) => {
    const s = Math.max(0, Math.min(start, bytes.length));
    const e = Math.max(s, Math.min(end, bytes.length));
    if (e > s) map.regions.push({ kind, start: s, end: e, label });
  };

  try {
    const version = bytes[sigOffset + 8];
    map.superblockVersion = version;
    if (version === 0 || version === 1) {
      const osz = bytes[sigOffset + 13];
      const lsz = bytes[sigOffset + 14];
      map.offsetSize = osz;
      map.lengthSize = lsz;
      const r = new Reader(bytes, osz, lsz);
      let p = sigOffset + 24 + (version === 1 ? 4 : 0);
      const baseAddr = Math.max(0, r.addr(p));
      map.base = baseAddr;
      p += 4 * osz; // base, free-space, EOF, driver info
      const rootEntry = p;
      const superEnd = rootEntry + osz * 2 + 8 + 16;
      add("superblock", sigOffset, superEnd, "superblock v" + version);
      const rootHeader = r.addr(rootEntry + osz);
      walkObject(r, baseAddr + rootHeader, "/", map, visited, add, 0);
    } else if (version === 2 || version === 3) {
      const osz = bytes[sigOffset + 9];
      const lsz = bytes[sigOffset + 10];
      map.offsetSize = osz;
      map.lengthSize = lsz;
      const r = new Reader(bytes, osz, lsz);
      const baseAddr = Math.max(0, r.addr(sigOffset + 12));
      map.base = baseAddr;
      const rootHeader = r.addr(sigOffset + 12 + 3 * osz);
      add("superblock", sigOffset, sigOffset + 12 + 4 * osz + 4, "superblock v" + version);
      walkObject(r, baseAddr + rootHeader, "/", map, visited, add, 0);
    }
  } catch {
    // A partial map is still useful.
  }

  // Structures the walk did not reach (fractal heaps, v2 B-trees, ...): by signature.
  const known = new Set(map.regions.map((x) => x.start));
  for (let i = 0; i + 4 <= bytes.length; i++) {
    const b = bytes[i];
    if (b !== 0x54 && b !== 0x53 && b !== 0x48 && b !== 0x47 && b !== 0x4f && b !== 0x46 && b !== 0x42) continue;
    const tag = String.fromCharCode(b, bytes[i + 1], bytes[i + 2], bytes[i + 3]);
    const sig = SIGNATURES.find(([t]) => t === tag);
    if (sig && !known.has(i)) add(sig[1], i, Math.min(bytes.length, i + 64), `${tag}@${i} (scan)`);
  }
  map.regions.sort((a, b) => a.start - b.start);
  return map;
}

type Add = (kind: RegionKind, start: number, end: number, label: string) => void;

function walkObject(r: Reader, at: number, path: string, map: Hdf5Map, visited: Set<number>, add: Add, depth: number): void {
  if (depth > 64 || visited.has(at) || !r.ok(at, 16)) return;
  visited.add(at);
  const messages = r.tag(at) === "OHDR" ? readV2Header(r, at, path, add) : readV1Header(r, at, path, add);
  const ds: DatasetInfo = { path, dimOffsets: [], lengthSize: r.lengthSize };
  let isDataset = false;
  for (const m of messages) {
    add("message", m.start, m.start + m.size, `${path} msg 0x${m.type.toString(16)}`);
    switch (m.type) {
      case 0x01: {
        ds.dimOffsets = dataspaceDims(r, m.start).offsets;
        break;
      }
      case 0x03:
        ds.datatypeOffset = m.start;
        break;
      case 0x08: {
        isDataset = true;
        layout(r, m, ds, map, add);
        break;
      }
      case 0x0c:
        attribute(r, m, path, map, add);
        break;
      case 0x11: {
        const btree = r.addr(m.start);
        const heap = r.addr(m.start + r.offsetSize);
        const names = localHeap(r, map.base + heap, path, add);
        walkGroupBtree(r, map.base + btree, path, names, map, visited, add, depth, 0);
        break;
      }
      case 0x06: {
        const link = linkMessage(r, m);
        if (link) walkObject(r, map.base + link.address, joinPath(path, link.name), map, visited, add, depth + 1);
        break;
      }
      default:
        break;
    }
  }
  if (isDataset) map.datasets.push(ds);
}

function joinPath(parent: string, name: string): string {
  return parent === "/" ? `/${name}` : `${parent}/${name}`;
}

function readV1Header(r: Reader, at: number, path: string, add: Add): Message[] {
  if (r.u8(at) !== 1) return [];
  const count = r.u16(at + 2);
  const size = r.u32(at + 8);
  add("object-header", at, at + 16 + size, path);
  const messages: Message[] = [];
  const blocks: [number, number][] = [[at + 16, at + 16 + size]];
  for (let bi = 0; bi < blocks.length && bi < 64; bi++) {
    let [p, end] = blocks[bi];
    while (p + 8 <= end && messages.length < count && r.ok(p, 8)) {
      const type = r.u16(p);
      const msize = r.u16(p + 2);
      const start = p + 8;
      if (!r.ok(start, msize)) break;
      messages.push({ type, start, size: msize });
      if (type === 0x10) {
        const cont = r.addr(start);
        const clen = r.len(start + r.offsetSize);
        if (cont > 0 && clen > 0 && r.ok(cont, clen)) {
          blocks.push([cont, cont + clen]);
          add("object-header", cont, cont + clen, `${path} (continuation)`);
        }
      }
      p = start + msize;
      p = (p + 7) & ~7;
    }
  }
  return messages;
}

function readV2Header(r: Reader, at: number, path: string, add: Add): Message[] {
  const flags = r.u8(at + 5);
  let p = at + 6;
  if (flags & 0x20) p += 16;
  if (flags & 0x10) p += 4;
  const sizeBytes = 1 << (flags & 3);
  const chunk0 = r.uN(p, sizeBytes);
  p += sizeBytes;
  const messages: Message[] = [];
  const chunks: [number, number][] = [[p, p + chunk0]];
  add("object-header", at, p + chunk0 + 4, path);
  const tracked = (flags & 0x04) !== 0;
  for (let ci = 0; ci < chunks.length && ci < 64; ci++) {
    let [q, end] = chunks[ci];
    while (q + 4 + (tracked ? 2 : 0) <= end && r.ok(q, 4)) {
      const type = r.u8(q);
      const msize = r.u16(q + 1);
      const start = q + 4 + (tracked ? 2 : 0);
      if (start + msize > end) break;
      messages.push({ type, start, size: msize });
      if (type === 0x10) {
        const cont = r.addr(start);
        const clen = r.len(start + r.offsetSize);
        if (cont > 0 && clen > 8 && r.ok(cont, clen) && r.tag(cont) === "OCHK") {
          chunks.push([cont + 4, cont + clen - 4]);
          add("object-header", cont, cont + clen, `${path} (continuation)`);
        }
      }
      q = start + msize;
    }
  }
  return messages;
}

function dataspaceDims(r: Reader, p: number): { offsets: number[]; end: number } {
  const version = r.u8(p);
  const rank = r.u8(p + 1);
  const flags = r.u8(p + 2);
  const first = version === 1 ? p + 8 : p + 4;
  const offsets = Array.from({ length: rank }, (_, i) => first + i * r.lengthSize);
  let end = first + rank * r.lengthSize;
  if (flags & 1) end += rank * r.lengthSize;
  if (version === 1 && flags & 2) end += rank * r.lengthSize;
  return { offsets, end };
}

function layout(r: Reader, m: Message, ds: DatasetInfo, map: Hdf5Map, add: Add): void {
  const version = r.u8(m.start);
  if (version === 3 || version === 4) {
    const cls = r.u8(m.start + 1);
    if (cls === 1) {
      ds.layoutAddressOffset = m.start + 2;
      ds.layoutSizeOffset = m.start + 2 + r.offsetSize;
      const addr = r.addr(ds.layoutAddressOffset);
      const size = r.len(ds.layoutSizeOffset);
      if (addr >= 0 && size > 0) {
        ds.data = { start: map.base + addr, end: map.base + addr + size };
        add("dataset-data", ds.data.start, ds.data.end, ds.path);
      }
    } else if (cls === 0) {
      const size = r.u16(m.start + 2);
      ds.data = { start: m.start + 4, end: m.start + 4 + size };
      add("dataset-data", ds.data.start, ds.data.end, `${ds.path} (compact)`);
    } else if (cls === 2 && version === 3) {
      const btree = r.addr(m.start + 3);
      if (btree >= 0 && r.tag(map.base + btree) === "TREE") add("btree", map.base + btree, map.base + btree + 64, `${ds.path} chunk index`);
    }
  } else if (version === 1 || version === 2) {
    const rank = r.u8(m.start + 1);
    const cls = r.u8(m.start + 2);
    if (cls === 1) {
      ds.layoutAddressOffset = m.start + 8;
      const addr = r.addr(m.start + 8);
      // Size is implied by dims × element size for these versions.
      if (addr >= 0) {
        const dims = Array.from({ length: rank }, (_, i) => r.u32(m.start + 8 + r.offsetSize + 4 * i));
        const size = dims.reduce((a, b) => a * b, 1);
        ds.data = { start: map.base + addr, end: map.base + addr + size };
        add("dataset-data", ds.data.start, ds.data.end, ds.path);
      }
    }
  }
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function attribute(r: Reader, m: Message, owner: string, map: Hdf5Map, add: Add): void {
  const version = r.u8(m.start);
  const nameSize = r.u16(m.start + 2);
  const typeSize = r.u16(m.start + 4);
  const spaceSize = r.u16(m.start + 6);
  let p = m.start + 8;
  if (version === 3) p += 1;
  const pad = version === 1 ? align8 : (n: number) => n;
  const nameBytes = r.bytes.subarray(p, p + Math.max(0, nameSize - 1));
  const name = new TextDecoder().decode(nameBytes);
  p += pad(nameSize);
  const datatypeOffset = p;
  p += pad(typeSize);
  const space = dataspaceDims(r, p);
  p += pad(spaceSize);
  const info: AttributeInfo = {
    owner,
    name,
    message: { start: m.start, end: m.start + m.size },
    dimOffsets: space.offsets,
    datatypeOffset,
    value: { start: p, end: m.start + m.size },
  };
  map.attributes.push(info);
  add("attribute", m.start, m.start + m.size, `${owner} @${name}`);
}

function linkMessage(r: Reader, m: Message): { name: string; address: number } | undefined {
  let p = m.start;
  if (r.u8(p) !== 1) return undefined;
  const flags = r.u8(p + 1);
  p += 2;
  let linkType = 0;
  if (flags & 0x08) linkType = r.u8(p++);
  if (flags & 0x04) p += 8;
  if (flags & 0x10) p += 1;
  const lenBytes = 1 << (flags & 3);
  const nameLen = r.uN(p, lenBytes);
  p += lenBytes;
  if (nameLen <= 0 || !r.ok(p, nameLen)) return undefined;
  const name = new TextDecoder().decode(r.bytes.subarray(p, p + nameLen));
  p += nameLen;
  if (linkType !== 0) return undefined;
  return { name, address: r.addr(p) };
}

function localHeap(r: Reader, at: number, path: string, add: Add): (offset: number) => string {
  if (r.tag(at) !== "HEAP") return () => "?";
  add("local-heap", at, at + 8 + 2 * r.lengthSize + r.offsetSize, `${path} heap`);
  const dataSize = r.len(at + 8);
  const dataAddr = r.addr(at + 8 + 2 * r.lengthSize);
  add("heap-data", dataAddr, dataAddr + dataSize, `${path} heap data`);
  return (offset: number) => {
    const s = dataAddr + offset;
    let e = s;
    while (e < r.bytes.length && e < dataAddr + dataSize && r.bytes[e] !== 0) e++;
    return new TextDecoder().decode(r.bytes.subarray(s, e));
  };
}

function walkGroupBtree(
  r: Reader,
  at: number,
  path: string,
  names: (offset: number) => string,
  map: Hdf5Map,
  visited: Set<number>,
  add: Add,
  depth: number,
  level: number,
): void {
  if (level > 16 || visited.has(at) || r.tag(at) !== "TREE") return;
  visited.add(at);
  const nodeType = r.u8(at + 4);
  const nodeLevel = r.u8(at + 5);
  const used = r.u16(at + 6);
  let p = at + 8 + 2 * r.offsetSize;
  const keySize = nodeType === 0 ? r.lengthSize : 0;
  const children: number[] = [];
  p += keySize;
  for (let i = 0; i < used; i++) {
    children.push(r.addr(p));
    p += r.offsetSize + keySize;
  }
  add("btree", at, p, `${path} group B-tree`);
  for (const child of children) {
    const c = map.base + child;
    if (nodeLevel > 0) walkGroupBtree(r, c, path, names, map, visited, add, depth, level + 1);
    else symbolNode(r, c, path, names, map, visited, add, depth);
  }
}

function symbolNode(
  r: Reader,
  at: number,
  path: string,
  names: (offset: number) => string,
  map: Hdf5Map,
  visited: Set<number>,
  add: Add,
  depth: number,
): void {
  if (visited.has(at) || r.tag(at) !== "SNOD") return;
  visited.add(at);
  const count = r.u16(at + 6);
  const entrySize = 2 * r.offsetSize + 24;
  add("symbol-node", at, at + 8 + count * entrySize, `${path} symbol node`);
  for (let i = 0; i < count; i++) {
    const e = at + 8 + i * entrySize;
    if (!r.ok(e, entrySize)) break;
    const name = names(r.addr(e));
    const header = r.addr(e + r.offsetSize);
    if (header >= 0) walkObject(r, map.base + header, joinPath(path, name), map, visited, add, depth + 1);
  }
}
