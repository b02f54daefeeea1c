/**
 * Keras 3's weights_format="npz" (issue 16, item 3). Keras 3.15.1 pickles each layer's
 * variables into `model.weights.npz` (keras3-npz.ts); npz.keras (JAX backend) and
 * npz_numpy.keras (numpy backend) hold float32.keras' weights, and model.weights.npz is
 * npz.keras' member alone (test/fixtures/dtypes/write_dtype_fixtures.py). Each must give
 * float32.keras' tensors and predictions exactly (tolerance 0: the same float32 values, the
 * same arithmetic). Hostile members are built here: a pickle is followed, never run.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zipSync } from "fflate";
import { afterAll, describe, expect, it } from "vitest";
import { FileError } from "../../src/errors.js";
import { predict } from "../../src/eval/predict.js";
import { modelInputs } from "../../src/eval/step.js";
import { loadModel, loadModelFromBytes } from "../../src/load/index.js";
import { allWeights, type Model } from "../../src/model.js";
import { isCleanError, REPO_ROOT, runCli } from "../support/cli.js";
import { deflatedZeros, writeZip } from "../fuzz/zip.js";

const DIR = join(REPO_ROOT, "test/fixtures/dtypes");
const tmp = mkdtempSync(join(tmpdir(), "ki-npz-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function byClassAndRole(model: Model) {
  return new Map(model.layers.flatMap((l) => allWeights(l).map((t) => [`${l.className}/${t.name}`, t] as const)));
}

/** A .npy member holding a 0-d object array whose pickle is `body` (as np.save writes one). */
function objectNpy(body: Uint8Array): Uint8Array {
  let header = "{'descr': '|O', 'fortran_order': False, 'shape': (), }";
  header += " ".repeat((64 - ((10 + header.length + 1) % 64)) % 64) + "\n";
  const out = new Uint8Array(10 + header.length + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(body, 10 + header.length);
  return out;
}

const latin1 = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));

