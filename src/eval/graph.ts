/**
 * A model's layers as a graph of calls: for Sequential models a chain, for
 * functional models the `inbound_nodes` of the config. One walker serves both
 * shape inference (summary) and the forward pass (predict): it visits the calls
 * in dependency order and hands each the outputs of the calls it consumes.
 */
import { InspectError } from "../errors.js";
import type { CallValue, InboundRef, Layer, Model } from "../model.js";

/** One call of a layer (a functional layer can be called more than once: one node per call). */
export interface Call {
  layer: Layer;
  node: number;
  inputs: InboundRef[];
}

export interface Graph {
  name: string;
  layers: Layer[];
  sequential: boolean;
  /** The graph's input tensors (InputLayer outputs for functional graphs; a virtual input for a Sequential without one). */
  inputs: InboundRef[];
  outputs: InboundRef[];
}

/** Name of the virtual input of a Sequential model that has no InputLayer. */
export const SEQUENTIAL_INPUT = "(input)";

export function tensorKey(ref: InboundRef): string {
  return `${ref.layer}\u0000${ref.node}\u0000${ref.tensor}`;
}

const SEQUENTIAL_CLASSES = new Set(["Sequential", "(weights only)"]);

export function graphOfModel(model: Model): Graph {
  const sequential = SEQUENTIAL_CLASSES.has(model.modelClass) || model.layers.every((l) => l.inbound.length === 0);
  return makeGraph(model.name, model.layers, sequential, model.inputs, model.outputs);
}

/** The graph inside a nested model layer (a Sequential or functional model used as a layer). */
export function graphOfNested(layer: Layer): Graph {
  const cfg = layer.config as { input_layers?: unknown; output_layers?: unknown };
  const sequential = layer.className === "Sequential" || layer.children.every((l) => l.inbound.length === 0);
  const refs = (v: unknown): InboundRef[] => {
    if (!Array.isArray(v)) return [];
    const list = v.length > 0 && typeof v[0] === "string" ? [v] : v;
    return list
      .filter((r): r is unknown[] => Array.isArray(r) && typeof r[0] === "string")
      .map((r) => ({ layer: r[0] as string, node: Number(r[1] ?? 0), tensor: Number(r[2] ?? 0) }));
  };
  return makeGraph(layer.name, layer.children, sequential, refs(cfg.input_layers), refs(cfg.output_layers));
}

function makeGraph(name: string, layers: Layer[], sequential: boolean, inputs: InboundRef[], outputs: InboundRef[]): Graph {
  if (layers.length === 0) throw new InspectError(`model '${name}' has no layers`);
  if (sequential) {
    const first = layers[0];
    const input = first.className === "InputLayer" ? { layer: first.name, node: 0, tensor: 0 } : { layer: SEQUENTIAL_INPUT, node: 0, tensor: 0 };
    const last = layers[layers.length - 1];
    return { name, layers, sequential, inputs: [input], outputs: [{ layer: last.name, node: 0, tensor: 0 }] };
  }
  return { name, layers, sequential, inputs, outputs };
}

/** Every tensor a call's recorded arguments refer to (keyword arguments too: `mha(q, value=v)`). */
export function argumentRefs(call: Call): InboundRef[] {
  const recorded = call.layer.calls?.[call.node];
  if (!recorded) return [];
  const out: InboundRef[] = [];
  const visit = (v: CallValue) => {
    if (Array.isArray(v)) v.forEach(visit);
    else if (v !== null && typeof v === "object") {
      if ("kerasTensor" in v && typeof v.kerasTensor === "object" && v.kerasTensor !== null && !Array.isArray(v.kerasTensor)) out.push(v.kerasTensor as InboundRef);
      else Object.values(v).forEach(visit);
    }
  };
  recorded.args.forEach(visit);
  Object.values(recorded.kwargs).forEach(visit);
  return out;
}

/** The calls of a graph in an order where every call comes after the calls it consumes. */
export function callsInOrder(graph: Graph): Call[] {
  if (graph.sequential) {
    const calls: Call[] = [];
    let prev: InboundRef = graph.inputs[0];
    for (const layer of graph.layers) {
      if (layer.className === "InputLayer" && prev.layer === layer.name) continue;
      calls.push({ layer, node: 0, inputs: [prev] });
      prev = { layer: layer.name, node: 0, tensor: 0 };
    }
    return calls;
  }
  const pending: Call[] = [];
  for (const layer of graph.layers) {
    if (layer.className === "InputLayer") continue;
    layer.inbound.forEach((inputs, node) => pending.push({ layer, node, inputs }));
  }
  const available = new Set(graph.inputs.map((r) => r.layer));
  const done = new Set<string>(); // "layer\0node"
  const order: Call[] = [];
  const ready = (ref: InboundRef) => available.has(ref.layer) || done.has(`${ref.layer}\u0000${ref.node}`);
  let progressed = true;
  while (pending.length > 0 && progressed) {
    progressed = false;
    for (let k = 0; k < pending.length; k++) {
      const call = pending[k];
      if (call.inputs.every(ready) && argumentRefs(call).every(ready)) {
        order.push(call);
        done.add(`${call.layer.name}\u0000${call.node}`);
        pending.splice(k, 1);
        k--;
        progressed = true;
      }
    }
  }
  if (pending.length > 0) {
    const c = pending[0];
    const missing = c.inputs.filter((r) => !ready(r)).map((r) => r.layer);
    throw new InspectError(`model '${graph.name}': layer '${c.layer.name}' consumes '${missing.join("', '")}', which nothing in the model produces`);
  }
  return order;
}

/**
 * Walks the graph: `apply` receives each call, its input values and a lookup for any other
 * tensor its recorded arguments name, and returns its outputs.
 * Returns every produced value by tensor key.
 */
export function walkGraph<T>(graph: Graph, inputs: Map<string, T>, apply: (call: Call, inputs: T[], valueOf: (ref: InboundRef) => T) => T[]): Map<string, T> {
  const values = new Map(inputs);
  for (const call of callsInOrder(graph)) {
    const valueOf = (ref: InboundRef) => {
      const v = values.get(tensorKey(ref));
      if (v === undefined) {
        throw new InspectError(`model '${graph.name}': layer '${call.layer.name}' consumes output ${ref.tensor} of '${ref.layer}', which it does not produce`);
      }
      return v;
    };
    const args = call.inputs.map(valueOf);
    const outs = apply(call, args, valueOf);
    outs.forEach((v, tensor) => values.set(tensorKey({ layer: call.layer.name, node: call.node, tensor }), v));
  }
  return values;
}
