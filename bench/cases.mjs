// The bench's cases: seeded random LSTM/GRU weights and inputs, and keras-inspect's runs on them.
import { Worker } from "node:worker_threads";
import { runDirection } from "../dist/eval/recurrent.js";
import { gru } from "../dist/layers/gru.js";
import { lstm } from "../dist/layers/lstm.js";

/** mulberry32: a small deterministic PRNG, uniform in [0, 1). */
export function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** n float32 values uniform in [-scale, scale). */
export function uniform(r, n, scale) {
  const a = new Float32Array(n);
  for (let k = 0; k < n; k++) a[k] = scale * (2 * r() - 1);
  return a;
}

/** Gates per kind, in Keras' order. */
export const GATES = { lstm: 4, gru: 3 };

/**
 * A layer in Keras' layout: kernel (D, G·u), recurrent_kernel (u, G·u), bias (G·u) for LSTM
 * and (2, 3u) for GRU(reset_after=True) (row 0 input bias, row 1 recurrent bias). Kernel
 * weights uniform in ±1/sqrt(D), recurrent kernel and biases in ±1/sqrt(u); input in [-1, 1].
 */
export function makeCase(kind, units, features, steps, seed) {
  const r = random(seed);
  const G = GATES[kind];
  return {
    spec: [kind, units, features, steps, seed],
    kind,
    units,
    features,
    steps,
    name: `${kind.toUpperCase()} (${units}, ${features}, ${steps})`,
    kernel: uniform(r, features * G * units, 1 / Math.sqrt(features)),
    recurrentKernel: uniform(r, units * G * units, 1 / Math.sqrt(units)),
    bias: uniform(r, (kind === "gru" ? 2 : 1) * G * units, 1 / Math.sqrt(units)),
    x: uniform(r, steps * features, 1),
  };
}

/** The same input restricted to its first `steps` steps. */
export function prefix(c, steps) {
  return steps >= c.steps ? c : { ...c, steps, x: c.x.subarray(0, steps * c.features) };
}

/** A keras-inspect Layer and Model holding the case's weights (LSTM, or GRU with reset_after). */
export function inspectLayer(c) {
  const G = GATES[c.kind];
  const u = c.units;
  const weight = (name, shape, data) => ({ name, path: name, shape, dtype: "float32", data });
  const layer = {
    className: c.kind === "lstm" ? "LSTM" : "GRU",
    name: c.kind,
    config: {
      units: u,
      activation: "tanh",
      recurrent_activation: "sigmoid",
      return_sequences: true,
      ...(c.kind === "gru" ? { reset_after: true } : {}),
    },
    weights: [
      weight("kernel", [c.features, G * u], c.kernel),
      weight("recurrent_kernel", [u, G * u], c.recurrentKernel),
      weight("bias", c.kind === "gru" ? [2, G * u] : [G * u], c.bias),
    ],
    children: [],
    inbound: [],
  };
  const model = { format: "keras-h5", source: "bench", kerasMajor: 2, kerasVersion: "2.3.1", modelClass: "Sequential", name: "bench", layers: [layer], inputs: [], outputs: [], notes: [] };
  return { layer, model };
}

/**
 * A function that runs keras-inspect's runDirection over the first `steps` steps of the case
 * with `opts` and returns the last h (batch 1, every hidden state computed).
 */
export function oursRunner(c, opts, steps = c.steps) {
  const { layer, model } = inspectLayer(c);
  const kind = c.kind === "lstm" ? lstm : gru;
  const input = { shape: [1, steps, c.features], data: Float64Array.from(c.x.subarray(0, steps * c.features)) };
  return () => {
    const run = runDirection(kind, layer, model, input, { path: "x", ...opts });
    return run.states[0].data;
  };
}

/**
 * oursRunner's measurement (one warm-up, `repeats` timed runs) made in a worker thread of
 * its own. In one isolate the step closures of both dtypes share their JIT feedback: after a
 * float64 run the float32 one was twice as slow, which no keras-inspect process ever sees.
 */
export function oursInWorker(c, opts, repeats) {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL("./ours-worker.mjs", import.meta.url), { workerData: { spec: c.spec, opts, repeats } });
    worker.once("message", resolve);
    worker.once("error", reject);
  });
}
