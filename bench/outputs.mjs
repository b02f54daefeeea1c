// Whole-process timings of keras-inspect's large text and JSON outputs (issue 12, part 3):
//   weights --full of a 5000 × 50 Embedding          target ≤ 1 s
//   step tables of a 905-step, 64-unit GRU             target ≤ 1 s
//   step --json of a 256-unit LSTM over 1000 steps     target ≤ 1.5 s
// Each is `node bin/keras-inspect.js …` as a child process (run `npm run build` first),
// stdout to a file, timed by `/usr/bin/time -f "%e %U %S"` when it is there (wall, and the
// CPU seconds it used, which a machine busy with other work inflates less), else by this
// process around the spawn. One untimed warm-up, then `repeats` timed runs.
//
// Importing this module does nothing; `measureOutputs(dir)` writes its models and inputs
// into `dir` and returns one row per case. `node bench/outputs.mjs` builds, runs it in a
// temporary directory and prints the table.
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath, pathToFileURL } from "node:url";
import { lstmConfig, sequentialConfig, writeKerasH5 } from "../samples/keras-h5-writer.mjs";
import { writeNpyFloat32 as npyFloat32 } from "../dist/npy.js";
import { random, uniform as uniformOf } from "./cases.mjs";

const uniform = (n, scale, r) => uniformOf(r, n, scale);

const root = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(root, "bin", "keras-inspect.js");
const TIME = "/usr/bin/time";
const GRU_FIXTURE = join(root, "test", "fixtures", "real", "k2_gru_hardsigmoid_full.h5");

/** A Sequential model of one Embedding(5000, 50), as Keras 2.2.4 saves it. */
async function embeddingModel(dir) {
  const [inputDim, outputDim] = [5000, 50];
  const embedding = {
    class_name: "Embedding",
    config: { name: "embedding_1", trainable: true, batch_input_shape: [null, 500], dtype: "float32", input_dim: inputDim, output_dim: outputDim, mask_zero: false, input_length: 500 },
  };
  const bytes = await writeKerasH5({
    modelConfig: sequentialConfig("sequential_1", [embedding]),
    layers: [{ name: "embedding_1", weights: [{ name: "embedding_1/embeddings:0", shape: [inputDim, outputDim], data: uniform(inputDim * outputDim, 0.05, random(1)) }] }],
  });
  const file = join(dir, "embedding-5000x50.h5");
  writeFileSync(file, bytes);
  return file;
}

/** One LSTM of `units` units over `features` features, returning every step, and an input of `steps` steps. */
async function lstmModel(dir, units, features, steps) {
  const r = random(2);
  const layer = lstmConfig("lstm_1", units, { batch_input_shape: [null, steps, features], dtype: "float32", return_sequences: true, recurrent_activation: "sigmoid" });
  const w = (name, shape, scale) => ({ name: `lstm_1/${name}:0`, shape, data: uniform(shape.reduce((a, b) => a * b, 1), scale, r) });
  const bytes = await writeKerasH5({
    modelConfig: sequentialConfig("sequential_1", [layer]),
    layers: [{ name: "lstm_1", weights: [w("kernel", [features, 4 * units], 0.2), w("recurrent_kernel", [units, 4 * units], 0.1), w("bias", [4 * units], 0.1)] }],
  });
  const model = join(dir, `lstm-${units}.h5`);
  writeFileSync(model, bytes);
  const input = join(dir, `lstm-${units}-x.npy`);
  writeFileSync(input, npyFloat32([1, steps, features], uniform(steps * features, 1, r)));
  return { model, input };
}

/** A 905-step, one-feature input for the real GRU fixture (its input shape is (905, 1)). */
function gruInput(dir) {
  const input = join(dir, "gru-905-x.npy");
  writeFileSync(input, npyFloat32([1, 905, 1], Float32Array.from({ length: 905 }, (_, k) => 2 * Math.sin(k / 40))));
  return input;
}

const hasGnuTime = existsSync(TIME) && spawnSync(TIME, ["-f", "%e", "true"]).status === 0;

