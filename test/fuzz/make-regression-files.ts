/**
 * Writes the hand-made members of the regression corpus (test/fixtures/fuzz/): minimal
 * files that reproduce what the fuzzer found in large real archives, so the corpus stays
 * small. The fuzzer's own reproducers (HDF5 files of 12-22 KB) are copied as found.
 *
 *   node --import ./test/fuzz/ts-register.mjs test/fuzz/make-regression-files.ts [NAME...]
 *
 * Running it again writes equivalent files, not identical bytes (HDF5 records times in
 * its object headers), so when adding a file name it: only the files named are written.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import h5wasm from "h5wasm";
import { sampleWriter, seedLstmWeights } from "../support/sample-writer.js";
import { REPO_ROOT } from "./engine.js";
import { chunkBombModel } from "./chunk-bomb.js";
import { crc32, deflatedZeros, writeZip, type WriteEntry } from "./zip.js";
import { onnxModel } from "../support/onnx-writer.js";
import { lookup3 } from "../../src/load/hdf5-direct.js";

const OUT = join(REPO_ROOT, "test/fixtures/fuzz");
const enc = (s: string) => new TextEncoder().encode(s);

/** A tiny Keras 3 weights file: one Dense(2) on 3 features at layers/<group>/vars/{0,1}. */
async function denseWeightsH5(group = "dense"): Promise<Uint8Array> {
  const m = await h5wasm.ready;
  const path = "/regression-dense.weights.h5";
  const f = new h5wasm.File(path, "w");
  const layers = f.create_group("layers");
  layers.create_group("input_layer");
  layers.create_group("dropout").create_group("vars");
  const dense = layers.create_group(group);
  const vars = dense.create_group("vars");
  vars.create_dataset({ name: "0", data: Float32Array.from([0.5, -0.25, 1, 0.75, -1, 0.125]), shape: [3, 2], dtype: "<f" });
  vars.create_dataset({ name: "1", data: Float32Array.from([0.1, -0.2]), shape: [2], dtype: "<f" });
  f.close();
  const bytes = m.FS.readFile(path);
  m.FS.unlink(path);
  return bytes;
}

/** A Keras 3 functional config: an InputLayer of `batchShape` named input_layer, then `layers`, the last one the output. */
function functional(batchShape: unknown[], layers: { class_name: string; name: string; [key: string]: unknown }[]): string {
  return JSON.stringify({
    module: "keras",
    class_name: "Functional",
    config: {
      name: "functional",
      layers: [
        { module: "keras.layers", class_name: "InputLayer", config: { batch_shape: batchShape, dtype: "float32", name: "input_layer" }, name: "input_layer", inbound_nodes: [] },
        ...layers.map((l) => ({ module: "keras.layers", ...l })),
      ],
      input_layers: [["input_layer", 0, 0]],
      output_layers: [[layers[layers.length - 1].name, 0, 0]],
    },
  });
}

function config(dropoutInbound: unknown): string {
  const tensor = (from: string) => ({ class_name: "__keras_tensor__", config: { shape: [null, 3], dtype: "float32", keras_history: [from, 0, 0] } });
  return functional(
    [null, 3],
    [
      { class_name: "Dropout", config: { name: "dropout", rate: 0.5 }, name: "dropout", inbound_nodes: dropoutInbound },
      { class_name: "Dense", config: { name: "dense", units: 2, activation: "linear", use_bias: true }, name: "dense", inbound_nodes: [{ args: [tensor("dropout")], kwargs: {} }] },
    ],
  );
}

/** A Keras 3 weights file of the seed LSTM (1 unit over 2 features) at layers/lstm/cell/vars/{0,1,2}. */
async function seedLstmWeightsH5(): Promise<Uint8Array> {
  const m = await h5wasm.ready;
  const path = "/regression-lstm.weights.h5";
  const f = new h5wasm.File(path, "w");
  const layers = f.create_group("layers");
  layers.create_group("input_layer").create_group("vars");
  const lstm = layers.create_group("lstm");
  lstm.create_group("vars");
  const vars = lstm.create_group("cell").create_group("vars");
  SEED_LSTM_1.weights.forEach((w, k) => vars.create_dataset({ name: String(k), data: Float32Array.from(w.data), shape: w.shape, dtype: "<f" }));
  f.close();
  const bytes = m.FS.readFile(path);
  m.FS.unlink(path);
  return bytes;
}

/** A Keras 3 functional model: an InputLayer of `batchShape` feeding the seed LSTM, whose own build_config says (None, 3, 2). */
function inputFeedsLstmConfig(batchShape: unknown[]): string {
  const input = { class_name: "__keras_tensor__", config: { shape: batchShape, dtype: "float32", keras_history: ["input_layer", 0, 0] } };
  const lstm = { name: "lstm", units: 1, activation: "tanh", recurrent_activation: "sigmoid", use_bias: true, return_sequences: false };
  return functional(batchShape, [{ class_name: "LSTM", config: lstm, build_config: { input_shape: [null, 3, 2] }, name: "lstm", inbound_nodes: [{ args: [input], kwargs: {} }] }]);
}

