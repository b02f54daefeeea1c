/**
 * HDF5 chunk bombs (issue 17): a chunk whose deflate stream inflates past the chunk's
 * declared size is refused after work bounded by the declared size, not by the stream, and
 * the library stays usable for the next file. Behind a version 1 B-tree chunk index (h5py's
 * and h5wasm's default) each chunk is inflated first with a hard stop at its declared size
 * (src/load/hdf5-metadata.ts), which refuses any stream that does not inflate to exactly that;
 * behind any other index the wasm heap may grow by 4 × the chunk + 16 MiB while the library
 * reads (src/load/wasm-heap.ts). Honest chunked and deflated datasets, however well they
 * compress, still read back bit for bit.
 *
 * The bombs are built by test/fuzz/chunk-bomb.ts on a model from samples/keras-h5-writer.mjs;
 * a ratio of 512 on a 256 KiB chunk (128 MiB of zeros, a 130 KB stream) takes a fraction of a
 * second to make. The regression corpus holds the 1 GiB one (test/fixtures/fuzz/).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import h5wasm from "h5wasm";
import { beforeAll, describe, expect, it } from "vitest";
import { FileError } from "../../src/errors.js";
import { MemorySource, PagedReader } from "../../src/load/byte-source.js";
import { checkHdf5Metadata, type DeflatedChunks } from "../../src/load/hdf5-metadata.js";
import { H5File, hdf5InstanceGeneration } from "../../src/load/hdf5.js";
import { loadModel, loadModelFromBytes } from "../../src/load/index.js";
import { allWeights, type Model, walkLayers } from "../../src/model.js";
import { type ChunkBomb, chunkBombModel } from "../fuzz/chunk-bomb.js";
import { REPO_ROOT } from "../support/cli.js";
import { sampleWriter } from "../support/sample-writer.js";

const KERNEL = "/model_weights/lstm_1/lstm_1/kernel:0";
const message = (chunkBytes: number) =>
  new RegExp(`^bomb\\.h5: a chunk of dataset '/model_weights/lstm_1/lstm_1/kernel:0' inflates past its declared ${chunkBytes} bytes; the file is corrupt or a decompression bomb$`);

function kernelOf(model: Model) {
  const lstm = [...walkLayers(model.layers)].map((w) => w.layer).find((l) => l.className === "LSTM")!;
  return allWeights(lstm).find((t) => t.name === "kernel")!;
}

/** Bytes of h5wasm's heap now (the instance hdf5.ts reads with, unless a trap replaced it). */
async function heapBytes(): Promise<number> {
  return (await h5wasm.ready).HEAPU8.length;
}

let bomb: ChunkBomb;
let multi: ChunkBomb;
let latest: ChunkBomb;
let twice: ChunkBomb;
let half: ChunkBomb;
let latestTwice: ChunkBomb;
beforeAll(async () => {
  const writer = await sampleWriter();
  // One 256 KiB chunk holding 128 MiB of zeros; and a kernel of four 64 KiB chunks whose last one holds 32 MiB.
  bomb = await chunkBombModel(writer, { inputDim: 256, units: 64, ratio: 512 });
  multi = await chunkBombModel(writer, { inputDim: 256, units: 64, chunkRows: 64, ratio: 512, seed: 5 });
  // The same bomb behind the version 4 layout (libver "latest"), whose chunk index the pre-check does not walk.
  latest = await chunkBombModel(writer, { inputDim: 256, units: 64, ratio: 512, libver: "latest" });
  // Streams that miss the chunk's size by a little: twice it, and half of it.
  twice = await chunkBombModel(writer, { inputDim: 256, units: 64, ratio: 2 });
  half = await chunkBombModel(writer, { inputDim: 256, units: 64, ratio: 0.5 });
  latestTwice = await chunkBombModel(writer, { inputDim: 256, units: 64, ratio: 2, libver: "latest" });
}, 60_000);

