/**
 * Bad input at the loader level: every problem is a FileError whose message is one
 * line naming the file, nothing is written to disk, and the HDF5 library keeps
 * working for the next file.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { strToU8, zipSync } from "fflate";
import h5wasm from "h5wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FileError } from "../../src/errors.js";
import { MemorySource } from "../../src/load/byte-source.js";
import { loadModel } from "../../src/load/index.js";
import { readKerasArchive } from "../../src/load/keras3.js";
import { fixturePath } from "./fixture-paths.js";

let dir: string;
const GOOD_H5 = fixturePath("k2_lstm_dense_full.h5")!;
const GOOD_KERAS = fixturePath("tfk2_gru_stacked_v3.keras")!;

/**
 * Files our code could leave behind: h5wasm's node build would write its in-memory
 * path (/keras-inspect-<pid>-<n>.h5) to the real root, and any temp copy would land in
 * the temp dir or the working directory. Other test files run in parallel and may
 * create unrelated temp files, so only names we could have produced are compared.
 */
const OURS = /keras|\.h5$|\.hdf5$|\.weights\.|^model\.|\.npz$/i;
function snapshot(): Record<string, string[]> {
  const list = (d: string) => readdirSync(d).filter((n) => OURS.test(n)).sort();
  return { root: list("/"), tmp: list(tmpdir()), cwd: list(process.cwd()) };
}

async function expectFileError(path: string, pattern: RegExp): Promise<FileError> {
  const before = snapshot();
  let caught: unknown;
  try {
    await loadModel(path);
  } catch (err) {
    caught = err;
  }
  expect(caught, `loading ${path} should fail`).toBeInstanceOf(FileError);
  const err = caught as FileError;
  expect(err.exitCode).toBe(2);
  expect(err.message).not.toContain("\n");
  expect(err.message.startsWith(path)).toBe(true);
  expect(err.message).toMatch(pattern);
  expect(snapshot()).toEqual(before);
  if (process.env.SHOW_MESSAGES) console.log(err.message);
  return err;
}

