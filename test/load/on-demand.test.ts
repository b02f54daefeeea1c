/**
 * Reading model files on demand (issue 12): the HDF5 library reads the file through a
 * ByteSource, the checks before it read through a page cache, tensor values are read when
 * first asked for, and files larger than 4 GB open. What must hold:
 * - the same model, to the last bit, whichever way a file is read;
 * - `summary` reads no tensor values (it works with the file gone);
 * - a value read later that fails is a one-line FileError naming the file;
 * - no file descriptor stays open, whatever happened;
 * - a file whose every address lies past 2^32 opens for summary, weights, check and diff.
 */
import { closeSync, copyFileSync, existsSync, fstatSync, ftruncateSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, unlinkSync, utimesSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync, zipSync } from "fflate";
import h5wasm from "h5wasm";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { FileError } from "../../src/errors.js";
import { FileSource, fileOpener, MemorySource, openFileSourceCount, PagedReader, WindowSource } from "../../src/load/byte-source.js";
import { globalHeapLoopIn } from "../../src/load/hdf5-guard.js";
import { setDeferredBatchBytes } from "../../src/load/hdf5-file.js";
import { H5File } from "../../src/load/hdf5.js";
import { loadModel, loadModelFromBytes } from "../../src/load/index.js";
import { readKerasArchive } from "../../src/load/keras3.js";
import { sniff } from "../../src/load/sniff.js";
import { allWeights, type Model, walkLayers } from "../../src/model.js";
import { summarize } from "../../src/summary.js";
import { isCleanError, runCli } from "../support/cli.js";
import { LOCAL_FIXTURES, REPO_ROOT, SHARED_FIXTURES, fixturePath } from "./fixture-paths.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ki-on-demand-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  // Whatever a test did, every descriptor the loader opened is closed again.
  expect(openFileSourceCount()).toBe(0);
});

const SAMPLE = join(REPO_ROOT, "samples", "seed-lstm.h5");

function copy(from: string, name: string): string {
  const to = join(dir, name);
  copyFileSync(from, to);
  return to;
}

/** Every tensor of a model as [layer path/name, shape, dtype, values]. */
function tensors(model: Model): [string, number[], string, number[]][] {
  const out: [string, number[], string, number[]][] = [];
  for (const { layer, path } of walkLayers(model.layers)) {
    for (const t of layer.weights) out.push([`${path}/${t.name}`, t.shape, t.dtype, Array.from(t.data)]);
  }
  return out;
}

async function fileError(fn: () => unknown): Promise<FileError> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FileError);
    expect((err as Error).message).not.toContain("\n");
    return err as FileError;
  }
  throw new Error("expected a FileError");
}

describe("byte sources", () => {
  it("memory and window sources read what lies inside them and stop at their end", () => {
    const bytes = Uint8Array.from({ length: 100 }, (_, i) => i);
    const window = new WindowSource(new MemorySource(bytes), 10, 20);
    const into = new Uint8Array(8);
    expect(window.read(into, 16)).toBe(4);
    expect(Array.from(into.subarray(0, 4))).toEqual([26, 27, 28, 29]);
    expect(window.read(into, 25)).toBe(0);
    const pages = new PagedReader(window);
    expect(pages.u8(0)).toBe(10);
    expect(pages.u32(0)).toBe(10 + (11 << 8) + (12 << 16) + 13 * 2 ** 24);
    // Past either end: NaN, like a missing array element, so no arithmetic check passes on it.
    expect(pages.u8(20)).toBeNaN();
    expect(pages.u8(-1)).toBeNaN();
    expect(Array.from(pages.bytes(18, 10))).toEqual([28, 29]);
  });

  it("a file source reads at a position, and refuses what is not a regular file in one line", async () => {
    const path = join(dir, "ten.bin");
    writeFileSync(path, Uint8Array.from({ length: 10 }, (_, i) => i));
    const source = FileSource.open(path);
    try {
      const into = new Uint8Array(4);
      expect(source.read(into, 8)).toBe(2);
      expect(Array.from(into.subarray(0, 2))).toEqual([8, 9]);
    } finally {
      source.close();
    }
    expect((await fileError(() => FileSource.open(dir))).message).toMatch(/is a directory/);
    expect((await fileError(() => FileSource.open(join(dir, "none.h5")))).message).toMatch(/no such file/);
    if (existsSync("/dev/zero")) expect((await fileError(() => FileSource.open("/dev/zero"))).message).toBe("/dev/zero: is not a regular file");
  });

  it("a file opened again must be the same file: changed on disk since is an error", async () => {
    const path = join(dir, "changing.bin");
    writeFileSync(path, "one");
    const open = fileOpener(path);
    open().close();
    open().close();
    writeFileSync(path, "other");
    expect((await fileError(open)).message).toBe(`${path}: changed on disk since it was opened; run the command again`);
  });
});

