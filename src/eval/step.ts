/**
 * `step`: evaluate one recurrent layer of a model on the user's inputs and return
 * its trace. The layer's input is what the layers before it produce (a forward pass
 * of the model up to it), or the raw values with `rawInput`.
 */
import { FileError, UsageError } from "../errors.js";
import { fitToShape } from "../inputs.js";
import { declaredInputShape } from "../layers/core.js";
import type { Shape, Value } from "../layers/kind.js";
import { isRecurrentLayer, requireRecurrentKind } from "../layers/registry.js";
import { type Layer, type Model, walkLayers } from "../model.js";
import type { NdArray } from "../npy.js";
import { type Call, callsInOrder, graphOfModel } from "./graph.js";
import { batchCoupling, KERAS_PREDICT_BATCH_SIZE, predict, type PredictOptions } from "./predict.js";
import { runBidirectional, runRecurrentLayer } from "./recurrent.js";
import { declaredGraphInputShapes } from "./shapes.js";
import type { LayerTrace } from "./trace.js";
import { precisionJson, precisionOf } from "../dtype-policy.js";
import { stepAssumptions } from "./assumptions.js";

export interface StepRequest extends Omit<PredictOptions, "initialStates" | "stopAfter"> {
  /** Path of the layer (`lstm_1`, `bidirectional_1`, `bidirectional_1/forward_lstm_1`); default: the first recurrent layer. */
  layer?: string;
  /** The model's inputs, in model input order. */
  inputs: NdArray[];
  /** Feed `inputs[0]` straight into the layer instead of running the layers before it. */
  rawInput?: boolean;
  h0?: Float64Array;
  c0?: Float64Array;
}

export interface ResolvedLayer {
  layer: Layer;
  path: string;
  /** The top-level (or nested-model) call that evaluates it: the Bidirectional wrapper for a direction. */
  callPath: string;
  /** For a direction of a Bidirectional: which one. */
  direction?: "forward" | "backward";
}

/** The recurrent layers of a model, with their paths: what `--layer` accepts. */
export function recurrentLayers(model: Model): { layer: Layer; path: string }[] {
  return [...walkLayers(model.layers)].filter(({ layer }) => isRecurrentLayer(layer)).map(({ layer, path }) => ({ layer, path }));
}

export function resolveLayer(model: Model, requested?: string): ResolvedLayer {
  const all = [...walkLayers(model.layers)];
  const recurrent = recurrentLayers(model);
  if (requested === undefined) {
    const first = recurrent[0];
    if (!first) {
      throw new UsageError(`${model.source} has no recurrent layer (LSTM, GRU, SimpleRNN); its layers: ${model.layers.map((l) => l.name).join(", ")}`);
    }
    return { layer: first.layer, path: first.path, callPath: first.path };
  }
  const found = all.find((e) => e.path === requested) ?? all.find((e) => e.layer.name === requested);
  if (!found) {
    throw new UsageError(`no layer '${requested}' in ${model.source}; recurrent layers: ${recurrent.map((r) => r.path).join(", ") || "none"}`);
  }
  const parentPath = found.path.includes("/") ? found.path.slice(0, found.path.lastIndexOf("/")) : undefined;
  const parent = parentPath ? all.find((e) => e.path === parentPath)?.layer : undefined;
  if (parent?.className === "Bidirectional") {
    requireRecurrentKind(found.layer, found.path);
    const direction = parent.children.indexOf(found.layer) === 0 ? "forward" : "backward";
    return { layer: found.layer, path: found.path, callPath: parentPath!, direction };
  }
  if (!isRecurrentLayer(found.layer)) requireRecurrentKind(found.layer, found.path);
  return { layer: found.layer, path: found.path, callPath: found.path };
}

/** The InputLayer whose output is `layer`'s one input in the model's graph, if any (none where the graph cannot be walked). */
function feedingInputLayer(model: Model, layer: Layer): Layer | undefined {
  let calls: Call[];
  try {
    calls = callsInOrder(graphOfModel(model));
  } catch {
    return undefined;
  }
  const inputs = calls.find((c) => c.layer === layer)?.inputs ?? [];
  const from = inputs.length === 1 ? model.layers.find((l) => l.name === inputs[0].layer) : undefined;
  return from?.className === "InputLayer" ? from : undefined;
}

/** The per-sample input shape the model declares for each of its inputs (null dims: any). */
export function modelInputShapes(model: Model): ((number | null)[] | undefined)[] {
  return declaredGraphInputShapes(graphOfModel(model)).map((shape) => shape?.slice(1));
}

function toValue(a: NdArray): Value {
  return { shape: a.shape, data: a.data };
}

/** Fits the user's arrays to the model's declared input shapes. */
export function modelInputs(model: Model, inputs: NdArray[], where: string[]): Value[] {
  const shapes = modelInputShapes(model);
  if (inputs.length !== shapes.length) {
    throw new UsageError(`the model takes ${shapes.length} input(s), ${inputs.length} given`);
  }
  return inputs.map((a, k) => toValue(fitToShape(a, shapes[k] ?? a.shape.slice(a.shape.length === 3 ? 1 : 0).map(() => null), a.source ?? where[k] ?? "--input")));
}

