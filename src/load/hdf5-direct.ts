/**
 * The HDF5 files h5py writes for Keras, read from their bytes without the HDF5 library.
 *
 * h5py's defaults (libver "earliest", which Keras never changes) give a version 0 or 1
 * superblock, version 1 object headers, groups as symbol tables (a v1 B-tree of symbol
 * nodes, names in a local heap), attributes inside the object headers, and datasets whose
 * values are one contiguous extent (Keras asks for no chunking or compression). That is
 * all this reader knows, from the HDF5 File Format Specification 3.0: II.A (superblock),
 * III.A.1 (v1 B-trees), III.B-D (symbol nodes, symbol table entries, local heaps), III.E
 * (global heap, for variable-length strings), IV.A.1.a (v1 object headers) and IV.A.2
 * (messages: dataspace .b, link info .c, datatype .d, link .g, layout .i, attribute .m,
 * continuation .q, symbol table .r, attribute info .v).
 *
 * The whole structure is read and checked when the file is opened, attribute values
 * included, so the choice between this reader and the library is made once: anything
 * outside the subset (a v2 object header or superblock, dense or creation-ordered links
 * or attributes, shared messages, soft or external links, chunked, filtered, external or
 * unwritten datasets, datatypes other than integers, IEEE floats, 2-byte opaque values
 * and strings, names that are not UTF-8, a count or size that does not add up) makes
 * `openDirect` answer undefined, and the file goes to the library (hdf5.ts) as before,
 * which reads it or says why it cannot. Answers follow the library's as h5wasm hands them
 * over (names in strcmp order, fixed-length strings cut at their first NUL and decoded by
 * their character set, numbers as numbers); test/load/hdf5-direct.test.ts compares the
 * two on every HDF5 fixture.
 */
import { isUtf8 } from "node:buffer";
import { FileError } from "../errors.js";
import type { DType } from "../model.js";
import type { OpenSource, PagedReader } from "./byte-source.js";
import { widen16 } from "./half.js";
import { isIeeeFloat } from "./hdf5-metadata.js";
import {
  attributeTooLarge,
  type DatasetInfo,
  DeferredReads,
  dtypeOf,
  H5T_FLOAT,
  H5T_INTEGER,
  H5T_OPAQUE,
  H5T_STRING,
  type H5File,
  MAX_ATTRIBUTE_BYTES,
  type LaterValues,
  type NumericData,
  numericProblem,
  type ScanValues,
  scanBlockBytes,
  type Opaque16,
} from "./hdf5-file.js";

/** Outside what this reader knows: the file goes to the library. */
class Unsupported extends Error {}

function unsupported(what: string): never {
  throw new Unsupported(what);
}

/** Objects and structure steps a file may take before it is left to the library (a Keras file has hundreds). */
const MAX_OBJECTS = 50_000;
const MAX_STEPS = 2_000_000;

const H5T_ENUM = 8;
const H5T_VLEN = 9;

interface TypeInfo {
  cls: number;
  /** Bytes per element as stored (a variable-length string's reference counts as 4: the pointer h5wasm reports). */
  size: number;
  signed: boolean;
  bigEndian: boolean;
  /** Strings: 0 ASCII, 1 UTF-8. */
  cset: number;
}

interface DatasetEntry {
  shape: number[];
  type: TypeInfo;
  /** Absolute position of the values in the file, or -1 when they are `compact`. */
  address: number;
  bytes: number;
  compact?: Uint8Array;
  /** Keras 3's dtype="bfloat16" attribute on a 2-byte opaque dataset. */
  bfloat16Mark: boolean;
}

interface Entry {
  attrs: Map<string, unknown>;
  /** Sorted child names of a group. */
  children?: string[];
  dataset?: DatasetEntry;
}

/** An attribute the library would refuse for its declared size: refused when read, as the library's reader does. */
class TooLarge {
  constructor(readonly declared: number) {}
}

/**
 * The file read directly, or undefined when it is outside the subset. `bytes` stays the
 * file's reader until close(); `reopen` opens the bytes again for values read after that.
 */
export function openDirect(bytes: PagedReader, superblock: number, label: string, reopen: OpenSource): H5File | undefined {
  const w = walk(bytes, superblock);
  return w instanceof Walk ? new DirectH5File(w.entries, bytes, label, reopen) : undefined;
}

/** Why a file is left to the library, or undefined when the direct reader reads it (for tests). */
export function whyNotDirect(bytes: PagedReader, superblock: number): string | undefined {
  const w = walk(bytes, superblock);
  return w instanceof Walk ? undefined : w.message;
}

/** The file walked, or what put it outside the subset. */
function walk(bytes: PagedReader, superblock: number): Walk | Unsupported {
  try {
    return new Walk(bytes, superblock);
  } catch (err) {
    if (err instanceof Unsupported) return err;
    throw err;
  }
}

