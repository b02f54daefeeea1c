// Timing helpers and the facts about the machine and software that RESULTS.md records.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));

function summarize(times, result, note) {
  const sorted = [...times].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { times, n, median, min: sorted[0], max: sorted[n - 1], result, note };
}

/** One warm-up call, then `repeats` timed calls of fn (sync or async); times in ms. */
export async function measure(fn, repeats, note) {
  await fn();
  const times = [];
  let result;
  for (let k = 0; k < repeats; k++) {
    const t0 = performance.now();
    result = await fn();
    times.push(performance.now() - t0);
  }
  return summarize(times, result, note);
}

/** Already-measured times (from another process). */
export const fromTimes = (times, result, note) => summarize(times, result, note);

/** A number of ms (or s) with about three significant digits. */
export function fmt(x) {
  if (!Number.isFinite(x)) return "n/a";
  return x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x >= 1 ? x.toFixed(2) : x.toFixed(3);
}

/** "median (min–max)". */
export const cell = (m) => `${fmt(m.median)} (${fmt(m.min)}–${fmt(m.max)})`;

/** Largest |a[k] - b[k]| over the shorter length. */
export function maxAbsDiff(a, b) {
  let d = 0;
  for (let k = 0; k < Math.min(a.length, b.length); k++) d = Math.max(d, Math.abs(a[k] - b[k]));
  return d;
}

/** The version in node_modules/<name>/package.json, or undefined when not installed. */
export function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(`${root}node_modules/${name}/package.json`, "utf8")).version;
  } catch {
    return undefined;
  }
}

function git(args) {
  try {
    return execFileSync("git", args, { cwd: root, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return undefined;
  }
}

export function machine() {
  const cpuinfo = existsSync("/proc/cpuinfo") ? readFileSync("/proc/cpuinfo", "utf8") : "";
  const field = (name) => new RegExp(`^${name}\\s*:\\s*(.*)$`, "m").exec(cpuinfo)?.[1];
  const commit = git(["rev-parse", "--short", "HEAD"]);
  const dirty = git(["status", "--porcelain", "--", "src"]);
  return {
    cpu: field("model name") ?? os.cpus()[0]?.model ?? "unknown",
    flags: ["avx2", "avx512f", "fma"].filter((f) => new RegExp(`^flags\\s*:.*\\b${f}\\b`, "m").test(cpuinfo)),
    cores: os.cpus().length,
    memoryGiB: os.totalmem() / 2 ** 30,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    v8: process.versions.v8,
    commit: commit ? `${commit}${dirty ? " with uncommitted changes in src/" : ""}` : "unknown",
  };
}
