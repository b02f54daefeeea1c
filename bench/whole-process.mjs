// Whole-process measurements: `keras-inspect predict` run as a child process, wall time and
// peak RSS, (A) on a real GRU fixture and (B) beside a python h5py + numpy script that
// does the same on the same LSTM file.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { readNpy, writeNpyFloat32 } from "../dist/npy.js";
import { lstmConfig, sequentialConfig, writeKerasH5 } from "../samples/keras-h5-writer.mjs";
import { random } from "./cases.mjs";
import { fromTimes, maxAbsDiff, root } from "./measure.mjs";
import { findPython, pythonEnv } from "./peers.mjs";

const TIME = "/usr/bin/time";
export const hasGnuTime = existsSync(TIME) && spawnSync(TIME, ["-f", "%e %M", "true"]).status === 0;
export const RSS_HOW = hasGnuTime
  ? '`/usr/bin/time -f "%e %M"` (elapsed s, max RSS)'
  : "the child's own process.resourceUsage().maxRSS (node, through a preloaded module) or resource.getrusage (python) at exit; wall time measured by the bench";

/**
 * Runs a command once; { s: wall seconds, rssMiB }. `kind` ("node" | "python") picks the
 * peak-RSS fallback when /usr/bin/time is missing: the child reports its own maxRSS at exit.
 */
function runOnce(kind, exe, args, env, dir, expected = 0) {
  const rssFile = join(dir, "rss.txt");
  rmSync(rssFile, { force: true });
  let cmd = exe;
  let argv = args;
  if (hasGnuTime) {
    cmd = TIME;
    argv = ["-o", rssFile, "-f", "%e %M", exe, ...args];
  } else if (kind === "node") {
    argv = ["--import", join(root, "bench", "exit-rss.mjs"), ...args];
    env = { ...env, BENCH_RSS_FILE: rssFile };
  } else {
    const script = "import atexit, resource, runpy, sys; f = sys.argv.pop(1); " +
      "atexit.register(lambda: open(f, 'w').write('- %d' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)); " +
      "sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')";
    argv = ["-c", script, rssFile, ...args];
  }
  const t0 = performance.now();
  const r = spawnSync(cmd, argv, { cwd: root, env, encoding: "utf8", maxBuffer: 64 << 20 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== expected) throw new Error(`${exe} ${args.join(" ")} failed (${r.status}): ${(r.stderr || r.error?.message || "").trim().split("\n").slice(-3).join(" | ")}`);
  const [s, kb] = readFileSync(rssFile, "utf8").trim().split("\n").pop().split(" ");
  return { s: s === "-" ? wall : Number(s), rssMiB: Number(kb) / 1024 };
}

/** `repeats` runs (one untimed warm-up first): wall-time and peak-RSS measurements, in s and MiB. */
export function runRepeated(kind, exe, args, env, dir, repeats, expected = 0) {
  runOnce(kind, exe, args, env, dir, expected);
  const runs = Array.from({ length: repeats }, () => runOnce(kind, exe, args, env, dir, expected));
  return { wall: fromTimes(runs.map((r) => r.s)), rss: fromTimes(runs.map((r) => r.rssMiB)) };
}

const predictArgs = (model, x, y) => [join(root, "bin", "keras-inspect.js"), "predict", model, "--input-file", x, "--output", y];

/** A: predict of `samples` × `steps` × 1 through the real GRU fixture. */
export function fixturePredict(dir, { samples = 600, steps = 905, repeats = 3 } = {}) {
  const file = join(root, "test", "fixtures", "real", "k2_gru_hardsigmoid_full.h5");
  const r = random(905);
  const xs = new Float32Array(samples * steps);
  for (let k = 0; k < xs.length; k++) xs[k] = 2 * r() - 1;
  const x = join(dir, "a-x.npy");
  writeFileSync(x, writeNpyFloat32([samples, steps, 1], xs));
  const args = predictArgs(file, x, join(dir, "a-y.npy"));
  return { file: "test/fixtures/real/k2_gru_hardsigmoid_full.h5", samples, steps, ...runRepeated("node", process.execPath, args, process.env, dir, repeats) };
}

/** B: keras-inspect predict against bench/h5py_predict.py on the same one-LSTM model file, per case. */
export async function predictVsH5py(cases, dir, repeats = 3) {
  const python = findPython(["h5py", "numpy"]);
  const { env, unset } = pythonEnv();
  let info;
  if (python) {
    const r = spawnSync(python, [join(root, "bench", "h5py_predict.py"), "--info"], { env, encoding: "utf8" });
    info = r.status === 0 ? JSON.parse(r.stdout) : undefined;
  }
  const rows = [];
  for (const [k, c] of cases.entries()) {
    const model = join(dir, `b-${k}.h5`);
    const layer = lstmConfig("lstm_1", c.units, { batch_input_shape: [null, c.steps, c.features], dtype: "float32", return_sequences: true, recurrent_activation: "sigmoid" });
    const weight = (name, shape, data) => ({ name: `lstm_1/${name}:0`, shape, data });
    const bytes = await writeKerasH5({
      modelConfig: sequentialConfig("sequential_1", [layer]),
      layers: [{ name: "lstm_1", weights: [weight("kernel", [c.features, 4 * c.units], c.kernel), weight("recurrent_kernel", [c.units, 4 * c.units], c.recurrentKernel), weight("bias", [4 * c.units], c.bias)] }],
    });
    writeFileSync(model, bytes);
    const x = join(dir, `b-${k}-x.npy`);
    writeFileSync(x, writeNpyFloat32([1, c.steps, c.features], c.x));
    const yOurs = join(dir, `b-${k}-y-ours.npy`);
    const yPy = join(dir, `b-${k}-y-py.npy`);
    const row = { case: c, ours: runRepeated("node", process.execPath, predictArgs(model, x, yOurs), process.env, dir, repeats) };
    if (python && info) {
      row.python = runRepeated("python", python, [join(root, "bench", "h5py_predict.py"), model, x, yPy], env, dir, repeats);
      row.diff = maxAbsDiff(readNpy(readFileSync(yOurs), "ours").data, readNpy(readFileSync(yPy), "h5py").data);
    }
    rows.push(row);
  }
  return {
    rows,
    python: python && info ? `${python} (Python ${info.python}), numpy ${info.numpy}, h5py ${info.h5py}` : undefined,
    blas: info?.blas,
    unset,
    missing: python ? (info ? undefined : `${python} imports h5py but h5py_predict.py --info failed`) : "no python3 with h5py and numpy (tried python3, /usr/bin/python3); on Debian: `apt-get install -y python3-h5py python3-numpy`",
  };
}