describe("the same model whichever way it is read", () => {
  const files = [LOCAL_FIXTURES, SHARED_FIXTURES]
    .filter((d) => existsSync(d))
    .flatMap((d) => readdirSync(d).filter((f) => /\.(h5|keras)$/.test(f)).map((f) => join(d, f)));

  it(`${files.length} real fixtures: from a path, from memory, every dataset on its own or all in one read`, async () => {
    for (const path of files) {
      const reference = tensors(await loadModel(path));
      expect(tensors(await loadModelFromBytes(readFileSync(path), path)), path).toEqual(reference);
      const before = setDeferredBatchBytes(0);
      try {
        expect(tensors(await loadModel(path)), path).toEqual(reference);
      } finally {
        setDeferredBatchBytes(before);
      }
    }
  }, 120_000);
});

describe("tensor values are read when first needed", () => {
  it("summary reads none: it works with the file gone, and the values then fail in one line naming the file", async () => {
    const path = copy(fixturePath("k2_lstm_dense_full.h5")!, "gone.h5");
    const model = await loadModel(path);
    unlinkSync(path);
    const summary = summarize(model);
    expect(summary.layers.map((l) => [l.name, l.className, l.params])).toEqual([
      ["lstm_1", "LSTM", 10400],
      ["dense_1", "Dense", 51],
    ]);
    const kernel = model.layers[0].weights[0];
    expect((await fileError(() => kernel.data)).message).toBe(`${path}: no such file`);
    // Remembered: asking again gives the same error without opening anything.
    expect((await fileError(() => kernel.data)).message).toBe(`${path}: no such file`);
  });

  it("a small model is read whole at its first tensor; with a lower batch size each dataset is read when asked for", async () => {
    const path = copy(fixturePath("k2_lstm_dense_full.h5")!, "batches.h5");
    const whole = await loadModel(path);
    const first = Array.from(whole.layers[0].weights[0].data);
    const before = setDeferredBatchBytes(0);
    let single: Model;
    try {
      single = await loadModel(path);
      expect(Array.from(single.layers[0].weights[0].data)).toEqual(first);
    } finally {
      setDeferredBatchBytes(before);
    }
    unlinkSync(path);
    // Read with the first tensor: still there.
    expect(allWeights(whole.layers[1]).map((t) => t.data.length)).toEqual([50, 1]);
    // Never asked for: the file is gone.
    expect((await fileError(() => single.layers[1].weights[0].data)).message).toBe(`${path}: no such file`);
  });

  it("a file changed on disk after loading is refused when its values are read", async () => {
    const path = copy(fixturePath("k2_lstm_dense_full.h5")!, "changed.h5");
    const model = await loadModel(path);
    const later = new Date(Date.now() + 5000);
    utimesSync(path, later, later);
    expect((await fileError(() => model.layers[0].weights[0].data)).message).toBe(`${path}: changed on disk since it was opened; run the command again`);
  });

  it("a .keras archive's stored weights are read in place, from the archive, when first needed", async () => {
    const path = copy(fixturePath("tfk2_gru_stacked_v3.keras")!, "stored.keras");
    const model = await loadModel(path);
    unlinkSync(path);
    expect((await fileError(() => model.layers[1].weights[0].data)).message).toBe(`${path}: no such file`);
  });

  it("the inflate caps do not apply to a stored model.weights.h5, read in place; they do once it is deflated", async () => {
    const bytes = readFileSync(fixturePath("tfk2_gru_stacked_v3.keras")!);
    const caps = { maxEntryBytes: 16 * 1024, maxTotalBytes: 32 * 1024 };
    const open = () => new MemorySource(bytes);
    const model = await readKerasArchive(open(), "stored.keras", open, caps);
    expect(tensors(model)).toEqual(tensors(await loadModel(fixturePath("tfk2_gru_stacked_v3.keras")!)));
    const deflated = zipSync(unzipSync(bytes), { level: 6 });
    const openDeflated = () => new MemorySource(deflated);
    expect((await fileError(() => readKerasArchive(openDeflated(), "deflated.keras", openDeflated, caps))).message).toMatch(
      /^deflated\.keras: zip entry 'model\.weights\.h5' would inflate to \d+ bytes, over the 16384-byte limit$/,
    );
  });

  it("no descriptor stays open after files that fail, at load or later", async () => {
    const good = readFileSync(fixturePath("k2_lstm_dense_full.h5")!);
    const cases: [string, Uint8Array][] = [
      ["not-hdf5.h5", new TextEncoder().encode("not a model at all")],
      ["truncated.h5", good.subarray(0, 3000)],
      ["empty.h5", new Uint8Array(0)],
    ];
    for (const [name, bytes] of cases) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      await fileError(() => loadModel(path));
      expect(openFileSourceCount(), name).toBe(0);
    }
    const archive = readFileSync(fixturePath("tfk2_gru_stacked_v3.keras")!);
    const cut = join(dir, "cut.keras");
    writeFileSync(cut, archive.subarray(0, archive.length - 30));
    await fileError(() => loadModel(cut));
    expect(openFileSourceCount()).toBe(0);
  });
});

