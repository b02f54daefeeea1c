/**
 * The build steps after tsc (src/build.mjs): h5wasm's binary split out of its glue, and the
 * bundle bin/keras-inspect.js runs. `npm test` builds first (pretest), so dist/ is this tree's.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: the build script is plain JavaScript, run by node.
import { capturedWasm, h5wasmEsm, splitGlue, vendoredH5wasm } from "../src/build.mjs";
import { REPO_ROOT } from "./support/cli.js";

describe("build", () => {
  it("moves h5wasm's binary into a file unchanged, and changes nothing else in its glue", async () => {
    const binary: Buffer = await capturedWasm();
    expect(readFileSync(join(vendoredH5wasm, "hdf5_util.wasm")).equals(binary)).toBe(true);
    const glue = readFileSync(join(h5wasmEsm, "hdf5_util.js"), "latin1");
    const split: string = splitGlue(glue);
    expect(readFileSync(join(vendoredH5wasm, "hdf5_util.js"), "latin1")).toBe(split);
    // Only findWasmBinary differs: what is left of the glue around it is byte for byte the original.
    const [before, after] = split.split(/\nfunction findWasmBinary\(\)\{return __readWasm\(new URL\("\.\/hdf5_util\.wasm", import\.meta\.url\)\)\}\n/);
    const prelude = before.indexOf("\n", before.indexOf("__readWasm")) + 1;
    expect(glue.startsWith(before.slice(prelude))).toBe(true);
    expect(glue.endsWith(after)).toBe(true);
    expect(glue.length - before.length + prelude - after.length).toBeGreaterThan(binary.length);
    expect(readFileSync(join(vendoredH5wasm, "hdf5_hl.js"))).toEqual(readFileSync(join(h5wasmEsm, "hdf5_hl.js")));
  });

  it("refuses a glue without exactly one embedded binary", () => {
    expect(() => splitGlue("function findWasmBinary(){return locateFile('x.wasm')}")).toThrow(/no single embedded binary/);
  });

  it("bundles the CLI with the split h5wasm, not the package's own copy", () => {
    expect(readFileSync(join(REPO_ROOT, "bin", "keras-inspect.js"), "utf8")).toContain('import("../dist/bundle/main.js")');
    const bundle = readdirSync(join(REPO_ROOT, "dist", "bundle"))
      .filter((f) => f.endsWith(".js"))
      .map((f) => readFileSync(join(REPO_ROOT, "dist", "bundle", f), "utf8"))
      .join("\n");
    expect(bundle).toContain('from "../vendor/h5wasm/hdf5_hl.js"');
    expect(bundle).not.toMatch(/from "h5wasm"/);
    // The worker predict starts sits beside the code that starts it.
    expect(existsSync(join(REPO_ROOT, "dist", "bundle", "predict-worker.js"))).toBe(true);
  });
});