/** Runs keras-inspect once with stdout to `out`; { wall, cpu } seconds (cpu: user + system, when /usr/bin/time is there). */
function runOnce(args, out, dir) {
  const timeFile = join(dir, "time.txt");
  const [cmd, argv] = hasGnuTime ? [TIME, ["-o", timeFile, "-f", "%e %U %S", process.execPath, BIN, ...args]] : [process.execPath, [BIN, ...args]];
  const fd = openSync(out, "w");
  const t0 = performance.now();
  let r;
  try {
    r = spawnSync(cmd, argv, { cwd: root, stdio: ["ignore", fd, "pipe"], env: { ...process.env, NO_COLOR: "1" }, encoding: "utf8" });
  } finally {
    closeSync(fd);
  }
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`keras-inspect ${args.join(" ")} failed (${r.status}): ${(r.stderr || r.error?.message || "").trim().split("\n").slice(-2).join(" | ")}`);
  if (!hasGnuTime) return { wall, cpu: NaN };
  const [e, user, system] = readFileSync(timeFile, "utf8").trim().split("\n").pop().split(" ").map(Number);
  return { wall: e, cpu: user + system };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/**
 * Writes the models and inputs into `dir` and times the three outputs.
 * Rows: { what, command, target (s), median, min, max (wall s), met (median ≤ target),
 * cpu (median user + system s, NaN without /usr/bin/time), floor (median wall s of the same
 * command printing next to nothing), bytes (of stdout) }.
 */
export async function measureOutputs(dir, { repeats = 3 } = {}) {
  if (!existsSync(join(root, "dist", "cli", "main.js"))) throw new Error("dist/ is missing: run `npm run build` first");
  const embedding = await embeddingModel(dir);
  const lstm = await lstmModel(dir, 256, 32, 1000);
  const gru = gruInput(dir);
  // `floor`: the same command printing next to nothing (the tensor abbreviated, one step), so
  // the row shows what start-up, loading and evaluating cost apart from the output.
  const cases = [
    { what: "weights --full, 5000 × 50 Embedding", args: ["weights", embedding, "--full"], floor: ["weights", embedding], target: 1 },
    { what: "step tables, GRU 905 steps × 64 units", args: ["step", GRU_FIXTURE, "--input-file", gru], floor: ["step", GRU_FIXTURE, "--input-file", gru, "--steps", "0"], target: 1 },
    { what: "step --json, LSTM 256 units × 1000 steps", args: ["step", lstm.model, "--input-file", lstm.input, "--json"], floor: ["step", lstm.model, "--input-file", lstm.input, "--json", "--steps", "0"], target: 1.5 },
  ];
  const rows = [];
  for (const c of cases) {
    const out = join(dir, "stdout.txt");
    runOnce(c.args, out, dir);
    // The full command and its floor in turns, so both see the same load.
    const runs = [];
    const floors = [];
    for (let k = 0; k < repeats; k++) {
      runs.push(runOnce(c.args, out, dir));
      floors.push(runOnce(c.floor, join(dir, "floor.txt"), dir).wall);
    }
    const times = runs.map((r) => r.wall);
    const m = median(times);
    rows.push({
      what: c.what,
      command: `keras-inspect ${c.args.map((a) => (a.startsWith(dir) ? a.slice(dir.length + 1) : a.startsWith(root) ? a.slice(root.length) : a)).join(" ")}`,
      target: c.target,
      median: m,
      min: Math.min(...times),
      max: Math.max(...times),
      met: m <= c.target,
      cpu: median(runs.map((r) => r.cpu)),
      floor: median(floors),
      bytes: statSync(out).size,
    });
  }
  return rows;
}

/** The rows as a Markdown table. */
export function outputsTable(rows) {
  const s = (x) => x.toFixed(2);
  return [
    "| output | stdout | wall s, median (min–max) | CPU s (user + sys) | same, printing ~nothing | target | met |",
    "|---|---:|---:|---:|---:|---:|:---:|",
    ...rows.map(
      (r) =>
        `| ${r.what} | ${(r.bytes / 1e6).toFixed(1)} MB | ${s(r.median)} (${s(r.min)}–${s(r.max)}) | ${Number.isNaN(r.cpu) ? "n/a" : s(r.cpu)} | ${s(r.floor)} | ≤ ${r.target} s | ${r.met ? "yes" : "no"} |`,
    ),
  ].join("\n");
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const build = spawnSync("npm", ["run", "build"], { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  if (build.status !== 0) process.exit(build.status ?? 1);
  const dir = mkdtempSync(join(os.tmpdir(), "keras-inspect-outputs-"));
  try {
    const repeats = Number(process.env.REPEATS ?? 3);
    const rows = await measureOutputs(dir, { repeats });
    console.log(outputsTable(rows));
    console.log(`\n${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)} at the end, Node ${process.version}; ${repeats} timed runs after one warm-up, ${hasGnuTime ? "timed by /usr/bin/time" : "timed around the spawn"}.`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
