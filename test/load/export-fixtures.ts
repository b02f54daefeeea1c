/**
 * Where the real exports (tfjs, ONNX, TFLite) live: the redistributable ones (MIT / Apache-2.0) in
 * test/fixtures/exports/<folder>/, the rest in the project's shared collection
 * `../shared/fixtures/exports/<folder>/`, which may be absent on other machines; tests of an
 * absent one are skipped with a printed note. Folder and file names are the collection's
 * (its MANIFEST.tsv gives each file's origin).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { REPO_ROOT } from "./fixture-paths.js";

export const LOCAL_EXPORTS = join(REPO_ROOT, "test/fixtures/exports");
export const SHARED_EXPORTS = resolve(REPO_ROOT, "../shared/fixtures/exports");

/** `folder/file` from the local copy or the shared collection; undefined when neither has it. */
export function exportPath(folder: string, file: string): string | undefined {
  for (const dir of [LOCAL_EXPORTS, SHARED_EXPORTS]) {
    const p = join(dir, folder, file);
    if (existsSync(p)) return p;
  }
  return undefined;
}

const announced = new Set<string>();

/** Prints, once per suite, which exports are missing (their tests are skipped). */
export function noteMissingExports(suite: string, wanted: [folder: string, file: string][]): void {
  const missing = wanted.filter(([d, f]) => exportPath(d, f) === undefined).map(([d, f]) => `${d}/${f}`);
  if (missing.length > 0 && !announced.has(suite)) {
    announced.add(suite);
    console.log(`[${suite}] skipping ${missing.length} export(s) not present in ${LOCAL_EXPORTS} or ${SHARED_EXPORTS}: ${missing.join(", ")}`);
  }
}
