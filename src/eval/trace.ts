/**
 * The record of a recurrent layer's evaluation: every intermediate, every sample,
 * every processing step, every unit, in one preallocated typed array.
 *
 * Printers (table, JSON, explanation, heatmap, HTML) read traces and compute nothing.
 * A trace also carries what a printer needs to show the arithmetic: the inputs at each
 * step, the initial state and the gate weights used.
 */

import type { PrecisionJson } from "../dtype-policy.js";

/** Values in the evaluation dtype: Float32Array in float32 mode (every value is a float32), Float64Array in float64 mode. */
export type Floats = Float32Array | Float64Array;

export type RecurrentKindName = "lstm" | "gru" | "simple_rnn" | "conv_lstm";

/**
 * A ConvLSTM's geometry for one input: a step's x is (inputSpatial…, channels) and its
 * units (outputSpatial…, filters), both flattened channels last: unit = position·filters + filter.
 */
export interface FeatureMapShape {
  /** The layout of the layer's inputs and outputs (the trace itself is always channels last). */
  dataFormat: "channels_last" | "channels_first";
  inputSpatial: number[];
  channels: number;
  outputSpatial: number[];
  filters: number;
  kernelSize: number[];
  strides: number[];
  dilation: number[];
  padding: "same" | "valid";
  /** Zero padding before the first input position on each axis (input convolution). */
  padBefore: number[];
  /** The same for the recurrent convolution ("same", stride 1). */
  recurrentPadBefore: number[];
}
export type EvalDType = "float32" | "float64";

/** A row-major matrix (rows × cols). A vector is rows = 1. */
export interface Matrix {
  rows: number;
  cols: number;
  /** Row-major; float32 weights stay a Float32Array (exact, half the memory of a copy in float64). */
  data: Floats;
}

/** Gate weights as the evaluator used them, named as in the seed notebook (`kernel_i`, `recurrent_kernel_f`, `bias_o`, ...). */
export type GateWeights = Record<string, Matrix>;

export interface TraceInit {
  /** Path of the layer in the model (`lstm_1`, `bidirectional_1/forward_lstm_1`). */
  layer: string;
  className: string;
  kind: RecurrentKindName;
  /** `forward` unless the layer is one direction of a Bidirectional wrapper. */
  direction: "forward" | "backward";
  dtype: EvalDType;
  units: number;
  inputDim: number;
  /** Every intermediate recorded at each step (an explanation shows them all). */
  names: readonly string[];
  /** The intermediates tables and JSON show, with the seed notebook's names (x_i, x_f, x_c, x_o, i, f, c, o, h). */
  columns: readonly string[];
  samples: number;
  steps: number;
  /** Activation names as applied, e.g. { activation: "tanh", recurrent_activation: "hard_sigmoid" }. */
  activations: Record<string, string>;
  /** Which hard_sigmoid definition was used, when the layer uses hard_sigmoid. */
  hardSigmoid?: "keras2" | "keras3";
  gateWeights: GateWeights;
  /** Names of the state vectors, in Keras' order: ["h", "c"] for LSTM, ["h"] otherwise. */
  stateNames: readonly string[];
  /** Free-form facts the user should know (converted weights, stateful, masking...). */
  notes?: string[];
  /** ConvLSTM: what a unit and an input feature are (a position and a filter or channel). */
  featureMap?: FeatureMapShape;
}

export class StepTrace {
  readonly layer: string;
  readonly className: string;
  readonly kind: RecurrentKindName;
  readonly direction: "forward" | "backward";
  readonly dtype: EvalDType;
  readonly units: number;
  readonly inputDim: number;
  readonly names: readonly string[];
  readonly columns: readonly string[];
  readonly samples: number;
  readonly steps: number;
  readonly activations: Record<string, string>;
  readonly hardSigmoid?: "keras2" | "keras3";
  readonly gateWeights: GateWeights;
  readonly stateNames: readonly string[];
  readonly notes: string[];
  readonly featureMap?: FeatureMapShape;

