// checkFiles when no worker can start: run from the TypeScript sources, the worker's
// compiled file (check-worker.js beside check-files) does not exist, so every file falls to
// the main thread; the outcomes must be those of --jobs 1, in the order given.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type CheckRequest, checkFiles } from "../../src/cli/check-files.js";
import { clone, lstmDenseSpec, tensor, writeSpec } from "./models.js";

const dir = mkdtempSync(join(tmpdir(), "ki-check-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request: CheckRequest = { requireLayers: [], expected: [], tolerance: { atol: 1e-5, rtol: 1e-5 }, dtype: "float32" };

describe("checkFiles", () => {
  it("gives every file an outcome, in order, when workers cannot start", async () => {
    const spec = await lstmDenseSpec();
    const nan = clone(spec);
    tensor(nan, "lstm_1", "kernel").data[0] = NaN;
    const files = [join(dir, "good.h5"), join(dir, "nan.h5"), join(dir, "missing.h5")];
    writeFileSync(files[0], await writeSpec(spec));
    writeFileSync(files[1], await writeSpec(nan));
    const summary = (outcomes: Awaited<ReturnType<typeof checkFiles>>) => outcomes.map((o) => [o.file, o.error ? `error ${o.error.exitCode}` : o.report.verdict]);
    const many = await checkFiles(files, request, 4);
    expect(summary(many)).toEqual([
      [files[0], "pass"],
      [files[1], "fail"],
      [files[2], "error 2"],
    ]);
    expect(summary(await checkFiles(files, request, 1))).toEqual(summary(many));
  });
});