// ---------------------------------------------------------------------------
// The walk: every object, attribute and extent, checked
// ---------------------------------------------------------------------------

interface Message {
  type: number;
  at: number;
  size: number;
}

class Walk {
  readonly entries = new Map<string, Entry>();
  private steps = 0;
  /** Size of offsets and of lengths (superblock). */
  private readonly o!: number;
  private readonly l!: number;

  constructor(
    private readonly r: PagedReader,
    private readonly base: number,
  ) {
    const version = r.u8(base + 8);
    let root: number;
    if (version === 0 || version === 1) {
      this.o = r.u8(base + 13);
      this.l = r.u8(base + 14);
      if (![2, 4, 8].includes(this.o) || ![2, 4, 8].includes(this.l)) unsupported("offset or length size");
      // Version 1 adds the indexed storage K and 2 reserved bytes; then four addresses, then the root's symbol table entry.
      root = this.address(base + 24 + (version === 1 ? 4 : 0) + 5 * this.o);
    } else if (version === 2 || version === 3) {
      this.o = r.u8(base + 9);
      this.l = r.u8(base + 10);
      if (![2, 4, 8].includes(this.o) || ![2, 4, 8].includes(this.l)) unsupported("offset or length size");
      // Base address, superblock extension, end of file, root object header, then the checksum of all that precedes it.
      this.checksummed(base, 12 + 4 * this.o);
      if (this.uN(base + 12 + this.o, this.o) !== -1) unsupported("a superblock extension");
      root = this.address(base + 12 + 3 * this.o);
    } else {
      unsupported(`superblock version ${version}`);
    }
    // A file shorter than its superblock's end-of-file address is truncated: the HDF5 library refuses it, and says so.
    const eof = this.uN(base + (version >= 2 ? 12 : 24 + (version === 1 ? 4 : 0)) + 2 * this.o, this.o);
    if (eof < 0 || base + eof > r.size) unsupported("a file shorter than its end-of-file address");
    const seen = new Set<number>();
    const queue: [string, number][] = [["/", root]];
    for (let next = 0; next < queue.length; next++) {
      const [path, at] = queue[next];
      if (seen.has(at)) unsupported("an object reached twice");
      seen.add(at);
      if (seen.size > MAX_OBJECTS) unsupported("too many objects");
      const { entry, links } = this.object(at);
      this.entries.set(path, entry);
      for (const [name, child] of links) queue.push([path === "/" ? `/${name}` : `${path}/${name}`, child]);
    }
  }

  private step(): void {
    if (++this.steps > MAX_STEPS) unsupported("too many structure steps");
  }

  private has(at: number, n: number): boolean {
    return Number.isSafeInteger(at) && at >= 0 && n >= 0 && at + n <= this.r.size;
  }

  private need(at: number, n: number): void {
    if (!this.has(at, n)) unsupported("a structure outside the file");
  }

  private u8(at: number): number {
    this.need(at, 1);
    return this.r.u8(at);
  }

  private u16(at: number): number {
    this.need(at, 2);
    return this.r.u16(at);
  }

  private u32(at: number): number {
    this.need(at, 4);
    return this.r.u32(at);
  }

  /** Unsigned little-endian of n bytes; -1 for the undefined address (all ones). */
  private uN(at: number, n: number): number {
    this.need(at, n);
    let v = 0;
    let ones = true;
    for (let i = n - 1; i >= 0; i--) {
      const x = this.r.u8(at + i);
      if (x !== 0xff) ones = false;
      v = v * 256 + x;
    }
    if (ones) return -1;
    if (!Number.isSafeInteger(v)) unsupported("a number past 2^53");
    return v;
  }

  /** A defined address inside the file, made absolute (addresses count from the superblock). */
  private address(at: number): number {
    const a = this.uN(at, this.o);
    if (a < 0 || !this.has(this.base + a, 1)) unsupported("an undefined or outside address");
    return this.base + a;
  }

  private tag(at: number, t: string): boolean {
    return this.has(at, 4) && [0, 1, 2, 3].every((i) => this.r.u8(at + i) === t.charCodeAt(i));
  }

  private bytes(at: number, n: number): Uint8Array {
    this.need(at, n);
    return this.r.bytes(at, n);
  }

  // -- object headers -------------------------------------------------------

  /** Bytes [at, at + n) followed by their Jenkins lookup3 checksum, as every version 2 structure ends. */
  private checksummed(at: number, n: number): void {
    if (lookup3(this.bytes(at, n)) !== this.u32(at + n)) unsupported("a checksum that does not match");
  }

  private messages(at: number): Message[] {
    return this.tag(at, "OHDR") ? this.messagesV2(at) : this.messagesV1(at);
  }

