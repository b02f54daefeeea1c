/**
 * Output shapes, as `model.summary()` prints them. Keras files do not store them
 * (netron#71), so they are inferred from the declared input shape and each layer
 * kind's rule, walking the model's graph.
 */
import { declaredInputShape } from "../layers/core.js";
import type { Shape } from "../layers/kind.js";
import { kindOf } from "../layers/registry.js";
import type { Layer, Model } from "../model.js";
import { type Graph, graphOfModel, graphOfNested, SEQUENTIAL_INPUT, tensorKey, walkGraph } from "./graph.js";

/** A layer's output shapes, or undefined where they cannot be inferred (unknown class or input). */
export type InferredShapes = Map<string, Shape[] | undefined>;

const MODEL_CLASSES = new Set(["Sequential", "Model", "Functional"]);

export function isNestedModel(layer: Layer): boolean {
  return MODEL_CLASSES.has(layer.className) && layer.children.length > 0;
}

/** The input shapes a graph declares, one per input (undefined where none is recorded). */
export function declaredGraphInputShapes(graph: Graph): (Shape | undefined)[] {
  return graph.inputs.map((ref) => {
    const layer = ref.layer === SEQUENTIAL_INPUT ? graph.layers[0] : graph.layers.find((l) => l.name === ref.layer);
    return layer ? declaredLayerInputShape(layer) : undefined;
  });
}

/**
 * The input shape a layer declares; a model nested as a layer declares none itself, so its
 * own first input's (a GAN's generator inside a Sequential: without it, a batch of noise
 * vectors was taken for one sample of several steps).
 */
function declaredLayerInputShape(layer: Layer): Shape | undefined {
  return declaredInputShape(layer) ?? (isNestedModel(layer) ? declaredGraphInputShapes(graphOfNested(layer))[0] : undefined);
}

function graphInputShapes(graph: Graph, given?: Shape[]): Map<string, Shape[] | undefined> {
  const inputs = new Map<string, Shape[] | undefined>();
  const declared = declaredGraphInputShapes(graph);
  graph.inputs.forEach((ref, k) => {
    const shape: Shape | undefined = given?.[k] ?? declared[k];
    inputs.set(tensorKey(ref), shape ? [shape] : undefined);
  });
  return inputs;
}

/**
 * `nested`: where given, each nested model's own layers' shapes are recorded there too (by the
 * nested model's Layer), inferred from the shapes it is called on (its first call's).
 */
function shapesOfGraph(graph: Graph, model: Model, given: Shape[] | undefined, out: InferredShapes | undefined, nested?: Map<Layer, InferredShapes>): Shape[] | undefined {
  const inputs = new Map<string, Shape[] | undefined>();
  for (const [k, v] of graphInputShapes(graph, given)) inputs.set(k, v);
  // walkGraph passes one value per input tensor; we carry Shape (or undefined) per tensor.
  const flat = new Map<string, Shape | undefined>();
  for (const [k, v] of inputs) flat.set(k, v?.[0]);
  for (const ref of graph.inputs) {
    const layer = graph.layers.find((l) => l.name === ref.layer);
    // A Sequential without an InputLayer: its virtual input's shape is recorded under that input's name.
    const name = layer?.name ?? (ref.layer === SEQUENTIAL_INPUT ? SEQUENTIAL_INPUT : undefined);
    if (name !== undefined && out && !out.has(name)) out.set(name, flat.get(tensorKey(ref)) ? [flat.get(tensorKey(ref))!] : undefined);
  }
  const values = walkGraph<Shape | undefined>(graph, flat, (call, args) => {
    let result: Shape[] | undefined;
    if (args.every((a) => a !== undefined)) {
      try {
        let inner: InferredShapes | undefined;
        if (nested && isNestedModel(call.layer) && !nested.has(call.layer)) nested.set(call.layer, (inner = new Map()));
        result = isNestedModel(call.layer)
          ? [shapesOfGraph(graphOfNested(call.layer), model, args as Shape[], inner, nested)?.[0]].filter((s): s is Shape => s !== undefined)
          : kindOf(call.layer.className)?.outputShapes(call.layer, args as Shape[], model);
        if (result && result.length === 0) result = undefined;
      } catch {
        result = undefined;
      }
    }
    if (out) {
      const previous = out.get(call.layer.name);
      // A layer called more than once with different shapes prints as "multiple" in Keras; keep the first.
      if (!out.has(call.layer.name) || (previous === undefined && result !== undefined)) out.set(call.layer.name, result);
    }
    return result ?? [undefined];
  });
  return graph.outputs.map((r) => values.get(tensorKey(r))).every((s) => s !== undefined)
    ? graph.outputs.map((r) => values.get(tensorKey(r)) as Shape)
    : undefined;
}

export function inferShapes(model: Model, nested?: Map<Layer, InferredShapes>): InferredShapes {
  const out: InferredShapes = new Map();
  try {
    shapesOfGraph(graphOfModel(model), model, undefined, out, nested);
  } catch {
    // A graph we cannot walk still gets a summary, with unknown shapes.
  }
  return out;
}

export function formatShape(shapes: Shape[] | undefined): string {
  if (!shapes) return "?";
  // A call whose shape could not be inferred leaves undefined in the list (a broken inbound node, say).
  const one = (s: Shape | undefined) => (s === undefined ? "?" : `(${s.map((d) => (d === null ? "None" : String(d))).join(", ")}${s.length === 1 ? "," : ""})`);
  return shapes.length === 1 ? one(shapes[0]) : `[${shapes.map(one).join(", ")}]`;
}
