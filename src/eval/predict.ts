/**
 * The whole model's forward pass, as `model.predict` computes it, recording a
 * StepTrace for every recurrent layer on the way.
 */
import { hardSigmoidFor } from "../activations.js";
import { InspectError, UnsupportedError, UsageError } from "../errors.js";
import type { EvalContext, EvalOptions, ResolvedCall, Value } from "../layers/kind.js";
import { isRecurrentKind } from "../layers/kind.js";
import { kindOf, requireRecurrentKind, supportedClasses } from "../layers/registry.js";
import { requireStoredWeights } from "../layers/weight-names.js";
import { type CallArguments, type CallValue, type InboundRef, type Layer, type Model, walkLayers } from "../model.js";
import { type Graph, graphOfModel, graphOfNested, tensorKey, walkGraph } from "./graph.js";
import { recurrentOutputNames, rounder, runBidirectional, runRecurrentLayer } from "./recurrent.js";
import type { WorkerReply, WorkerRequest } from "./predict-worker.js";
import { inferShapes, isNestedModel } from "./shapes.js";
import type { LayerTrace } from "./trace.js";

export interface PredictOptions extends EvalOptions {
  /** Initial states for recurrent layers, by layer path (h, then c for LSTM; Bidirectional: forward then backward). */
  initialStates?: Map<string, Float64Array[]>;
  /** Stop once this layer (path) has been evaluated. */
  stopAfter?: string;
  /** Record a trace of every recurrent layer (default true); `predict` needs none. */
  record?: boolean;
}

/** One output of the model. */
export interface PredictOutput {
  /**
   * The layer's name, with `:T` for its output tensor T > 0 (and `@N` for its call N > 0):
   * `lstm_3`, `lstm_3:1`, `lstm_3:2` for an LSTM's output, h and c.
   */
  name: string;
  /** The layer that produces it. */
  layer: string;
  /** What it is, where a layer has several outputs: `state_h`, `state_c`, `forward_h`, `output_backward`, …. */
  role?: string;
  value: Value;
}

export interface PredictResult {
  /** The model's outputs, in output order. */
  outputs: PredictOutput[];
  /** Every recurrent layer evaluated, in evaluation order (none when `record` is false). */
  traces: LayerTrace[];
}

class StopSignal {
  constructor(readonly traces: LayerTrace[]) {}
}

function unsupported(layer: Layer, path: string): never {
  if (layer.className === "Lambda") {
    throw new UnsupportedError(
      `layer '${path}' is a Lambda layer: it holds Python code, which keras-inspect never runs; evaluate a layer before it with --layer, or inspect it with summary/weights`,
    );
  }
  throw new UnsupportedError(
    `layer '${path}' (${layer.className}) cannot be evaluated; supported layers: ${supportedClasses().evaluated.join(", ")}`,
  );
}

