// Benchmarks keras-inspect's evaluator against the reference implementations, side by side:
// @tensorflow/tfjs (CPU backend) and a plain float32 numpy loop (when python3 with numpy is
// present). Run with `npm run bench` (builds first). Prints a table and writes bench/RESULTS.md.
//
// What is timed: one forward pass of an LSTM over a sequence (best of several runs), after
// a warm-up. keras-inspect records every intermediate of every step (the trace) while
// tfjs and numpy compute only the output, so the comparison includes that bookkeeping.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { runRecurrentLayer } from "../dist/eval/recurrent.js";
import { lstm } from "../dist/layers/lstm.js";
import { loadModel } from "../dist/load/index.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const REPEATS = 3;

function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

function makeCase(units, inputDim, steps, seed) {
  const r = random(seed);
  const arr = (n, scale = 1) => Float32Array.from({ length: n }, () => scale * r());
  // Weights scaled by 1/sqrt(fan-in), as Keras' initializers keep them: with unscaled
  // uniform(-0.5, 0.5) weights a 256-unit recurrence is chaotic, and any two float32
  // implementations (ours, tfjs, numpy) drift apart by O(1) over 200 steps.
  return {
    units,
    inputDim,
    steps,
    kernel: arr(inputDim * 4 * units, 2 / Math.sqrt(inputDim)),
    recurrentKernel: arr(units * 4 * units, 2 / Math.sqrt(units)),
    bias: arr(4 * units),
    x: Float64Array.from(Float32Array.from({ length: steps * inputDim }, () => r())),
  };
}

function best(fn) {
  fn(); // warm-up
  let t = Infinity;
  let result;
  for (let k = 0; k < REPEATS; k++) {
    const t0 = performance.now();
    result = fn();
    t = Math.min(t, performance.now() - t0);
  }
  return { ms: t, result };
}

function ours(c, dtype) {
  const layer = {
    className: "LSTM",
    name: "lstm",
    config: { units: c.units, activation: "tanh", recurrent_activation: "sigmoid" },
    weights: [
      { name: "kernel", path: "kernel", shape: [c.inputDim, 4 * c.units], dtype: "float32", data: c.kernel },
      { name: "recurrent_kernel", path: "recurrent_kernel", shape: [c.units, 4 * c.units], dtype: "float32", data: c.recurrentKernel },
      { name: "bias", path: "bias", shape: [4 * c.units], dtype: "float32", data: c.bias },
    ],
    children: [],
    inbound: [],
  };
  const model = { format: "keras-h5", source: "bench", kerasMajor: 2, modelClass: "Sequential", name: "bench", layers: [layer], inputs: [], outputs: [], notes: [] };
  return best(() => runRecurrentLayer(lstm, layer, model, { shape: [1, c.steps, c.inputDim], data: c.x }, { dtype, path: "lstm" }).outputs[0].data);
}

async function tfjs(c) {
  const tf = await import("@tensorflow/tfjs");
  await tf.setBackend("cpu");
  const layer = tf.layers.lstm({ units: c.units, recurrentActivation: "sigmoid", inputShape: [c.steps, c.inputDim] });
  const model = tf.sequential({ layers: [layer] });
  layer.setWeights([tf.tensor2d(c.kernel, [c.inputDim, 4 * c.units]), tf.tensor2d(c.recurrentKernel, [c.units, 4 * c.units]), tf.tensor1d(c.bias)]);
  const x = tf.tensor3d(Float32Array.from(c.x), [1, c.steps, c.inputDim]);
  return best(() => {
    const y = model.predict(x);
    const data = y.dataSync();
    y.dispose();
    return data;
  });
}

function numpy(c) {
  const req = JSON.stringify({
    units: c.units,
    input_dim: c.inputDim,
    kernel: Array.from(c.kernel),
    recurrent_kernel: Array.from(c.recurrentKernel),
    bias: Array.from(c.bias),
    x: Array.from({ length: c.steps }, (_, t) => Array.from(c.x.subarray(t * c.inputDim, (t + 1) * c.inputDim))),
    repeats: REPEATS,
  });
  const r = spawnSync("python3", [`${here}numpy_rnn.py`], { input: req, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) return undefined;
  const out = JSON.parse(r.stdout);
  return { ms: out.seconds * 1000, result: Float64Array.from(out.h) };
}

const maxDiff = (a, b) => (a && b ? Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i]))) : NaN);

const cases = [
  ["LSTM 32 units, 16 features, 100 steps", makeCase(32, 16, 100, 1)],
  ["LSTM 64 units, 32 features, 1000 steps", makeCase(64, 32, 1000, 2)],
  ["LSTM 256 units, 64 features, 200 steps", makeCase(256, 64, 200, 3)],
];

const rows = [];
for (const [name, c] of cases) {
  const f32 = ours(c, "float32");
  const f64 = ours(c, "float64");
  const tf = await tfjs(c);
  const np = numpy(c);
  rows.push({
    case: name,
    "keras-inspect float32 (ms)": f32.ms.toFixed(1),
    "keras-inspect float64 (ms)": f64.ms.toFixed(1),
    "tfjs cpu (ms)": tf.ms.toFixed(1),
    "numpy float32 (ms)": np ? np.ms.toFixed(1) : "n/a",
    "max abs(h - tfjs)": maxDiff(f32.result, tf.result).toExponential(1),
    "max abs(h - numpy)": np ? maxDiff(f32.result, np.result).toExponential(1) : "n/a",
  });
}

const t0 = performance.now();
const rssBefore = process.memoryUsage().rss;
await loadModel(`${here}../test/fixtures/real/k2_cudnnlstm_functional_full.h5`).catch(() => undefined);
const loadMs = performance.now() - t0;

console.table(rows);
const peak = process.resourceUsage().maxRSS / 1024;
console.log(`loading k2_cudnnlstm_functional_full.h5 (697 kB): ${loadMs.toFixed(1)} ms; peak RSS of this process ${peak.toFixed(0)} MiB (rss before load ${(rssBefore / 2 ** 20).toFixed(0)} MiB)`);

const header = Object.keys(rows[0]);
const md = [
  "# Benchmark results",
  "",
  `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${(await import("node:os")).cpus().length} cores. Best of ${REPEATS} runs after a warm-up; keras-inspect also records every intermediate of every step.`,
  "",
  `| ${header.join(" | ")} |`,
  `| ${header.map(() => "---").join(" | ")} |`,
  ...rows.map((r) => `| ${header.map((h) => r[h]).join(" | ")} |`),
  "",
  `Loading k2_cudnnlstm_functional_full.h5 (697 kB): ${loadMs.toFixed(1)} ms. Peak RSS: ${peak.toFixed(0)} MiB.`,
  "",
];
writeFileSync(`${here}RESULTS.md`, md.join("\n"));