  /**
   * A version 2 object header's messages (IV.A.1.b): the first chunk after its signature,
   * flags, optional times and attribute limits and chunk size, then continuation chunks
   * ("OCHK"), each ending in its checksum; bytes too few for a message header are a gap.
   */
  private messagesV2(at: number): Message[] {
    if (this.u8(at + 4) !== 2) unsupported("an object header version");
    const flags = this.u8(at + 5);
    let p = at + 6 + (flags & 0x20 ? 16 : 0) + (flags & 0x10 ? 4 : 0);
    const n = 1 << (flags & 3);
    const size = this.uN(p, n);
    p += n;
    this.checksummed(at, p + size - at);
    const head = 4 + (flags & 0x04 ? 2 : 0);
    const chunks: [number, number][] = [[p, p + size]];
    const out: Message[] = [];
    for (let c = 0; c < chunks.length; c++) {
      if (c > 1024) unsupported("too many continuation chunks");
      const [start, end] = chunks[c];
      let q = start;
      while (q + head <= end) {
        this.step();
        const type = this.u8(q);
        const size = this.u16(q + 1);
        const mflags = this.u8(q + 3);
        if (q + head + size > end) unsupported("a message past its chunk");
        if (mflags & 0x02) unsupported("a shared message");
        out.push({ type, at: q + head, size });
        if (type === 0x0010) {
          const next = this.address(q + head);
          const len = this.uN(q + head + this.o, this.l);
          if (len < 8 || !this.tag(next, "OCHK")) unsupported("a continuation chunk");
          this.checksummed(next, len - 4);
          chunks.push([next + 4, next + len - 4]);
        }
        q += head + size;
      }
    }
    return out;
  }

  /** A version 1 object header's messages (IV.A.1.a), through its continuation blocks; their count must match the header's. */
  private messagesV1(at: number): Message[] {
    if (this.u8(at) !== 1) unsupported("an object header that is not version 1");
    const count = this.u16(at + 2);
    const blocks: [number, number][] = [[at + 16, at + 16 + this.u32(at + 8)]];
    const out: Message[] = [];
    for (let b = 0; b < blocks.length; b++) {
      const [start, end] = blocks[b];
      this.need(start, end - start);
      let p = start;
      while (p < end && out.length < count) {
        this.step();
        const type = this.u16(p);
        const size = this.u16(p + 2);
        const flags = this.u8(p + 4);
        // Version 1 messages are padded to a multiple of 8 bytes (IV.A.1.a).
        if (size % 8 !== 0 || p + 8 + size > end) unsupported("a message past its block");
        if (flags & 0x02) unsupported("a shared message");
        out.push({ type, at: p + 8, size });
        if (type === 0x0010) {
          const c = this.address(p + 8);
          const len = this.uN(p + 8 + this.o, this.l);
          if (len <= 0) unsupported("an empty continuation");
          blocks.push([c, c + len]);
        }
        p += 8 + size;
      }
      if (blocks.length > 1024) unsupported("too many continuation blocks");
    }
    if (out.length !== count) unsupported("an object header whose message count does not add up");
    return out;
  }

  private object(at: number): { entry: Entry; links: [string, number][] } {
    const messages = this.messages(at);
    const entry: Entry = { attrs: new Map() };
    const links: [string, number][] = [];
    let space: number[] | undefined;
    let type: TypeInfo | undefined;
    let layout: Message | undefined;
    let group = false;
    const attributes: Message[] = [];
    for (const m of messages) {
      switch (m.type) {
        case 0x0000: // NIL
        case 0x0004: // fill value (old)
        case 0x0005: // fill value: the values are all written (no unwritten datasets here)
        case 0x000d: // comment
        case 0x000e: // modification time (old)
        case 0x0010: // continuation (followed above)
        case 0x0012: // modification time
        case 0x0016: // reference count
          break;
        case 0x0001:
          space = this.dataspace(m.at, m.at + m.size);
          break;
        case 0x0003:
          type = this.datatype(m.at, m.at + m.size, false);
          break;
        case 0x0008:
          layout = m;
          break;
        case 0x000c:
          attributes.push(m);
          break;
        case 0x0011:
          group = true;
          links.push(...this.symbolTable(m.at));
          break;
        case 0x0002:
          group = true;
          this.compactOnly(m.at, "link", 8);
          break;
        case 0x000a: // group info: limits for the library's own storage choices
          group = true;
          break;
        case 0x0006:
          group = true;
          links.push(this.link(m.at, m.at + m.size));
          break;
        case 0x0015:
          this.compactOnly(m.at, "attribute", 2);
          break;
        case 0x000b:
          unsupported("filtered (compressed) values");
          break;
        default:
          unsupported(`message type ${m.type}`);
      }
    }
    if (group === (layout !== undefined)) unsupported("an object that is not one group or one dataset");
    for (const m of attributes) {
      const [name, value] = this.attribute(m.at, m.at + m.size);
      if (entry.attrs.has(name)) unsupported("an attribute named twice");
      entry.attrs.set(name, value);
    }
    entry.attrs = new Map([...entry.attrs].sort((a, b) => byteOrder(a[0], b[0])));
    if (group) {
      const names = links.map(([n]) => n);
      if (new Set(names).size !== names.length) unsupported("a member named twice");
      links.sort((a, b) => byteOrder(a[0], b[0]));
      entry.children = links.map(([n]) => n);
    } else {
      if (!space || !type) unsupported("a dataset without a dataspace or datatype");
      entry.dataset = this.dataset(layout!, space, type, entry.attrs.get("dtype") === "bfloat16");
    }
    return { entry, links };
  }