function runGraph(graph: Graph, model: Model, inputs: Value[], opts: PredictOptions, prefix: string, traces: LayerTrace[]): Value[] {
  if (inputs.length !== graph.inputs.length) {
    throw new InspectError(`model '${graph.name}' takes ${graph.inputs.length} input(s), got ${inputs.length}`);
  }
  const given = new Map(graph.inputs.map((ref, k) => [tensorKey(ref), inputs[k]]));
  const values = walkGraph<Value>(graph, given, (call, args, valueOf) => {
    const layer = call.layer;
    const path = prefix ? `${prefix}/${layer.name}` : layer.name;
    // An inbound node without tensors (a damaged config) leaves a layer with nothing to compute on.
    if (args.length === 0) throw new InspectError(`layer '${path}' (${layer.className}) is called with no input tensor in the model config`);
    const ctx: EvalContext = {
      dtype: opts.dtype,
      hardSigmoid: opts.hardSigmoid,
      hardSigmoidVariant: opts.hardSigmoid ?? hardSigmoidFor(model.kerasMajor),
      round: rounder(opts.dtype),
      model,
      path,
      call: resolveCall(layer.calls?.[call.node], valueOf),
    };
    let outs: Value[];
    if (isNestedModel(layer)) {
      outs = runGraph(graphOfNested(layer), model, args, opts, path, traces);
    } else if (layer.className === "Bidirectional") {
      const r = runBidirectional((l) => requireRecurrentKind(l, `${path}/${l.name}`), layer, model, args[0], {
        ...opts,
        path,
        initialState: opts.initialStates?.get(path) ?? stateInputs(args, 1),
      });
      if (r.trace) traces.push(r.trace);
      outs = r.outputs;
    } else {
      const kind = kindOf(layer.className);
      if (isRecurrentKind(kind)) {
        const r = runRecurrentLayer(kind, layer, model, args[0], {
          ...opts,
          path,
          initialState: opts.initialStates?.get(path) ?? stateInputs(args, 1),
        });
        if (r.trace) traces.push(r.trace);
        outs = r.outputs;
      } else if (kind?.forward) {
        requireStoredWeights(layer, path);
        outs = kind.forward(layer, args, ctx);
      } else {
        unsupported(layer, path);
      }
    }
    if (opts.stopAfter === path) throw new StopSignal(traces);
    return outs;
  });
  return graph.outputs.map((r) => {
    const v = values.get(tensorKey(r));
    // output_layers may name a layer the config does not have, or an output it does not produce.
    if (v === undefined) throw new InspectError(`model '${graph.name}': its output '${r.layer}' (node ${r.node}, tensor ${r.tensor}) is not produced by any layer`);
    return v;
  });
}

/** A call's recorded arguments with each tensor replaced by its value. */
function resolveCall(recorded: CallArguments | undefined, valueOf: (ref: InboundRef) => Value): ResolvedCall | undefined {
  if (!recorded) return undefined;
  const resolve = (v: CallValue): unknown => {
    if (Array.isArray(v)) return v.map(resolve);
    if (v !== null && typeof v === "object") {
      if ("kerasTensor" in v) return valueOf(v.kerasTensor as InboundRef);
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x)]));
    }
    return v;
  };
  return { args: recorded.args.map(resolve), kwargs: resolve(recorded.kwargs) as Record<string, unknown> };
}

/** The names and roles of a graph's outputs (see PredictOutput). */
function outputLabels(graph: Graph): Omit<PredictOutput, "value">[] {
  return graph.outputs.map((ref) => {
    const name = `${ref.layer}${ref.node > 0 ? `@${ref.node}` : ""}${ref.tensor > 0 ? `:${ref.tensor}` : ""}`;
    const layer = graph.layers.find((l) => l.name === ref.layer);
    const recurrent = layer && kindOf(layer.className === "Bidirectional" ? (layer.children[0]?.className ?? "") : layer.className);
    const roles = layer && isRecurrentKind(recurrent) ? recurrentOutputNames(layer, recurrent) : [];
    // A role says which of several outputs this is; a layer with one output needs none.
    return { name, layer: ref.layer, ...(roles.length > 1 && roles[ref.tensor] ? { role: roles[ref.tensor] } : {}) };
  });
}

/** Functional calls like lstm(x, initial_state=[h, c]) pass the states as extra inputs. */
function stateInputs(args: Value[], from: number): Float64Array[] | undefined {
  return args.length > from ? args.slice(from).map((v) => v.data) : undefined;
}

/**
 * Samples per batch of `predictBatches` unless the user says otherwise: each recurrent layer
 * sets up its kernel once a batch, and a batch's activations stay a few MB for typical layers.
 */
export const DEFAULT_BATCH_SIZE = 16;

/**
 * Work below which worker threads cost more than they save: starting one takes ~0.1 s,
 * and 10^8 multiply-adds take about that long on the kernel.
 */
const PARALLEL_WORK = 1e8;

/**
 * Worker threads worth starting for a predict: none (1) for a single batch or little work,
 * else one per core, up to four. On the 2-core machines this was measured on, two threads
 * took 600 × 905 steps of a 64-unit GRU from 8.4 s to 5.5 s (bench/RESULTS.md).
 */
