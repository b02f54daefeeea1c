/**
 * Runs a recurrent layer over a batch of sequences, step by step, through its kind's
 * cell, recording every intermediate in a StepTrace. Implements Keras' sequence
 * semantics (keras-formats.md §A5): zero or given initial state, go_backwards
 * (outputs in processing order), masking (states carried over at masked steps),
 * return_sequences, return_state, and the Bidirectional wrapper's merge modes.
 */
import { getActivation, hardSigmoidFor, type HardSigmoidVariant } from "../activations.js";
import { InspectError, UsageError } from "../errors.js";
import type { Floats } from "../kernel/gemm.js";
import { declaredInputShape } from "../layers/core.js";
import type { EvalOptions, RecurrentKind, Value } from "../layers/kind.js";
import { recurrentOptions } from "../layers/recurrent.js";
import type { Layer, Model } from "../model.js";
import { ConvKernelEngine, type Engine, KernelEngine, kernelPanels, prepareCell, ReferenceEngine } from "./engines.js";
import { type LayerTrace, StepTrace } from "./trace.js";

export function rounder(dtype: EvalOptions["dtype"]): (x: number) => number {
  return dtype === "float32" ? Math.fround : (x: number) => x;
}

export interface DirectionRun {
  /** Every intermediate of every step; absent when the run was asked not to record one. */
  trace?: StepTrace;
  /** (B, T, u) in processing order, as Keras returns it for return_sequences. */
  sequence: Value;
  /** Final states, in the kind's state order (h, then c for LSTM), each (B, u). */
  states: Value[];
  /** ConvLSTM: (B, [T,] u) channels last → the layer's feature-map layout. */
  layout?: (v: Value) => Value;
}

export interface RecurrentRunOptions extends EvalOptions {
  /** Initial states in the kind's order; each either (units) for every sample or (samples·units). */
  initialState?: Float64Array[];
  /** Path of the layer for messages and the trace. */
  path: string;
  direction?: "forward" | "backward";
  /** Keras' Bidirectional forces zero_output_for_mask = return_sequences on both directions. */
  zeroOutputForMask?: boolean;
  /** Record the trace (default true); predict asks for none. */
  record?: boolean;
  /** Overrides the layer's go_backwards (Bidirectional's backward copy runs reversed to the forward one). */
  goBackwards?: boolean;
}

/**
 * Keras' sequence semantics around an engine's steps, for every sample: states carried over
 * at masked steps, the output of a masked step (the previous output, or zeros), the trace.
 */
function runSequences(
  engine: Engine,
  input: Value,
  timeIndex: Int32Array,
  initialState: Floats,
  trace: StepTrace | undefined,
  layout: { units: number; stateIdx: number[]; hIdx: number; zeroMasked: boolean; round: (x: number) => number },
): { sequence: Float64Array; finalStates: Float64Array[] } {
  const [samples, steps, features] = input.shape;
  const { units: u, stateIdx, hIdx, zeroMasked, round } = layout;
  const { prev, out } = engine;
  const nStates = prev.length;
  const data = input.data;
  const mask = input.mask;
  const sequence = new Float64Array(samples * steps * u);
  const finalStates = prev.map(() => new Float64Array(samples * u));
  for (let b = 0; b < samples; b++) {
    engine.beginSample(b);
    for (let s = 0; s < nStates; s++) prev[s].set(initialState.subarray((b * nStates + s) * u, (b * nStates + s + 1) * u));
    // Keras' output at a masked step: the previous output (zeros before the first), or zeros with zero_output_for_mask.
    let lastEmitted = -1;
    for (let t = 0; t < steps; t++) {
      const ti = timeIndex[t];
      if (trace) {
        const row = (b * steps + ti) * features;
        for (let d = 0; d < features; d++) trace.inputs[(b * steps + t) * features + d] = round(data[row + d]);
      }
      engine.step(t);
      const masked = mask !== undefined && mask[b * steps + ti] === 0;
      if (masked && trace) trace.mask[b * steps + t] = 1;
      for (let s = 0; s < nStates; s++) {
        const state = prev[s];
        const at = stateIdx[s] * u;
        // The cell ran, but at a masked step Keras keeps the previous states: record them as the step's states.
        if (masked) for (let j = 0; j < u; j++) out[at + j] = state[j];
        else for (let j = 0; j < u; j++) state[j] = out[at + j];
      }
      if (trace) trace.values.set(out, trace.offset(b, t, 0));
      const y = (b * steps + t) * u;
      if (!masked) {
        for (let j = 0; j < u; j++) sequence[y + j] = out[hIdx * u + j];
        lastEmitted = t;
      } else if (!zeroMasked && lastEmitted >= 0) {
        sequence.copyWithin(y, (b * steps + lastEmitted) * u, (b * steps + lastEmitted + 1) * u);
      }
    }
    for (let s = 0; s < nStates; s++) finalStates[s].set(prev[s], b * u);
  }
  return { sequence, finalStates };
}