function write(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** An HDF5 file that is valid but has nothing Keras in it, written with h5wasm's in-memory FS. */
async function plainHdf5(): Promise<Uint8Array> {
  const Module = await h5wasm.ready;
  const memPath = `/bad-input-test-${process.pid}.h5`;
  const f = new h5wasm.File(memPath, "w");
  f.create_attribute("title", "an experiment");
  const g = f.create_group("data");
  g.create_dataset({ name: "x", data: new Float32Array([1, 2, 3]), shape: [3], dtype: "<f" });
  f.close();
  const bytes = Module.FS.readFile(memPath);
  Module.FS.unlink(memPath);
  return bytes;
}

function keras3Config(): string {
  return JSON.stringify({
    module: "keras",
    class_name: "Sequential",
    config: { name: "s", layers: [{ module: "keras.layers", class_name: "Dense", config: { name: "dense", units: 1 } }] },
  });
}

/** Sets the declared uncompressed size of every central-directory entry (offset 24 in the record). */
function patchDeclaredSizes(zip: Uint8Array, size: number): Uint8Array {
  const out = zip.slice();
  const view = new DataView(out.buffer);
  for (let i = 0; i + 46 <= out.length; i++) {
    if (view.getUint32(i, true) === 0x02014b50) view.setUint32(i + 24, size, true);
  }
  return out;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ki-bad-input-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("files that cannot be read", () => {
  it("missing file", async () => {
    await expectFileError(join(dir, "nope.h5"), /no such file/);
  });

  it("directory", async () => {
    const d = join(dir, "a-directory.h5");
    mkdirSync(d);
    await expectFileError(d, /is a directory/);
  });

  it("empty file", async () => {
    await expectFileError(write("empty.h5", new Uint8Array(0)), /is empty/);
  });

  it("text file named .h5", async () => {
    await expectFileError(write("config.h5", '{"class_name": "Sequential"}'), /not an HDF5 file or a \.keras zip \(starts with bytes 7b 22 63 6c 61 73 73 5f\)/);
  });

  it("a damaged model.json or .onnx is named as what it is not, rather than as no HDF5 file or .keras zip", async () => {
    // Found by the fuzz suite's export mutators: a character put before a model.json's '{'.
    await expectFileError(write("model.json", 'x{"modelTopology": {}}'), /not a TensorFlow\.js model\.json \(no JSON object naming modelTopology; starts with bytes 78 7b 22/);
    await expectFileError(write("damaged.onnx", Uint8Array.from([0xff, 0x08, 0x07, 0x12])), /not an ONNX model \(it does not open with a ModelProto's fields; starts with bytes ff 08 07 12\)/);
  });

  it("an HDF5 file that is not a Keras model says which attributes are missing", async () => {
    await expectFileError(write("plain.h5", await plainHdf5()), /HDF5 file but not a Keras model: no model_config, layer_names or layers\/ group found/);
  });
});

describe("truncated copies of real files", () => {
  const full = readFileSync(GOOD_H5);
  for (const at of [8, 100, 800, 2048, 4096, Math.floor(full.length / 2), full.length - 1000]) {
    it(`k2_lstm_dense_full.h5 cut at ${at} bytes`, async () => {
      await expectFileError(write(`cut-${at}.h5`, full.subarray(0, at)), /./);
    });
  }
  const archive = readFileSync(GOOD_KERAS);
  for (const at of [4, 200, Math.floor(archive.length / 2), archive.length - 30]) {
    it(`tfk2_gru_stacked_v3.keras cut at ${at} bytes`, async () => {
      await expectFileError(write(`cut-${at}.keras`, archive.subarray(0, at)), /zip|HDF5|truncated|corrupt/);
    });
  }
});

describe("bad .keras archives", () => {
  it("zip without model.weights.h5", async () => {
    const zip = zipSync({ "metadata.json": strToU8('{"keras_version": "3.9.2"}'), "config.json": strToU8(keras3Config()) });
    await expectFileError(write("noweights.keras", zip), /has no model\.weights\.h5 entry/);
  });

  it("zip with model.weights.npz instead", async () => {
    const zip = zipSync({ "config.json": strToU8(keras3Config()), "model.weights.npz": new Uint8Array([1, 2, 3]) });
    // Keras' weights_format="npz" is read (keras3-npz.ts); these three bytes are not an npz.
    await expectFileError(write("npz.keras", zip), /npz\.keras!model\.weights\.npz: is not a readable \.npz/);
  });

  it("zip that is not a Keras archive", async () => {
    const zip = zipSync({ "readme.txt": strToU8("hello") });
    await expectFileError(write("other.zip", zip), /without config\.json/);
  });

  it("broken config.json", async () => {
    const zip = zipSync({ "config.json": strToU8('{"class_name": "Sequential", "config": {'), "model.weights.h5": await plainHdf5() });
    await expectFileError(write("brokenconfig.keras", zip), /config\.json is not valid JSON/);
  });

  it("config.json nested absurdly deep", async () => {
    const deep = "[".repeat(5000) + "]".repeat(5000);
    const zip = zipSync({ "config.json": strToU8(deep), "model.weights.h5": await plainHdf5() });
    await expectFileError(write("deep.keras", zip), /config\.json is nested deeper than \d+ levels/);
  });

  it("an entry whose declared size is over the cap is refused before inflating", async () => {
    const zip = zipSync({ "config.json": strToU8(keras3Config()), "model.weights.h5": new Uint8Array(1000) }, { level: 9 });
    const lying = patchDeclaredSizes(zip, 0xfffffff0);
    await expectFileError(write("bomb.keras", lying), /would inflate to 4294967280 bytes, over the \d+-byte limit/);
  });

  it("a real deflate bomb is stopped by the (configurable) cap", async () => {
    const zip = zipSync({ "config.json": strToU8(keras3Config()), "model.weights.h5": new Uint8Array(8 * 1024 * 1024) }, { level: 9 });
    expect(zip.length).toBeLessThan(64 * 1024);
    const open = () => new MemorySource(zip);
    await expect(readKerasArchive(open(), "bomb.keras", open, { maxEntryBytes: 1024 * 1024, maxTotalBytes: 2 * 1024 * 1024 })).rejects.toThrow(
      /bomb\.keras: zip entry 'model\.weights\.h5' would inflate to 8388608 bytes, over the 1048576-byte limit/,
    );
  });

  it("an entry with '../' in its name", async () => {
    const zip = zipSync({ "config.json": strToU8(keras3Config()), "../evil.h5": new Uint8Array(4) });
    await expectFileError(write("traversal.keras", zip), /unsafe path/);
  });

  it("model.weights.h5 that is not HDF5", async () => {
    const zip = zipSync({ "config.json": strToU8(keras3Config()), "model.weights.h5": strToU8("not hdf5 at all") });
    await expectFileError(write("badweights.keras", zip), /model\.weights\.h5: HDF5 library could not open it/);
  });
});

describe("the HDF5 library still works after bad files", () => {
  it("loads a good HDF5 file and a good archive after all the failures above", async () => {
    const before = snapshot();
    const m = await loadModel(GOOD_H5);
    expect(m.layers.map((l) => l.className)).toEqual(["LSTM", "Dense"]);
    const a = await loadModel(GOOD_KERAS);
    expect(a.layers.map((l) => l.className)).toEqual(["InputLayer", "GRU", "GRU", "Dropout", "Dense", "Dense"]);
    expect(snapshot()).toEqual(before);
  });
});