  // -- groups ---------------------------------------------------------------

  /** Members of a symbol-table group: its v1 B-tree (node type 0) of symbol nodes, names in its local heap. */
  private symbolTable(at: number): [string, number][] {
    const tree = this.address(at);
    const heap = this.address(at + this.o);
    if (!this.tag(heap, "HEAP") || this.u8(heap + 4) !== 0) unsupported("a local heap");
    const heapSize = this.uN(heap + 8, this.l);
    const heapData = this.address(heap + 8 + 2 * this.l);
    this.need(heapData, heapSize);
    const out: [string, number][] = [];
    const visit = (node: number, depth: number) => {
      this.step();
      if (depth > 32 || !this.tag(node, "TREE") || this.u8(node + 4) !== 0) unsupported("a group B-tree node");
      const level = this.u8(node + 5);
      const used = this.u16(node + 6);
      // Keys (heap offsets, l bytes) and children (o bytes) alternate after the two sibling addresses.
      let p = node + 8 + 2 * this.o + this.l;
      for (let i = 0; i < used; i++, p += this.o + this.l) {
        const child = this.address(p);
        if (level > 0) visit(child, depth + 1);
        else this.symbolNode(child, heapData, heapSize, out);
      }
    };
    visit(tree, 0);
    return out;
  }

  private symbolNode(at: number, heapData: number, heapSize: number, out: [string, number][]): void {
    if (!this.tag(at, "SNOD") || this.u8(at + 4) !== 1) unsupported("a symbol node");
    const count = this.u16(at + 6);
    const size = 2 * this.o + 24;
    for (let k = 0; k < count; k++) {
      this.step();
      const e = at + 8 + k * size;
      const nameOffset = this.uN(e, this.o);
      const header = this.address(e + this.o);
      // Cache type 2 is a soft link, whose target is a path in the heap.
      if (this.u32(e + 2 * this.o) === 2) unsupported("a soft link");
      if (nameOffset < 0 || nameOffset >= heapSize) unsupported("a member name outside its heap");
      let end = heapData + nameOffset;
      while (end < heapData + heapSize && this.u8(end) !== 0) {
        this.step();
        end++;
      }
      if (end >= heapData + heapSize) unsupported("a member name without its end");
      out.push([memberName(this.bytes(heapData + nameOffset, end - heapData - nameOffset)), header]);
    }
  }

  /**
   * A link info or attribute info message (IV.A.2.c, .v): only compact storage ordered by
   * name is read here (dense storage and creation-order indexes go to the library). After the
   * version and flags, a tracked creation index takes `indexBytes` (8 for links, 2 for
   * attributes); then comes the dense storage's fractal heap address, undefined when compact.
   */
  private compactOnly(at: number, what: "link" | "attribute", indexBytes: number): void {
    if (this.u8(at) !== 0) unsupported(`the ${what} info message's version`);
    const flags = this.u8(at + 1);
    if (flags & 0x02) unsupported(`${what}s indexed by creation order`);
    if (this.uN(at + 2 + (flags & 0x01 ? indexBytes : 0), this.o) !== -1) unsupported(`dense ${what} storage`);
  }

  /** A hard link message: its name and the object it points at. */
  private link(at: number, end: number): [string, number] {
    if (this.u8(at) !== 1) unsupported("a link message version");
    const flags = this.u8(at + 1);
    let p = at + 2;
    if (flags & 0x08) {
      if (this.u8(p) !== 0) unsupported("a soft or external link");
      p += 1;
    }
    if (flags & 0x04) p += 8;
    if (flags & 0x10) p += 1;
    const n = 1 << (flags & 3);
    const length = this.uN(p, n);
    p += n;
    if (length <= 0 || p + length + this.o > end) unsupported("a link message's sizes");
    return [memberName(this.bytes(p, length)), this.address(p + length)];
  }

  // -- dataspaces, datatypes ------------------------------------------------

  /** Dimensions of a dataspace message ([] for a scalar). */
  private dataspace(at: number, end: number): number[] {
    const version = this.u8(at);
    const rank = this.u8(at + 1);
    let first: number;
    if (version === 1) first = at + 8;
    else if (version === 2) {
      const kind = this.u8(at + 3);
      if (kind === 2) unsupported("a null dataspace");
      if ((kind === 0) !== (rank === 0)) unsupported("a dataspace's kind");
      first = at + 4;
    } else unsupported("a dataspace version");
    if (rank > 32 || first + rank * this.l > end) unsupported("a dataspace's rank");
    const dims: number[] = [];
    let count = 1;
    for (let i = 0; i < rank; i++) {
      const d = this.uN(first + i * this.l, this.l);
      if (d < 0) unsupported("an unlimited dimension");
      dims.push(d);
      count *= d;
    }
    if (!Number.isSafeInteger(count)) unsupported("a dataspace too large");
    return dims;
  }

