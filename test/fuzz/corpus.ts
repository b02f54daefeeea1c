/**
 * The fuzz corpus: real Keras files (test/fixtures/real, samples/, or --corpus DIRs) and
 * real exports (TFLite, ONNX, TensorFlow.js model.json folders; test/fixtures/exports, or
 * ../shared/fixtures/exports given as a --corpus),
 * each read once and mapped (HDF5 structures, zip entries, JSON configs), with the
 * command-line inputs that make `step` run on the pristine file.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { evaluateStep, recurrentLayers } from "../../src/eval/step.js";
import { graphOfModel, SEQUENTIAL_INPUT } from "../../src/eval/graph.js";
import { collectInputs } from "../../src/cli/input-options.js";
import { loadModel, loadModelFromBytes } from "../../src/load/index.js";
import { PagedReader } from "../../src/load/byte-source.js";
import { findHdf5Signature } from "../../src/load/sniff.js";
import { walkLayers, type Model } from "../../src/model.js";
import { modelInputShapes } from "../../src/eval/step.js";
import { mapHdf5, type Hdf5Map } from "./hdf5-map.js";
import { entryContent, readZip, type ZipLayout } from "./zip.js";
import { decodeMessage, type PField } from "./proto.js";

/** A JSON text found inside the file (model_config, training_config, config.json...). */
export interface JsonSpan {
  start: number;
  end: number;
  value: unknown;
}

export interface HdfBase {
  bytes: Uint8Array;
  map: Hdf5Map;
  json: JsonSpan[];
}

export interface BaseFile {
  name: string;
  path: string;
  bytes: Uint8Array;
  kind: "hdf5" | "zip" | "tflite" | "onnx" | "tfjs";
  ext: string;
  /** HDF5 files: the file; .keras: its model.weights.h5. */
  h5?: HdfBase;
  zip?: ZipLayout;
  /** .onnx: the ModelProto's wire-format tree (test/fuzz/proto.ts), when it decodes. */
  onnx?: PField[];
  /** A TensorFlow.js model.json: the parsed JSON, and the shards its manifest names (by path). */
  tfjs?: { json: unknown; files: Map<string, Uint8Array> };
  /** .keras: decoded entries. */
  entries?: Map<string, Uint8Array>;
  /** Paths (HDF5, inside the weights file) of the datasets the loader reads. */
  readDatasets: Set<string>;
  /** Layer names of the model (for name mutations). */
  layerNames: string[];
  /** Did the pristine file load? */
  loads: boolean;
  /** Arguments giving `step`/`predict`/`check` inputs that work on the pristine file (empty when none found). */
  inputArgs: string[];
  /** The recurrent layer `step` evaluates by default, if any. */
  firstRecurrent?: string;
}

const MODEL_EXT = /\.(h5|hdf5|keras|tflite|onnx)$/i;
const TFJS_JSON = "model.json";

/** The exports of test/fixtures/exports in the default corpus: small ones, so that the short run of `npm test` keeps its time. */
const DEFAULT_EXPORTS = [
  "tflite_mnist_lstm_unpaired",
  "onnx_tflite_fp16_lstm_earthpulse_no_keras",
  "tfjs_written_by_tfjs_bidirectional_lstm_unpaired",
  "tfjs_written_by_tfjs_gru_unpaired",
  "tfjs_written_by_tfjs_simple_rnn_unpaired",
  "tfjs_written_by_tfjs_time_distributed_lstm_unpaired",
];

export function defaultCorpusDirs(repoRoot: string): string[] {
  return [join(repoRoot, "test/fixtures/real"), join(repoRoot, "samples"), ...DEFAULT_EXPORTS.map((d) => join(repoRoot, "test/fixtures/exports", d))];
}

/**
 * Model files in the corpus directories and in their subfolders (one level: the export
 * collections keep one folder per model), a TensorFlow.js model by its model.json.
 */
