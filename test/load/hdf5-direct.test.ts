// The direct HDF5 reader (src/load/hdf5-direct.ts) against the HDF5 library (src/load/hdf5.ts,
// h5wasm): on every HDF5 file of the repository and of the shared collection (real Keras 1.1
// to 3.14 files, the samples, the dtype fixtures, the damaged files of the fuzz corpus, and
// the weights inside every .keras archive), whatever both open gives the same answers: the
// same members in the same order, the same attribute names, the same attribute values
// (deep equality), the same dataset shapes and dtypes, and the same values bit for bit
// (tolerance 0: both read the same stored bytes; only the code that decodes them differs).
// And the files Keras writes are read directly: every real Keras file and every sample.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import h5wasm from "h5wasm";
import { describe, expect, it } from "vitest";
import { MemorySource, PagedReader } from "../../src/load/byte-source.js";
import { lookup3, openDirect, whyNotDirect } from "../../src/load/hdf5-direct.js";
import type { H5File } from "../../src/load/hdf5-file.js";
import { openH5File } from "../../src/load/hdf5-open.js";
import { H5File as LibraryFile } from "../../src/load/hdf5.js";
import { findHdf5Signature } from "../../src/load/sniff.js";
import { readZipEntries, entryBytes } from "../../src/load/zip.js";
import { REPO_ROOT, SHARED_FIXTURES } from "./fixture-paths.js";

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  let out: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out = out.concat(filesUnder(p, keep));
    else if (keep(name)) out.push(p);
  }
  return out;
}

const isH5 = (n: string) => /\.(h5|hdf5)$/.test(n);
const roots = [join(REPO_ROOT, "samples"), join(REPO_ROOT, "test/fixtures"), SHARED_FIXTURES];
const h5Files = roots.flatMap((r) => filesUnder(r, isH5));
const kerasFiles = roots.flatMap((r) => filesUnder(r, (n) => n.endsWith(".keras")));

/** The HDF5 bytes of a file, or of the weights inside a .keras archive (undefined when the archive is unreadable). */
function hdf5Bytes(path: string): Uint8Array | undefined {
  const bytes = readFileSync(path);
  if (!path.endsWith(".keras") || findHdf5Signature(PagedReader.of(bytes)) !== undefined) return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    const reader = PagedReader.of(bytes);
    const zip = readZipEntries(reader, path, new Set(["model.weights.h5"]), { maxEntryBytes: () => 64 << 20, maxTotalBytes: 64 << 20 });
    const entry = zip.entries["model.weights.h5"];
    return entry ? entryBytes(reader, entry) : undefined;
  } catch {
    return undefined;
  }
}

async function library(bytes: Uint8Array, label: string): Promise<H5File | Error> {
  try {
    return await LibraryFile.open(new MemorySource(bytes), label, () => new MemorySource(bytes));
  } catch (err) {
    return err as Error;
  }
}

function direct(bytes: Uint8Array, label: string): H5File | undefined {
  const reader = PagedReader.of(bytes);
  return openDirect(reader, findHdf5Signature(reader) ?? 0, label, () => new MemorySource(bytes));
}

/** Calls `fn` on both readers: both give the same value, or both throw. */
function same<T>(a: H5File, b: H5File, what: string, fn: (f: H5File) => T): T | undefined {
  let va: T | Error;
  let vb: T | Error;
  try {
    va = fn(a);
  } catch (err) {
    va = err as Error;
  }
  try {
    vb = fn(b);
  } catch (err) {
    vb = err as Error;
  }
  if (va instanceof Error || vb instanceof Error) {
    expect(vb instanceof Error, `${what}: the library ${vb instanceof Error ? `threw ${vb.message}` : "answered"}, the direct reader ${va instanceof Error ? `threw ${va.message}` : "answered"}`).toBe(va instanceof Error);
    return undefined;
  }
  expect(va, what).toEqual(vb);
  return va;
}

