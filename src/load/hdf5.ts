/**
 * The one place that talks to h5wasm.
 *
 * We use h5wasm's default (web) build, whose filesystem is emscripten's in-memory MEMFS,
 * not its node build (NODERAWFS), which would give the HDF5 library the host's whole
 * filesystem: an external link or external storage inside an untrusted file could then
 * make it read (or write) anything on the user's disk. Here the library sees one file:
 * a read-only MEMFS file node whose reads go to a ByteSource (byte-source.ts), the host
 * file through its descriptor or bytes in memory, the way emscripten's own
 * FS.createLazyFile builds a file fetched on demand (a `usedBytes` getter for the size
 * stat reports, its own stream_ops.read). Nothing is copied up front, so a file of any
 * size opens in the time its metadata takes to read, and positions past 2^32 reach the
 * descriptor as they are (emscripten passes 64-bit offsets to read as exact numbers up to
 * 2^53). The node is unlinked and the source closed when the file is closed, on every path.
 *
 * Tensor values are not read while the model is loaded: each dataset's metadata is checked
 * then, and its values are read the first time they are asked for, by opening the file
 * again (readBatch below, batched as hdf5-file.ts' DeferredReads decides), so `summary` reads none.
 *
 * h5wasm's throwing error handler is switched on, and every h5wasm error is turned
 * into a FileError that names the file. Each error would leak a little of the wasm
 * module's C stack and one open stream; both are given back (wasm-stack.ts,
 * releaseErrorStreams), so any number of bad files can be read in one process.
 *
 * Some damaged files still make the HDF5 library trap ("memory access out of bounds")
 * in the middle of an operation, which can leave its allocator and caches inconsistent:
 * in the fuzz suite a later, different file then hung. After a trap the instance is
 * retired and the next file gets a fresh one (h5wasm loaded again under another URL);
 * the retired one's memory stays with the module loader, so each trap costs its heap
 * (tens of MB).
 */
// First: it must see h5wasm's wasm instance being created (see wasm-stack.ts).
import { captureNextInstance, uninstallStackCapture, withWasmStack } from "./wasm-stack.js";
import { randomBytes } from "node:crypto";
import h5wasm from "h5wasm";
import type { Dataset as H5Dataset, File as H5FileHandle, Group as H5Group } from "h5wasm";
import { FileError } from "../errors.js";
import type { DType } from "../model.js";
import { type ByteSource, type OpenSource, PagedReader } from "./byte-source.js";
import { widen16 } from "./half.js";
import { globalHeapLoopIn, globalHeapLoopProblem } from "./hdf5-guard.js";
import { checkHdf5Metadata, type DeflatedChunks, deflatedChunkProblem } from "./hdf5-metadata.js";
import {
  attributeTooLarge,
  type DatasetInfo,
  DeferredReads,
  dtypeOf,
  H5T_FLOAT,
  H5T_INTEGER,
  H5T_OPAQUE,
  type LaterValues,
  type NumericData,
  numericProblem,
  type Opaque16,
} from "./hdf5-file.js";
import { findHdf5Signature } from "./sniff.js";
import { type HeapCeilingReport, withHeapCeiling } from "./wasm-heap.js";

type H5Lib = typeof h5wasm;
type H5Module = Awaited<H5Lib["ready"]>;

interface Instance {
  lib: H5Lib;
  m: H5Module;
}

let instancePromise: Promise<Instance> | undefined;
/** The instance once it is ready: deferred reads happen in synchronous code (a tensor's `data`) and use it directly. */
let readyInstance: Instance | undefined;
let retired = false;
let generation = 0;
let fileCounter = 0;

async function instance(): Promise<Instance> {
  if (retired || !instancePromise) {
    const fresh = retired;
    retired = false;
    readyInstance = undefined;
    instancePromise = (async () => {
      let lib = h5wasm;
      // import.meta.resolve is synchronous from Node 20.6; on older versions the old instance is kept.
      if (fresh && typeof import.meta.resolve === "function") {
        captureNextInstance();
        lib = ((await import(`${import.meta.resolve("h5wasm")}?instance=${++generation}`)) as { default: H5Lib }).default;
      }
      const m = await lib.ready;
      uninstallStackCapture();
      m.activate_throwing_error_handler();
      readyInstance = { lib, m };
      return readyInstance;
    })();
  }
  return instancePromise;
}