  /** values[((sample * steps + step) * names.length + nameIndex) * units + unit], in the evaluation dtype. */
  readonly values: Floats;
  /** inputs[(sample * steps + step) * inputDim + feature]: the x fed at each processing step. */
  readonly inputs: Floats;
  /** For each processing step, the time index of the input it read (reversed for go_backwards). */
  readonly timeIndex: Int32Array;
  /** mask[sample * steps + step] = 1 when the step was masked (state carried over unchanged). */
  readonly mask: Uint8Array;
  /** initialState[(sample * stateNames.length + s) * units + unit] */
  readonly initialState: Floats;

  private readonly nameIndex: Map<string, number>;

  constructor(init: TraceInit) {
    this.layer = init.layer;
    this.className = init.className;
    this.kind = init.kind;
    this.direction = init.direction;
    this.dtype = init.dtype;
    this.units = init.units;
    this.inputDim = init.inputDim;
    this.names = init.names;
    this.columns = init.columns;
    this.samples = init.samples;
    this.steps = init.steps;
    this.activations = init.activations;
    this.hardSigmoid = init.hardSigmoid;
    this.gateWeights = init.gateWeights;
    this.stateNames = init.stateNames;
    this.notes = init.notes ?? [];
    this.featureMap = init.featureMap;
    const floats = (n: number): Floats => (init.dtype === "float32" ? new Float32Array(n) : new Float64Array(n));
    this.values = floats(init.samples * init.steps * init.names.length * init.units);
    this.inputs = floats(init.samples * init.steps * init.inputDim);
    this.timeIndex = new Int32Array(init.steps);
    this.mask = new Uint8Array(init.samples * init.steps);
    this.initialState = floats(init.samples * init.stateNames.length * init.units);
    this.nameIndex = new Map(init.names.map((n, i) => [n, i]));
  }

  indexOf(name: string): number {
    const k = this.nameIndex.get(name);
    if (k === undefined) throw new Error(`trace of ${this.layer} has no intermediate '${name}'`);
    return k;
  }

  /** Offset of (sample, step, name) in `values`; the units follow contiguously. */
  offset(sample: number, step: number, name: number): number {
    return ((sample * this.steps + step) * this.names.length + name) * this.units;
  }

  get(sample: number, step: number, name: string, unit: number): number {
    return this.values[this.offset(sample, step, this.indexOf(name)) + unit];
  }

  /** The vector of one intermediate over units at (sample, step). */
  vector(sample: number, step: number, name: string): Floats {
    const o = this.offset(sample, step, this.indexOf(name));
    return this.values.subarray(o, o + this.units);
  }

  /** The input x fed at (sample, step). */
  input(sample: number, step: number): Floats {
    const o = (sample * this.steps + step) * this.inputDim;
    return this.inputs.subarray(o, o + this.inputDim);
  }

  /** A state vector (`h` or `c`) before the given processing step: the initial state at step 0. */
  stateBefore(sample: number, step: number, state: string): Floats {
    if (step === 0) {
      const s = this.stateNames.indexOf(state);
      if (s < 0) throw new Error(`trace of ${this.layer} has no state '${state}'`);
      const o = (sample * this.stateNames.length + s) * this.units;
      return this.initialState.subarray(o, o + this.units);
    }
    return this.vector(sample, step - 1, state);
  }
}

/** The output of a layer as Keras returns it: nested shape, flat values. */
export interface OutputTensor {
  /** Without the batch dimension: [units] or [steps, units]. */
  shape: number[];
  /** values per sample, concatenated: data[sample * prod(shape) + ...] */
  data: Float64Array;
  samples: number;
}

/** Everything `step` evaluated for one recurrent layer (one or two directions). */
export interface LayerTrace {
  layer: string;
  className: string;
  /** One trace, or forward and backward for Bidirectional. */
  directions: StepTrace[];
  /** Bidirectional merge mode (`concat`, `sum`, `mul`, `ave`, or null for a list). */
  mergeMode?: string | null;
  /** The layer's output(s): the main output first, then returned states when return_state is set. */
  outputs: { name: string; tensor: OutputTensor }[];
  notes: string[];
  /** Where the dtype policy or the stored weights are not float32: what Keras computes in and what was used (dtype-policy.ts). */
  precision?: PrecisionJson;
  /** A weights-only file evaluated without --config: each setting assumed because the file does not record it (eval/assumptions.ts). */
  assumptions?: string[];
}
