// What `npm pack` puts in the tarball users install (and npx runs): the executable, the
// built code, the sample models and the README — never tests or test fixtures.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../support/cli.js";

describe("npm pack", () => {
  it("ships bin, dist and the samples, and no tests or fixtures", () => {
    const r = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(r.status, r.stderr).toBe(0);
    const [pack] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
    const files = pack.files.map((f) => f.path);
    expect(files).toContain("bin/keras-inspect.js");
    expect(files).toContain("dist/cli/main.js");
    expect(files).toContain("samples/seed-lstm.h5");
    expect(files).toContain("package.json");
    expect(files).toContain("LICENSE");
    // The bundle's h5wasm: the split glue, its binary and its licence (src/build.mjs).
    for (const f of ["hdf5_hl.js", "hdf5_util.js", "hdf5_util.wasm", "LICENSE.txt"]) expect(files).toContain(`dist/vendor/h5wasm/${f}`);
    expect(files.filter((f) => /^(test|src|bench)\/|fixtures|\.test\./.test(f))).toEqual([]);
    // Every module the executable imports at start is in the package.
    const imported = /import\("(\.\.\/dist\/[^"]+)"\)/.exec(readFileSync(`${REPO_ROOT}/bin/keras-inspect.js`, "utf8"))?.[1];
    expect(files).toContain(imported!.replace("../", ""));
  });

  it("runs nothing when installed: no install-time scripts (npm warns about each, and a tarball has dist/ built)", () => {
    const { scripts } = JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, "utf8")) as { scripts: Record<string, string> };
    expect(Object.keys(scripts).filter((s) => ["preinstall", "install", "postinstall", "prepare"].includes(s))).toEqual([]);
    expect(scripts.prepack).toBe("npm run build");
  });
});