describe("reading a dataset in blocks", () => {
  /** Writes datasets with h5wasm (chunked and compressed where asked) and opens the file with H5File. */
  async function file(datasets: { name: string; data: Float32Array | Float64Array | Int32Array; shape: number[]; dtype: string; chunks?: number[]; compression?: number }[]): Promise<H5File> {
    const Module = await h5wasm.ready;
    const memPath = `/on-demand-test-${process.pid}.h5`;
    const f = new h5wasm.File(memPath, "w");
    for (const d of datasets) f.create_dataset(d);
    f.close();
    const bytes = Module.FS.readFile(memPath);
    Module.FS.unlink(memPath);
    return H5File.open(new MemorySource(bytes), "blocks.h5", () => new MemorySource(bytes));
  }

  it("a 24 MB dataset (two blocks), chunked and compressed with chunks that do not divide a block, reads back exactly", async () => {
    const rows = 1500;
    const cols = 4096;
    const values = Float32Array.from({ length: rows * cols }, (_, i) => Math.fround(Math.sin(i) * 1e-3 + i));
    const h5 = await file([
      { name: "contiguous", data: values, shape: [rows, cols], dtype: "<f" },
      { name: "chunked", data: values, shape: [rows, cols], dtype: "<f", chunks: [7, 512], compression: 1 },
    ]);
    try {
      for (const name of ["/contiguous", "/chunked"]) {
        const { shape, dtype, data } = h5.readNumeric(name);
        expect([shape, dtype, data.constructor.name]).toEqual([[rows, cols], "float32", "Float32Array"]);
        expect(Buffer.from(data.buffer).equals(Buffer.from(values.buffer)), name).toBe(true);
      }
    } finally {
      h5.close();
    }
  }, 60_000);

  it("integers become float64, float64 stays float64, a scalar is a float64 of one value", async () => {
    const h5 = await file([
      { name: "ints", data: Int32Array.from([-3, 0, 7, 2 ** 31 - 1]), shape: [2, 2], dtype: "<i" },
      { name: "doubles", data: Float64Array.from([0.1, 1e300]), shape: [2], dtype: "<d" },
      { name: "scalar", data: Float32Array.of(2.5), shape: [], dtype: "<f" },
    ]);
    try {
      const ints = h5.readNumeric("/ints");
      expect([ints.dtype, ints.data.constructor.name, Array.from(ints.data)]).toEqual(["int32", "Float64Array", [-3, 0, 7, 2 ** 31 - 1]]);
      const doubles = h5.readNumeric("/doubles");
      expect([doubles.data.constructor.name, Array.from(doubles.data)]).toEqual(["Float64Array", [0.1, 1e300]]);
      const scalar = h5.readNumeric("/scalar");
      expect([scalar.shape, scalar.data.constructor.name, Array.from(scalar.data)]).toEqual([[], "Float64Array", [2.5]]);
    } finally {
      h5.close();
    }
  });
});

describe("the global heap check runs on the blocks the library reads", () => {
  it("finds a collection that would loop in a block starting anywhere before it, and walks it through the file", () => {
    // k3_dense_legacy.h5 with the two bytes that made h5dump loop (formats.test.ts).
    const bytes = Uint8Array.from(readFileSync(fixturePath("k3_dense_legacy.h5")!));
    const reader = PagedReader.of(bytes);
    expect(globalHeapLoopIn(bytes.subarray(1000, 2100), 1000, reader)).toBeUndefined();
    bytes[3992] = 0x5c;
    bytes[4636] = 0x00;
    const damaged = PagedReader.of(bytes);
    // The block holds only the collection's first bytes; the walk reads on through the file.
    expect(globalHeapLoopIn(bytes.subarray(1000, 2100), 1000, damaged)).toBe(2048);
    expect(globalHeapLoopIn(bytes.subarray(2048, 2060), 2048, damaged)).toBe(2048);
    expect(globalHeapLoopIn(bytes.subarray(0, 2047), 0, damaged)).toBeUndefined();
  });
});