  /** A datatype this reader decodes; `inAttribute` admits the classes only attributes use (strings, enums). */
  private datatype(at: number, end: number, inAttribute: boolean): TypeInfo {
    if (at + 8 > end) unsupported("a datatype cut short");
    const cls = this.u8(at) & 0x0f;
    const version = this.u8(at) >> 4;
    if (version < 1 || version > 3) unsupported("a datatype version");
    const bits = this.u8(at + 1);
    const size = this.u32(at + 4);
    const t: TypeInfo = { cls, size, signed: false, bigEndian: (bits & 0x01) !== 0, cset: 0 };
    switch (cls) {
      case H5T_INTEGER:
        if (![1, 2, 4, 8].includes(size) || at + 12 > end || this.u16(at + 8) !== 0 || this.u16(at + 10) !== 8 * size) unsupported("an integer layout");
        t.signed = (bits & 0x08) !== 0;
        return t;
      case H5T_FLOAT:
        this.need(at, 20);
        if (at + 20 > end || !isIeeeFloat(this.r, at, size)) unsupported("a float layout");
        if (inAttribute && size === 2) unsupported("a float16 attribute");
        return t;
      case H5T_OPAQUE:
        if (inAttribute || size !== 2) unsupported("an opaque type");
        return t;
      case H5T_STRING:
        if (!inAttribute || size < 1) unsupported("a string type");
        t.cset = (bits >> 4) & 0x0f;
        if (t.cset > 1) unsupported("a character set");
        return t;
      case H5T_ENUM: {
        if (!inAttribute) unsupported("an enum dataset");
        const baseType = this.datatype(at + 8, end, false);
        if (baseType.cls !== H5T_INTEGER || baseType.size !== size) unsupported("an enum's base type");
        return baseType;
      }
      case H5T_VLEN: {
        // A variable-length string: each value a (length, heap collection, index) reference.
        if (!inAttribute || (bits & 0x0f) !== 1 || size !== 4 + this.o + 4) unsupported("a variable-length type");
        const cset = (this.u8(at + 2) & 0x0f);
        const baseType = this.u8(at + 8) & 0x0f;
        if (cset > 1 || (baseType !== H5T_STRING && baseType !== H5T_INTEGER) || this.u32(at + 12) !== 1) unsupported("a variable-length string's base");
        return { cls: H5T_VLEN, size, signed: false, bigEndian: false, cset };
      }
      default:
        return unsupported(`datatype class ${cls}`);
    }
  }

  // -- attributes -----------------------------------------------------------

  /** An attribute message: its name and value, as the library's reader gives it (see DirectH5File.attr). */
  private attribute(at: number, end: number): [string, unknown] {
    const version = this.u8(at);
    if (version < 1 || version > 3) unsupported("an attribute version");
    if (version >= 2 && this.u8(at + 1) & 0x03) unsupported("a shared attribute type or space");
    const nameSize = this.u16(at + 2);
    const typeSize = this.u16(at + 4);
    const spaceSize = this.u16(at + 6);
    const pad = (n: number) => (version === 1 ? (n + 7) & ~7 : n);
    let p = at + 8 + (version === 3 ? 1 : 0);
    if (nameSize < 1 || this.u8(p + nameSize - 1) !== 0) unsupported("an attribute name");
    const name = utf8Name(this.bytes(p, nameSize - 1));
    p += pad(nameSize);
    const type = this.datatype(p, p + typeSize, true);
    p += pad(typeSize);
    const shape = this.dataspace(p, p + spaceSize);
    p += pad(spaceSize);
    const count = shape.reduce((a, b) => a * b, 1);
    const elementSize = type.cls === H5T_VLEN ? 4 + this.o + 4 : type.size;
    if (p + count * elementSize > end) unsupported("an attribute's values past its message");
    // What h5wasm's metadata reports: a variable-length string's size is its 4-byte pointer.
    const declared = (type.cls === H5T_VLEN ? 4 : type.size) * count;
    if (!(declared <= MAX_ATTRIBUTE_BYTES)) return [name, new TooLarge(declared)];
    const values: (string | number)[] = [];
    for (let k = 0; k < count; k++) {
      this.step();
      values.push(this.value(type, p + k * elementSize));
    }
    return [name, shape.length === 0 ? values[0] : values];
  }