const METADATA = enc('{"keras_version": "3.6.0", "date_saved": "2024-01-01@00:00:00"}');

const SEED_LSTM_1 = seedLstmWeights("lstm_1");

/**
 * synth-lambda: a Sequential whose first layer is a Lambda carrying code, as JavaScript
 * (it would set a global if anything evaluated it) and as marshalled Python bytecode.
 */
async function lambdaModel(): Promise<Uint8Array> {
  const w = await sampleWriter();
  const lambda = {
    class_name: "Lambda",
    config: {
      name: "lambda_\u001b[31mcode",
      trainable: true,
      function: ["globalThis.__kerasInspectFuzzExecuted=1", null, null],
      function_type: "lambda",
      module: "__main__",
      output_shape: null,
      arguments: {},
      batch_input_shape: [null, 1, 2],
    },
  };
  return w.writeKerasH5({
    modelConfig: w.sequentialConfig("sequential_1", [lambda, w.lstmConfig("lstm_1", 1, { recurrent_activation: "sigmoid" })]),
    layers: [
      { name: "lambda_\u001b[31mcode", weights: [] },
      SEED_LSTM_1,
    ],
  });
}

/**
 * h5-json-semantic on model_config (seed issue7-close, iteration 7218, on a Keras 1 fixture
 * we may not redistribute): an LSTM's activation became "\u001b[2J", and `weights`
 * printed it raw in its line about the activations. The reference LSTM with that activation.
 */
async function activationEscape(): Promise<Uint8Array> {
  const w = await sampleWriter();
  return w.writeKerasH5({
    modelConfig: w.sequentialConfig("sequential_1", [w.lstmConfig("lstm_1", 1, { batch_input_shape: [null, 1, 2], activation: "\u001b[2J", recurrent_activation: "sigmoid" })]),
    layers: [
      SEED_LSTM_1,
    ],
  });
}

/**
 * h5-json-semantic on model_config (seed issue7-last, iteration 2593, on a Keras 1 fixture
 * we may not redistribute): a SimpleRNN's class became Dense, and predict answered by
 * applying W and b to every step, ignoring the stored U that Keras would refuse. A Dense
 * config over the reference LSTM's three tensors.
 */
async function denseExtraTensor(): Promise<Uint8Array> {
  const w = await sampleWriter();
  return w.writeKerasH5({
    modelConfig: w.sequentialConfig("sequential_1", [w.denseConfig("lstm_1", 4, { batch_input_shape: [null, 1, 2] })]),
    layers: [
      SEED_LSTM_1,
    ],
  });
}

/**
 * h5-byte-set in a global heap header (seed 7, iteration 1150, on a fixture we may not
 * redistribute): the collection then claimed 2.9 GB, and HDF5 gave a different error on
 * each try, sometimes a wasm trap. The same two bytes set on k2_mlp_full.h5 (Apache-2.0).
 */
/**
 * h5-truncate inside a .keras (seed exports-long-1, iteration 865, on a 280 KB weights file):
 * the file lost its last 41 bytes, which no dataset reads, and the direct HDF5 reader
 * answered where the library refuses the file as truncated. The reference LSTM written by
 * the sample writer (superblock version 2, 8-byte addresses), its end-of-file address
 * (bytes 28-35) moved 64 bytes past the file's end and the superblock's checksum redone.
 */
async function eofPastEnd(): Promise<Uint8Array> {
  const w = await sampleWriter();
  const bytes = await w.writeKerasH5({
    modelConfig: w.sequentialConfig("sequential_1", [w.lstmConfig("lstm_1", 1, { batch_input_shape: [null, 1, 2] })]),
    layers: [SEED_LSTM_1],
  });
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes[8] !== 2 || bytes[9] !== 8) throw new Error("expected superblock version 2 with 8-byte addresses");
  view.setBigUint64(28, view.getBigUint64(28, true) + 64n, true);
  // The superblock's checksum (lookup3 of its first 44 bytes) made right again: only the end-of-file address lies.
  view.setUint32(44, lookup3(bytes.subarray(0, 44)), true);
  return bytes;
}

