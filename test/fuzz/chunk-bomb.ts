/**
 * HDF5 chunk bombs (issue 17): a valid Keras 2 model file (samples/keras-h5-writer.mjs)
 * whose LSTM kernel is stored chunked with HDF5's deflate filter, and the same file with
 * one chunk's deflate stream replaced by one that inflates to `ratio` times the chunk's
 * declared size. Only the stream changes: the chunk index, its recorded stored size and
 * the filter pipeline still describe an ordinary chunk.
 *
 * The kernel is written at deflate level 0 (stored blocks), so each chunk's stored bytes
 * hold its values as they are and take a little more than the chunk: the chunk is found
 * by its values, whatever index the writer chose (a v1 B-tree, a single-chunk or a fixed
 * array index), and a bomb stream up to that size fits in its place (zeros deflate about
 * 1030:1, so a ratio up to about 1000).
 */
import { deflatedZeros } from "./zip.js";

interface Writer {
  writeKerasH5(spec: unknown): Promise<Uint8Array>;
  lstmConfig(name: string, units: number, extra?: object): unknown;
  sequentialConfig(name: string, layers: unknown[]): unknown;
}

export interface ChunkBomb {
  /** The file with the bomb in place of the chunk. */
  bytes: Uint8Array;
  /** The same file before (its kernel reads back as `kernel`). */
  honest: Uint8Array;
  kernel: Float32Array;
  /** Bytes one chunk declares (chunk dims × 4). */
  chunkBytes: number;
  /** Bytes the bomb's stream inflates to, and the stream's length. */
  inflated: number;
  streamBytes: number;
  /** An input for step/predict: [[...inputDim values]]. */
  inputArgs: string[];
}

/** Values that do not repeat, so a chunk's 64 first bytes are found once in the file. */
function kernelValues(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 2 ** 32 - 0.5) * 0.2;
  }
  return out;
}

/**
 * A Sequential with one LSTM(units) on `inputDim` features whose kernel (inputDim, 4·units)
 * is stored in chunks of `chunkRows` rows; the last chunk becomes the bomb (a ratio below 1:
 * a stream that ends short of the chunk). With h5wasm's default bounds the chunk index is a
 * version 1 B-tree, as h5py writes it; `libver: "latest"` gives the version 4 layout with
 * HDF5 1.10's indexes.
 */
export async function chunkBombModel(writer: Writer, opts: { inputDim: number; units: number; chunkRows?: number; ratio: number; seed?: number; libver?: string }): Promise<ChunkBomb> {
  const { inputDim, units, ratio } = opts;
  const chunkRows = opts.chunkRows ?? inputDim;
  const cols = 4 * units;
  const kernel = kernelValues(inputDim * cols, opts.seed ?? 17);
  const small = kernelValues(units * cols + cols, (opts.seed ?? 17) + 1);
  const spec = {
    libver: opts.libver,
    modelConfig: writer.sequentialConfig("sequential_1", [writer.lstmConfig("lstm_1", units, { batch_input_shape: [null, null, inputDim], dtype: "float32" })]),
    layers: [
      {
        name: "lstm_1",
        weights: [
          { name: "lstm_1/kernel:0", shape: [inputDim, cols], data: kernel, chunks: [chunkRows, cols], gzip: 0 },
          { name: "lstm_1/recurrent_kernel:0", shape: [units, cols], data: small.subarray(0, units * cols) },
          { name: "lstm_1/bias:0", shape: [cols], data: small.subarray(units * cols) },
        ],
      },
    ],
  };
  const honest = await writer.writeKerasH5(spec);
  const chunkBytes = chunkRows * cols * 4;
  const lastRow = Math.floor((inputDim - 1) / chunkRows) * chunkRows;
  // The last chunk's values start its first stored block: a 2-byte zlib header, then (level 0) a 5-byte block header.
  const values = new Uint8Array(kernel.buffer, lastRow * cols * 4, Math.min(64, (inputDim - lastRow) * cols * 4));
  const at = Buffer.from(honest.buffer, honest.byteOffset, honest.byteLength).indexOf(values);
  const start = at - 7;
  if (at < 0 || honest[start] !== 0x78 || honest[start + 1] !== 0x01) throw new Error("chunk-bomb: the kernel's last chunk is not where a level-0 deflate stream would put it");
  // Stored blocks of at most 65,535 bytes, 5 header bytes each, plus the zlib header and Adler-32 (the last chunk is a full chunk in the file).
  const slot = chunkBytes + 5 * Math.ceil(chunkBytes / 65535) + 6;
  const inflated = Math.round(ratio * chunkBytes);
  const stream = await deflatedZeros(inflated, "zlib");
  if (stream.length > slot) throw new Error(`chunk-bomb: ${inflated} zeros take ${stream.length} bytes of deflate, more than the chunk's ${slot}`);
  const bytes = honest.slice();
  bytes.set(stream, start);
  const input = Array.from({ length: inputDim }, (_, j) => Math.round(Math.sin(j) * 100) / 100);
  return { bytes, honest, kernel, chunkBytes, inflated, streamBytes: stream.length, inputArgs: ["--input", JSON.stringify([input])] };
}
