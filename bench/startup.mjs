// Start-up, whole process: `keras-inspect summary samples/seed-lstm.h5` beside `node -e 0`,
// the same CLI run from tsc's modules (the start-up before the bundle, see src/build.mjs),
// the same model stored chunked and
// compressed (a file keras-inspect's own HDF5 reader leaves to the HDF5 library, which
// then starts), and an h5py script printing the same file's layers (bench/h5py_summary.py).
// Wall seconds and peak RSS, as whole-process.mjs measures them. Runnable alone:
// `node bench/startup.mjs`.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { cell, fmt, root } from "./measure.mjs";
import { findPython, pythonEnv } from "./peers.mjs";
import { runRepeated } from "./whole-process.mjs";

const SAMPLE = join(root, "samples", "seed-lstm.h5");

/** Rows { what, wall, rss } (wall in s, rss in MiB, each a measurement), and the targets' verdicts. */
/** samples/seed-lstm.h5's model with its tensors stored chunked and gzip-compressed, as HDF5 writes a file the direct reader does not read. */
async function chunkedSeed(dir) {
  const { lstmConfig, sequentialConfig, writeKerasH5 } = await import("../samples/keras-h5-writer.mjs");
  const w = (name, shape, data) => ({ name: `lstm_1/${name}:0`, shape, data, chunks: shape, gzip: 1 });
  const bytes = await writeKerasH5({
    modelConfig: sequentialConfig("sequential_1", [lstmConfig("lstm_1", 1, { batch_input_shape: [null, 1, 2], dtype: "float32", recurrent_activation: "sigmoid" })]),
    layers: [
      {
        name: "lstm_1",
        weights: [
          w("kernel", [2, 4], [-0.7879, -0.7968972, 0.9924617, -0.6057646, -0.14056396, -0.34560132, 0.9574034, 0.7960496]),
          w("recurrent_kernel", [1, 4], [-0.0660542, -0.32508007, -0.8477706, 0.41381747]),
          w("bias", [4], [0, 1, 0, 0]),
        ],
      },
    ],
  });
  const path = join(dir, "seed-lstm-chunked.h5");
  writeFileSync(path, bytes);
  return path;
}

export async function startup(dir, repeats = 7) {
  const node = process.execPath;
  const rows = [];
  const run = (what, kind, exe, args, env = process.env) => {
    const m = runRepeated(kind, exe, args, env, dir, repeats);
    rows.push({ what, ...m });
    return m;
  };
  const bare = run("node -e 0", "node", node, ["-e", "0"]);
  const ours = run("keras-inspect summary (the bundle)", "node", node, [join(root, "bin", "keras-inspect.js"), "summary", SAMPLE]);
  run("keras-inspect summary (tsc's modules, not bundled)", "node", node, [join(root, "bench", "unbundled-cli.mjs"), "summary", SAMPLE]);
  run("keras-inspect summary, the same model stored chunked and compressed (read by the HDF5 library)", "node", node, [join(root, "bin", "keras-inspect.js"), "summary", await chunkedSeed(dir)]);
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
    const s = await startup(dir);
    console.table(startupTable(s));
    for (const t of s.targets) console.log(t);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
