// Files users mistake for a model (issue 13, item 12): a Git LFS pointer (a clone made
// without git-lfs) and a TensorFlow SavedModel get one line that says what they are and
// what to do, instead of "not an HDF5 file (starts with bytes …)".
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { isCleanError, runCli } from "../support/cli.js";

const dir = mkdtempSync(join(tmpdir(), "ki-not-a-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("files that are not a model but look like one to a user", () => {
  it("a Git LFS pointer says so, with the size of the real file and the command that fetches it", () => {
    const pointer = join(dir, "model.h5");
    writeFileSync(pointer, "version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 537042944\n");
    for (const cmd of ["summary", "weights", "check"]) {
      const r = runCli([cmd, pointer]);
      expect(r.status).toBe(2);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr).toContain("is a Git LFS pointer, not the model itself (it stands for a file of 537042944 bytes): fetch the file with 'git lfs pull'");
    }
  });

  it("a SavedModel folder, or its saved_model.pb (a protobuf that could pass for ONNX), says what it is and what to save instead", () => {
    const saved = join(dir, "export");
    mkdirSync(join(saved, "variables"), { recursive: true });
    // SavedModel: field 1 (saved_model_schema_version) = 1, field 2 (meta_graphs) empty: the same first byte as an ONNX ir_version.
    writeFileSync(join(saved, "saved_model.pb"), Uint8Array.from([0x08, 0x01, 0x12, 0x00]));
    for (const path of [saved, join(saved, "saved_model.pb")]) {
      const r = runCli(["summary", path]);
      expect(r.status).toBe(2);
      expect(isCleanError(r)).toBe(true);
      expect(r.stderr).toMatch(/is a TensorFlow SavedModel, .* save the model with model\.save\('model\.keras'\)/);
    }
  });
});
