// Benchmarks keras-inspect's recurrent evaluator beside other implementations of the same
// layers, side by side in one run, and writes bench/RESULTS.md. Run with `npm run bench`
// (builds first).
//
// Cases: LSTM and GRU (reset_after=True) at (units, features, steps) = (64, 32, 1000),
// (256, 128, 1000), (1024, 1024, 100), (32, 8, 10000); batch 1; every hidden state out.
// Columns: keras-inspect's scalar reference engine, its SIMD kernel (float32 with the trace
// `step` records, float32 without it as `predict` runs, float64 with the trace), numpy
// float32, ONNX Runtime for Node (1 and 2 threads), ONNX Runtime Web (wasm, 1 thread) and
// tfjs (CPU backend). The optional peers are skipped, with a footnote, when missing.
// Each cell: median (min–max) of N timed runs after one warm-up. Then two whole-process
// measurements of `keras-inspect predict` (see whole-process.mjs).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { makeCase, oursInWorker } from "./cases.mjs";
import { cell, fmt, fromTimes, machine, maxAbsDiff, measure, root } from "./measure.mjs";
import { loadOrtNode, loadOrtWeb, loadTfjs, numpyRuns, ortRunner, tfjsRunner } from "./peers.mjs";
import { bigFiles, bigFilesTable } from "./big-files.mjs";
import { measureOutputs, outputsTable } from "./outputs.mjs";
import { startup, startupTable } from "./startup.mjs";
import { fixturePredict, predictVsH5py, RSS_HOW } from "./whole-process.mjs";

const REPEATS = 7;
/** The scalar reference's repeats on the two big cases (it takes seconds per run there). */
const REFERENCE_REPEATS_BIG = 3;
const TOLERANCE = 1e-4;
const SHAPES = [[64, 32, 1000], [256, 128, 1000], [1024, 1024, 100], [32, 8, 10000]];
const isBig = (c) => c.units * (c.features + c.units) * c.steps > 2e8;

const started = Date.now();
const dir = mkdtempSync(join(os.tmpdir(), "keras-inspect-bench-"));
const notes = [];
/** A footnote's marker, "[n]"; the same text gives the same marker. */
function note(text) {
  let k = notes.indexOf(text);
  if (k < 0) k = notes.push(text) - 1;
  return `[${k + 1}]`;
}

const cases = ["lstm", "gru"].flatMap((kind, i) => SHAPES.map(([u, d, t], j) => ({ ...makeCase(kind, u, d, t, 1000 * (i + 1) + j), shape: j })));
const [ortNode, ortWeb, tfjs] = [await loadOrtNode(), await loadOrtWeb(), await loadTfjs()];

const COLUMNS = [
  { key: "ref", title: "keras-inspect reference f32" },
  { key: "k32", title: "kernel f32 + trace (step)" },
  { key: "k32n", title: "kernel f32, no trace (predict)" },
  { key: "k64", title: "kernel f64 + trace" },
  { key: "numpy", title: "numpy f32" },
  { key: "ort1", title: "ORT node 1 thread" },
  { key: "ort2", title: "ORT node 2 threads" },
  { key: "web", title: "ORT web wasm 1 thread" },
  { key: "tfjs", title: "tfjs cpu" },
];
const results = cases.map(() => ({}));
const missing = (i, key, why) => (results[i][key] = { missing: note(why) });