/** Every object of the file, compared through both readers; returns how many datasets were read. */
function compareAll(d: H5File, lib: H5File, label: string): number {
  let datasets = 0;
  const visit = (path: string) => {
    const isGroup = same(d, lib, `${label} isGroup ${path}`, (f) => f.isGroup(path));
    same(d, lib, `${label} isDataset ${path}`, (f) => f.isDataset(path));
    const attrs = same(d, lib, `${label} attrNames ${path}`, (f) => f.attrNames(path)) ?? [];
    for (const name of attrs) same(d, lib, `${label} attr ${path} ${name}`, (f) => f.attr(path, name));
    if (isGroup) {
      const keys = same(d, lib, `${label} keys ${path}`, (f) => f.keys(path)) ?? [];
      for (const k of keys) visit(path === "/" ? `/${k}` : `${path}/${k}`);
    } else {
      datasets++;
      for (const opaque16 of [undefined, "bfloat16" as const]) {
        same(d, lib, `${label} datasetInfo ${path}`, (f) => f.datasetInfo(path, opaque16));
        const read = same(d, lib, `${label} readNumeric ${path}`, (f) => {
          const r = f.readNumeric(path, opaque16);
          return { shape: r.shape, dtype: r.dtype, kind: r.data.constructor.name, bytes: Buffer.from(r.data.buffer, r.data.byteOffset, r.data.byteLength).toString("base64") };
        });
        if (read) {
          const later = d.numericLater(path, opaque16);
          const again = later.read();
          expect(Buffer.from(again.buffer, again.byteOffset, again.byteLength).toString("base64"), `${label} numericLater ${path}`).toBe(read.bytes);
        }
      }
    }
  };
  visit("/");
  return datasets;
}

