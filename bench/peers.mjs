// The implementations we compare with, each optional: numpy (python3), ONNX Runtime for Node
// (onnxruntime-node, CPU provider), ONNX Runtime Web (onnxruntime-web, wasm, in Node) and
// @tensorflow/tfjs (CPU backend). A missing one gives a reason instead of a runner.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GATES } from "./cases.mjs";
import { fromTimes, packageVersion, root } from "./measure.mjs";
import { onnxModel } from "./onnx-model.mjs";

export const ORT_INSTALL = "ONNXRUNTIME_NODE_INSTALL=skip npm install --no-save onnxruntime-node onnxruntime-web";

/** OpenBLAS settings of this machine's environment that the python children run without. */
const UNSET_FOR_PYTHON = ["OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"];

/** The environment of python children, and which variables were unset in it (with their values). */
export function pythonEnv() {
  const env = { ...process.env };
  const unset = [];
  for (const name of UNSET_FOR_PYTHON) {
    if (name in env) {
      unset.push(`${name}=${env[name]}`);
      delete env[name];
    }
  }
  return { env, unset };
}

/** The first of python3 on PATH and /usr/bin/python3 that imports every module named. */
export function findPython(modules) {
  for (const exe of ["python3", "/usr/bin/python3"]) {
    const r = spawnSync(exe, ["-c", `import ${modules.join(", ")}`], { env: pythonEnv().env, stdio: "ignore" });
    if (r.status === 0) return exe;
  }
  return undefined;
}

/** The last hidden state of a (T, 1, 1, u) or (1, T, u) output. */
const lastH = (data, u) => data.subarray(data.length - u);

/** Loads an optional package; { mod, version } or { missing } with how to get it. */
async function optional(name) {
  try {
    return { mod: await import(name), version: packageVersion(name) };
  } catch (e) {
    const why = e?.code === "ERR_MODULE_NOT_FOUND" ? "not installed" : `failed to load (${e.message.split("\n")[0]})`;
    return { missing: `${name} ${why}; for the bench: \`${ORT_INSTALL}\`` };
  }
}

export const loadOrtNode = () => optional("onnxruntime-node");

export async function loadOrtWeb() {
  const r = await optional("onnxruntime-web");
  if (r.mod) r.mod.env.wasm.numThreads = 1;
  return r;
}

/** An async runner of the case's one-node ONNX model in a session created with `options`. */
export async function ortRunner(ort, c, options) {
  const session = await ort.InferenceSession.create(onnxModel(c), options);
  const X = new ort.Tensor("float32", c.x, [c.steps, 1, c.features]);
  return async () => lastH((await session.run({ X })).Y.data, c.units);
}

export async function loadTfjs() {
  try {
    const tf = await import("@tensorflow/tfjs");
    await tf.setBackend("cpu");
    return { mod: tf, version: packageVersion("@tensorflow/tfjs") };
  } catch (e) {
    return { missing: `@tensorflow/tfjs failed to load (${e.message.split("\n")[0]})` };
  }
}

/** A runner of tfjs' LSTM or GRU(resetAfter) layer with the case's weights; throws when tfjs lacks the layer. */
export function tfjsRunner(tf, c) {
  const G = GATES[c.kind];
  const u = c.units;
  // Zeros initializers: setWeights replaces them, and tfjs' default orthogonal initializer
  // takes minutes on a 1024 × 4096 recurrent kernel.
  const args = {
    units: u,
    activation: "tanh",
    recurrentActivation: "sigmoid",
    returnSequences: true,
    inputShape: [c.steps, c.features],
    kernelInitializer: "zeros",
    recurrentInitializer: "zeros",
  };
  const layer = c.kind === "lstm" ? tf.layers.lstm(args) : tf.layers.gru({ ...args, resetAfter: true });
  const model = tf.sequential({ layers: [layer] });
  const bias = c.kind === "lstm" ? tf.tensor1d(c.bias) : tf.tensor2d(c.bias, [2, G * u]);
  layer.setWeights([tf.tensor2d(c.kernel, [c.features, G * u]), tf.tensor2d(c.recurrentKernel, [u, G * u]), bias]);
  const x = tf.tensor3d(c.x, [1, c.steps, c.features]);
  return () => {
    const y = model.predict(x);
    const data = y.dataSync();
    y.dispose();
    return lastH(data, u);
  };
}

/**
 * Runs bench/numpy_rnn.py once over all cases (repeats[k] timed runs of case k after a
 * warm-up); returns { python, numpy, blas, unset, results: measurement per case } or { missing }.
 */
export function numpyRuns(cases, repeats, dir) {
  const python = findPython(["numpy"]);
  if (!python) return { missing: "no python3 with numpy (tried python3, /usr/bin/python3)" };
  const { env, unset } = pythonEnv();
  const req = cases.map((c, k) => {
    const file = (name, data) => {
      const path = join(dir, `np-${k}-${name}.f32`);
      writeFileSync(path, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      return path;
    };
    return {
      kind: c.kind,
      units: c.units,
      features: c.features,
      steps: c.steps,
      repeats: repeats[k],
      kernel: file("kernel", c.kernel),
      recurrent_kernel: file("recurrent_kernel", c.recurrentKernel),
      bias: file("bias", c.bias),
      x: file("x", c.x),
    };
  });
  const r = spawnSync(python, [join(root, "bench", "numpy_rnn.py")], { input: JSON.stringify({ cases: req }), encoding: "utf8", env, maxBuffer: 64 << 20 });
  if (r.status !== 0) return { missing: `numpy_rnn.py failed: ${(r.stderr || r.error?.message || "").trim().split("\n").pop()}` };
  const out = JSON.parse(r.stdout);
  return {
    python: `${python} (Python ${out.python})`,
    numpy: out.numpy,
    blas: out.blas,
    unset,
    results: out.results.map((res) => fromTimes(res.times_ms, Float64Array.from(res.h))),
  };
}
