// `keras-inspect check` on many files, one thread against several (--jobs): does spreading
// the files over worker threads pay? Two workloads, each a folder of copies of
// samples/stacked-lstm-dense.h5 (LSTM 8 → LSTM 4 → Dense 1, 5 steps of 3 features):
//   structure  FILES files, no input: load, structure, dtypes, finite (little work per file)
//   evaluate   FILES files, --input-file of SAMPLES samples: the saturation check runs the model
// Each command is run REPEATS times after one warm-up, as a child process (the whole run a
// CI job waits for); medians and ranges in seconds. The reports of every --jobs must be the
// same bytes. Not part of `npm run bench`: run `npm run build && node bench/check-files.mjs`.
//   BENCH_FILES (default 16), BENCH_SAMPLES (default 20000), BENCH_REPEATS (default 3)
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { writeNpyFloat32 } from "../dist/npy.js";
import { random } from "./cases.mjs";
import { cell, fromTimes, root } from "./measure.mjs";

const FILES = Number(process.env.BENCH_FILES ?? 16);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 20000);
const REPEATS = Number(process.env.BENCH_REPEATS ?? 3);
const cores = availableParallelism();
const jobsList = [...new Set([1, 2, cores].filter((j) => j <= Math.max(cores, 2)))];

const dir = mkdtempSync(join(tmpdir(), "ki-bench-check-"));
try {
  const files = Array.from({ length: FILES }, (_, k) => {
    const f = join(dir, `model_${k}.h5`);
    copyFileSync(join(root, "samples", "stacked-lstm-dense.h5"), f);
    return f;
  });
  const r = random(20261207);
  const x = Array.from({ length: SAMPLES * 5 * 3 }, () => 2 * r() - 1);
  writeFileSync(join(dir, "x.npy"), writeNpyFloat32([SAMPLES, 5, 3], x));

  const bin = join(root, "bin", "keras-inspect.js");
  const run = (args) => {
    const t0 = performance.now();
    const p = spawnSync(process.execPath, [bin, "check", ...args], { encoding: "utf8", maxBuffer: 1 << 28 });
    const s = (performance.now() - t0) / 1000;
    if (p.status !== 0) throw new Error(`check exited ${p.status}: ${p.stderr}`);
    return { s, stdout: p.stdout };
  };
  const workloads = [
    ["structure", files],
    ["evaluate", [...files, "--input-file", join(dir, "x.npy")]],
  ];
  console.log(`check on ${FILES} files; ${cores} core(s); load average before: ${loadavg().map((v) => v.toFixed(1)).join(", ")}`);
  console.log(`\n| workload | ${jobsList.map((j) => `--jobs ${j}`).join(" | ")} |\n| --- | ${jobsList.map(() => "---").join(" | ")} |`);
  for (const [name, args] of workloads) {
    const cells = [];
    let reference;
    for (const jobs of jobsList) {
      const a = [...args, "--jobs", String(jobs)];
      run(a); // warm-up: the file cache
      const times = [];
      for (let k = 0; k < REPEATS; k++) {
        const { s, stdout } = run(a);
        reference ??= stdout;
        if (stdout !== reference) throw new Error(`--jobs ${jobs} printed another report`);
        times.push(s);
      }
      cells.push(cell(fromTimes(times)));
    }
    console.log(`| ${name}${name === "evaluate" ? ` (${SAMPLES} samples)` : ""} | ${cells.join(" | ")} |`);
  }
  console.log(`\nload average after: ${loadavg().map((v) => v.toFixed(1)).join(", ")}; seconds, median (min–max) of ${REPEATS}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