/** Runs one direction of one recurrent layer. `input` is (B, T, D) with an optional (B, T) mask. */
export function runDirection(kind: RecurrentKind, layer: Layer, model: Model, given: Value, opts: RecurrentRunOptions): DirectionRun {
  const o = recurrentOptions(layer);
  const goBackwards = opts.goBackwards ?? o.goBackwards;
  // ConvLSTM: the cell depends on the input's spatial shape, and its steps read the maps flattened channels last.
  const maps = kind.featureMaps?.(layer, model, given, opts.path);
  const cell = maps ? undefined : prepareCell(kind, layer, model);
  const w = maps ? maps.w : cell!.w;
  const input = maps ? maps.input : given;
  if (input.shape.length !== 3) {
    const why = layer.inferred
      ? `; this file stores weights only, which do not record return_sequences, so a layer before it was taken to return its last step only: evaluate this layer with --raw-input and its own input sequence`
      : "";
    throw new UsageError(`layer '${opts.path}' expects a sequence (samples, steps, features); got shape [${input.shape.join(", ")}]${why}`);
  }
  const [samples, steps, features] = input.shape;
  if (features !== w.inputDim) {
    // The config says the layer takes what it was given, but its kernel was saved for another width: the file's fault, not the input's.
    const declared = declaredInputShape(layer)?.at(-1);
    if (declared === features) {
      throw new InspectError(`layer '${opts.path}': its config declares ${declared} input features, but its kernel has ${w.inputDim} rows (one per input feature): the file contradicts itself (weights saved from another model?)`);
    }
    throw new UsageError(`layer '${opts.path}' expects ${w.inputDim} features per step, but the input has ${features}`);
  }
  if (steps === 0) throw new UsageError(`layer '${opts.path}': the input sequence is empty`);
  const round = rounder(opts.dtype);
  const variant: HardSigmoidVariant = opts.hardSigmoid ?? hardSigmoidFor(model.kerasMajor);
  const names = kind.activationNames(layer, model);
  const where = `layer '${opts.path}'`;
  const activation = getActivation(names.activation, variant, where).fn;
  // SimpleRNN has no recurrent activation; an empty name in a config is an error, not "absent".
  const recurrentActivation = names.recurrent_activation !== undefined
    ? getActivation(names.recurrent_activation, variant, where).fn
    : activation;
  const usesHardSigmoid = Object.values(names).includes("hard_sigmoid");
  const u = w.units;
  const nStates = kind.stateNames.length;
  const notes = [...w.notes];
  if (o.stateful) notes.push("stateful layer: Keras files do not store the carried state, so it starts from the given initial state (zeros by default)");

  const trace = opts.record === false
    ? undefined
    : new StepTrace({
        layer: opts.path,
        className: layer.className,
        kind: kind.kind,
        direction: opts.direction ?? "forward",
        dtype: opts.dtype,
        units: u,
        inputDim: w.inputDim,
        names: kind.intermediates,
        columns: kind.columns,
        samples,
        steps,
        activations: names,
        hardSigmoid: usesHardSigmoid ? variant : undefined,
        gateWeights: w.gates,
        stateNames: kind.stateNames,
        notes,
        featureMap: w.featureMap,
      });

  // Initial states, rounded to the evaluation dtype: initialState[(b · nStates + s) · u + j].
  const init = opts.initialState ?? [];
  if (init.length > nStates) throw new UsageError(`layer '${opts.path}' has ${nStates} state(s) (${kind.stateNames.join(", ")}), got ${init.length}`);
  const initialState = trace?.initialState ?? new Float64Array(samples * nStates * u);
  for (let s = 0; s < nStates; s++) {
    const given = init[s] && maps ? maps.state(init[s]) : init[s];
    if (!given) continue;
    if (given.length !== u && given.length !== samples * u) {
      const m = w.featureMap;
      const map = m && (m.dataFormat === "channels_first" ? [m.filters, ...m.outputSpatial] : [...m.outputSpatial, m.filters]);
      const has = m ? `its state is a ${map!.join(" × ")} map (${m.dataFormat}) = ${u} values per sample` : `the layer has ${u} units`;
      throw new UsageError(`initial ${kind.stateNames[s]} for layer '${opts.path}' has ${given.length} values; ${has}`);
    }
    for (let b = 0; b < samples; b++) {
      const src = given.length === u ? given : given.subarray(b * u, (b + 1) * u);
      for (let j = 0; j < u; j++) initialState[(b * nStates + s) * u + j] = round(src[j]);
    }
  }

  const timeIndex = trace?.timeIndex ?? new Int32Array(steps);
  for (let t = 0; t < steps; t++) timeIndex[t] = goBackwards ? steps - 1 - t : t;
  const act = { activation, recurrentActivation };
  const panels = opts.engine === "reference" || !cell ? null : kernelPanels(kind, cell, opts.dtype);
  const engine: Engine = panels
    ? new KernelEngine(kind, w, panels, act, input, timeIndex, opts.dtype)
    : maps && opts.engine !== "reference" && ConvKernelEngine.usable(w, opts.dtype)
      ? new ConvKernelEngine(kind, w, act, input, timeIndex, round, opts.dtype)
      : new ReferenceEngine(kind, w, act, input, timeIndex, round);
  const { sequence, finalStates } = runSequences(engine, input, timeIndex, initialState, trace, {
    units: u,
    stateIdx: kind.stateNames.map((s) => kind.intermediates.indexOf(s)),
    hIdx: kind.intermediates.indexOf("h"),
    zeroMasked: opts.zeroOutputForMask === true || layer.config.zero_output_for_mask === true,
    round,
  });
  return {
    trace,
    sequence: { shape: [samples, steps, u], data: sequence },
    states: finalStates.map((data) => ({ shape: [samples, u], data })),
    layout: maps?.output,
  };
}