/** One-unit LSTM on 2 features, W and B inline, R named as external data at ".". */
function onnxExternalDot(): Uint8Array {
  const values = (n: number) => Array.from({ length: n }, (_, i) => ((i % 7) - 3) / 8);
  return onnxModel({
    nodes: [{ op: "LSTM", name: "lstm", inputs: ["X", "W", "R", "B"], outputs: ["Y", "Y_h"], attributes: [{ name: "hidden_size", int: 1 }] }],
    initializers: [
      { name: "W", dims: [1, 4, 2], values: values(8) },
      { name: "R", dims: [1, 4, 1], external: { location: ".", offset: "0", length: "16" } },
      { name: "B", dims: [1, 8], values: values(8) },
    ],
    inputs: [{ name: "X", dims: ["steps", "batch", 2] }],
    outputs: [{ name: "Y" }, { name: "Y_h" }],
  });
}

function globalHeapSizeLies(): Uint8Array {
  const bytes = new Uint8Array(readFileSync(join(REPO_ROOT, "test/fixtures/real/k2_mlp_full.h5")));
  const at = Buffer.from(bytes).indexOf("GCOL");
  if (at < 0) throw new Error("k2_mlp_full.h5 has no global heap");
  // Collection size: 8 bytes after the signature, version and reserved bytes.
  bytes[at + 8 + 3] = 0xad;
  return bytes;
}

/**
 * zip-inner-h5 bit flips in an object header continuation message (final long run,
 * iteration 5657, in an archive we may not redistribute): HDF5 tried to allocate the
 * block's recorded length ("memory allocation failed for on disk image buffer"). The
 * continuation of /model_weights in k2_mlp_full.h5 (at byte 1104) given a length of 3 GB.
 */
function continuation3gb(): Uint8Array {
  const bytes = new Uint8Array(readFileSync(join(REPO_ROOT, "test/fixtures/real/k2_mlp_full.h5")));
  new DataView(bytes.buffer).setBigUint64(1104 + 8, 0xc0000000n, true);
  return bytes;
}

