/**
 * Runs test/slice/keras_layouts.py (the numpy references for Keras 1 assembly and
 * CuDNN conversion) and test/export/torch_reference.py with one JSON request each.
 * Tests skip when python3 + numpy are absent (test/reference/numpy.ts: numpyAvailable).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const PYTHON = process.env.PYTHON ?? "python3";

export function runPython<T>(script: URL, request: unknown): T {
  const r = spawnSync(PYTHON, [fileURLToPath(script)], { input: JSON.stringify(request), encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`${fileURLToPath(script)} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

export const KERAS_LAYOUTS = new URL("./keras_layouts.py", import.meta.url);
