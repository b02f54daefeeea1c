/**
 * An HDF5 file as the adapters read it (keras-h5.ts, keras3.ts, structure.ts...), and what
 * its two readers share: limits, deferred reads, refusals. hdf5-open.ts chooses the reader.
 *
 * Most files are what h5py writes for Keras: groups, attributes and contiguous datasets.
 * hdf5-direct.ts reads exactly that subset from the bytes, with no library to start;
 * every other file (chunked or compressed datasets, dense attribute storage, anything the
 * direct reader does not know) goes to the HDF5 library (hdf5.ts, h5wasm), which is
 * imported only then: starting it costs more than a whole `summary` of a small model
 * (compiling its 3.5 MB of wasm and HDF5's own initialisation, ~140 ms on a 2-core
 * machine). Both readers give the same answers on the files both read; the test
 * test/load/hdf5-direct.test.ts holds them to it on every HDF5 fixture.
 */
import type { DType } from "../model.js";
import { FileError } from "../errors.js";

/** Largest dataset we read into memory, in bytes: a read needs its size in JavaScript memory, and typed arrays are bounded. */
export const MAX_DATASET_BYTES = 512 * 1024 * 1024;

/** Largest attribute value we read (a model_config is a few MB at most; Keras splits long lists into 64 KB chunks). */
export const MAX_ATTRIBUTE_BYTES = 64 * 1024 * 1024;

/**
 * How a 2-byte opaque dataset is read. Keras 3 stores bfloat16 variables as 2-byte opaque
 * values (ml_dtypes.bfloat16 is numpy kind 'V', which h5py writes as H5T_OPAQUE): in a
 * `.weights.h5` the dataset carries dtype="bfloat16", which is read here; in a legacy `.h5`
 * nothing marks it, and the adapter says so from the layer's dtype policy.
 */
export type Opaque16 = "bfloat16";

export interface DatasetInfo {
  shape: number[];
  dtype: DType;
  /** Bytes the values take once read. */
  byteLength: number;
  /** A 2-byte opaque dataset read as bfloat16 because the adapter said so (see Opaque16). */
  opaque16?: Opaque16;
}

/** The values of a numeric dataset, as every consumer of a Tensor gets them. */
export type NumericData = Float32Array | Float64Array;

/**
 * Passes a dataset's values to `visit` in row-major order, a block at a time, each block
 * read into one buffer that the next block overwrites (`first`: the index of the block's
 * first value). Nothing is kept: a 256 MiB kernel costs a few MiB of memory, none of it
 * new after the first block (see Tensor.scan).
 */
export type ScanValues = (visit: (values: NumericData, first: number) => void) => void;

/** A dataset's shape and dtype now; its values when `read` is first called; `scan` where the reader can stream them. */
export type LaterValues = DatasetInfo & { read: () => NumericData; scan?: ScanValues };

/** An open HDF5 file. Paths are absolute or relative to the root; errors are FileErrors naming the file. */
export interface H5File {
  /** Name used in messages: the user's path, or `archive.keras!model.weights.h5`. */
  readonly label: string;
  /** How unmarked 2-byte opaque datasets are read while the adapter reads a layer whose dtype policy stores bfloat16 (see Opaque16). */
  opaque16: Opaque16 | undefined;
  close(): void;
  isGroup(path: string): boolean;
  isDataset(path: string): boolean;
  /** Child names of a group, in HDF5's (by name) order; [] when it is not a group. */
  keys(path: string): string[];
  attrNames(path: string): string[];
  /** Strings as strings (fixed or variable length), string arrays as string[], numbers and numeric arrays as number and number[]; undefined when absent. */
  attr(path: string, name: string): unknown;
  /** Shape and dtype; float16 and bfloat16 values are read as float32 (exactly), so they take 4 bytes each once read. */
  datasetInfo(path: string, opaque16?: Opaque16): DatasetInfo;
  /** A numeric dataset's shape and dtype, refusing what cannot be read (strings, opaque bytes, absurd sizes). */
  numericInfo(path: string, opaque16?: Opaque16): DatasetInfo;
  /** numericInfo now, the values the first time `read` is called (the file opened again then). */
  numericLater(path: string, opaque16?: Opaque16): LaterValues;
  /** The values now: float32, float16 and bfloat16 as Float32Array, everything else as Float64Array. */
  readNumeric(path: string, opaque16?: Opaque16): { shape: number[]; dtype: DType; data: NumericData };
}

/**
 * Values read together when the first of them is needed: the pending datasets of a file
 * are read in one open, in load order, up to this many bytes; a larger dataset is read
 * on its own when it is needed. A small model is thus read whole at its first tensor, as
 * it was at load before (and a damaged dataset anywhere in it is refused there), while a
 * large one is read a tensor at a time. Tests lower it to read every dataset on its own.
 */
let deferredBatchBytes = 64 * 1024 * 1024;