/**
 * The output without return_sequences: the last EMITTED output, as Keras' backend.rnn
 * returns it (last_output = outputs[-1], keras/src/backend/tensorflow/rnn.py). It equals
 * the final h except when the last processed steps are masked: a sample masked
 * throughout emits zeros (the previous output starts at 0) even with a non-zero initial
 * state, and with zero_output_for_mask a masked last step emits zeros.
 */
function lastOutput(run: DirectionRun): Value {
  const [B, T, U] = run.sequence.shape;
  const data = new Float64Array(B * U);
  for (let b = 0; b < B; b++) data.set(run.sequence.data.subarray((b * T + T - 1) * U, (b * T + T) * U), b * U);
  return { shape: [B, U], data };
}

/** The layer's outputs as Keras returns them: the sequence or the last output, then the states if return_state. */
function layerOutputs(layer: Layer, run: DirectionRun, input: Value): Value[] {
  const o = recurrentOptions(layer);
  const shape = run.layout ?? ((v: Value) => v);
  const main: Value = o.returnSequences
    ? // Keras keeps the input's mask on a returned sequence, go_backwards or not (rnn.py, compute_mask).
      { ...shape(run.sequence), mask: input.mask }
    : shape(lastOutput(run));
  return o.returnState ? [main, ...run.states.map(shape)] : [main];
}

/**
 * What each output of a recurrent layer is, in Keras' order: `output`, then `state_h`
 * (and `state_c`) with return_state; for Bidirectional, `output` (or `output_forward`,
 * `output_backward` with merge_mode None), then `forward_h`, … and `backward_h`, ….
 */
export function recurrentOutputNames(layer: Layer, kind: RecurrentKind): string[] {
  if (layer.className === "Bidirectional") {
    const returnState = recurrentOptions(layer.children[0] ?? layer).returnState;
    return [
      ...(bidirectionalMergeMode(layer) === null ? ["output_forward", "output_backward"] : ["output"]),
      ...(returnState ? [...kind.stateNames.map((s) => `forward_${s}`), ...kind.stateNames.map((s) => `backward_${s}`)] : []),
    ];
  }
  return ["output", ...(recurrentOptions(layer).returnState ? kind.stateNames.map((s) => `state_${s}`) : [])];
}

/** Bidirectional's merge_mode: concat when absent, null for None (both outputs returned). */
function bidirectionalMergeMode(layer: Layer): string | null {
  return layer.config.merge_mode === undefined ? "concat" : (layer.config.merge_mode as string | null);
}

/** A layer's outputs and, when recorded, its trace. */
export interface LayerRun {
  trace?: LayerTrace;
  outputs: Value[];
}

export function runRecurrentLayer(kind: RecurrentKind, layer: Layer, model: Model, input: Value, opts: RecurrentRunOptions): LayerRun {
  const run = runDirection(kind, layer, model, input, opts);
  const outputs = layerOutputs(layer, run, input);
  if (!run.trace) return { outputs };
  const names = recurrentOutputNames(layer, kind);
  return {
    trace: {
      layer: opts.path,
      className: layer.className,
      directions: [run.trace],
      outputs: outputs.map((v, i) => ({ name: names[i], tensor: { shape: v.shape.slice(1), data: v.data, samples: v.shape[0] } })),
      notes: run.trace.notes,
    },
    outputs,
  };
}