export async function writeRegressionFiles(only?: string[]): Promise<string[]> {
  const weights = await denseWeightsH5();
  const good = config([{ args: [{ class_name: "__keras_tensor__", config: { shape: [null, 3], dtype: "float32", keras_history: ["input_layer", 0, 0] } }], kwargs: {} }]);
  const entries = (cfg: string): WriteEntry[] => [
    { name: "metadata.json", content: METADATA },
    { name: "config.json", content: enc(cfg) },
    { name: "model.weights.h5", content: weights },
  ];
  const files: Record<string, Uint8Array> = {
    // The pristine archive the others are damaged copies of (loads; kept as the control).
    "keras3-dense-control.keras": writeZip(entries(good)),
    // seed 4 iteration 114 (zip-config-semantic): inbound_nodes [[]] made summary exit 3 in formatShape.
    "inbound-empty-node.keras": writeZip(entries(config([[]]))),
    // seed issue7-close, iteration 4902 (zip-config-semantic): a layer of class "__proto__"
    // found Object.prototype in a lookup table ("TABLE[className] is not a function").
    // Keras 3 names the weights group after the class's snake_case name, here "__proto__".
    "keras3-class-proto.keras": writeZip([
      { name: "metadata.json", content: METADATA },
      { name: "config.json", content: enc(good.replace('"class_name":"Dense"', '"class_name":"__proto__"')) },
      { name: "model.weights.h5", content: await denseWeightsH5("__proto__") },
    ]),
    // zip-duplicate: a second config.json after the first; the last one used to win silently.
    "zip-duplicate-config.keras": writeZip([...entries(good), { name: "config.json", content: enc('{"class_name":"Sequential","config":{"name":"impostor","layers":[]}}') }]),
    // zip-flips: one flipped bit in the stored weights; fflate never checked the CRC.
    "zip-crc-mismatch.keras": (() => {
      const flipped = weights.slice();
      flipped[flipped.length - 3] ^= 0x40;
      return writeZip([
        { name: "metadata.json", content: METADATA },
        { name: "config.json", content: enc(good) },
        { name: "model.weights.h5", content: flipped, crc: crc32(weights) },
      ]);
    })(),
    // zip-bomb declared-under-cap: a 900 MB declared size (under the 1 GiB cap) on 1 KB of deflate was allocated before inflating.
    "zip-declares-900mb.keras": writeZip([
      { name: "metadata.json", content: METADATA },
      { name: "config.json", content: enc(good) },
      { name: "model.weights.h5", content: weights, method: 8, declaredSize: 900 * 1024 * 1024 },
    ]),
    // A hostile .keras made outside the fuzz suite (issue 17): 2,348,498 bytes of deflate that inflate to
    // 2,415,919,104 zeros, behind headers that claim 54,152 bytes (as the file found did). Inflating it
    // whole before comparing took 12-13 s of CPU.
    "zip-bomb-lying-2400mb.keras": writeZip([
      { name: "metadata.json", content: METADATA },
      { name: "config.json", content: enc(good) },
      { name: "model.weights.h5", content: weights, raw: await deflatedZeros(36 * 64 * 1024 * 1024), method: 8, declaredSize: 54152 },
    ]),
  };
  // zip-zip64: a zip64 end record claiming 2^32 - 1 entries in front of the ordinary end record.
  {
    const plain = writeZip(entries(good));
    const eocd = plain.length - 22;
    const rec = new Uint8Array(56);
    const rv = new DataView(rec.buffer);
    rv.setUint32(0, 0x06064b50, true);
    rv.setBigUint64(4, 44n, true);
    rv.setBigUint64(24, 0xffffffffn, true);
    rv.setBigUint64(32, 0xffffffffn, true);
    rv.setBigUint64(40, 46n, true);
    rv.setBigUint64(48, 0n, true);
    const loc = new Uint8Array(20);
    const lv = new DataView(loc.buffer);
    lv.setUint32(0, 0x07064b50, true);
    lv.setBigUint64(8, BigInt(eocd), true);
    const out = new Uint8Array(plain.length + 76);
    out.set(plain.subarray(0, eocd), 0);
    out.set(rec, eocd);
    out.set(loc, eocd + 56);
    out.set(plain.subarray(eocd), eocd + 76);
    files["zip64-billions.keras"] = out;
  }
  // seed exports-only-2, iteration 1043 (zip-config-semantic on a real Keras 3 GRU archive): the InputLayer's
  // batch_shape [null, 120, 5] made [null, 120, 1.5]; step and explain --raw-input answered, reading only the
  // GRU's own build_config. The seed LSTM behind an InputLayer declaring 1.5 features.
  {
    const lstmWeights = await seedLstmWeightsH5();
    files["raw-input-feeding-shape.keras"] = writeZip([
      { name: "metadata.json", content: METADATA },
      { name: "config.json", content: enc(inputFeedsLstmConfig([null, 3, 1.5])) },
      { name: "model.weights.h5", content: lstmWeights },
    ]);
  }
  files["lambda-first.h5"] = await lambdaModel();
  files["global-heap-size-lies.h5"] = globalHeapSizeLies();
  files["continuation-3gb.h5"] = continuation3gb();
  files["activation-escape.h5"] = await activationEscape();
  files["dense-extra-tensor.h5"] = await denseExtraTensor();
  // issue 14, ONNX: an LSTM whose R is external data at location "." (the model's folder
  // itself); refused as "resolves (through a symbolic link) to <folder>, outside the model's folder".
  files["onnx-external-dot.onnx"] = onnxExternalDot();
  files["h5-eof-past-end.h5"] = await eofPastEnd();
  // issue 14, TensorFlow.js (seed exports-long-1, iteration 1633, tfjs-json-syntax: a '[' put
  // inside the key "dtype" of a weight of a model we may not redistribute): a weight without
  // a dtype was refused with "Cannot read properties of undefined (reading 'slice')". The
  // tfjs-layers GRU (MIT, ../exports/tfjs_written_by_tfjs_gru_unpaired), its recurrent
  // kernel's dtype key renamed the same way, beside its weights.bin.
  {
    const folder = join(REPO_ROOT, "test/fixtures/exports/tfjs_written_by_tfjs_gru_unpaired");
    const json = readFileSync(join(folder, "model.json"), "utf8");
    const renamed = json.replace('"name":"gru_GRU1/recurrent_kernel","shape":[4,12],"dtype"', '"name":"gru_GRU1/recurrent_kernel","shape":[4,12],"[dtype"');
    if (renamed === json) throw new Error("the GRU's model.json changed: no recurrent_kernel entry to rename");
    files["tfjs-weight-no-dtype/model.json"] = enc(renamed);
    files["tfjs-weight-no-dtype/weights.bin"] = new Uint8Array(readFileSync(join(folder, "weights.bin")));
  }
  // issue 17, HDF5: an LSTM whose 1 MiB kernel is one deflate chunk holding 1,043,644 bytes of
  // stream that inflate to 1 GiB of zeros. HDF5's filter grew its buffer to the stream's end
  // (5.9 s, 1.1 GB RSS) before failing at its 2 GB heap.
  if (!only || only.length === 0 || only.includes("h5-chunk-bomb-1gb.h5")) {
    files["h5-chunk-bomb-1gb.h5"] = (await chunkBombModel(await sampleWriter(), { inputDim: 512, units: 128, ratio: 1024 })).bytes;
  }
  const names = Object.keys(files).filter((name) => !only || only.length === 0 || only.includes(name));
  for (const unknown of (only ?? []).filter((name) => !(name in files))) throw new Error(`no regression file named ${unknown}`);
  for (const name of names) {
    mkdirSync(dirname(join(OUT, name)), { recursive: true });
    writeFileSync(join(OUT, name), files[name]);
  }
  return names;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const names = await writeRegressionFiles(process.argv.slice(2));
  process.stdout.write(`wrote ${names.join(", ")} to ${OUT}\n`);
}