  private value(t: TypeInfo, at: number): string | number {
    if (t.cls === H5T_STRING) {
      // h5wasm cuts a fixed-length string at its first NUL and decodes it by its character set.
      const raw = this.bytes(at, t.size);
      const nul = raw.indexOf(0);
      return decodeString(nul >= 0 ? raw.subarray(0, nul) : raw, t.cset);
    }
    if (t.cls === H5T_VLEN) {
      const length = this.u32(at);
      if (length === 0) return "";
      const raw = this.heapObject(this.address(at + 4), this.u32(at + 4 + this.o), length);
      // The library hands a C string over: what follows a NUL is not seen.
      const nul = raw.indexOf(0);
      const text = nul >= 0 ? raw.subarray(0, nul) : raw;
      // emscripten's UTF8ToString decodes invalid bytes its own way: such strings are left to the library.
      if (t.cset === 1 && !isUtf8(text)) unsupported("a string that is not UTF-8");
      return t.cset === 1 ? Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString("utf8") : latin1(text);
    }
    const view = new DataView(this.bytes(at, t.size).buffer);
    const le = !t.bigEndian;
    if (t.cls === H5T_FLOAT) return t.size === 4 ? view.getFloat32(0, le) : view.getFloat64(0, le);
    switch (t.size) {
      case 1:
        return t.signed ? view.getInt8(0) : view.getUint8(0);
      case 2:
        return t.signed ? view.getInt16(0, le) : view.getUint16(0, le);
      case 4:
        return t.signed ? view.getInt32(0, le) : view.getUint32(0, le);
      default:
        return Number(t.signed ? view.getBigInt64(0, le) : view.getBigUint64(0, le));
    }
  }

  /** Object `index` of the global heap collection at `at`, which must hold exactly `length` bytes. */
  private heapObject(at: number, index: number, length: number): Uint8Array {
    if (!this.tag(at, "GCOL") || this.u8(at + 4) !== 1) unsupported("a global heap collection");
    const size = this.uN(at + 8, this.l);
    const end = at + size;
    this.need(at, size);
    let p = at + 8 + this.l;
    while (p + 8 + this.l <= end) {
      this.step();
      const idx = this.u16(p);
      const objectSize = this.uN(p + 8, this.l);
      if (idx === 0 || objectSize < 0) break;
      if (idx === index) {
        if (objectSize !== length || p + 8 + this.l + objectSize > end) unsupported("a global heap object's size");
        return this.bytes(p + 8 + this.l, objectSize);
      }
      p += 8 + this.l + Math.ceil(objectSize / 8) * 8;
    }
    return unsupported("a missing global heap object");
  }

  // -- datasets -------------------------------------------------------------

  /** A layout message: contiguous or compact values that hold exactly the dataset's elements. */
  private dataset(layout: Message, shape: number[], type: TypeInfo, bfloat16Mark: boolean): DatasetEntry {
    const at = layout.at;
    // Versions 3 and 4 store compact and contiguous layouts alike (IV.A.2.i).
    if (this.u8(at) !== 3 && this.u8(at) !== 4) unsupported("a layout version");
    const count = shape.reduce((a, b) => a * b, 1);
    const bytes = count * type.size;
    const cls = this.u8(at + 1);
    if (cls === 0) {
      const size = this.u16(at + 2);
      if (size !== bytes || 4 + size > layout.size) unsupported("compact values that do not fit the dataset");
      return { shape, type, address: -1, bytes, compact: this.bytes(at + 4, size), bfloat16Mark };
    }
    if (cls !== 1) unsupported("chunked or virtual storage");
    const address = this.uN(at + 2, this.o);
    // An empty dataset has no storage; any other unwritten one reads as its fill value, which is the library's business.
    if (address < 0 && bytes === 0) return { shape, type, address: -1, bytes, compact: new Uint8Array(0), bfloat16Mark };
    if (address < 0) unsupported("a dataset never written");
    const size = this.uN(at + 2 + this.o, this.l);
    if (size !== bytes || !this.has(this.base + address, size)) unsupported("contiguous values that do not fit the dataset or the file");
    return { shape, type, address: this.base + address, bytes, bfloat16Mark };
  }
}

/**
 * Bob Jenkins' lookup3 hash (hashlittle, initial value 0), the checksum of every version 2
 * structure (HDF5's H5_checksum_lookup3).
 */