/** How many times the library was replaced after a trap (0 until one happens). */
export function hdf5InstanceGeneration(): number {
  return generation;
}

/** A wasm trap or an emscripten abort: the library stopped mid-operation. */
function isWasmTrap(err: unknown): boolean {
  const RuntimeError = (globalThis as unknown as { WebAssembly?: { RuntimeError?: new () => Error } }).WebAssembly?.RuntimeError;
  if (RuntimeError && err instanceof RuntimeError) return true;
  const message = err instanceof Error ? err.message : String(err);
  return /^Aborted\(|memory access out of bounds|^unreachable|Maximum call stack size exceeded/.test(message);
}

/** After a trap the instance is not trusted again: the next file gets a fresh one. True when it was a trap. */
function retireAfterTrap(err: unknown): boolean {
  const trap = isWasmTrap(err);
  if (trap) {
    retired = true;
    readyInstance = undefined;
  }
  return trap;
}

/**
 * Bytes of values the library reads per call when a dataset is read: the wasm heap a read
 * needs is this, not the dataset's size (the heap never shrinks, and a 256 MB kernel read
 * whole would keep 256 MB of it for the life of the process besides the values themselves).
 */
const READ_BLOCK_BYTES = 16 * 1024 * 1024;


// ---------------------------------------------------------------------------
// The file node: how the HDF5 library reads a ByteSource
// ---------------------------------------------------------------------------

/** emscripten's errno values (they are not the host's). */
const EINVAL = 28;
const EIO = 29;
const EPERM = 63;
const SEEK_CUR = 1;
const SEEK_END = 2;

/** The parts of emscripten's FS this module uses (its typings do not describe them). */
interface EmscriptenFs {
  createFile(parent: string, name: string, properties: object, canRead: boolean, canWrite: boolean): FsNode;
  unlink(path: string): void;
  close(stream: FsStream): void;
  streams: (FsStream | null)[];
  ErrnoError: new (errno: number) => Error;
}

interface FsNode {
  node_ops: { getattr: unknown; setattr?: unknown };
  stream_ops: unknown;
}

interface FsStream {
  node?: FsNode;
  path?: string;
  position: number;
}

const fsOf = (m: H5Module) => m.FS as unknown as EmscriptenFs;

/** One file as the HDF5 library sees it: a path in MEMFS whose reads go to a source. */
interface FileNode {
  path: string;
  node: FsNode;
  /** Why a read was refused (bytes that would hang the library), for the error message. */
  refusal?: string;
  /** The source could not be read (the host's error). */
  readFailure?: FileError;
}

/**
 * Creates the read-only MEMFS node for `source`. Every block the library reads is first
 * handed to the global-heap check (hdf5-guard.ts), which may refuse it: the read then
 * fails, and so does every later one, so the library stops with an error the caller
 * replaces by the refusal.
 */
function createFileNode(m: H5Module, source: ByteSource, bytes: PagedReader, superblock: number): FileNode {
  const fs = fsOf(m);
  // An unguessable name: nothing inside a file (an external link) can name another open file.
  const name = `keras-inspect-${process.pid}-${++fileCounter}-${randomBytes(6).toString("hex")}.h5`;
  const node = fs.createFile("/", name, {}, true, false);
  const file: FileNode = { path: `/${name}`, node };
  Object.defineProperty(node, "usedBytes", { get: () => source.size });
  node.node_ops = {
    getattr: node.node_ops.getattr,
    setattr() {
      throw new fs.ErrnoError(EPERM);
    },
  };
  node.stream_ops = {
    llseek(stream: FsStream, offset: number, whence: number): number {
      let position = offset;
      if (whence === SEEK_CUR) position += stream.position;
      else if (whence === SEEK_END) position += source.size;
      if (position < 0) throw new fs.ErrnoError(EINVAL);
      return position;
    },
    read(_stream: FsStream, heap: Int8Array, offset: number, length: number, position: number): number {
      if (file.refusal !== undefined || file.readFailure !== undefined) throw new fs.ErrnoError(EIO);
      const into = new Uint8Array(heap.buffer, heap.byteOffset + offset, Math.max(0, Math.min(length, source.size - position)));
      let n = 0;
      try {
        n = source.read(into, position);
        const loop = globalHeapLoopIn(into.subarray(0, n), position, bytes, superblock);
        if (loop !== undefined) file.refusal = globalHeapLoopProblem(loop);
      } catch (err) {
        if (!(err instanceof FileError)) throw err; // a bug, not the file: let it surface as one
        file.readFailure = err;
      }
      if (file.refusal !== undefined || file.readFailure !== undefined) throw new fs.ErrnoError(EIO);
      return n;
    },
  };
  return file;
}

/** Closes the streams the library left open on the node (after an error), then removes it. */
function removeFileNode(m: H5Module, file: FileNode): void {
  const fs = fsOf(m);
  for (const stream of fs.streams) {
    if (stream && stream.node === file.node) {
      try {
        fs.close(stream);
      } catch {
        /* already closed */
      }
    }
  }
  try {
    fs.unlink(file.path);
  } catch {
    /* already gone */
  }
}

/**
 * h5wasm's throwing error handler (hdf5_util.cc) prints each HDF5 error into a tmpfile()
 * and throws the text before it reaches fclose(), so every HDF5 error leaves an open
 * stream behind, and the in-memory filesystem has a fixed number of descriptors. We close
 * those streams after each error; what stays behind is musl's FILE record, about 1 KB
 * per error. (The C stack leaked by the same throw is wasm-stack.ts' business.)
 */
function releaseErrorStreams(m: H5Module): void {
  const fs = fsOf(m);
  for (const stream of fs.streams) {
    if (stream && typeof stream.path === "string" && stream.path.startsWith("/tmp/tmpfile_")) {
      try {
        fs.close(stream);
      } catch {
        /* already closed */
      }
    }
  }
}

/** First line of an HDF5 diagnostic, without the stack of `#000:` frames. */
function shortH5Message(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const frames = [...text.matchAll(/#\d+: [^\n]*? in (\w+\(\)): ([^\n]*)/g)];
  if (frames.length > 0) {
    const last = frames[frames.length - 1];
    return `${last[2].trim()} (${last[1]})`;
  }
  return text.split("\n")[0].slice(0, 300);
}

// ---------------------------------------------------------------------------
// Deferred reads
// ---------------------------------------------------------------------------

/**
 * Reads a batch of deferred values (hdf5-file.ts DeferredReads) through the library: the
 * file opened again, each dataset read and checked against what it was at load, closed.
 */
function readBatch(deferred: DeferredReads, reopen: OpenSource, label: string, batch: { path: string; info: DatasetInfo }[], got: (path: string, data: NumericData) => void): void {
  try {
    const inst = readyInstance;
    if (!inst || retired) {
      throw new FileError(label, "cannot read its tensors: the HDF5 library was restarted after an error in another file; run the command again");
    }
    const h5 = H5File.openWith(inst, reopen(), label, deferred);
    try {
      for (const { path, info } of batch) {
        const read = h5.readNumeric(path, info.opaque16);
        if (read.dtype !== info.dtype || read.shape.join(",") !== info.shape.join(",")) {
          throw new FileError(label, `dataset '${path}' changed since the file was opened; run the command again`);
        }
        got(path, read.data);
      }
    } finally {
      h5.close();
    }
  } catch (err) {
    if (err instanceof FileError) throw err;
    throw new FileError(label, `cannot read its tensors: ${shortH5Message(err)}`, { cause: err });
  }
}

// ---------------------------------------------------------------------------
// The file
// ---------------------------------------------------------------------------

export class H5File {
  private constructor(
    private readonly lib: H5Lib,
    private readonly m: H5Module,
    private readonly file: H5FileHandle,
    private readonly node: FileNode,
    private readonly source: ByteSource,
    /** Name used in messages: the user's path, or `archive.keras!model.weights.h5`. */
    readonly label: string,
    private readonly deferred: DeferredReads,
    /** The file through the page cache, and its deflated chunked datasets by path (hdf5-metadata.ts), checked before they are read. */
    private readonly bytes: PagedReader,
    private readonly deflated: Map<string, DeflatedChunks>,
  ) {}

  /**
   * Opens the HDF5 file in `source`, which it owns from now on (it is closed with the
   * file, or at once if the file cannot be opened). `reopen` opens the same bytes again for
   * the values read later. Throws FileError (never a raw h5wasm error).
   */
  static async open(source: ByteSource, label: string, reopen: OpenSource): Promise<H5File> {
    let inst: Instance;
    try {
      inst = await instance();
    } catch (err) {
      source.close();
      throw err;
    }
    const deferred: DeferredReads = new DeferredReads((batch, got) => readBatch(deferred, reopen, label, batch, got));
    return H5File.openWith(inst, source, label, deferred);
  }

  static openWith(inst: Instance, source: ByteSource, label: string, deferred: DeferredReads): H5File {
    let node: FileNode | undefined;
    try {
      const bytes = new PagedReader(source);
      const superblock = findHdf5Signature(bytes) ?? 0;
      // Metadata the library would trust to allocate by, or to read memory it never wrote (hdf5-metadata.ts).
      const deflated = new Map<string, DeflatedChunks>();
      const badMetadata = checkHdf5Metadata(bytes, superblock, deflated);
      // A layout the decoder does not know is not damage: its message says so itself.
      if (badMetadata !== undefined) throw new FileError(label, /cannot be decoded$/.test(badMetadata) ? badMetadata : `${badMetadata}; the file is damaged`);
      node = createFileNode(inst.m, source, bytes, superblock);
      const path = node.path;
      const file = withWasmStack(() => new inst.lib.File(path, "r"));
      return new H5File(inst.lib, inst.m, file, node, source, label, deferred, bytes, deflated);
    } catch (err) {
      if (!(err instanceof FileError)) retireAfterTrap(err);
      releaseErrorStreams(inst.m);
      if (node) removeFileNode(inst.m, node);
      source.close();
      if (err instanceof FileError) throw err;
      const known = node && nodeProblem(node, label, err);
      if (known) throw known;
      throw new FileError(label, `HDF5 library could not open it: ${shortH5Message(err)}. The file may be truncated or corrupt.`, { cause: err });
    }
  }

  /**
   * How the adapter reading the file now wants unmarked 2-byte opaque datasets read (see
   * Opaque16): set while it reads a layer whose dtype policy stores bfloat16 variables.
   */
  opaque16: Opaque16 | undefined;

  close(): void {
    try {
      withWasmStack(() => this.file.close());
    } catch (err) {
      // Closing a file whose structure is broken can fail; the node and the source are released regardless.
      retireAfterTrap(err);
      releaseErrorStreams(this.m);
    } finally {
      removeFileNode(this.m, this.node);
      this.source.close();
    }
  }

  /** Runs `fn` and turns any h5wasm error into a FileError naming what we were doing. */
  private guard<T>(what: string, fn: () => T): T {
    try {
      return withWasmStack(fn);
    } catch (err) {
      const trap = retireAfterTrap(err);
      if (!trap) releaseErrorStreams(this.m);
      const known = nodeProblem(this.node, this.label, err);
      if (known) throw known;
      if (trap) {
        throw new FileError(this.label, `the HDF5 library crashed reading ${what} (${shortH5Message(err)}); the file is damaged`, { cause: err });
      }
      if (err instanceof FileError) throw err;
      throw new FileError(this.label, `cannot read ${what}: ${shortH5Message(err)}`, { cause: err });
    }
  }

  private group(path: string): H5Group | null {
    const entity = path === "/" || path === "" ? this.file : this.file.get(path);
    return entity instanceof this.lib.Group ? entity : null;
  }

  isGroup(path: string): boolean {
    return this.guard(`'${path}'`, () => this.group(path) !== null);
  }

  isDataset(path: string): boolean {
    return this.guard(`'${path}'`, () => this.file.get(path) instanceof this.lib.Dataset);
  }

  /** Child names of a group, in HDF5's (alphabetical) order; [] when it is not a group. */
  keys(path: string): string[] {
    return this.guard(`the members of '${path}'`, () => this.group(path)?.keys() ?? []);
  }

  attrNames(path: string): string[] {
    return this.guard(`the attributes of '${path}'`, () => {
      const entity = path === "/" ? this.file : this.file.get(path);
      if (!entity || !("attrs" in entity)) return [];
      return Object.keys(entity.attrs);
    });
  }

  /**
   * An attribute's value: strings come back as strings (fixed or variable length,
   * ASCII or UTF-8), string arrays as string[], numeric arrays as number[]. Undefined when absent.
   */
  attr(path: string, name: string): unknown {
    return this.guard(`attribute '${name}' of '${path}'`, () => {
      const entity = path === "/" ? this.file : this.file.get(path);
      if (!entity || !("attrs" in entity)) return undefined;
      if (!Object.prototype.hasOwnProperty.call(entity.attrs, name)) return undefined;
      // h5wasm allocates size × elements before reading: check the declared size first.
      const meta = entity.attrs[name].metadata;
      const declared = Number(meta.size) * (meta.shape ?? []).reduce((n: number, d: number | bigint) => n * Number(d), 1);
      const tooLarge = attributeTooLarge(this.label, path, name, declared);
      if (tooLarge) throw tooLarge;
      const value = entity.get_attribute(name, false);
      if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, Number);
      if (typeof value === "bigint") return Number(value);
      return value;
    });
  }

  /**
   * A dataset's shape and dtype. A 2-byte opaque dataset is bfloat16 when it carries Keras
   * 3's dtype="bfloat16" attribute or when `opaque16` says so; float16 and bfloat16 values
   * are read as float32 (exactly), so they take 4 bytes each once read.
   */
  datasetInfo(path: string, opaque16?: Opaque16): DatasetInfo {
    return this.guard(`dataset '${path}'`, () => {
      const d = this.file.get(path);
      if (!(d instanceof this.lib.Dataset)) throw new FileError(this.label, `'${path}' is not a dataset`);
      const meta = d.metadata;
      const shape = (d.shape ?? []).map(Number);
      let dtype = dtypeOf(meta.type, meta.size, meta.signed);
      let marked: Opaque16 | undefined;
      if (meta.type === H5T_OPAQUE && meta.size === 2) {
        marked = Object.prototype.hasOwnProperty.call(d.attrs, "dtype") && d.get_attribute("dtype", false) === "bfloat16" ? "bfloat16" : opaque16;
        if (marked === "bfloat16") dtype = "bfloat16";
      }
      const readSize = dtype === "float16" || dtype === "bfloat16" ? 4 : meta.size;
      return { shape, dtype, byteLength: meta.total_size * readSize, ...(marked ? { opaque16: marked } : {}) };
    });
  }

  /** A numeric dataset's shape and dtype, refusing what cannot be read (strings, opaque bytes, absurd sizes) before anything is allocated. */
  numericInfo(path: string, opaque16?: Opaque16): DatasetInfo {
    const info = this.datasetInfo(path, opaque16);
    const opaqueSize = info.dtype === "other" ? this.guard(`dataset '${path}'`, () => (this.file.get(path) as H5Dataset).metadata) : undefined;
    const problem = numericProblem(this.label, path, info, opaqueSize?.type === H5T_OPAQUE ? opaqueSize.size : undefined);
    if (problem) throw problem;
    return info;
  }

  /**
   * A numeric dataset whose metadata is checked now (the same refusals as reading it) and
   * whose values are read the first time `read` is called, by opening the file again.
   */
  numericLater(path: string, opaque16: Opaque16 | undefined = this.opaque16): LaterValues {
    return this.deferred.later(path, this.numericInfo(path, opaque16));
  }

  /**
   * Reads a floating-point (or integer) dataset, float32, float16 and bfloat16 as
   * Float32Array (the 16-bit formats widened exactly from their bits: the library's
   * reader, h5wasm 0.10.3, does not decode them, but reads their bytes as stored, in
   * little-endian order), and everything else as Float64Array. The library fills a buffer of at most READ_BLOCK_BYTES per call
   * (whole rows along the first axis, whole chunks of a chunked dataset), which is copied
   * into the result as it comes.
   */
  readNumeric(path: string, opaque16?: Opaque16): { shape: number[]; dtype: DType; data: NumericData } {
    const info = this.numericInfo(path, opaque16);
    // Chunks the library would inflate: each must inflate to its declared size, checked with a hard stop (hdf5-metadata.ts).
    const chunks = this.deflated.get(`/${path.split("/").filter((p) => p !== "").join("/")}`);
    const badChunk = chunks && deflatedChunkProblem(this.bytes, chunks, `dataset '${path}'`);
    if (badChunk) throw new FileError(this.label, badChunk);
    return this.guard(`dataset '${path}'`, () => {
      const meta = (this.file.get(path) as H5Dataset).metadata;
      const shape = info.shape;
      const count = shape.reduce((a, b) => a * b, 1);
      if (meta.total_size !== count) {
        throw new FileError(this.label, `dataset '${path}' has ${meta.total_size} values but shape ${JSON.stringify(shape)}`);
      }
      // As h5wasm returns them: a scalar is a number (stored here as float64), float32 arrays stay float32.
      const float32 = info.dtype === "float16" || info.dtype === "bfloat16" || (meta.type === H5T_FLOAT && meta.size === 4);
      const data: NumericData = shape.length > 0 && float32 ? new Float32Array(count) : new Float64Array(count);
      if (count === 0) return { shape, dtype: info.dtype, data };
      const rowValues = shape.length > 0 ? count / shape[0] : 1;
      const rows = shape.length > 0 ? shape[0] : 1;
      let rowsPerBlock = Math.max(1, Math.floor(READ_BLOCK_BYTES / (rowValues * meta.size)));
      const chunkRows = meta.chunks?.[0];
      if (chunkRows && chunkRows > 0) rowsPerBlock = Math.max(chunkRows, Math.floor(rowsPerBlock / chunkRows) * chunkRows);
      rowsPerBlock = Math.min(rowsPerBlock, rows);
      const m = this.m;
      const chunkBytes = meta.chunks ? meta.chunks.reduce((n: number, d: number) => n * d, meta.size) : 0;
      const bound = { chunkBytes, filtered: chunkBytes > 0 && (this.file.get(path) as H5Dataset).filters.length > 0 };
      const buffer = m._malloc(rowsPerBlock * rowValues * meta.size);
      if (buffer === 0) throw new FileError(this.label, `cannot read dataset '${path}': out of memory for a ${rowsPerBlock * rowValues * meta.size}-byte buffer`);
      try {
        for (let row = 0; row < rows; row += rowsPerBlock) {
          const n = Math.min(rowsPerBlock, rows - row);
          // The whole dataset in one call is read as h5wasm reads it (no selection); otherwise rows [row, row + n).
          const whole = n === rows;
          const counts = whole ? null : [BigInt(n), ...shape.slice(1).map(BigInt)];
          const offsets = whole ? null : [BigInt(row), ...shape.slice(1).map(() => 0n)];
          const strides = whole ? null : shape.map(() => 1n);
          this.readBlock(path, bound, () => m.get_dataset_data(this.file.file_id, path, counts, offsets, strides, BigInt(buffer)));
          // Read the heap after the call: it may have grown (and moved) during it.
          if (info.dtype === "float16" || info.dtype === "bfloat16") {
            widen16(info.dtype, new Uint16Array(m.HEAPU8.buffer, buffer, n * rowValues), data, row * rowValues);
          } else {
            copyValues(m.HEAPU8.buffer, buffer, n * rowValues, meta.type, meta.size, meta.signed, data, row * rowValues);
          }
        }
      } finally {
        m._free(buffer);
      }
      return { shape, dtype: info.dtype, data };
    });
  }

  /**
   * One call of the library reading values of dataset `path`, with its heap bounded by what
   * the dataset declares (wasm-heap.ts): its chunks' size times CHUNK_HEAP_FACTOR, plus
   * READ_HEAP_HEADROOM. A chunk whose stream inflates past that (a decompression bomb, or
   * a stored size that lies) makes the library's allocation fail: the read stops there and
   * is refused, after work bounded by the declared size, not by the stream.
   */
  private readBlock(path: string, { chunkBytes, filtered }: { chunkBytes: number; filtered: boolean }, read: () => unknown): void {
    const report: HeapCeilingReport = { refused: false, asked: 0 };
    try {
      withHeapCeiling(this.m.HEAPU8, CHUNK_HEAP_FACTOR * chunkBytes + READ_HEAP_HEADROOM, report, read);
    } catch (err) {
      if (!report.refused) throw err;
      retireAfterTrap(err);
      throw new FileError(
        this.label,
        filtered
          ? `a chunk of dataset '${path}' inflates past its declared ${chunkBytes} bytes; the file is corrupt or a decompression bomb`
          : `reading dataset '${path}' needs more memory than its declared ${chunkBytes > 0 ? `${chunkBytes}-byte chunks` : "size"} can; the file is damaged`,
        { cause: err },
      );
    }
  }
}

/** Heap a chunked read may take on top of what it had, per byte of one chunk: the filter's doubling buffer (at most twice the chunk) and the copy a realloc makes. */
const CHUNK_HEAP_FACTOR = 4;

/** Heap any read may take on top of that: the library's caches and small buffers (its chunk cache is 1 MB, its conversion buffer 1 MB). */
const READ_HEAP_HEADROOM = 16 * 1024 * 1024;

/** The error that stopped the library when the node did (a refused or failed read), else undefined. */
function nodeProblem(file: FileNode, label: string, cause: unknown): FileError | undefined {
  if (file.refusal !== undefined) return new FileError(label, `${file.refusal}; the file is damaged`, { cause });
  return file.readFailure;
}

/** Copies `count` values of the HDF5 native type (class, size, signedness) at `at` in the wasm heap into `out` from `into`. */
function copyValues(heap: ArrayBufferLike, at: number, count: number, typeClass: number, size: number, signed: boolean, out: NumericData, into: number): void {
  if (typeClass === H5T_FLOAT && size === out.BYTES_PER_ELEMENT) {
    // Copied as bytes: Float32Array.set from a view of wasm memory goes value by value
    // (1.1 s for 256 MB on Node 20, against 35 ms for the same bytes through Uint8Array).
    new Uint8Array(out.buffer, out.byteOffset + into * size, count * size).set(new Uint8Array(heap, at, count * size));
    return;
  }
  if (typeClass === H5T_FLOAT) {
    out.set(size === 4 ? new Float32Array(heap, at, count) : new Float64Array(heap, at, count), into);
    return;
  }
  const view =
    size === 8
      ? signed
        ? new BigInt64Array(heap, at, count)
        : new BigUint64Array(heap, at, count)
      : size === 4
        ? signed
          ? new Int32Array(heap, at, count)
          : new Uint32Array(heap, at, count)
        : size === 2
          ? signed
            ? new Int16Array(heap, at, count)
            : new Uint16Array(heap, at, count)
          : signed
            ? new Int8Array(heap, at, count)
            : new Uint8Array(heap, at, count);
  for (let i = 0; i < count; i++) out[into + i] = Number(view[i]);
}