/** Reverses a (B, T, u) sequence along time. */
function reverseTime(v: Value): Value {
  const [B, T, U] = v.shape;
  const data = new Float64Array(v.data.length);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) data.set(v.data.subarray((b * T + t) * U, (b * T + t + 1) * U), (b * T + (T - 1 - t)) * U);
  return { shape: v.shape, data };
}

function merge(mode: string | null, a: Value, b: Value, round: (x: number) => number, path: string): Value[] {
  if (mode === null) return [a, b];
  if (mode === "concat") {
    const lastA = a.shape[a.shape.length - 1];
    const lastB = b.shape[b.shape.length - 1];
    const rows = a.data.length / lastA;
    const data = new Float64Array(rows * (lastA + lastB));
    for (let r = 0; r < rows; r++) {
      data.set(a.data.subarray(r * lastA, (r + 1) * lastA), r * (lastA + lastB));
      data.set(b.data.subarray(r * lastB, (r + 1) * lastB), r * (lastA + lastB) + lastA);
    }
    return [{ shape: [...a.shape.slice(0, -1), lastA + lastB], data }];
  }
  const f: Record<string, (p: number, q: number) => number> = {
    sum: (p, q) => round(p + q),
    mul: (p, q) => round(p * q),
    ave: (p, q) => round(round(p + q) / 2),
  };
  const op = f[mode];
  if (!op) throw new InspectError(`layer '${path}': Bidirectional merge_mode '${mode}' is not one of concat, sum, mul, ave, None`);
  return [{ shape: a.shape, data: a.data.map((p, i) => op(p, b.data[i])) }];
}

/**
 * Keras' Bidirectional: the forward layer over the input, the backward layer over the
 * reversed input (its sequence flipped back to input order before merging), outputs merged.
 */
export function runBidirectional(
  kindOf: (layer: Layer) => RecurrentKind,
  layer: Layer,
  model: Model,
  input: Value,
  opts: RecurrentRunOptions,
): LayerRun {
  const [fwdLayer, bwdLayer] = layer.children;
  if (!fwdLayer || !bwdLayer) throw new InspectError(`layer '${opts.path}' (Bidirectional) lacks its forward or backward layer`);
  const mode = bidirectionalMergeMode(layer);
  const fo = recurrentOptions(fwdLayer);
  const kind = kindOf(fwdLayer);
  const nStates = kind.stateNames.length;
  const init = opts.initialState ?? [];
  const zeroOutputForMask = fo.returnSequences;
  const fwd = runDirection(kind, fwdLayer, model, input, {
    ...opts,
    goBackwards: fo.goBackwards,
    path: `${opts.path}/${fwdLayer.name}`,
    direction: "forward",
    initialState: init.slice(0, nStates),
    zeroOutputForMask,
  });
  // The backward copy runs with go_backwards flipped relative to the forward one.
  const bwd = runDirection(kindOf(bwdLayer), bwdLayer, model, input, {
    ...opts,
    goBackwards: !fo.goBackwards,
    path: `${opts.path}/${bwdLayer.name}`,
    direction: "backward",
    initialState: init.slice(nStates),
    zeroOutputForMask,
  });
  const round = rounder(opts.dtype);
  const [shapeF, shapeB] = [fwd.layout ?? ((v: Value) => v), bwd.layout ?? ((v: Value) => v)];
  const yF = shapeF(fo.returnSequences ? fwd.sequence : lastOutput(fwd));
  const yB = shapeB(fo.returnSequences ? reverseTime(bwd.sequence) : lastOutput(bwd));
  const merged = merge(mode, yF, yB, round, opts.path);
  if (fo.returnSequences && input.mask) merged.forEach((m) => (m.mask = input.mask));
  const outputs = fo.returnState ? [...merged, ...fwd.states.map(shapeF), ...bwd.states.map(shapeB)] : merged;
  const names = recurrentOutputNames(layer, kind);
  if (!fwd.trace || !bwd.trace) return { outputs };
  return {
    trace: {
      layer: opts.path,
      className: layer.className,
      directions: [fwd.trace, bwd.trace],
      mergeMode: mode,
      outputs: outputs.map((v, i) => ({ name: names[i], tensor: { shape: v.shape.slice(1), data: v.data, samples: v.shape[0] } })),
      notes: [...fwd.trace.notes, ...(mode === null ? ["merge_mode None: the forward and backward outputs are returned as a list"] : [])],
    },
    outputs,
  };
}