for (const [i, c] of cases.entries()) {
  const r = results[i];
  const bigRef = isBig(c);
  const ours = async (opts, repeats, why) => {
    const m = await oursInWorker(c, opts, repeats);
    return fromTimes(m.times, m.result, why);
  };
  r.ref = await ours({ dtype: "float32", engine: "reference" }, bigRef ? REFERENCE_REPEATS_BIG : REPEATS,
    bigRef ? note(`Scalar reference on the two big cases: all steps, N = ${REFERENCE_REPEATS_BIG} timed runs after one warm-up (N = ${REPEATS} elsewhere).`) : undefined);
  r.k32 = await ours({ dtype: "float32" }, REPEATS);
  r.k32n = await ours({ dtype: "float32", record: false }, REPEATS);
  r.k64 = await ours({ dtype: "float64" }, REPEATS);
  for (const [key, threads] of [["ort1", 1], ["ort2", 2]]) {
    if (!ortNode.mod) missing(i, key, ortNode.missing);
    else r[key] = await measure(await ortRunner(ortNode.mod, c, { executionProviders: ["cpu"], intraOpNumThreads: threads, interOpNumThreads: 1 }), REPEATS);
  }
  if (!ortWeb.mod) missing(i, "web", ortWeb.missing);
  else r.web = await measure(await ortRunner(ortWeb.mod, c, { executionProviders: ["wasm"] }), REPEATS);
  if (!tfjs.mod) missing(i, "tfjs", tfjs.missing);
  else {
    let run;
    try {
      run = tfjsRunner(tfjs.mod, c);
    } catch (e) {
      missing(i, "tfjs", `tfjs ${tfjs.version} has no such layer: \`${e.message}\``);
    }
    if (run) r.tfjs = await measure(run, REPEATS);
  }
  console.log(`${c.name}: done (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

const np = numpyRuns(cases, cases.map(() => REPEATS), dir);
for (const [i] of cases.entries()) {
  if (np.missing) missing(i, "numpy", np.missing);
  else results[i].numpy = np.results[i];
}

// Agreement: each column's last h against the float32 kernel's.
let disagreements = 0;
const diffRows = cases.map((c, i) => {
  const row = { case: c.name };
  for (const { key, title } of COLUMNS) {
    if (key === "k32") continue;
    const m = results[i][key];
    if (m.missing) row[title] = "n/a";
    else {
      const d = maxAbsDiff(m.result, results[i].k32.result);
      const bad = !(d <= TOLERANCE);
      disagreements += bad;
      row[title] = `${d.toExponential(1)}${bad ? " DISAGREES" : ""}`;
    }
  }
  return row;
});

const timeRows = cases.map((c, i) => {
  const row = { case: c.name };
  for (const { key, title } of COLUMNS) {
    const m = results[i][key];
    row[title] = m.missing ? `n/a ${m.missing}` : `${cell(m)}${m.n !== REPEATS ? ` N=${m.n}` : ""}${m.note ? ` ${m.note}` : ""}`;
  }
  return row;
});

// Ratios of medians, for the targets the bench watches.
const at = (kind, shape) => cases.findIndex((c) => c.kind === kind && c.shape === shape);
const ratio = (i, a, b) => (results[i][a]?.median && results[i][b]?.median ? `${(results[i][a].median / results[i][b].median).toFixed(2)}×` : "n/a");
const ratios = [];
for (const kind of ["lstm", "gru"]) {
  for (const shape of [1, 2]) {
    const i = at(kind, shape);
    ratios.push(`${cases[i].name}: kernel f32 + trace / numpy = ${ratio(i, "k32", "numpy")}; / ORT node 1 thread = ${ratio(i, "k32", "ort1")}`);
  }
  const i = at(kind, 0);
  ratios.push(`${cases[i].name}: kernel f32 + trace / ORT node 1 thread = ${ratio(i, "k32", "ort1")}; kernel f32 no trace / ORT node 1 thread = ${ratio(i, "k32n", "ort1")}`);
}
for (const kind of ["lstm", "gru"]) {
  const idx = cases.flatMap((c, i) => (c.kind === kind ? [i] : []));
  ratios.push(`${kind.toUpperCase()} float64 / float32 (kernel + trace): ${idx.map((i) => `(${SHAPES[cases[i].shape].join(", ")}) ${ratio(i, "k64", "k32")}`).join("; ")}`);
}

// Whole-process measurements.
console.log("whole-process predict runs ...");
const a = fixturePredict(dir);
const b = await predictVsH5py(cases.filter((c) => c.kind === "lstm" && c.shape < 3), dir);
const wp = (m) => `${cell(m.wall)} s, ${fmt(m.rss.median)} MiB`;
const bRows = b.rows.map((row) => ({
  case: row.case.name,
  "keras-inspect predict": wp(row.ours),
  "python h5py + numpy": row.python ? wp(row.python) : `n/a ${note(b.missing)}`,
  "ratio (keras-inspect / python)": row.python ? `${(row.ours.wall.median / row.python.wall.median).toFixed(2)}×` : "n/a",
  "max abs(y - y_python)": row.diff === undefined ? "n/a" : `${row.diff.toExponential(1)}${row.diff <= TOLERANCE ? "" : " DISAGREES"}`,
}));
if (b.rows.some((row) => row.diff > TOLERANCE)) disagreements++;
console.log("start-up runs ...");
const st = await startup(dir);
console.log("big-file runs ...");
const big = await bigFiles(dir);
console.log("long-output runs ...");
const longOutputs = await measureOutputs(dir);
rmSync(dir, { recursive: true, force: true });
const minutes = ((Date.now() - started) / 60000).toFixed(1);

// Console.
console.log(`\nTime per forward pass, ms: median (min–max) of N = ${REPEATS} after warm-up, unless marked`);
console.table(timeRows);
console.log("max abs(last h - kernel f32 last h)");
console.table(diffRows);
for (const line of ratios) console.log(line);
console.log(`A: predict ${a.samples} × ${a.steps} × 1 through ${a.file}: ${wp(a)} (wall s median (min–max) of 3, peak RSS median)`);
console.table(bRows);
console.table(startupTable(st));
for (const t of st.targets) console.log(t);
console.table(bigFilesTable(big));
console.log(outputsTable(longOutputs));
notes.forEach((t, k) => console.log(`[${k + 1}] ${t}`));
console.log(`bench took ${minutes} min`);

// RESULTS.md.
const m = machine();
const table = (rows) => {
  const header = Object.keys(rows[0]);
  return [`| ${header.join(" | ")} |`, `| ${header.map(() => "---").join(" | ")} |`, ...rows.map((r) => `| ${header.map((h) => r[h]).join(" | ")} |`)];
};
const versions = (p, name) => (p.mod ? `${name} ${p.version}` : `${name}: not installed`);
const md = [
  "# Benchmark results",
  "",
  "Command: `npm run bench` (`npm run build && node bench/evaluator.mjs`); written by that command, do not edit by hand.",
  "",
  `- Date: ${new Date().toISOString().replace("T", " ").slice(0, 16)} UTC; the run took ${minutes} min.`,
  `- Machine: ${m.cpu} (${m.flags.join(", ") || "no AVX2"}), ${m.cores} cores, ${m.memoryGiB.toFixed(1)} GiB memory, ${m.os}; shared, so expect noise: compare medians and mind the ranges.`,
  `- keras-inspect at ${m.commit}; Node ${m.node}, V8 ${m.v8}.`,
  `- numpy: ${np.missing ? `n/a (${np.missing})` : `${np.numpy} on ${np.python}; BLAS: ${np.blas}`}.`,
  `- Environment of the python children (numpy column and measurement B): ${np.unset?.length || b.unset.length ? `unset ${(np.unset ?? b.unset).join(", ")} (set on this machine; unset only for those child processes)` : "unchanged (no OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE set)"}.`,
  `- ${versions(ortNode, "onnxruntime-node")} (CPU provider); ${versions(ortWeb, "onnxruntime-web")} (wasm backend, numThreads 1, in Node); ${versions(tfjs, "@tensorflow/tfjs")} (cpu backend).`,
  "",
  "## One forward pass, batch 1, every hidden state out",
  "",
  `Milliseconds: median (min–max) of N = ${REPEATS} timed runs after one warm-up, unless marked. Case = (units, features, steps).`,
  "",
  ...table(timeRows),
  "",
  `Agreement: max abs difference of the last h from the float32 kernel's (tolerance ${TOLERANCE}).`,
  "",
  ...table(diffRows),
  "",
  "Ratios of medians (same run):",
  "",
  ...ratios.map((l) => `- ${l}`),
  "",
  "## Whole process: `node bin/keras-inspect.js predict FILE --input-file x.npy --output y.npy`",
  "",
  `Wall seconds median (min–max) of 3 runs after one warm-up, then median peak RSS; measured with ${RSS_HOW}.`,
  "",
  `A. ${a.samples} samples × ${a.steps} steps × 1 feature through \`${a.file}\` (GRU 64 → GRU 64 → Dense 2, Keras 2.2.4): ${wp(a)} (RSS min–max ${fmt(a.rss.min)}–${fmt(a.rss.max)} MiB).`,
  "",
  `B. One sample through a one-LSTM Sequential file (written by samples/keras-h5-writer.mjs, return_sequences), beside \`bench/h5py_predict.py\` (h5py reads the weights, float32 numpy runs the LSTM, np.save writes y.npy): ${b.python ? `${b.python}; BLAS: ${b.blas}` : `n/a (${b.missing})`}.`,
  "",
  ...table(bRows),
  "",
  "## Start-up: `summary samples/seed-lstm.h5`, whole process",
  "",
  `Wall seconds median (min–max) of ${st.repeats} runs after one warm-up, and median peak RSS (bench/startup.mjs). The second keras-inspect row runs tsc's modules, as the CLI started before src/build.mjs bundled them; the third reads the same model stored chunked and compressed, which keras-inspect's own HDF5 reader leaves to the HDF5 library (h5wasm), which then starts; bench/h5py_summary.py prints the same file's layers with h5py.`,
  "",
  ...table(startupTable(st)),
  "",
  ...st.targets.map((t) => `- ${t}`),
  "",
  "## Big files, whole process",
  "",
  "Generated by bench/big-files.mjs: a 537 MB model (one LSTM, 4096 units over 4096 features, Keras 2 layout) and a file past 4 GB (the sample behind 4 GiB of sparse zeros, every HDF5 address past 2^32). Wall seconds median (min–max) of 3 runs after one warm-up; peak RSS median.",
  "",
  ...table(bigFilesTable(big)),
  "",
  "## Long outputs, whole process",
  "",
  "bench/outputs.mjs: stdout to a file; 3 runs after one warm-up. \"Printing ~nothing\" is the same command's load and compute with its output cut to a line, the floor under the printing.",
  "",
  outputsTable(longOutputs),
  "",
  "## Notes",
  "",
  `- Weights: uniform in ±1/sqrt(features) (kernel) and ±1/sqrt(units) (recurrent kernel, biases), float32 values from a seeded PRNG; input uniform in [-1, 1]. tanh activation, sigmoid gates; GRU with reset_after=True (ONNX linear_before_reset=1).`,
  "- keras-inspect columns call `runDirection` from dist/eval/recurrent.js, each column of each case in a worker thread of its own, warmed up for at least 3 runs and 0.3 s (a fresh V8 isolate: in one isolate the float32 and float64 step closures share JIT feedback, and float32 after float64 ran twice as slow, which no keras-inspect process meets); \"trace\" is every intermediate of every step, as `step` records it; \"no trace\" (`record: false`) is what `predict` computes. Input conversion, weight layout and ONNX session creation happen before the warm-up and are not timed; the kernel's weight packing is cached per layer, so it falls in the warm-up.",
  "- numpy: one python process for all cases (start-up not timed): X @ W + b for all steps at once, then per step h @ U and the gate math, each h stored.",
  "- ONNX models are built in JS (bench/onnx-model.mjs): one LSTM/GRU node, opset 14, IR 8; `session.run` is timed, output copy included.",
  ...notes.map((t, k) => `- [${k + 1}] ${t}`),
  "",
];
writeFileSync(join(root, "bench", "RESULTS.md"), md.join("\n"));
console.log("wrote bench/RESULTS.md");
if (disagreements) {
  console.error(`${disagreements} result(s) disagree beyond ${TOLERANCE}: see the agreement table`);
  process.exitCode = 1;
}
