/**
 * The one place that talks to h5wasm.
 *
 * We use h5wasm's default (web) build, whose filesystem is emscripten's in-memory
 * MEMFS: the file's bytes are copied in, opened, and unlinked on close. HDF5 thus
 * never sees the host filesystem, so an external link or external storage inside an
 * untrusted file cannot make it read (or write) anything on the user's disk, and
 * opening a member of a `.keras` zip leaves nothing behind.
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
import h5wasm from "h5wasm";
import type { Dataset as H5Dataset, File as H5FileHandle, Group as H5Group } from "h5wasm";
import { FileError } from "../errors.js";
import type { DType } from "../model.js";
import { findGlobalHeapLoop } from "./hdf5-guard.js";
import { checkHdf5Metadata } from "./hdf5-metadata.js";
import { findHdf5Signature } from "./sniff.js";

type H5Lib = typeof h5wasm;
type H5Module = Awaited<H5Lib["ready"]>;

interface Instance {
  lib: H5Lib;
  m: H5Module;
}

let instancePromise: Promise<Instance> | undefined;
let retired = false;
let generation = 0;
let fileCounter = 0;

async function instance(): Promise<Instance> {
  if (retired || !instancePromise) {
    const fresh = retired;
    retired = false;
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
      return { lib, m };
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
  if (trap) retired = true;
  return trap;
}

/** Largest dataset we read into memory, in bytes. h5wasm's heap is capped at 2 GiB and a read needs twice the size. */
export const MAX_DATASET_BYTES = 512 * 1024 * 1024;

/** Largest attribute value we read (a model_config is a few MB at most; Keras splits long lists into 64 KB chunks). */
export const MAX_ATTRIBUTE_BYTES = 64 * 1024 * 1024;

/** HDF5 type classes (H5Tpublic.h). */
const H5T_INTEGER = 0;
const H5T_FLOAT = 1;
const H5T_STRING = 3;

export interface DatasetInfo {
  shape: number[];
  dtype: DType;
  /** Bytes the values take once read. */
  byteLength: number;
}

/**
 * h5wasm's throwing error handler (hdf5_util.cc) prints each HDF5 error into a tmpfile()
 * and throws the text before it reaches fclose(), so every HDF5 error leaves an open
 * stream behind, and the in-memory filesystem has a fixed number of descriptors. We close
 * those streams after each error; what stays behind is musl's FILE record, about 1 KB
 * per error. (The C stack leaked by the same throw is wasm-stack.ts' business.)
 */