export function listCorpus(dirs: string[]): string[] {
  const files: { path: string; key: string }[] = [];
  const scan = (dir: string, folder: string | undefined) => {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return;
    }
    for (const n of names.sort()) {
      const p = join(dir, n);
      const st = statSync(p);
      // Exports keep their folder's name: every TensorFlow.js model is a model.json.
      const key = folder ? `${folder}/${n}` : n === TFJS_JSON || /\.onnx$/i.test(n) ? `${basename(dir)}/${n}` : n;
      if (st.isFile() && (MODEL_EXT.test(n) || n === TFJS_JSON)) files.push({ path: p, key });
      else if (st.isDirectory() && folder === undefined && n !== "LICENSES") scan(p, n);
    }
  };
  for (const dir of dirs) scan(dir, undefined);
  // The same fixture may sit in two directories (its folder's name included); keep the first.
  const seen = new Set<string>();
  return files
    .filter(({ key }) => {
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .map((f) => f.path);
}

/** The shards a model.json's weightsManifest names, read from its folder (those that are there). */
function tfjsShards(json: unknown, folder: string): Map<string, Uint8Array> {
  const files = new Map<string, Uint8Array>();
  const manifest = (json as { weightsManifest?: { paths?: unknown[] }[] } | null)?.weightsManifest;
  for (const g of Array.isArray(manifest) ? manifest : []) {
    for (const p of Array.isArray(g?.paths) ? g.paths : []) {
      if (typeof p !== "string" || files.has(p)) continue;
      try {
        files.set(p, new Uint8Array(readFileSync(join(folder, p))));
      } catch {
        /* a missing shard: the pristine model does not load */
      }
    }
  }
  return files;
}

/** Every JSON object text (`{"...`) of at least 16 bytes in the bytes: model_config, training_config, config.json... */
export function findJsonSpans(bytes: Uint8Array): JsonSpan[] {
  const spans: JsonSpan[] = [];
  let i = 0;
  while (i + 2 < bytes.length) {
    if (bytes[i] === 0x7b && bytes[i + 1] === 0x22 && isLetter(bytes[i + 2])) {
      const end = jsonEnd(bytes, i);
      if (end - i >= 16) {
        try {
          const value = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(i, end)));
          spans.push({ start: i, end, value });
          i = end;
          continue;
        } catch {
          /* not JSON after all */
        }
      }
    }
    i++;
  }
  return spans;
}

function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

/** End (exclusive) of the JSON object starting at `at`, by brace matching outside strings; -1 if none. */
function jsonEnd(bytes: Uint8Array, at: number): number {
  let depth = 0;
  let inString = false;
  for (let i = at; i < bytes.length; i++) {
    const c = bytes[i];
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    } else if (c === 0) return -1;
  }
  return -1;
}

function hdfBase(bytes: Uint8Array): HdfBase {
  return { bytes, map: mapHdf5(bytes, findHdf5Signature(PagedReader.of(bytes)) ?? 0), json: findJsonSpans(bytes) };
}

function datasetPathOf(tensorPath: string): string {
  return tensorPath.replace(/^model\.weights\.h5:/, "");
}

/** JSON for one model input: `[[...], ...]` of the given shape, floats or small integers. */
function arrayText(shape: number[], ints: boolean, vocab: number): string {
  let k = 0;
  const build = (d: number): unknown => {
    if (d === shape.length) {
      k++;
      return ints ? k % Math.max(1, Math.min(vocab, 7)) : Math.round((((k * 37) % 19) - 9) * 10) / 100;
    }
    return Array.from({ length: shape[d] }, () => build(d + 1));
  };
  return JSON.stringify(build(0));
}

function vocabOf(model: Model): number {
  for (const { layer } of walkLayers(model.layers)) {
    if (layer.className === "Embedding" && typeof layer.config.input_dim === "number") return layer.config.input_dim;
  }
  return 7;
}