describe("the direct HDF5 reader reads what the HDF5 library reads, the same way", () => {
  const all = [...h5Files, ...kerasFiles];
  it.each(all.map((f) => [f.replace(`${REPO_ROOT}/`, "").replace(`${SHARED_FIXTURES}/`, "shared:")]))("%s", async (shown) => {
    const path = all.find((f) => f.replace(`${REPO_ROOT}/`, "").replace(`${SHARED_FIXTURES}/`, "shared:") === shown)!;
    const bytes = hdf5Bytes(path);
    if (!bytes || findHdf5Signature(PagedReader.of(bytes)) === undefined) return;
    const d = direct(bytes, shown);
    const lib = await library(bytes, shown);
    if (!d) {
      if (!(lib instanceof Error)) lib.close();
      return;
    }
    try {
      // A file the direct reader opens, the library opens too (a damaged one is left to the library, which says why).
      expect(lib instanceof Error ? lib.message : "opened", `${shown}: the library`).toBe("opened");
      if (lib instanceof Error) return;
      compareAll(d, lib, shown);
    } finally {
      d.close();
      if (!(lib instanceof Error)) lib.close();
    }
  });

  it("reads every real Keras file and every sample directly, without starting the library", () => {
    const keras = [...filesUnder(join(REPO_ROOT, "samples"), isH5), ...filesUnder(join(REPO_ROOT, "test/fixtures/real"), isH5), ...filesUnder(SHARED_FIXTURES, isH5), ...kerasFiles.filter((f) => f.includes("/real/"))];
    const left = keras
      .map((f) => {
        const bytes = hdf5Bytes(f);
        if (!bytes) return `${basename(f)}: unreadable archive`;
        const reader = PagedReader.of(bytes);
        const why = whyNotDirect(reader, findHdf5Signature(reader) ?? 0);
        return why === undefined ? undefined : `${basename(f)}: ${why}`;
      })
      .filter((x) => x !== undefined);
    expect(left).toEqual([]);
    expect(keras.length).toBeGreaterThan(20);
  });

  /** A file written by h5wasm (HDF5 2.0, latest format: superblock v3, version 2 object headers). */
  async function written(build: (f: InstanceType<typeof h5wasm.File>) => void): Promise<Uint8Array> {
    const Module = await h5wasm.ready;
    const memPath = `/hdf5-direct-test-${process.pid}.h5`;
    const f = new h5wasm.File(memPath, "w");
    try {
      build(f);
    } finally {
      f.close();
    }
    const bytes = Module.FS.readFile(memPath);
    Module.FS.unlink(memPath);
    return bytes;
  }

  // h5wasm writes little-endian only; test/fixtures/hdf5/layouts*.h5 (h5py) hold big-endian values and every attribute kind.
  it("reads the integer and float datasets and the attributes h5wasm writes as the library does", async () => {
    const values = [0, 1, -2, 3.5, -1e-3, 65504, 1e30, -0];
    const bytes = await written((f) => {
      for (const dtype of ["<f", "<d", "<i", "<q", "<h", "<H", "|b", "|B"]) {
        const integer = /[iqhHbB]/.test(dtype);
        const data = values.map((v) => (integer ? Math.trunc(Math.abs(v) % 100) : v));
        const name = dtype.replace("<", "le_").replace(">", "be_").replace("|", "");
        f.create_dataset({ name, data: dtype.includes("q") ? BigInt64Array.from(data.map(BigInt)) : data, shape: [2, 4], dtype });
      }
      f.create_attribute("int", 7, [], "<i");
      f.create_attribute("floats", [1.5, -2.25], [2], "<d");
      f.create_attribute("text", "LSTM \u00fcnits");
      f.create_attribute("texts", ["a", "bc"]);
    });
    expect(whyNotDirect(PagedReader.of(bytes), 0)).toBeUndefined();
    const d = direct(bytes, "layouts.h5")!;
    const lib = await library(bytes, "layouts.h5");
    if (lib instanceof Error) throw lib;
    try {
      expect(compareAll(d, lib, "layouts.h5")).toBe(8);
      expect(d.attr("/", "text")).toBe("LSTM \u00fcnits");
    } finally {
      d.close();
      lib.close();
    }
  });

  it("leaves chunked and compressed datasets to the library", async () => {
    const bytes = await written((f) => {
      f.create_dataset({ name: "chunked", data: Float32Array.from({ length: 64 }, (_, i) => i), shape: [8, 8], dtype: "<f", chunks: [4, 4], compression: 1 });
    });
    expect(whyNotDirect(PagedReader.of(bytes), 0)).toMatch(/chunked|filtered/);
    const f = await openH5File(new MemorySource(bytes), "chunked.h5", () => new MemorySource(bytes));
    try {
      expect(f.constructor.name).toBe("H5File");
      expect(Array.from(f.readNumeric("/chunked").data.slice(0, 3))).toEqual([0, 1, 2]);
    } finally {
      f.close();
    }
  });

  it("leaves a file shorter than its superblock's end-of-file address to the library, which refuses it as truncated", async () => {
    // Found by the fuzz suite (seed exports-long-1, iteration 865): a .keras whose weights file
    // lost its last 41 bytes, unread by any dataset, was answered; the library refuses it.
    const whole = new Uint8Array(readFileSync(join(REPO_ROOT, "samples/seed-lstm.h5")));
    expect(whyNotDirect(PagedReader.of(whole), 0)).toBeUndefined();
    const cut = whole.slice(0, whole.length - 1);
    expect(whyNotDirect(PagedReader.of(cut), 0)).toMatch(/shorter than its end-of-file address/);
    await expect(openH5File(new MemorySource(cut), "cut.h5", () => new MemorySource(cut))).rejects.toThrow(/truncated file/);
  });

  it("leaves a member name that is not one path component ('a/b') to the library", () => {
    // The group 'sub/deeper' of the h5py fixture, its member's name rewritten in its local heap as 'de/per'.
    const bytes = new Uint8Array(readFileSync(join(REPO_ROOT, "test/fixtures/hdf5/layouts.h5")));
    const at = Buffer.from(bytes).indexOf("deeper\0");
    expect(at).toBeGreaterThan(0);
    bytes.set(new TextEncoder().encode("de/per"), at);
    expect(whyNotDirect(PagedReader.of(bytes), 0)).toBe("a member name that is not one path component");
  });

  it("computes lookup3 as HDF5 does (Bob Jenkins' published test values)", () => {
    // hashlittle("", 0) = 0xdeadbeef; hashlittle("Four score and seven years ago", 0) = 0x17770551 (lookup3.c's driver5).
    expect(lookup3(new Uint8Array(0))).toBe(0xdeadbeef);
    expect(lookup3(new TextEncoder().encode("Four score and seven years ago"))).toBe(0x17770551);
  });

  it("opens a file through openH5File without the library when it can", async () => {
    const bytes = new Uint8Array(readFileSync(join(REPO_ROOT, "samples/seed-lstm.h5")));
    const f = await openH5File(new MemorySource(bytes), "seed-lstm.h5", () => new MemorySource(bytes));
    try {
      expect(f.constructor.name).toBe("DirectH5File");
      expect(f.keys("/model_weights")).toEqual(["lstm_1"]);
    } finally {
      f.close();
    }
  });
});