function releaseErrorStreams(fs: H5Module["FS"]): void {
  const streams = (fs as unknown as { streams?: ({ path?: string } | null)[] }).streams ?? [];
  for (const stream of streams) {
    if (stream && typeof stream.path === "string" && stream.path.startsWith("/tmp/tmpfile_")) {
      try {
        fs.close(stream as never);
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

export class H5File {
  private constructor(
    private readonly lib: H5Lib,
    private readonly file: H5FileHandle,
    private readonly memPath: string,
    private readonly fs: H5Module["FS"],
    /** Name used in messages: the user's path, or `archive.keras!model.weights.h5`. */
    readonly label: string,
  ) {}

  /** Opens HDF5 bytes. Throws FileError (never a raw h5wasm error). */
  static async open(bytes: Uint8Array, label: string): Promise<H5File> {
    // Corruption that would make the HDF5 library loop forever is refused up front.
    const heapLoop = findGlobalHeapLoop(bytes, findHdf5Signature(bytes) ?? 0);
    if (heapLoop !== undefined) {
      throw new FileError(label, `corrupt HDF5 global heap at byte ${heapLoop} (an object of size 0); the file is damaged`);
    }
    // Metadata the library would trust to allocate by, or to read memory it never wrote (hdf5-metadata.ts).
    const badMetadata = checkHdf5Metadata(bytes, findHdf5Signature(bytes) ?? 0);
    if (badMetadata !== undefined) throw new FileError(label, `${badMetadata}; the file is damaged`);
    const { lib, m } = await instance();
    const memPath = `/keras-inspect-${process.pid}-${++fileCounter}.h5`;
    m.FS.writeFile(memPath, bytes);
    try {
      const file = withWasmStack(() => new lib.File(memPath, "r"));
      return new H5File(lib, file, memPath, m.FS, label);
    } catch (err) {
      retireAfterTrap(err);
      releaseErrorStreams(m.FS);
      m.FS.unlink(memPath);
      throw new FileError(label, `HDF5 library could not open it: ${shortH5Message(err)}. The file may be truncated or corrupt.`, {
        cause: err,
      });
    }
  }

  close(): void {
    try {
      withWasmStack(() => this.file.close());
    } catch (err) {
      // Closing a file whose structure is broken can fail; the memory copy is removed regardless.
      retireAfterTrap(err);
      releaseErrorStreams(this.fs);
    } finally {
      try {
        this.fs.unlink(this.memPath);
      } catch {
        /* already gone */
      }
    }
  }

  /** Runs `fn` and turns any h5wasm error into a FileError naming what we were doing. */
  private guard<T>(what: string, fn: () => T): T {
    try {
      return withWasmStack(fn);
    } catch (err) {
      if (retireAfterTrap(err)) {
        throw new FileError(this.label, `the HDF5 library crashed reading ${what} (${shortH5Message(err)}); the file is damaged`, { cause: err });
      }
      releaseErrorStreams(this.fs);
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
      if (!Number.isFinite(declared) || declared > MAX_ATTRIBUTE_BYTES) {
        throw new FileError(this.label, `attribute '${name}' of '${path}' declares ${declared} bytes, over the ${MAX_ATTRIBUTE_BYTES}-byte limit for an attribute`);
      }
      const value = entity.get_attribute(name, false);
      if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number | bigint>, Number);
      if (typeof value === "bigint") return Number(value);
      return value;
    });
  }

  datasetInfo(path: string): DatasetInfo {
    return this.guard(`dataset '${path}'`, () => {
      const d = this.file.get(path);
      if (!(d instanceof this.lib.Dataset)) throw new FileError(this.label, `'${path}' is not a dataset`);
      const meta = d.metadata;
      const shape = (d.shape ?? []).map(Number);
      return { shape, dtype: dtypeOf(meta.type, meta.size, meta.signed), byteLength: meta.total_size * meta.size };
    });
  }

  /** Reads a floating-point (or integer) dataset as a typed array, refusing absurd sizes before allocating. */
  readNumeric(path: string): { shape: number[]; dtype: DType; data: Float32Array | Float64Array } {
    const info = this.datasetInfo(path);
    if (info.dtype === "float16") {
      throw new FileError(
        this.label,
        `dataset '${path}' is float16, which the HDF5 reader (h5wasm) cannot decode; re-save the model in float32`,
      );
    }
    if (info.dtype === "other") throw new FileError(this.label, `dataset '${path}' is not numeric`);
    if (!Number.isFinite(info.byteLength) || info.byteLength > MAX_DATASET_BYTES) {
      throw new FileError(
        this.label,
        `dataset '${path}' declares ${info.shape.join("×")} elements (${info.byteLength} bytes), over the ${MAX_DATASET_BYTES}-byte limit`,
      );
    }
    return this.guard(`dataset '${path}'`, () => {
      const d = this.file.get(path) as H5Dataset;
      const value = d.value;
      let data: Float32Array | Float64Array;
      if (value instanceof Float32Array || value instanceof Float64Array) data = value;
      else if (ArrayBuffer.isView(value)) data = Float64Array.from(value as unknown as ArrayLike<number | bigint>, Number);
      else if (typeof value === "number" || typeof value === "bigint") data = Float64Array.of(Number(value));
      else throw new FileError(this.label, `dataset '${path}' did not read as numbers`);
      const expected = info.shape.reduce((a, b) => a * b, 1);
      if (data.length !== expected) {
        throw new FileError(this.label, `dataset '${path}' has ${data.length} values but shape ${JSON.stringify(info.shape)}`);
      }
      return { shape: info.shape, dtype: info.dtype, data };
    });
  }
}

function dtypeOf(typeClass: number, size: number, signed: boolean): DType {
  if (typeClass === H5T_FLOAT) {
    if (size === 2) return "float16";
    if (size === 4) return "float32";
    if (size === 8) return "float64";
  }
  if (typeClass === H5T_INTEGER) {
    if (size <= 4) return "int32";
    if (size === 8 && signed) return "int64";
    return "int64";
  }
  if (typeClass === H5T_STRING) return "other";
  return "other";
}

/** Reads the first bytes of a file to tell HDF5 from ZIP. */
export const HDF5_MAGIC = Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]);
