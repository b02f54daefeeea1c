/**
 * Where the real fixtures live: the redistributable ones in test/fixtures/real/, the
 * rest in the project's shared collection `../shared/fixtures/real/` (relative to the
 * repository root), which may be absent on other machines.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root: the parent of test/. */
export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const LOCAL_FIXTURES = join(REPO_ROOT, "test/fixtures/real");
export const SHARED_FIXTURES = resolve(REPO_ROOT, "../shared/fixtures/real");

export function fixturePath(file: string): string | undefined {
  for (const dir of [LOCAL_FIXTURES, SHARED_FIXTURES]) {
    const p = join(dir, file);
    if (existsSync(p)) return p;
  }
  return undefined;
}

const announced = new Set<string>();

/** Prints, once per test file, which fixtures are missing (their tests are skipped). */
export function noteMissing(suite: string, files: string[]): void {
  const missing = files.filter((f) => fixturePath(f) === undefined);
  if (missing.length > 0 && !announced.has(suite)) {
    announced.add(suite);
    console.log(`[${suite}] skipping ${missing.length} fixture(s) not present here or in ${SHARED_FIXTURES}: ${missing.join(", ")}`);
  }
}