export function setDeferredBatchBytes(bytes: number): number {
  const before = deferredBatchBytes;
  deferredBatchBytes = bytes;
  return before;
}

/**
 * Bytes read at a time when a dataset is streamed (ScanValues): enough that the reads cost
 * nothing beside the arithmetic, few enough that the buffer stays in cache and its pages
 * are touched once. Tests lower it to cut rows across blocks.
 */
let scanBytes = 4 * 1024 * 1024;

export function scanBlockBytes(): number {
  return scanBytes;
}

export function setScanBlockBytes(bytes: number): number {
  const before = scanBytes;
  scanBytes = bytes;
  return before;
}

/**
 * The datasets of one loaded file whose values are read when first asked for. Each batch
 * is read by `readBatch`, which opens the file again (OpenSource: a file changed on disk
 * since is refused), reads the datasets it is given, in order, and closes it before
 * returning, so nothing stays open between reads and a process can load any number of
 * files. It throws FileErrors only. A failed read is remembered for the datasets it was
 * reading and thrown again when they are asked for.
 */
export class DeferredReads {
  /** Registered at load, not read yet. */
  private readonly waiting = new Map<string, DatasetInfo>();
  private readonly values = new Map<string, NumericData>();
  private readonly failures = new Map<string, FileError>();
  private readonly handedOut = new Set<string>();

  constructor(private readonly readBatch: (batch: { path: string; info: DatasetInfo }[], got: (path: string, data: NumericData) => void) => void) {}

  /**
   * `info` with a `read` that takes the values of `path` (read with its batch the first
   * time), and the reader's `scan` of them for a dataset too large to share a batch: one
   * read alone anyway, which can be streamed instead (Tensor.scan).
   */
  later(path: string, info: DatasetInfo, scan?: ScanValues): LaterValues {
    if (!this.values.has(path)) this.waiting.set(path, info);
    const streams = scan !== undefined && info.byteLength > deferredBatchBytes;
    return { ...info, read: () => this.take(path), ...(streams ? { scan } : {}) };
  }

  private take(path: string): NumericData {
    const failure = this.failures.get(path);
    if (failure) throw failure;
    let data = this.values.get(path);
    if (!data) {
      this.read(path);
      data = this.values.get(path)!;
    }
    // Two tensors naming one dataset get an array each, as two reads gave them.
    if (this.handedOut.has(path)) return data.slice();
    this.handedOut.add(path);
    return data;
  }

  private read(first: string): void {
    const batch = [{ path: first, info: this.waiting.get(first)! }];
    let total = batch[0].info.byteLength;
    for (const [path, info] of this.waiting) {
      if (path !== first && total + info.byteLength <= deferredBatchBytes) {
        batch.push({ path, info });
        total += info.byteLength;
      }
    }
    try {
      this.readBatch(batch, (path, data) => {
        this.values.set(path, data);
        this.waiting.delete(path);
      });
    } catch (err) {
      if (!(err instanceof FileError)) throw err;
      for (const { path } of batch) if (!this.values.has(path)) this.failures.set(path, err);
      throw err;
    }
  }
}

/** The refusals every reader makes before a numeric dataset is read. */
export function numericProblem(label: string, path: string, info: DatasetInfo, opaqueSize: number | undefined): FileError | undefined {
  if (info.dtype === "other") {
    if (opaqueSize !== undefined) {
      return new FileError(
        label,
        `dataset '${path}' holds ${opaqueSize}-byte opaque values${opaqueSize === 2 ? " without Keras' dtype=\"bfloat16\" mark or a bfloat16 dtype policy on its layer" : ""}; they are not numbers it can read`,
      );
    }
    return new FileError(label, `dataset '${path}' is not numeric`);
  }
  if (!Number.isFinite(info.byteLength) || info.byteLength > MAX_DATASET_BYTES) {
    return new FileError(label, `dataset '${path}' declares ${info.shape.join("×")} elements (${info.byteLength} bytes), over the ${MAX_DATASET_BYTES}-byte limit`);
  }
  return undefined;
}

/** The refusal of an attribute whose declared size is over MAX_ATTRIBUTE_BYTES. */
export function attributeTooLarge(label: string, path: string, name: string, declared: number): FileError | undefined {
  if (Number.isFinite(declared) && declared <= MAX_ATTRIBUTE_BYTES) return undefined;
  return new FileError(label, `attribute '${name}' of '${path}' declares ${declared} bytes, over the ${MAX_ATTRIBUTE_BYTES}-byte limit for an attribute`);
}

/** HDF5 type classes (H5Tpublic.h). */
export const H5T_INTEGER = 0;
export const H5T_FLOAT = 1;
export const H5T_STRING = 3;
export const H5T_OPAQUE = 5;

/** Our dtype of an HDF5 type class and size. */
export function dtypeOf(typeClass: number, size: number, signed: boolean): DType {
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
  return "other";
}
