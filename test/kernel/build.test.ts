/**
 * The committed kernel binary (src/kernel/gemm-wasm.ts) is the one src/kernel/gemm.wat
 * assembles to: a change to the source without `npm run build:kernel` fails here.
 */
import { describe, expect, it } from "vitest";

// @ts-expect-error: the build script is plain JavaScript, run by node.
import { assembleKernel, kernelModuleSource } from "../../src/kernel/build.mjs";
import { GEMM_WASM_BASE64 } from "../../src/kernel/gemm-wasm.js";

describe("kernel binary", () => {
  it("is what gemm.wat assembles to", async () => {
    const binary: Buffer = await assembleKernel();
    expect(Buffer.from(GEMM_WASM_BASE64, "base64").equals(binary)).toBe(true);
    expect(kernelModuleSource(binary)).toContain(GEMM_WASM_BASE64);
  });
});