describe("HDF5 chunk bombs", () => {
  it("the honest twins (chunked, deflate level 0; a version 1 B-tree index, and the version 4 layout) read back bit for bit", async () => {
    for (const [label, twin] of [
      ["one chunk", bomb],
      ["four chunks", multi],
      ["one chunk, version 4 layout", latest],
    ] as const) {
      const kernel = kernelOf(await loadModelFromBytes(twin.honest, "honest.h5"));
      expect(kernel.shape, label).toEqual([256, 256]);
      expect(Buffer.from(kernel.data.buffer).equals(Buffer.from(twin.kernel.buffer)), label).toBe(true);
    }
  });

  it("a chunk inflating to 512 times its size is refused in one line naming the dataset, with the heap grown by no more than the chunk allows", async () => {
    const generation = hdf5InstanceGeneration();
    for (const [label, file] of [
      // Refused by the pre-check, which inflates each chunk with a hard stop (the heap does not grow at all).
      ["one chunk", bomb],
      ["the last of four chunks", multi],
      // Refused by the heap's ceiling while the HDF5 library inflates it.
      ["one chunk, version 4 layout", latest],
    ] as const) {
      const model = await loadModelFromBytes(file.bytes, "bomb.h5");
      const before = await heapBytes();
      let err: unknown;
      try {
        void kernelOf(model).data;
      } catch (e) {
        err = e;
      }
      expect(err, label).toBeInstanceOf(FileError);
      expect((err as Error).message, label).toMatch(message(file.chunkBytes));
      // The bound itself: 4 × the chunk + 16 MiB (the heap a read may add), whatever the stream holds.
      expect((await heapBytes()) - before, label).toBeLessThanOrEqual(4 * file.chunkBytes + 16 * 2 ** 20);
    }
    // No trap: the same library instance goes on reading.
    expect(hdf5InstanceGeneration()).toBe(generation);
  });

  it("with a version 1 B-tree index (what h5py writes), a stream inflating to twice the chunk, or to half of it, is refused too", async () => {
    const read = async (file: ChunkBomb) => {
      const model = await loadModelFromBytes(file.bytes, "bomb.h5");
      return () => kernelOf(model).data;
    };
    expect(await read(twice)).toThrow(message(262144));
    expect(await read(half)).toThrow(/^bomb\.h5: a chunk of dataset '\/model_weights\/lstm_1\/lstm_1\/kernel:0' inflates to 131072 bytes, not its declared 262144; the file is corrupt$/);
    // Behind the version 4 layout the library reads it as it always has, the stream's first 256 KiB (zeros):
    // a stream so short fits the heap a read may take. The work is bounded all the same.
    expect(Array.from((await read(latestTwice))().subarray(0, 4))).toEqual([0, 0, 0, 0]);
  });

  it("a chunk whose B-tree key records a stored size no deflate stream of the chunk needs is refused before anything is read", async () => {
    const bytes = bomb.honest.slice();
    // The chunk B-tree's one node (type 1, raw data chunks): its first key's stored size follows the 8-byte header and two 8-byte sibling addresses.
    const tree = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).indexOf(Buffer.from("TREE\x01", "latin1"));
    expect(tree).toBeGreaterThan(0);
    new DataView(bytes.buffer, bytes.byteOffset).setUint32(tree + 24, 0x7fffffff, true);
    const model = await loadModelFromBytes(bytes, "bomb.h5");
    expect(() => kernelOf(model).data).toThrow(
      /^bomb\.h5: a chunk of dataset '\/model_weights\/lstm_1\/lstm_1\/kernel:0' stores 2147483647 bytes, more than a deflate stream of its declared 262144 bytes can take; the file is corrupt or a decompression bomb$/,
    );
  });

  it("after a bomb, the next file in the same process reads bit for bit", async () => {
    const model = await loadModelFromBytes(bomb.bytes, "bomb.h5");
    expect(() => kernelOf(model).data).toThrow(message(262144));
    const kernel = kernelOf(await loadModelFromBytes(bomb.honest, "honest.h5"));
    expect(Buffer.from(kernel.data.buffer).equals(Buffer.from(bomb.kernel.buffer))).toBe(true);
    const sample = kernelOf(await loadModel(join(REPO_ROOT, "samples/seed-lstm.h5")));
    expect(sample.data.length).toBeGreaterThan(0);
  });

  it("h5py's chunks through deflate, alone or between shuffle and fletcher32, pass the pre-check and read bit for bit", async () => {
    // Written by test/fixtures/filters/write_filters.py (h5py 3.7, HDF5 1.10.8); values exact in float32 and float64.
    const path = join(REPO_ROOT, "test/fixtures/filters/h5py-filters.h5");
    const bytes = new Uint8Array(readFileSync(path));
    const deflated = new Map<string, DeflatedChunks>();
    expect(checkHdf5Metadata(PagedReader.of(bytes), 0, deflated)).toBeUndefined();
    expect([...deflated.keys()].sort()).toEqual(["/gzip", "/gzip_fletcher32", "/shuffle_gzip_fletcher32", "/shuffle_gzip_float64", "/zeros_gzip9"]);
    const expected = Array.from({ length: 120 * 80 }, (_, k) => (((k * 7919) % 2001) - 1000) / 1024);
    const h5 = await H5File.open(new MemorySource(bytes), "h5py-filters.h5", () => new MemorySource(bytes));
    try {
      for (const name of ["gzip", "shuffle_gzip_fletcher32", "gzip_fletcher32", "fletcher32", "shuffle_gzip_float64"]) {
        expect(Array.from(h5.readNumeric(`/${name}`).data), name).toEqual(expected);
      }
      expect(h5.readNumeric("/zeros_gzip9").data.every((v) => v === 0)).toBe(true);
    } finally {
      h5.close();
    }
  });

  it("an honest 16 MiB chunk of zeros (a 16 KB stream, the most a chunk compresses) reads, as do 2 MB of deflated values in chunks of several shapes", async () => {
    const Module = await h5wasm.ready;
    const memPath = `/chunk-bomb-test-${process.pid}.h5`;
    const f = new h5wasm.File(memPath, "w");
    const zeros = new Float32Array(4096 * 1024);
    const values = Float32Array.from({ length: 512 * 1024 }, (_, i) => Math.fround(Math.sin(i) * 1e-3));
    f.create_dataset({ name: "zeros", data: zeros, shape: [4096, 1024], dtype: "<f", chunks: [4096, 1024], compression: 9 });
    for (const chunks of [[1, 1024], [3, 1000], [64, 64], [512, 1024]]) {
      f.create_dataset({ name: `values-${chunks.join("x")}`, data: values, shape: [512, 1024], dtype: "<f", chunks, compression: 4 });
    }
    f.close();
    const bytes = Module.FS.readFile(memPath);
    Module.FS.unlink(memPath);
    const h5 = await H5File.open(new MemorySource(bytes), "honest.h5", () => new MemorySource(bytes));
    try {
      expect(h5.readNumeric("/zeros").data.every((v) => v === 0)).toBe(true);
      for (const chunks of ["1x1024", "3x1000", "64x64", "512x1024"]) {
        const { data } = h5.readNumeric(`/values-${chunks}`);
        expect(Buffer.from(data.buffer).equals(Buffer.from(values.buffer)), chunks).toBe(true);
      }
    } finally {
      h5.close();
    }
  }, 60_000);
});
