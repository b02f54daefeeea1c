/**
 * Runs a recurrent layer over a batch of sequences, step by step, through its kind's
 * cell, recording every intermediate in a StepTrace. Implements Keras' sequence
 * semantics (keras-formats.md §A5): zero or given initial state, go_backwards
 * (outputs in processing order), masking (states carried over at masked steps),
 * return_sequences, return_state, and the Bidirectional wrapper's merge modes.
 */
import { getActivation, hardSigmoidFor, type HardSigmoidVariant } from "../activations.js";
import { InspectError, UsageError } from "../errors.js";
import type { EvalOptions, RecurrentKind, Value } from "../layers/kind.js";
import { recurrentOptions } from "../layers/recurrent.js";
import type { Layer, Model } from "../model.js";
import { type LayerTrace, StepTrace } from "./trace.js";

export function rounder(dtype: EvalOptions["dtype"]): (x: number) => number {
  return dtype === "float32" ? Math.fround : (x: number) => x;
}

export interface DirectionRun {
  trace: StepTrace;
  /** (B, T, u) in processing order, as Keras returns it for return_sequences. */
  sequence: Value;
  /** Final states, in the kind's state order (h, then c for LSTM), each (B, u). */
  states: Value[];
}

export interface RecurrentRunOptions extends EvalOptions {
  /** Initial states in the kind's order; each either (units) for every sample or (samples·units). */
  initialState?: Float64Array[];
  /** Path of the layer for messages and the trace. */
  path: string;
  direction?: "forward" | "backward";
  /** Keras' Bidirectional forces zero_output_for_mask = return_sequences on both directions. */
  zeroOutputForMask?: boolean;
}

