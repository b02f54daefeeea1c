/**
 * Turns an RnnSpec / BidirectionalSpec (test/reference/rnn-spec.ts) into a real
 * Keras model file written by samples/keras-h5-writer.mjs (Keras 2.2 layout,
 * chosen weights) and loads it with the project's loader, so a test exercises
 * the whole path load -> slice -> evaluate on exactly the layer a reference
 * (tfjs, numpy) runs.
 *
 * The model is a Sequential: [Masking(mask_value=0)] [extra layers] <the layer>.
 */
import { loadModelFromBytes } from "../../src/load/index.js";
import type { Model } from "../../src/model.js";
import { gateCount, isBidirectional, type BidirectionalSpec, type RnnSpec } from "../reference/rnn-spec.js";

type Config = { class_name: string; config: Record<string, unknown> };
interface WriterWeight {
  name: string;
  shape: number[];
  data: ArrayLike<number>;
  dtype?: string;
  /** Listed in weight_names, but no dataset written (a removed dataset). */
  absent?: boolean;
}
interface WriterLayer {
  name: string;
  weights: WriterWeight[];
}
interface WriterModule {
  writeKerasH5(spec: { kerasVersion?: string; backend?: string; modelConfig?: unknown; layers: WriterLayer[] }): Promise<Uint8Array>;
  lstmConfig(name: string, units: number, extra?: Record<string, unknown>): Config;
  gruConfig(name: string, units: number, extra?: Record<string, unknown>): Config;
  simpleRnnConfig(name: string, units: number, extra?: Record<string, unknown>): Config;
  denseConfig(name: string, units: number, extra?: Record<string, unknown>): Config;
  sequentialConfig(name: string, layers: Config[]): Config;
}

// The writer is plain JavaScript without type declarations; import it by URL and type it here.
const WRITER_URL = new URL("../../samples/keras-h5-writer.mjs", import.meta.url).href;
let writerModule: Promise<WriterModule> | undefined;
export function writer(): Promise<WriterModule> {
  writerModule ??= import(/* @vite-ignore */ WRITER_URL) as Promise<WriterModule>;
  return writerModule;
}

const CLASS = { lstm: "LSTM", gru: "GRU", simple_rnn: "SimpleRNN" } as const;
const DEFAULT_NAME = { lstm: "lstm_1", gru: "gru_1", simple_rnn: "simple_rnn_1" } as const;

/** The Keras 2.2.4 config of the layer a spec describes. */
export async function layerConfig(spec: RnnSpec, name: string, extra: Record<string, unknown> = {}): Promise<Config> {
  const w = await writer();
  const opts: Record<string, unknown> = {
    activation: spec.activation,
    use_bias: spec.useBias,
    go_backwards: spec.goBackwards ?? false,
    return_sequences: spec.returnSequences ?? false,
    return_state: spec.returnState ?? false,
    ...extra,
  };
  if (spec.zeroOutputForMask !== undefined) opts.zero_output_for_mask = spec.zeroOutputForMask;
  if (spec.kind === "simple_rnn") return w.simpleRnnConfig(name, spec.units, opts);
  opts.recurrent_activation = spec.recurrentActivation ?? "sigmoid";
  if (spec.kind === "gru") return w.gruConfig(name, spec.units, { ...opts, reset_after: spec.resetAfter ?? false });
  return w.lstmConfig(name, spec.units, opts);
}

/** The spec's tensors as Keras 2 stores them, named `<prefix>/kernel:0` etc. */
export function layerWeights(spec: RnnSpec, prefix: string): WriterWeight[] {
  const g = gateCount(spec.kind) * spec.units;
  const out: WriterWeight[] = [
    { name: `${prefix}/kernel:0`, shape: [spec.inputDim, g], data: spec.kernel },
    { name: `${prefix}/recurrent_kernel:0`, shape: [spec.units, g], data: spec.recurrentKernel },
  ];
  if (spec.useBias) {
    const shape = spec.kind === "gru" && spec.resetAfter ? [2, g] : [g];
    out.push({ name: `${prefix}/bias:0`, shape, data: spec.bias! });
  }
  return out;
}

export interface ModelFileOptions {
  /** keras_version written to the file (default 2.2.4); "3.x" makes it a Keras 3 legacy .h5. */
  kerasVersion?: string;
  /** The declared number of time steps (default: null, any). */
  steps?: number | null;
  /** Put Masking(mask_value=0) in front of the layer. */
  masking?: boolean;
  /** Extra weightless layers (e.g. a Lambda) between the input and the recurrent layer. */
  before?: Config[];
  /** Extra config keys for the recurrent layer (or the inner layer of a Bidirectional). */
  extra?: Record<string, unknown>;
  /** Name of the recurrent (or Bidirectional) layer. */
  name?: string;
}

export interface WrittenModel {
  bytes: Uint8Array;
  /** The path of the recurrent (or Bidirectional) layer in the model, for `--layer`. */
  path: string;
}

/** Writes a Sequential model file holding the spec's layer. */
export async function writeRnnModel(spec: RnnSpec | BidirectionalSpec, opts: ModelFileOptions = {}): Promise<WrittenModel> {
  const w = await writer();
  const inner = isBidirectional(spec) ? spec.forward : spec;
  const inputShape = [null, opts.steps ?? null, inner.inputDim];
  const layers: Config[] = [];
  const stored: WriterLayer[] = [];
  const first = (cfg: Config): Config => {
    if (layers.length === 0) cfg.config = { ...cfg.config, batch_input_shape: inputShape, dtype: "float32" };
    return cfg;
  };
  if (opts.masking) {
    layers.push(first({ class_name: "Masking", config: { name: "masking_1", trainable: true, mask_value: 0.0 } }));
    stored.push({ name: "masking_1", weights: [] });
  }
  for (const cfg of opts.before ?? []) {
    layers.push(first({ class_name: cfg.class_name, config: { ...cfg.config } }));
    stored.push({ name: String(cfg.config.name), weights: [] });
  }
  let path: string;
  if (isBidirectional(spec)) {
    const name = opts.name ?? "bidirectional_1";
    const innerName = DEFAULT_NAME[spec.forward.kind];
    const cfg: Config = {
      class_name: "Bidirectional",
      config: { name, trainable: true, layer: await layerConfig(spec.forward, innerName, opts.extra), merge_mode: spec.mergeMode },
    };
    layers.push(first(cfg));
    stored.push({
      name,
      weights: [...layerWeights(spec.forward, `${name}/forward_${innerName}`), ...layerWeights(spec.backward, `${name}/backward_${innerName}`)],
    });
    path = name;
  } else {
    const name = opts.name ?? DEFAULT_NAME[spec.kind];
    layers.push(first(await layerConfig(spec, name, opts.extra)));
    stored.push({ name, weights: layerWeights(spec, name) });
    path = name;
  }
  const bytes = await w.writeKerasH5({ kerasVersion: opts.kerasVersion, modelConfig: w.sequentialConfig("sequential_1", layers), layers: stored });
  return { bytes, path };
}

/** Writes the spec's model file and loads it with the project's loader. */
export async function loadRnnModel(spec: RnnSpec | BidirectionalSpec, opts: ModelFileOptions = {}): Promise<{ model: Model; path: string; bytes: Uint8Array }> {
  const { bytes, path } = await writeRnnModel(spec, opts);
  const model = await loadModelFromBytes(bytes, `${path}.h5`);
  return { model, path, bytes };
}