/** Finds `--input` arguments that let `step` run on the pristine model. */
function findInputArgs(model: Model): string[] {
  const tries: { args: string[]; raw: boolean }[] = [];
  let names: string[] = [];
  try {
    names = graphOfModel(model).inputs.map((r) => (r.layer === SEQUENTIAL_INPUT ? "input" : r.layer));
    const shapes = modelInputShapes(model);
    const vocab = vocabOf(model);
    for (const ints of [false, true]) {
      const args: string[] = [];
      shapes.forEach((shape, k) => {
        const dims = (shape ?? [null, 1]).map((d, i) => (d === null || d === undefined ? (i === 0 ? 3 : 2) : Math.min(d, 64)));
        const text = arrayText(dims, ints, vocab);
        args.push("--input", shapes.length > 1 ? `${names[k]}=${text}` : text);
      });
      if (args.length > 0) tries.push({ args, raw: false });
    }
  } catch {
    /* graph not evaluable: try the raw input below */
  }
  const first = recurrentLayers(model)[0];
  if (first) {
    const kernel = [...walkLayers([first.layer])].flatMap(({ layer }) => layer.weights).find((w) => /kernel|W/.test(w.name) && !/recurrent|U/.test(w.name));
    const dim = kernel ? kernel.shape[0] : 2;
    tries.push({ args: ["--raw-input", "--input", arrayText([3, Math.min(dim, 256)], false, 7)], raw: true });
  }
  for (const t of tries) {
    try {
      const opts = { input: t.args.filter((a, i) => t.args[i - 1] === "--input") };
      evaluateStep(model, { inputs: collectInputs(model, opts), rawInput: t.raw, dtype: "float32" });
      return t.args;
    } catch {
      /* next */
    }
  }
  return [];
}

export async function loadBase(path: string): Promise<BaseFile> {
  const bytes = new Uint8Array(readFileSync(path));
  const isZip = bytes[0] === 0x50 && bytes[1] === 0x4b;
  const isTflite = new TextDecoder("latin1").decode(bytes.subarray(4, 8)) === "TFL3";
  const isOnnx = !isZip && !isTflite && /\.onnx$/i.test(path);
  const isTfjs = basename(path) === TFJS_JSON;
  const folderName = basename(dirname(path));
  const base: BaseFile = {
    name: isTfjs || isOnnx ? `${folderName}/${basename(path)}` : basename(path),
    path,
    bytes,
    kind: isZip ? "zip" : isTflite ? "tflite" : isOnnx ? "onnx" : isTfjs ? "tfjs" : "hdf5",
    ext: isZip ? ".keras" : isTflite ? ".tflite" : isOnnx ? ".onnx" : isTfjs ? ".json" : path.toLowerCase().endsWith(".keras") ? ".keras" : ".h5",
    readDatasets: new Set(),
    layerNames: [],
    loads: false,
    inputArgs: [],
  };
  if (isZip) {
    base.zip = readZip(bytes);
    base.entries = new Map();
    for (const e of base.zip?.entries ?? []) base.entries.set(e.text, entryContent(bytes, e));
    const weights = base.entries.get("model.weights.h5");
    if (weights) base.h5 = hdfBase(weights);
  } else if (isOnnx) {
    base.onnx = decodeMessage(bytes, "Model");
  } else if (isTfjs) {
    try {
      const json: unknown = JSON.parse(new TextDecoder().decode(bytes));
      base.tfjs = { json, files: tfjsShards(json, dirname(path)) };
    } catch {
      /* not JSON: only byte-level mutators apply */
    }
  } else if (!isTflite) {
    base.h5 = hdfBase(bytes);
  }
  try {
    // Exports name files beside them (shards, external data): read from their path.
    const model = isOnnx || isTfjs ? await loadModel(path) : await loadModelFromBytes(bytes, path);
    base.loads = true;
    for (const { layer } of walkLayers(model.layers)) {
      base.layerNames.push(layer.name);
      for (const t of layer.weights) base.readDatasets.add(datasetPathOf(t.path));
    }
    base.inputArgs = findInputArgs(model);
    base.firstRecurrent = recurrentLayers(model)[0]?.path;
  } catch {
    /* a corpus file the loader refuses is still a fine seed */
  }
  return base;
}