describe("Keras 3 .npz weights", () => {
  it("npz.keras, npz_numpy.keras and the bare model.weights.npz hold float32.keras' tensors", async () => {
    const want = byClassAndRole(await loadModel(join(DIR, "float32.keras")));
    for (const file of ["npz.keras", "npz_numpy.keras", "model.weights.npz"]) {
      const model = await loadModel(join(DIR, file));
      const got = byClassAndRole(model);
      expect([...got.keys()].sort(), file).toEqual([...want.keys()].sort());
      for (const [role, t] of got) {
        expect(t.dtype).toBe("float32");
        expect(t.shape, `${file} ${role}`).toEqual(want.get(role)!.shape);
        expect(Array.from(t.data), `${file} ${role}`).toEqual(Array.from(want.get(role)!.data));
      }
      if (file.endsWith(".keras")) expect(model.notes).toContain('weights read from model.weights.npz (saved with weights_format="npz"): the variables Keras pickled there were read without running the pickle');
    }
    const lstm = (await loadModel(join(DIR, "npz.keras"))).layers.find((l) => l.className === "LSTM")!;
    expect(lstm.weights.map((t) => t.path)).toEqual(["model.weights.npz:layers/lstm/cell.npy[0]", "model.weights.npz:layers/lstm/cell.npy[1]", "model.weights.npz:layers/lstm/cell.npy[2]"]);
  });

  it("npz_bfloat16.keras: ml_dtypes' bfloat16 in the pickle, widened exactly", async () => {
    const want = byClassAndRole(await loadModel(join(DIR, "float32.keras")));
    const got = byClassAndRole(await loadModel(join(DIR, "npz_bfloat16.keras")));
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [role, t] of got) {
      expect(t.dtype).toBe("bfloat16");
      expect(Array.from(t.data), role).toEqual(Array.from(want.get(role)!.data));
    }
  });

  it("npz.keras predicts as float32.keras does", async () => {
    const expected = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as { x: number[][][] };
    const x = { shape: [2, 4, 3], data: Float64Array.from(expected.x.flat(2)) };
    const run = async (file: string) => {
      const model = await loadModel(join(DIR, file));
      return Array.from(predict(model, modelInputs(model, [x], ["x"]), { dtype: "float32" }).outputs[0].value.data);
    };
    expect(await run("npz.keras")).toEqual(await run("float32.keras"));
  });

  it("follows a pickle without running it: a call of os.system is refused, not made", async () => {
    const marker = join(tmp, "ran");
    // {"0": os.system("touch <marker>")}, as a 0-d object array would hold it.
    const evil = latin1(
      "\x80\x02cnumpy.core.multiarray\n_reconstruct\ncnumpy\nndarray\nK\x00\x85C\x01b\x87R(K\x01)cnumpy\ndtype\nU\x02O8\x89\x88\x87R(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK?tb\x89]}U\x010cos\nsystem\n" +
        `U${String.fromCharCode(`touch ${marker}`.length)}touch ${marker}\x85Rsatb.`,
    );
    const npz = zipSync({ "layers/dense.npy": objectNpy(evil) }, { level: 0 });
    const err = await loadModelFromBytes(npz, "evil.npz").catch((e) => e);
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toBe("evil.npz: member 'layers/dense.npy' variable 0 holds no numpy array (only numpy and JAX variables are read; a PyTorch or TensorFlow one stores its values otherwise)");
    expect(existsSync(marker)).toBe(false);
  });

  it("refuses damaged pickles and members in one line", async () => {
    const cases: [Record<string, Uint8Array>, RegExp][] = [
      [{ "layers/dense.npy": objectNpy(latin1("\x80\x02}q\x00")) }, /member 'layers\/dense.npy' holds a pickle that cannot be read: cut short at byte 5$/],
      [{ "layers/dense.npy": objectNpy(latin1("\x80\x02Q.")) }, /holds a pickle that cannot be read: it refers to data outside the pickle \(a persistent id\)$/],
      [{ "layers/dense.npy": objectNpy(latin1("\x80\x02h\x07.")) }, /holds a pickle that cannot be read: memo 7 is not set$/],
      [{ "layers/dense.npy": objectNpy(latin1("\x80\x02}.")) }, /member 'layers\/dense.npy' is not a dict of variables as Keras' NpzIOStore writes it$/],
      [{ "layers/../x.npy": objectNpy(latin1("\x80\x02}.")) }, /zip entry 'layers\/..\/x.npy' has an unsafe path \(absolute or with '..'\); refusing the archive$/],
    ];
    for (const [members, message] of cases) {
      const err = await loadModelFromBytes(zipSync(members, { level: 0 }), "bad.npz").catch((e) => e);
      expect(err).toBeInstanceOf(FileError);
      expect(err.message).toMatch(message);
      expect(err.message).not.toContain("\n");
    }
  });

  it("a member whose deflate stream inflates past its declared size is refused when the stream passes it (a lying zip bomb)", async () => {
    // 256 MB of zeros behind a declared 1 KB: the zip reader stops at the declared size (issue 17), as for a .keras
    // archive; the message says it stopped there (an inflater that ran to the end would report a size mismatch).
    const content = new Uint8Array(1024);
    const bomb = writeZip([{ name: "layers/dense.npy", content, method: 8, raw: await deflatedZeros(256 * 1024 * 1024), declaredSize: 1024 }]);
    const err = await loadModelFromBytes(bomb, "bomb.npz").catch((e) => e);
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toBe("bomb.npz: is not a readable .npz (zip entry 'layers/dense.npy' inflates past the 1024 bytes the archive declares for it; the archive is corrupt or a zip bomb)");
  });

  it("the bare model.weights.npz takes its structure from --config, and predicts as float32.keras", async () => {
    const expected = JSON.parse(readFileSync(join(DIR, "expected.json"), "utf8")) as { x: number[][][] };
    const x = { shape: [2, 4, 3], data: Float64Array.from(expected.x.flat(2)) };
    const run = (model: Model) => Array.from(predict(model, modelInputs(model, [x], ["x"]), { dtype: "float32" }).outputs[0].value.data);
    const npz = await loadModel(join(DIR, "model.weights.npz"), { config: join(DIR, "float32.keras") });
    expect(npz.notes.at(-1)).toContain("comes from");
    expect(run(npz)).toEqual(run(await loadModel(join(DIR, "float32.keras"))));
    // An archive records its own config: --config is refused there, as for any such file.
    await expect(loadModel(join(DIR, "npz.keras"), { config: join(DIR, "float32.keras") })).rejects.toThrow(/--config applies to weights-only files/);
  });

  it("the CLI reads npz.keras, and refuses a truncated one in one line with exit code 2", () => {
    const ok = runCli(["summary", join(DIR, "npz.keras")]);
    expect(ok.status, ok.stderr).toBe(0);
    const bytes = readFileSync(join(DIR, "npz.keras"));
    const cut = join(tmp, "cut.keras");
    writeFileSync(cut, bytes.subarray(0, bytes.length - 200));
    const r = runCli(["summary", cut]);
    expect(r.status).toBe(2);
    expect(isCleanError(r)).toBe(true);
  });
});
