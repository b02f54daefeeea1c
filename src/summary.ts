/**
 * What `summary` reports about a model: Keras' summary rows (layer, output shape,
 * parameter count), the totals, and optionally every tensor with its statistics.
 * Pure data, ready for a table or JSON.
 */
import { argumentRefs } from "./eval/graph.js";
import { formatShape, inferShapes } from "./eval/shapes.js";
import { allWeights, type InboundRef, type Layer, type Model, tensorSize } from "./model.js";
import { storedTensorStats, type TensorStats } from "./stats.js";

export interface TensorSummary {
  layer: string;
  name: string;
  path: string;
  shape: number[];
  dtype: string;
  trainable: boolean;
  stats?: TensorStats;
}

export interface LayerSummary {
  name: string;
  className: string;
  outputShape: string;
  params: number;
  trainableParams: number;
  inferred: boolean;
  /** Functional models: the layers this one consumes, as Keras' "Connected to" column. */
  connectedTo: string[];
  /** Nested layers (Bidirectional's directions, TimeDistributed's layer, a nested model's layers). */
  children: LayerSummary[];
}

export interface ModelSummary {
  file: string;
  format: string;
  kerasVersion: string | null;
  backend: string | null;
  modelClass: string;
  name: string;
  layers: LayerSummary[];
  totalParams: number;
  trainableParams: number;
  nonTrainableParams: number;
  notes: string[];
  tensors?: TensorSummary[];
}

/** Keras marks BatchNormalization's moving statistics non-trainable, and a whole layer when trainable=false. */
function isTrainable(layer: Layer, tensorName: string, parentTrainable: boolean): boolean {
  if (!parentTrainable || layer.config.trainable === false) return false;
  return !/^moving_(mean|variance)$|^running_(mean|std)$/.test(tensorName);
}

function layerSummary(layer: Layer, shapes: Map<string, unknown>, parentTrainable = true, top = true): LayerSummary {
  const trainable = parentTrainable && layer.config.trainable !== false;
  const weights = allWeights(layer);
  const params = weights.reduce((s, t) => s + tensorSize(t.shape), 0);
  const trainableParams = countTrainable(layer, trainable);
  return {
    name: layer.name,
    className: layer.className,
    outputShape: top ? formatShape(shapes.get(layer.name) as never) : "",
    params,
    trainableParams,
    inferred: layer.inferred === true,
    connectedTo: layer.inbound.flatMap((node, k) => callInputs(layer, k).map((r) => `${r.layer}[${r.node}][${r.tensor}]`)),
    children: layer.children.map((c) => layerSummary(c, shapes, trainable, false)),
  };
}

/**
 * Every tensor call `k` of a functional layer consumes, as Keras' Node.iterate_inbound lists them: tf.keras
 * records mha(q, v)'s v only among the kwargs of the entries' 4th element (argumentRefs lists those after the
 * entries; Keras 3's inbound has them all).
 */
export function callInputs(layer: Layer, k: number): InboundRef[] {
  const node = layer.inbound[k] ?? [];
  return [...node, ...argumentRefs({ layer, node: k, inputs: node }).slice(node.length)];
}

function countTrainable(layer: Layer, trainable: boolean): number {
  const own = layer.weights.filter((t) => isTrainable(layer, t.name, trainable)).reduce((s, t) => s + tensorSize(t.shape), 0);
  return own + layer.children.reduce((s, c) => s + countTrainable(c, trainable && c.config.trainable !== false), 0);
}

function tensorSummaries(layer: Layer, prefix: string, withStats: boolean, trainable = true): TensorSummary[] {
  const path = prefix ? `${prefix}/${layer.name}` : layer.name;
  const t = trainable && layer.config.trainable !== false;
  return [
    ...layer.weights.map((w) => ({
      layer: path,
      name: w.name,
      path: w.path,
      shape: w.shape,
      dtype: w.dtype,
      trainable: isTrainable(layer, w.name, t),
      ...(withStats ? { stats: storedTensorStats(w) } : {}),
    })),
    ...layer.children.flatMap((c) => tensorSummaries(c, path, withStats, t)),
  ];
}

export function summarize(model: Model, options: { tensors?: boolean } = {}): ModelSummary {
  const shapes = inferShapes(model);
  const layers = model.layers.map((l) => layerSummary(l, shapes));
  const totalParams = layers.reduce((s, l) => s + l.params, 0);
  const trainableParams = layers.reduce((s, l) => s + l.trainableParams, 0);
  return {
    file: model.source,
    format: model.format,
    kerasVersion: model.kerasVersion ?? null,
    backend: model.backend ?? null,
    modelClass: model.modelClass,
    name: model.name,
    layers,
    totalParams,
    trainableParams,
    nonTrainableParams: totalParams - trainableParams,
    notes: model.notes,
    ...(options.tensors ? { tensors: model.layers.flatMap((l) => tensorSummaries(l, "", true)) } : {}),
  };
}
