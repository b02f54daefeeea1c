// Runs the built CLI (bin/keras-inspect.js -> dist/) as a child process, as a user would.
// `npm test` builds dist/ first (pretest).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const BIN = fileURLToPath(new URL("../../bin/keras-inspect.js", import.meta.url));

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { input?: string; env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    input: options.input,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "0", ...options.env },
    timeout: options.timeoutMs ?? 60_000,
    // Node's default of 1 MiB kills a child that prints more (weights --full prints 3.5 MB).
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The contract for every failure: one line on stderr, starting "keras-inspect: ", no stack trace. */
export function isCleanError(r: CliResult): boolean {
  const lines = r.stderr.split("\n").filter((l) => l.trim() !== "");
  return lines.length === 1 && lines[0].startsWith("keras-inspect: ") && !/\n\s+at /.test(r.stderr);
}