export function lookup3(k: Uint8Array): number {
  let length = k.length;
  let a = (0xdeadbeef + length) | 0;
  let b = a;
  let c = a;
  const rot = (x: number, n: number) => (x << n) | (x >>> (32 - n));
  let i = 0;
  while (length > 12) {
    a = (a + (k[i] | (k[i + 1] << 8) | (k[i + 2] << 16) | (k[i + 3] << 24))) | 0;
    b = (b + (k[i + 4] | (k[i + 5] << 8) | (k[i + 6] << 16) | (k[i + 7] << 24))) | 0;
    c = (c + (k[i + 8] | (k[i + 9] << 8) | (k[i + 10] << 16) | (k[i + 11] << 24))) | 0;
    a = (a - c) | 0; a ^= rot(c, 4); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 6); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 8); b = (b + a) | 0;
    a = (a - c) | 0; a ^= rot(c, 16); c = (c + b) | 0;
    b = (b - a) | 0; b ^= rot(a, 19); a = (a + c) | 0;
    c = (c - b) | 0; c ^= rot(b, 4); b = (b + a) | 0;
    length -= 12;
    i += 12;
  }
  if (length === 0) return c >>> 0;
  // The tail, most significant byte first, each word taking the bytes it has.
  const word = (from: number) => {
    let w = 0;
    for (let j = Math.min(4, length - (from - i)) - 1; j >= 0; j--) w = (w << 8) | k[from + j];
    return w;
  };
  if (length > 8) c = (c + word(i + 8)) | 0;
  if (length > 4) b = (b + word(i + 4)) | 0;
  a = (a + word(i)) | 0;
  c ^= b; c = (c - rot(b, 14)) | 0;
  a ^= c; a = (a - rot(c, 11)) | 0;
  b ^= a; b = (b - rot(a, 25)) | 0;
  c ^= b; c = (c - rot(b, 16)) | 0;
  a ^= c; a = (a - rot(c, 4)) | 0;
  b ^= a; b = (b - rot(a, 14)) | 0;
  c ^= b; c = (c - rot(b, 24)) | 0;
  return c >>> 0;
}

/** strcmp order: by UTF-8 bytes, as HDF5 orders names. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function utf8Name(bytes: Uint8Array): string {
  if (!isUtf8(bytes)) unsupported("a name that is not UTF-8");
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
}

/** A group member's name: one path component (a '/' inside, or '.', would make two members one path here). */
function memberName(bytes: Uint8Array): string {
  const name = utf8Name(bytes);
  if (name === "" || name === "." || name.includes("/")) unsupported("a member name that is not one path component");
  return name;
}

function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1");
}

let asciiDecoder: { decode(bytes: Uint8Array): string } | undefined;

/** A fixed-length string as h5wasm decodes it: TextDecoder("utf-8") or TextDecoder("ascii") (which is windows-1252). */
function decodeString(bytes: Uint8Array, cset: number): string {
  if (cset === 1) return new TextDecoder("utf-8").decode(bytes);
  if (bytes.every((b) => b < 0x80)) return latin1(bytes);
  asciiDecoder ??= new TextDecoder("ascii");
  return asciiDecoder.decode(bytes);
}

// ---------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------

class DirectH5File implements H5File {
  opaque16: Opaque16 | undefined;
  private closed = false;
  private readonly deferred = new DeferredReads((batch, got) => this.readLater(batch, got));

  constructor(
    private readonly entries: Map<string, Entry>,
    private readonly reader: PagedReader,
    readonly label: string,
    private readonly reopen: OpenSource,
  ) {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.reader.source.close();
  }

  private entry(path: string): Entry | undefined {
    const parts = path.split("/").filter((p) => p !== "" && p !== ".");
    return this.entries.get(`/${parts.join("/")}`);
  }

  isGroup(path: string): boolean {
    return this.entry(path)?.children !== undefined;
  }

  isDataset(path: string): boolean {
    return this.entry(path)?.dataset !== undefined;
  }

  keys(path: string): string[] {
    return [...(this.entry(path)?.children ?? [])];
  }

  attrNames(path: string): string[] {
    return [...(this.entry(path)?.attrs.keys() ?? [])];
  }

  attr(path: string, name: string): unknown {
    const value = this.entry(path)?.attrs.get(name);
    if (value instanceof TooLarge) throw attributeTooLarge(this.label, path, name, value.declared)!;
    return Array.isArray(value) ? [...value] : value;
  }

  private dataset(path: string): DatasetEntry {
    const d = this.entry(path)?.dataset;
    if (!d) throw new FileError(this.label, `'${path}' is not a dataset`);
    return d;
  }

  datasetInfo(path: string, opaque16?: Opaque16): DatasetInfo {
    const d = this.dataset(path);
    let dtype: DType = dtypeOf(d.type.cls, d.type.size, d.type.signed);
    let marked: Opaque16 | undefined;
    if (d.type.cls === H5T_OPAQUE) {
      marked = d.bfloat16Mark ? "bfloat16" : opaque16;
      if (marked === "bfloat16") dtype = "bfloat16";
    }
    const readSize = dtype === "float16" || dtype === "bfloat16" ? 4 : d.type.size;
    const count = d.shape.reduce((a, b) => a * b, 1);
    return { shape: [...d.shape], dtype, byteLength: count * readSize, ...(marked ? { opaque16: marked } : {}) };
  }

  numericInfo(path: string, opaque16?: Opaque16): DatasetInfo {
    const info = this.datasetInfo(path, opaque16);
    const d = this.dataset(path);
    const problem = numericProblem(this.label, path, info, d.type.cls === H5T_OPAQUE ? d.type.size : undefined);
    if (problem) throw problem;
    return info;
  }

