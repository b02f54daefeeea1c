/**
 * float16 and bfloat16 tensors (issue 16, item 3), read from files Keras 3.15.1 wrote
 * (test/fixtures/dtypes/, made by write_dtype_fixtures.py there): every weight of those
 * models is k/64 for a whole k, a number float16, bfloat16 and float32 hold alike, so each
 * 16-bit tensor must equal the same tensor of float32.keras exactly (tolerance 0: widening
 * a 16-bit float to float32 is exact, and float32.keras is read by the library's own
 * float32 path, not by our 16-bit decoders).
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { FileError } from "../../src/errors.js";
import { bfloat16ToNumber, halfToNumber, widen16 } from "../../src/load/half.js";
import { loadModel } from "../../src/load/index.js";
import { allWeights, type Model } from "../../src/model.js";
import { REPO_ROOT } from "../support/cli.js";

const DIR = join(REPO_ROOT, "test/fixtures/dtypes");
const fixture = (name: string) => join(DIR, name);

/** Every tensor of a model by its role and its layer's class (layer names differ between the files). */
function tensorsByRole(model: Model): Map<string, { dtype: string; shape: number[]; data: ArrayLike<number> }> {
  const out = new Map<string, { dtype: string; shape: number[]; data: ArrayLike<number> }>();
  for (const layer of model.layers) for (const t of allWeights(layer)) out.set(`${layer.className}/${t.name}`, t);
  return out;
}

const python = ["python3", "/usr/bin/python3"].find((p) => spawnSync(p, ["-c", "import numpy"], { stdio: "ignore", timeout: 20_000 }).status === 0);
if (!python) console.warn("note: python3 with numpy not found; the float16 decoder is not compared with numpy's");

describe("16-bit floats decoded from their bits", () => {
  it("bfloat16 is the upper half of a float32, for all 65,536 patterns", () => {
    const view = new DataView(new ArrayBuffer(4));
    const wrong: number[] = [];
    for (let bits = 0; bits < 0x10000; bits++) {
      view.setUint32(0, (bits << 16) >>> 0);
      if (!Object.is(bfloat16ToNumber(bits), view.getFloat32(0))) wrong.push(bits);
    }
    expect(wrong).toEqual([]);
  });

  // Independent reference: numpy's float16 -> float32 cast, over every bit pattern (tolerance 0).
  it.skipIf(!python)("float16 widens as numpy widens it, for all 65,536 patterns", () => {
    const r = spawnSync(python!, ["-c", "import numpy as np, sys; sys.stdout.buffer.write(np.arange(65536, dtype=np.uint16).view(np.float16).astype('<f4').tobytes())"], { maxBuffer: 1 << 20 });
    expect(r.status).toBe(0);
    const want = new Float32Array(new Uint8Array(r.stdout).buffer, 0, 65536);
    const wrong: number[] = [];
    // Object.is: NaN equals NaN, and -0 differs from 0.
    for (let bits = 0; bits < 0x10000; bits++) if (!Object.is(halfToNumber(bits), want[bits])) wrong.push(bits);
    expect(wrong).toEqual([]);
  });
});

describe("the fast widening the HDF5 reader uses", () => {
  it("gives halfToNumber's and bfloat16ToNumber's values, into float32 and float64 arrays, for all patterns", () => {
    const bits = Uint16Array.from({ length: 0x10000 }, (_, k) => k);
    for (const kind of ["float16", "bfloat16"] as const) {
      const scalar = kind === "float16" ? halfToNumber : bfloat16ToNumber;
      for (const out of [new Float32Array(0x10001), new Float64Array(0x10001)]) {
        widen16(kind, bits, out, 1);
        const wrong: number[] = [];
        for (let k = 0; k < 0x10000; k++) if (!Object.is(out[k + 1], scalar(k))) wrong.push(k);
        expect(wrong, `${kind} into ${out.constructor.name}`).toEqual([]);
      }
    }
  });
});

describe("float16 and bfloat16 Keras files", () => {
  const cases = [
    ["float16.keras", "float16"],
    ["float16.h5", "float16"],
    ["float16.weights.h5", "float16"],
    ["bfloat16.keras", "bfloat16"],
    // Keras 3 writes bfloat16 to a legacy .h5 as unmarked 2-byte opaque values; the layer's policy says what they are.
    ["bfloat16.h5", "bfloat16"],
    ["bfloat16.weights.h5", "bfloat16"],
  ] as const;
  for (const [file, dtype] of cases) {
    it(`${file}: every tensor is ${dtype} and equals float32.keras' exactly`, async () => {
      const reference = tensorsByRole(await loadModel(fixture("float32.keras")));
      const model = await loadModel(fixture(file));
      const got = tensorsByRole(model);
      // A .weights.h5 has no config: classes come from the group names, the same three.
      expect([...got.keys()].sort()).toEqual([...reference.keys()].sort());
      for (const [role, t] of got) {
        const want = reference.get(role)!;
        expect(t.dtype, role).toBe(dtype);
        expect(want.dtype).toBe("float32");
        expect(t.shape).toEqual(want.shape);
        expect(t.data).toBeInstanceOf(Float32Array);
        expect(Array.from(t.data)).toEqual(Array.from(want.data));
      }
    });
  }

  it("mixed policies store float32 variables", async () => {
    for (const file of ["mixed_float16.keras", "mixed_bfloat16.keras"]) {
      const model = await loadModel(fixture(file));
      for (const layer of model.layers) for (const t of layer.weights) expect(t.dtype).toBe("float32");
    }
  });

  it("refuses a 16-bit float that is not IEEE half precision, in one line", async () => {
    const err = await loadModel(fixture("not_ieee_half.weights.h5")).catch((e) => e);
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toMatch(/'\/layers\/dense\/vars\/0' is a 16-bit float that is not IEEE half precision \(.*bias 14\); it cannot be decoded$/);
    expect(err.message).not.toContain("\n");
  });

  it("refuses 2-byte opaque values that nothing marks as bfloat16", async () => {
    const err = await loadModel(fixture("bfloat16_unmarked.weights.h5")).catch((e) => e);
    expect(err).toBeInstanceOf(FileError);
    expect(err.message).toMatch(/dataset '\/layers\/lstm\/cell\/vars\/0' holds 2-byte opaque values without Keras' dtype="bfloat16" mark/);
  });
});