describe("a user block: addresses are taken from where the superblock is, as HDF5 does", () => {
  it("metadata the library must not trust is refused behind a user block as at the start of the file", async () => {
    // The regression file whose `backend` attribute type lies: refused before HDF5 reads it.
    const bad = readFileSync(join(LOCAL_FIXTURES, "..", "fuzz", "vlen-type-size-2.h5"));
    const plain = await fileError(() => loadModelFromBytes(bad, "bad.h5"));
    const behind = new Uint8Array(2048 + bad.length);
    behind.set(bad, 2048);
    const blocked = await fileError(() => loadModelFromBytes(behind, "bad.h5"));
    expect(blocked.message).toBe(plain.message);
    expect(plain.message).toMatch(/variable-length type of 2 bytes/);
  });
});

/**
 * The bundled sample behind 4 GiB of zeros that take no disk space (ftruncate): the
 * library finds the superblock at 2^32 and treats what precedes it as a user block,
 * so every address it reads lies past 2^32. Null when the filesystem cannot hold it.
 */
function sparseBigFile(): { path: string; why?: undefined } | { path?: undefined; why: string } {
  const path = join(dir, "behind-4-gib.h5");
  const sample = readFileSync(SAMPLE);
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, 2 ** 32 + sample.length);
    writeSync(fd, sample, 0, sample.length, 2 ** 32);
    const st = fstatSync(fd);
    if (st.blocks * 512 > 2 ** 30) return { why: `the filesystem of ${dir} stored the zeros (${st.blocks * 512} bytes on disk): it does not keep sparse files` };
    return { path };
  } catch (err) {
    return { why: `the filesystem of ${dir} cannot hold a sparse ${2 ** 32 + sample.length}-byte file (${(err as NodeJS.ErrnoException).code})` };
  } finally {
    closeSync(fd);
  }
}

describe("files larger than 4 GB", () => {
  let big: ReturnType<typeof sparseBigFile>;
  beforeAll(() => {
    big = sparseBigFile();
    if (big.why) console.log(`[on-demand] skipping the > 4 GB tests: ${big.why}`);
  });
  afterAll(() => {
    if (big.path) rmSync(big.path, { force: true });
  });

  it("sniffing finds the superblock at 2^32, where HDF5 looks for it", (ctx) => {
    if (!big.path) return ctx.skip();
    const source = FileSource.open(big.path);
    try {
      expect(source.size).toBeGreaterThan(2 ** 32);
      expect(sniff(new PagedReader(source))).toEqual({ kind: "hdf5", offset: 2 ** 32 });
    } finally {
      source.close();
    }
  });

  it("loads the same model as the small file, values included", async (ctx) => {
    if (!big.path) return ctx.skip();
    const model = await loadModel(big.path);
    expect(tensors(model)).toEqual(tensors(await loadModel(SAMPLE)));
  });

  it("summary, weights --layer, check and diff answer as for the small file", (ctx) => {
    if (!big.path) return ctx.skip();
    const same = (args: (file: string) => string[]) => {
      const small = runCli(args(SAMPLE));
      const large = runCli(args(big.path!));
      expect(large.status, large.stderr).toBe(small.status);
      expect(large.stderr).toBe("");
      expect(large.stdout.split(big.path!).join("FILE")).toBe(small.stdout.split(SAMPLE).join("FILE"));
      return large;
    };
    expect(same((f) => ["summary", f]).status).toBe(0);
    expect(same((f) => ["weights", f, "--layer", "lstm_1"]).stdout).toContain("kernel_f (2 × 1)");
    expect(same((f) => ["check", f]).status).toBe(0);
    const diff = runCli(["diff", big.path, SAMPLE]);
    expect(diff.status, diff.stderr).toBe(0);
    expect(diff.stdout).toMatch(/EQUAL/);
  }, 60_000);

  it("a missing file is still one clean line", () => {
    const r = runCli(["summary", join(dir, "no-such.h5")]);
    expect(r.status).toBe(2);
    expect(isCleanError(r)).toBe(true);
  });
});