/** Runs one direction of one recurrent layer. `input` is (B, T, D) with an optional (B, T) mask. */
export function runDirection(kind: RecurrentKind, layer: Layer, model: Model, input: Value, opts: RecurrentRunOptions): DirectionRun {
  const o = recurrentOptions(layer);
  const w = kind.cellWeights(layer, model);
  if (input.shape.length !== 3) {
    const why = layer.inferred
      ? `; this file stores weights only, which do not record return_sequences, so a layer before it was taken to return its last step only: evaluate this layer with --raw-input and its own input sequence`
      : "";
    throw new UsageError(`layer '${opts.path}' expects a sequence (samples, steps, features); got shape [${input.shape.join(", ")}]${why}`);
  }
  const [samples, steps, features] = input.shape;
  if (features !== w.inputDim) {
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

  const trace = new StepTrace({
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
  });

  // Initial states.
  const init = opts.initialState ?? [];
  if (init.length > nStates) throw new UsageError(`layer '${opts.path}' has ${nStates} state(s) (${kind.stateNames.join(", ")}), got ${init.length}`);
  for (let s = 0; s < nStates; s++) {
    const given = init[s];
    if (!given) continue;
    if (given.length !== u && given.length !== samples * u) {
      throw new UsageError(`initial ${kind.stateNames[s]} for layer '${opts.path}' has ${given.length} values; the layer has ${u} units`);
    }
    for (let b = 0; b < samples; b++) {
      const src = given.length === u ? given : given.subarray(b * u, (b + 1) * u);
      for (let j = 0; j < u; j++) trace.initialState[(b * nStates + s) * u + j] = round(src[j]);
    }
  }

  const nNames = kind.intermediates.length;
  const stateIdx = kind.stateNames.map((s) => kind.intermediates.indexOf(s));
  const hIdx = kind.intermediates.indexOf("h");
  const out = new Float64Array(nNames * u);
  const sequence = new Float64Array(samples * steps * u);
  const finalStates = kind.stateNames.map(() => new Float64Array(samples * u));
  const x = new Float64Array(features);
  for (let t = 0; t < steps; t++) trace.timeIndex[t] = o.goBackwards ? steps - 1 - t : t;

  for (let b = 0; b < samples; b++) {
    const prev = kind.stateNames.map((_, s) => trace.initialState.slice((b * nStates + s) * u, (b * nStates + s + 1) * u));
    let prevOutput = new Float64Array(u); // Keras' output at a masked step: the previous output, zeros at first
    for (let t = 0; t < steps; t++) {
      const ti = trace.timeIndex[t];
      for (let d = 0; d < features; d++) x[d] = round(input.data[(b * steps + ti) * features + d]);
      trace.inputs.set(x, (b * steps + t) * features);
      kind.step(w, { activation, recurrentActivation }, x, prev, out, round);
      const masked = input.mask !== undefined && input.mask[b * steps + ti] === 0;
      if (masked) {
        trace.mask[b * steps + t] = 1;
        // The cell ran, but Keras keeps the previous states: record them as the step's states.
        stateIdx.forEach((k, s) => out.set(prev[s], k * u));
      } else {
        stateIdx.forEach((k, s) => prev[s].set(out.subarray(k * u, (k + 1) * u)));
      }
      trace.values.set(out, trace.offset(b, t, 0));
      const y = masked ? (opts.zeroOutputForMask || layer.config.zero_output_for_mask === true ? new Float64Array(u) : prevOutput) : out.slice(hIdx * u, (hIdx + 1) * u);
      sequence.set(y, (b * steps + t) * u);
      if (!masked) prevOutput = y;
    }
    prev.forEach((v, s) => finalStates[s].set(v, b * u));
  }

  return {
    trace,
    sequence: { shape: [samples, steps, u], data: sequence },
    states: finalStates.map((data) => ({ shape: [samples, u], data })),
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
  const main: Value = o.returnSequences
    ? // Keras keeps the input's mask on a returned sequence, go_backwards or not (rnn.py, compute_mask).
      { ...run.sequence, mask: input.mask }
    : lastOutput(run);
  return o.returnState ? [main, ...run.states] : [main];
}

export function runRecurrentLayer(kind: RecurrentKind, layer: Layer, model: Model, input: Value, opts: RecurrentRunOptions): {
  trace: LayerTrace;
  outputs: Value[];
} {
  const run = runDirection(kind, layer, model, input, opts);
  const outputs = layerOutputs(layer, run, input);
  const names = ["output", ...(recurrentOptions(layer).returnState ? kind.stateNames.map((s) => `state_${s}`) : [])];
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
): { trace: LayerTrace; outputs: Value[] } {
  const [fwdLayer, bwdLayer] = layer.children;
  if (!fwdLayer || !bwdLayer) throw new InspectError(`layer '${opts.path}' (Bidirectional) lacks its forward or backward layer`);
  const mode = layer.config.merge_mode === undefined ? "concat" : (layer.config.merge_mode as string | null);
  const fo = recurrentOptions(fwdLayer);
  const kind = kindOf(fwdLayer);
  const nStates = kind.stateNames.length;
  const init = opts.initialState ?? [];
  const zeroOutputForMask = fo.returnSequences;
  const fwd = runDirection(kind, fwdLayer, model, input, {
    ...opts,
    path: `${opts.path}/${fwdLayer.name}`,
    direction: "forward",
    initialState: init.slice(0, nStates),
    zeroOutputForMask,
  });
  // The backward copy runs with go_backwards flipped relative to the forward one.
  const bwdConfigured = { ...bwdLayer, config: { ...bwdLayer.config, go_backwards: !(fwdLayer.config.go_backwards === true) } };
  const bwd = runDirection(kindOf(bwdLayer), bwdConfigured, model, input, {
    ...opts,
    path: `${opts.path}/${bwdLayer.name}`,
    direction: "backward",
    initialState: init.slice(nStates),
    zeroOutputForMask,
  });
  const round = rounder(opts.dtype);
  const yF = fo.returnSequences ? fwd.sequence : lastOutput(fwd);
  const yB = fo.returnSequences ? reverseTime(bwd.sequence) : lastOutput(bwd);
  const merged = merge(mode, yF, yB, round, opts.path);
  if (fo.returnSequences && input.mask) merged.forEach((m) => (m.mask = input.mask));
  const outputs = fo.returnState ? [...merged, ...fwd.states, ...bwd.states] : merged;
  const names = [
    ...(merged.length === 2 ? ["output_forward", "output_backward"] : ["output"]),
    ...(fo.returnState ? [...kind.stateNames.map((s) => `forward_${s}`), ...kind.stateNames.map((s) => `backward_${s}`)] : []),
  ];
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