export function evaluateStep(model: Model, req: StepRequest): { resolved: ResolvedLayer; trace: LayerTrace } {
  const resolved = resolveLayer(model, req.layer);
  const states = [req.h0, req.c0].filter((s): s is Float64Array => s !== undefined);
  const kind = requireRecurrentKind(resolved.layer.className === "Bidirectional" ? resolved.layer.children[0] : resolved.layer, resolved.path);
  // Whether --c0 applies at all comes before whether --h0 goes with it.
  if (req.c0 && kind.stateNames.length < 2) throw new UsageError(`--c0 applies to LSTM layers; '${resolved.path}' is ${resolved.layer.className}, whose only state is h (--h0)`);
  if (req.c0 && !req.h0) throw new UsageError("--c0 needs --h0 too (Keras' initial state is [h, c])");
  const callLayer = [...walkLayers(model.layers)].find((e) => e.path === resolved.callPath)!.layer;
  // Bidirectional: a state given for the whole layer applies to both directions; for one direction, to that one.
  const initialState =
    states.length === 0
      ? undefined
      : callLayer.className === "Bidirectional"
        ? resolved.direction === "backward"
          ? [...kind.stateNames.map(() => undefined), ...states]
          : resolved.direction === "forward"
            ? states
            : [...states, ...states]
        : states;
  const opts = { dtype: req.dtype, hardSigmoid: req.hardSigmoid };
  // A weights-only file without --config: refused where layers before this one would run, else what is assumed.
  const assumptions = stepAssumptions(model, resolved.layer, resolved.path, resolved.callPath, req.rawInput === true);

  let trace: LayerTrace;
  if (req.rawInput) {
    if (req.inputs.length !== 1) throw new UsageError("--raw-input takes exactly one input");
    const inner = callLayer.className === "Bidirectional" ? callLayer.children[0] : callLayer;
    // A ConvLSTM takes (steps, spatial…, channels) per sample, checked when it runs; the others (steps, features).
    const inputDim = kind.featureMaps ? undefined : kind.cellWeights(inner, model).inputDim;
    const sampleShape = inputDim === undefined ? (inner.weights.find((w) => w.name === "kernel")?.shape ?? [0, 0, 0]).map(() => null) : [null, inputDim];
    // The input goes straight to the layer, past the model's input; a feature count the config declares for
    // it (the layer's own, or that of an InputLayer feeding it directly) must still be its kernel's.
    const feeding = feedingInputLayer(model, callLayer);
    const declarations: [string, Shape | undefined][] = [
      [`layer '${resolved.path}'`, declaredInputShape(callLayer) ?? declaredInputShape(inner)],
      [`the input layer '${feeding?.name}' feeding '${resolved.path}'`, feeding && declaredInputShape(feeding)],
    ];
    for (const [who, declared] of declarations) {
      const features = declared?.[declared.length - 1];
      if (inputDim !== undefined && typeof features === "number" && features !== inputDim) {
        throw new FileError(model.source, `${who} declares ${features} feature(s) per step (input shape ${JSON.stringify(declared)}) but the kernel of '${resolved.path}' takes ${inputDim}; the file contradicts itself`);
      }
    }
    const x = toValue(fitToShape(req.inputs[0], sampleShape, req.inputs[0].source ?? "--input"));
    const runOpts = { ...opts, path: resolved.callPath, initialState: initialState as Float64Array[] | undefined };
    const run =
      callLayer.className === "Bidirectional"
        ? runBidirectional((l) => requireRecurrentKind(l, l.name), callLayer, model, x, runOpts)
        : runRecurrentLayer(kind, callLayer, model, x, runOpts);
    trace = run.trace!; // recorded: the options do not turn recording off
  } else {
    if (model.layersRead === "recurrent") {
      // An ONNX export's layers are its recurrent nodes alone: what feeds a node is graph ops not read.
      throw new UsageError(`${model.source} is read for its recurrent nodes only (${model.format}); the ops before '${resolved.path}' are not, so feed its input directly with --raw-input`);
    }
    const inputs = modelInputs(model, req.inputs, req.inputs.map(() => "--input"));
    // Samples scored against each other: one batch here is one batch of Keras' predict only up to its 32.
    const coupling = batchCoupling(model);
    if (coupling && (inputs[0]?.shape[0] ?? 0) > KERAS_PREDICT_BATCH_SIZE) {
      throw new UsageError(
        `layer '${coupling.layer}' (${coupling.className}) scores each sample against the other samples of its batch, and Keras' predict takes ${KERAS_PREDICT_BATCH_SIZE} at a time; step evaluates its samples as one batch, so give it at most ${KERAS_PREDICT_BATCH_SIZE} (predict groups any number as Keras does)`,
      );
    }
    const result = predict(model, inputs, {
      ...opts,
      stopAfter: resolved.callPath,
      initialStates: initialState ? new Map([[resolved.callPath, initialState as Float64Array[]]]) : undefined,
    });
    const found = result.traces.find((t) => t.layer === resolved.callPath);
    if (!found) throw new UsageError(`layer '${resolved.path}' is not reached by the model's forward pass from its inputs`);
    trace = found;
  }
  // The policies that shaped the values: the layer's own for --raw-input, else every layer's on the way.
  const precision = precisionOf(req.rawInput ? [callLayer] : model.layers, req.dtype);
  if (precision) {
    // Each direction's notes too, which explain shows (a plain layer's trace shares its direction's array).
    for (const d of trace.directions) if (!d.notes.includes(precision.note)) d.notes.push(precision.note);
    trace = { ...trace, notes: trace.notes.includes(precision.note) ? trace.notes : [...trace.notes, precision.note], precision: precisionJson(precision) };
  }
  if (assumptions.length > 0) trace = { ...trace, assumptions };
  if (resolved.direction) {
    const d = trace.directions.find((t) => t.direction === resolved.direction)!;
    return { resolved, trace: { ...trace, layer: resolved.path, className: d.className, directions: [d] } };
  }
  return { resolved, trace };
}
