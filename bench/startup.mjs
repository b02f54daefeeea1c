// Start-up, whole process: `keras-inspect summary samples/seed-lstm.h5` beside `node -e 0`,
// the same CLI run from tsc's modules with h5wasm as published (the start-up before the
// bundle and the split binary, see src/build.mjs), and an h5py script printing the same
// file's layers (bench/h5py_summary.py). Wall seconds and peak RSS, as whole-process.mjs
// measures them. Runnable alone: `node bench/startup.mjs`.
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { cell, fmt, root } from "./measure.mjs";
import { findPython, pythonEnv } from "./peers.mjs";
import { runRepeated } from "./whole-process.mjs";

const SAMPLE = join(root, "samples", "seed-lstm.h5");

/** Rows { what, wall, rss } (wall in s, rss in MiB, each a measurement), and the targets' verdicts. */
export function startup(dir, repeats = 7) {
  const node = process.execPath;
  const rows = [];
  const run = (what, kind, exe, args, env = process.env) => {
    const m = runRepeated(kind, exe, args, env, dir, repeats);
    rows.push({ what, ...m });
    return m;
  };
  const bare = run("node -e 0", "node", node, ["-e", "0"]);
  const ours = run("keras-inspect summary (bundle, split h5wasm)", "node", node, [join(root, "bin", "keras-inspect.js"), "summary", SAMPLE]);
  run("keras-inspect summary (tsc's modules, h5wasm as published)", "node", node, [join(root, "bench", "unbundled-cli.mjs"), "summary", SAMPLE]);
  const python = findPython(["h5py"]);
  const py = python ? run(`${python} h5py_summary.py`, "python", python, [join(root, "bench", "h5py_summary.py"), SAMPLE], pythonEnv().env) : undefined;
  const targets = [
    `keras-inspect summary ≤ node -e 0 + 100 ms: ${fmt(ours.wall.median)} s vs ${fmt(bare.wall.median + 0.1)} s: ${ours.wall.median <= bare.wall.median + 0.1 ? "met" : "not met"}`,
    py
      ? `keras-inspect summary ≤ the h5py script: ${fmt(ours.wall.median)} s vs ${fmt(py.wall.median)} s: ${ours.wall.median <= py.wall.median ? "met" : "not met"}`
      : "keras-inspect summary ≤ the h5py script: n/a (no python3 with h5py)",
  ];
  return { rows, targets, repeats };
}

export const startupTable = (s) =>
  s.rows.map((r) => ({ command: r.what, "wall s": cell(r.wall), "peak RSS MiB": fmt(r.rss.median) }));

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = mkdtempSync(join(os.tmpdir(), "keras-inspect-startup-"));
  try {
    const s = startup(dir);
    console.table(startupTable(s));
    for (const t of s.targets) console.log(t);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