  numericLater(path: string, opaque16: Opaque16 | undefined = this.opaque16): LaterValues {
    return this.deferred.later(path, this.numericInfo(path, opaque16), this.scanner(path));
  }

  /**
   * Streams a contiguous dataset of little-endian floats (what Keras writes) through one
   * reused buffer of scanBlockBytes(), from the file opened again; other layouts have no scan.
   */
  private scanner(path: string): ScanValues | undefined {
    const d = this.dataset(path);
    const t = d.type;
    if (d.compact || d.shape.length === 0 || t.cls !== H5T_FLOAT || t.bigEndian || (t.size !== 4 && t.size !== 8)) return undefined;
    const count = d.shape.reduce((a, b) => a * b, 1);
    return (visit) => {
      if (count === 0) return;
      const per = Math.min(count, Math.max(1, Math.floor(scanBlockBytes() / t.size)));
      const buffer = t.size === 4 ? new Float32Array(per) : new Float64Array(per);
      const source = this.reopen();
      try {
        for (let first = 0; first < count; first += per) {
          const block = buffer.subarray(0, Math.min(per, count - first));
          readFully(source, new Uint8Array(block.buffer, 0, block.byteLength), d.address + first * t.size, this.label, path);
          visit(block, first);
        }
      } finally {
        source.close();
      }
    };
  }

  /** A batch of deferred values, read through the file opened again. */
  private readLater(batch: { path: string; info: DatasetInfo }[], got: (path: string, data: NumericData) => void): void {
    const source = this.reopen();
    try {
      for (const { path, info } of batch) got(path, valuesOf(this.dataset(path), info.dtype, (into, at) => readFully(source, into, at, this.label, path)));
    } finally {
      source.close();
    }
  }

  readNumeric(path: string, opaque16?: Opaque16): { shape: number[]; dtype: DType; data: NumericData } {
    const info = this.numericInfo(path, opaque16);
    const d = this.dataset(path);
    const data = valuesOf(d, info.dtype, (into, at) => readFully(this.reader.source, into, at, this.label, path));
    return { shape: info.shape, dtype: info.dtype, data };
  }
}

/** Fills `into` from `position`, or refuses: the extent was inside the file when it was opened. */
function readFully(source: { read(into: Uint8Array, position: number): number }, into: Uint8Array, position: number, label: string, path: string): void {
  let done = 0;
  while (done < into.length) {
    const n = source.read(into.subarray(done), position + done);
    if (n <= 0) throw new FileError(label, `cannot read dataset '${path}': the file ends before its values; it changed since it was opened or is truncated`);
    done += n;
  }
}

/**
 * The values of a dataset as the library's reader returns them: float32, float16 and
 * bfloat16 as Float32Array (the 16-bit ones widened exactly), all else as Float64Array,
 * and a scalar as a Float64Array of one.
 */
function valuesOf(d: DatasetEntry, dtype: DType, read: (into: Uint8Array, position: number) => void): NumericData {
  const t = d.type;
  const count = d.shape.reduce((a, b) => a * b, 1);
  const fill = (into: Uint8Array) => (d.compact ? into.set(d.compact) : read(into, d.address));
  const float32 = dtype === "float16" || dtype === "bfloat16" || (t.cls === H5T_FLOAT && t.size === 4);
  const out: NumericData = d.shape.length > 0 && float32 ? new Float32Array(count) : new Float64Array(count);
  if (count === 0) return out;
  // The common case, little-endian floats of the output's width: read straight into the result.
  if (t.cls === H5T_FLOAT && !t.bigEndian && t.size === out.BYTES_PER_ELEMENT) {
    fill(new Uint8Array(out.buffer, out.byteOffset, d.bytes));
    return out;
  }
  const raw = new Uint8Array(d.bytes);
  fill(raw);
  if (t.bigEndian && t.size > 1) for (let i = 0; i < raw.length; i += t.size) raw.subarray(i, i + t.size).reverse();
  if (dtype === "float16" || dtype === "bfloat16") {
    widen16(dtype, new Uint16Array(raw.buffer, 0, count), out, 0);
    return out;
  }
  const view = new DataView(raw.buffer);
  for (let i = 0; i < count; i++) {
    const at = i * t.size;
    if (t.cls === H5T_FLOAT) out[i] = t.size === 4 ? view.getFloat32(at, true) : view.getFloat64(at, true);
    else if (t.size === 1) out[i] = t.signed ? view.getInt8(at) : view.getUint8(at);
    else if (t.size === 2) out[i] = t.signed ? view.getInt16(at, true) : view.getUint16(at, true);
    else if (t.size === 4) out[i] = t.signed ? view.getInt32(at, true) : view.getUint32(at, true);
    else out[i] = Number(t.signed ? view.getBigInt64(at, true) : view.getBigUint64(at, true));
  }
  return out;
}