export function autoThreads(model: Model, inputs: Value[], batchSize: number, cores: number): number {
  const samples = inputs[0]?.shape[0] ?? 0;
  // Steps of a sequence; for a sequence of feature maps (ConvLSTM), steps × positions, since
  // each of its weights is used once per position.
  const steps = Math.max(1, ...inputs.map((v) => (v.shape.length >= 3 ? v.shape.slice(1, -1).reduce((a, b) => a * b, 1) : 1)));
  let params = 0;
  for (const { layer } of walkLayers(model.layers)) for (const t of layer.weights) params += t.data.length;
  const batches = Math.ceil(samples / batchSize);
  if (batches < 2 || samples * steps * params < PARALLEL_WORK) return 1;
  return Math.max(1, Math.min(cores, batches, 4));
}

/** Samples [from, to) of a value whose first dimension is the sample. */
export function sliceSamples(v: Value, from: number, to: number): Value {
  const per = v.shape.slice(1).reduce((a, b) => a * b, 1);
  const steps = v.shape.length === 3 ? v.shape[1] : 0;
  return {
    shape: [to - from, ...v.shape.slice(1)],
    data: v.data.subarray(from * per, to * per),
    mask: v.mask?.subarray(from * steps, to * steps),
  };
}

/** One batch of `predictBatches`: the model's outputs for samples [from, to). */
export interface PredictBatch {
  from: number;
  to: number;
  outputs: PredictOutput[];
}

/**
 * model.predict over the samples a batch at a time, as Keras' predict(batch_size=…) does:
 * no trace is recorded and each batch's values are dropped once the caller has taken them,
 * so memory does not grow with the number of samples.
 */
export function* predictBatches(model: Model, inputs: Value[], opts: PredictOptions, batchSize = DEFAULT_BATCH_SIZE): Generator<PredictBatch> {
  const samples = inputs[0]?.shape[0] ?? 0;
  inputs.forEach((v, k) => {
    if (v.shape[0] !== samples) throw new UsageError(`input ${k + 1} has ${v.shape[0]} sample(s), input 1 has ${samples}: every input needs the same number of samples`);
  });
  for (let from = 0; from < samples; from += batchSize) {
    const to = Math.min(samples, from + batchSize);
    const { outputs } = predict(model, inputs.map((v) => sliceSamples(v, from, to)), { ...opts, record: false });
    yield { from, to, outputs };
  }
}

/** Keras' `model.predict` batch size when none is given (tf.keras 2.x and Keras 3 alike). */
export const KERAS_PREDICT_BATCH_SIZE = 32;

/** An attention layer that scores each sample against the other samples of its batch. */
export interface BatchCoupling {
  layer: string;
  className: string;
}

/**
 * The first Attention or AdditiveAttention layer applied to 2-D tensors (batch, features), if
 * any. tf.keras 2.x then computes matmul(query, key, transpose_b=True) across the batch, so a
 * sample's output depends on which samples are predicted with it: the grouping of samples into
 * batches is part of the answer, and must be Keras' (KERAS_PREDICT_BATCH_SIZE) to reproduce it.
 */
export function batchCoupling(model: Model): BatchCoupling | undefined {
  if (model.layersRead === "recurrent") return undefined;
  const shapes = inferShapes(model);
  for (const layer of model.layers) {
    if (layer.className !== "Attention" && layer.className !== "AdditiveAttention") continue;
    for (const inputs of layer.inbound) {
      const ranks = inputs.map((ref) => shapes.get(ref.layer)?.[ref.tensor]?.length);
      if (ranks.length > 0 && ranks.every((r) => r === 2)) return { layer: layer.name, className: layer.className };
    }
  }
  return undefined;
}

/**
 * model.predict's outputs for every sample at once. Where an attention layer scores the samples
 * of a batch against each other (batchCoupling) and there are more than Keras' batch of them,
 * they are computed KERAS_PREDICT_BATCH_SIZE at a time, as Keras groups them, and joined;
 * `grouped` then names the layer, and no trace is recorded (a trace is of one batch).
 */
export function predictAllSamples(model: Model, inputs: Value[], opts: PredictOptions): PredictResult & { grouped?: BatchCoupling } {
  const coupling = batchCoupling(model);
  const samples = inputs[0]?.shape[0] ?? 0;
  if (!coupling || samples <= KERAS_PREDICT_BATCH_SIZE) return predict(model, inputs, opts);
  const parts = [...predictBatches(model, inputs, opts, KERAS_PREDICT_BATCH_SIZE)];
  const outputs = parts[0].outputs.map((o, k) => {
    const per = o.value.shape.slice(1).reduce((a, b) => a * b, 1);
    const data = new Float64Array(samples * per);
    for (const p of parts) data.set(p.outputs[k].value.data, p.from * per);
    return { ...o, value: { shape: [samples, ...o.value.shape.slice(1)], data } };
  });
  return { outputs, traces: [], grouped: coupling };
}

/** A value whose data owns its buffer, so that posting it to a worker copies only these samples. */
function owned(v: Value): Value {
  return { shape: v.shape, data: v.data.slice(), mask: v.mask?.slice() };
}

/**
 * predictBatches over `threads` worker threads, each holding a copy of the model: batches
 * are handed out as workers free up and yielded in order. At most two batches per worker
 * are in flight, so memory stays bounded as in predictBatches.
 */
export async function* predictInParallel(model: Model, inputs: Value[], opts: PredictOptions, batchSize: number, threads: number): AsyncGenerator<PredictBatch> {
  const { Worker } = await import("node:worker_threads");
  const samples = inputs[0]?.shape[0] ?? 0;
  inputs.forEach((v, k) => {
    if (v.shape[0] !== samples) throw new UsageError(`input ${k + 1} has ${v.shape[0]} sample(s), input 1 has ${samples}: every input needs the same number of samples`);
  });
  const workerOpts = { dtype: opts.dtype, hardSigmoid: opts.hardSigmoid, engine: opts.engine };
  const workers = Array.from({ length: threads }, () => new Worker(new URL("./predict-worker.js", import.meta.url), { workerData: { model, opts: workerOpts } }));
  const pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: unknown) => void }>();
  const failed = (e: unknown) => {
    for (const p of pending.values()) p.reject(e);
    pending.clear();
  };
  for (const w of workers) {
    w.on("message", (r: WorkerReply) => {
      pending.get(r.id)?.resolve(r);
      pending.delete(r.id);
    });
    w.on("error", failed);
  }
  const batches = Math.ceil(samples / batchSize);
  const replies: Promise<WorkerReply>[] = [];
  const send = (id: number) => {
    const from = id * batchSize;
    const to = Math.min(samples, from + batchSize);
    replies[id] = new Promise<WorkerReply>((resolve, reject) => pending.set(id, { resolve, reject }));
    const request: WorkerRequest = { id, inputs: inputs.map((v) => owned(sliceSamples(v, from, to))) };
    workers[id % threads].postMessage(request, request.inputs.flatMap((v) => [v.data.buffer as ArrayBuffer, ...(v.mask ? [v.mask.buffer as ArrayBuffer] : [])]));
  };
  try {
    let sent = 0;
    for (let id = 0; id < batches; id++) {
      while (sent < batches && sent < id + 2 * threads) send(sent++);
      const reply = await replies[id];
      delete replies[id];
      if ("error" in reply) {
        if (reply.error.internal) throw new Error(reply.error.message);
        throw new InspectError(reply.error.message, { exitCode: reply.error.exitCode });
      }
      yield { from: id * batchSize, to: Math.min(samples, (id + 1) * batchSize), outputs: reply.outputs };
    }
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export function predict(model: Model, inputs: Value[], opts: PredictOptions): PredictResult {
  if (model.layersRead === "recurrent") {
    throw new UnsupportedError(
      `${model.source}: only the recurrent layers of this ${model.format} export were read, not the graph around them, so the whole model cannot be evaluated; step one layer with 'step --raw-input --layer NAME'`,
    );
  }
  const graph = graphOfModel(model);
  const traces: LayerTrace[] = [];
  try {
    const outs = runGraph(graph, model, inputs, opts, "", traces);
    const labels = outputLabels(graph);
    return { outputs: outs.map((value, k) => ({ ...labels[k], value })), traces };
  } catch (e) {
    if (e instanceof StopSignal) return { outputs: [], traces: e.traces };
    throw e;
  }
}
