/**
 * Golden files of a whole model (format "keras-inspect golden", version 2), written by
 * `check MODEL --input ... --write-golden FILE`: the model input, the trace of every
 * recurrent layer (each as `step --json` writes it) and the model's outputs. `check
 * --golden FILE` replays the input and compares layer by layer, intermediate by
 * intermediate, and output by output, so a changed Dense after the LSTM is caught too.
 * A `step --json` document (version 1: one layer) is still read by golden.ts.
 *
 * The coverage warning says when the golden input cannot exercise a weight, so that a
 * passing golden check is not read as proof it could have failed:
 * - every step of a layer starts from a zero state (one step from the zero initial state):
 *   h₍ₜ₋₁₎ = 0, so rec = h₍ₜ₋₁₎·U is 0 whatever the recurrent kernel U holds;
 * - a gate of a unit is flat at every step: |pre-activation| beyond where its activation
 *   is constant in float32 (σ: 17.33 = 25·ln 2, where 1 − σ < 2⁻²⁵ rounds to 1 and σ < 3e-8
 *   is below any tolerance; tanh: 9.01 = 13·ln 2; hard sigmoid: its clip points), so that
 *   unit's weights of that gate do not change a value the check compares.
 */
import type { HardSigmoidVariant } from "../activations.js";
import { UsageError } from "../errors.js";
import { type BatchCoupling, predictAllSamples, type PredictResult } from "../eval/predict.js";
import { modelInputs } from "../eval/step.js";
import type { EvalDType, LayerTrace, StepTrace } from "../eval/trace.js";
import type { Model } from "../model.js";
import type { NdArray } from "../npy.js";
import { toJson } from "../present/json.js";
import { stepJson } from "../present/step.js";
import { goldenCheck, type GoldenTrace, parseGolden, readGoldenText } from "./golden.js";
import { type Tolerance, toleranceText, withinTolerance } from "./tolerance.js";
import { type Check, firstProblems } from "./types.js";

export const GOLDEN_FORMAT = "keras-inspect golden";
export const GOLDEN_VERSION = 2;

export interface GoldenModel {
  dtype: EvalDType;
  inputs: NdArray[];
  layers: GoldenTrace[];
  outputs: { name: string; shape: number[]; samples: number[][] }[];
}

/** What --golden read: one layer's `step --json` trace (version 1), or a model's golden file. */
export type GoldenFile = { trace: GoldenTrace; model?: undefined } | { model: GoldenModel; trace?: undefined };

/** The prediction a golden file records: every recurrent layer traced. */
export function goldenPrediction(model: Model, inputs: NdArray[], dtype: EvalDType, hardSigmoid?: HardSigmoidVariant): PredictResult & { grouped?: BatchCoupling } {
  const values = modelInputs(model, inputs, inputs.map(() => "--input"));
  return predictAllSamples(model, values, { dtype, hardSigmoid });
}

/** The golden document of a model for these inputs (NaN/Infinity written as strings by toJson). */
export function goldenDocument(model: Model, inputs: NdArray[], prediction: PredictResult, dtype: EvalDType) {
  const names = model.inputs?.map((i) => i.layer) ?? [];
  return {
    format: GOLDEN_FORMAT,
    version: GOLDEN_VERSION,
    dtype,
    inputs: inputs.map((a, k) => ({ name: names[k] ?? `input ${k}`, shape: a.shape, values: Array.from(a.data) })),
    layers: prediction.traces.map((t) => stepJson(t, {})),
    outputs: prediction.outputs.map((o) => {
      const [samples, ...shape] = o.value.shape;
      const size = shape.reduce((a, b) => a * b, 1);
      return { name: o.name, shape, samples: Array.from({ length: samples }, (_, s) => Array.from(o.value.data.subarray(s * size, (s + 1) * size))) };
    }),
  };
}

const num = (v: unknown): number => (typeof v === "number" ? v : v === "NaN" ? NaN : v === "Infinity" ? Infinity : v === "-Infinity" ? -Infinity : NaN);

export function readGoldenFile(file: string): GoldenFile {
  return parseGoldenFile(readGoldenText(file), file);
}

/** Reads a --golden file: a model golden (format/version) or a `step --json` trace. */
export function parseGoldenFile(text: string, label: string): GoldenFile {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${label}: not valid JSON (${(e as Error).message})`);
  }
  const d = doc as Record<string, unknown>;
  if (typeof d !== "object" || d === null || d.format !== GOLDEN_FORMAT) return { trace: parseGolden(text, label) };
  const bad = (why: string): never => {
    throw new UsageError(`${label}: not a keras-inspect golden file (${why}); write one with: keras-inspect check MODEL --input ... --write-golden ${label}`);
  };
  if (d.version !== GOLDEN_VERSION) bad(`version ${JSON.stringify(d.version)}; this keras-inspect reads version ${GOLDEN_VERSION}`);
  if (d.dtype !== "float32" && d.dtype !== "float64") bad("'dtype' is not float32 or float64");
  if (!Array.isArray(d.inputs) || !Array.isArray(d.layers) || !Array.isArray(d.outputs)) bad("no 'inputs', 'layers' or 'outputs' list");
  const inputs = (d.inputs as Record<string, unknown>[]).map((i, k): NdArray => {
    if (!Array.isArray(i?.shape) || !Array.isArray(i?.values)) return bad(`inputs[${k}] lacks 'shape' or 'values'`);
    const shape = (i.shape as unknown[]).map(Number);
    const data = Float64Array.from(i.values as unknown[], num);
    if (shape.reduce((a, b) => a * b, 1) !== data.length) bad(`inputs[${k}] has ${data.length} values for shape [${shape.join(", ")}]`);
    return { shape, data };
  });
  const layers = (d.layers as unknown[]).map((l, k) => parseGolden(JSON.stringify(l), `${label} layers[${k}]`));
  const outputs = (d.outputs as Record<string, unknown>[]).map((o, k) => {
    if (typeof o?.name !== "string" || !Array.isArray(o.shape) || !Array.isArray(o.samples)) return bad(`outputs[${k}] lacks 'name', 'shape' or 'samples'`);
    return { name: o.name, shape: (o.shape as unknown[]).map(Number), samples: (o.samples as unknown[][]).map((s) => (Array.isArray(s) ? s.map(num) : bad(`outputs[${k}] has a sample that is not a list`))) };
  });
  return { model: { dtype: d.dtype as EvalDType, inputs, layers, outputs } };
}

const where = (shape: number[], flat: number): string => {
  const idx: number[] = [];
  for (let a = shape.length - 1; a >= 0; a--) {
    idx.unshift(flat % shape[a]);
    flat = Math.floor(flat / shape[a]);
  }
  return `[${idx.join(", ")}]`;
};
const show = (v: number) => (Number.isFinite(v) ? v.toPrecision(7) : String(v));

/**
 * The checks of a model golden: one per recorded recurrent layer (`golden:LAYER`), one per
 * model output (`golden-output:NAME`), and the coverage warning. `inputs` replaces the
 * recorded input when given (it must have the same shape).
 */
export function goldenModelChecks(model: Model, golden: GoldenModel, label: string, tol: Tolerance, inputs: NdArray[] | undefined, hardSigmoid?: HardSigmoidVariant): Check[] {
  const prediction = goldenPrediction(model, inputs ?? golden.inputs, golden.dtype, hardSigmoid);
  if (prediction.grouped) {
    return [{ id: "golden", name: "golden", status: "skip", detail: `not run: layer '${prediction.grouped.layer}' scores each sample against the others of its batch, which records no gate trace` }];
  }
  const checks: Check[] = [];
  for (const g of golden.layers) {
    const trace = prediction.traces.find((t) => t.layer === g.layer);
    const id = `golden:${g.layer}`;
    const name = `golden ${g.layer}`;
    if (!trace) {
      checks.push({ id, name, status: "fail", detail: `${label} records recurrent layer '${g.layer}', which the model no longer evaluates` });
      continue;
    }
    const fresh = parseGolden(toJson(stepJson(trace, {})), "(fresh trace)");
    checks.push({ ...goldenCheck(g, fresh, trace.directions.map((d) => d.columns), tol, label, true), id, name });
  }
  for (const t of prediction.traces) {
    if (!golden.layers.some((g) => g.layer === t.layer)) {
      checks.push({ id: `golden:${t.layer}`, name: `golden ${t.layer}`, status: "fail", detail: `recurrent layer '${t.layer}' (${t.className}) is not in ${label}: the model gained a layer since it was written` });
    }
  }
  golden.outputs.forEach((g, k) => {
    const id = `golden-output:${g.name}`;
    const name = `golden output ${g.name}`;
    const o = prediction.outputs.find((p) => p.name === g.name) ?? (prediction.outputs.length === golden.outputs.length ? prediction.outputs[k] : undefined);
    if (!o) {
      checks.push({ id, name, status: "fail", detail: `${label} records output '${g.name}'; the model's outputs are now ${prediction.outputs.map((p) => p.name).join(", ")}` });
      return;
    }
    const [samples, ...shape] = o.value.shape;
    const size = shape.reduce((a, b) => a * b, 1);
    if (samples !== g.samples.length) {
      // Not the model failing: the input given is not the recorded one (exit 2, as for a layer's trace).
      throw new UsageError(`--golden ${label} records ${g.samples.length} sample(s) of output '${g.name}', the input given makes ${samples}: give the input it was written with, or none`);
    }
    if (shape.join() !== g.shape.join()) {
      checks.push({ id, name, status: "fail", detail: `output '${g.name}' was ${g.samples.length} × [${g.shape.join(", ")}] in ${label}, is ${samples} × [${shape.join(", ")}] now` });
      return;
    }
    let moved = 0;
    let maxAbsDiff = 0;
    let first: { sample: number; index: number; golden: number; now: number } | null = null;
    for (let s = 0; s < samples; s++) {
      for (let i = 0; i < size; i++) {
        const a = o.value.data[s * size + i];
        const e = g.samples[s][i];
        if (Number.isFinite(a) && Number.isFinite(e)) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - e));
        if (withinTolerance(a, e, tol)) continue;
        moved++;
        first ??= { sample: s, index: i, golden: e, now: a };
      }
    }
    const data = { tolerance: tol, values: samples * size, moved, maxAbsDiff, firstMoved: first };
    const tolText = toleranceText(tol);
    if (first) {
      const at = `${samples > 1 ? `sample ${first.sample + 1} ` : ""}${where(shape, first.index)}`;
      checks.push({ id, name, status: "fail", detail: `output '${g.name}' moved at ${at}: ${show(first.golden)} → ${show(first.now)}; ${moved} of ${samples * size} value(s) moved beyond ${tolText}`, data });
    } else {
      checks.push({ id, name, status: "pass", detail: `output '${g.name}': all ${samples * size} value(s) match ${label} within ${tolText} (max |Δ| ${maxAbsDiff === 0 ? "0" : maxAbsDiff.toExponential(2)})`, data });
    }
  });
  checks.push(coverageCheck(prediction.traces, label));
  return checks;
}

/** |pre-activation| beyond which an activation is constant in float32 (see the module comment); null: never flat. */
function flatBeyond(activation: string, hardSigmoid: HardSigmoidVariant | undefined): number | null {
  if (activation === "sigmoid") return 25 * Math.LN2;
  if (activation === "tanh") return 13 * Math.LN2;
  if (activation === "hard_sigmoid") return hardSigmoid === "keras3" ? 3 : 2.5;
  return null;
}

/** Gates (pre-activation intermediate, activation key) whose flatness is looked for, by kind. */
const GATE_ARGS: Record<string, [gate: string, arg: string, act: string][]> = {
  lstm: [["i", "arg_i", "recurrent_activation"], ["f", "arg_f", "recurrent_activation"], ["c", "arg_c", "activation"], ["o", "arg_o", "recurrent_activation"]],
  gru: [["z", "arg_z", "recurrent_activation"], ["r", "arg_r", "recurrent_activation"], ["h", "arg_h", "activation"]],
};

/** The coverage warning: weights the golden input cannot exercise, per layer and direction. */
export function coverageCheck(traces: LayerTrace[], label: string): Check {
  const problems: string[] = [];
  for (const trace of traces) {
    for (const t of trace.directions) {
      const layer = trace.directions.length > 1 ? `${trace.layer} (${t.direction})` : trace.layer;
      if (!seesRecurrentKernel(t)) {
        problems.push(`${layer}: every step starts from a zero state (one step from the zero initial state), so rec = h₍ₜ₋₁₎·U is 0 and the recurrent kernel is never exercised; record an input of several steps`);
      }
      const flat = flatGates(t);
      if (flat.length) {
        const shown = flat.slice(0, 4).map(({ unit, gates }) => `unit ${unit} gate${gates.length > 1 ? "s" : ""} ${gates.join(", ")}`).join("; ");
        problems.push(`${layer}: ${flat.length} unit(s) have a gate saturated at every step (|pre-activation| where its activation is flat in float32), so their weights of that gate are not exercised: ${shown}${flat.length > 4 ? "; …" : ""}`);
      }
    }
  }
  const base = { id: "golden-coverage", name: "golden coverage" };
  if (problems.length) return { ...base, status: "warn", detail: `the input of ${label} cannot exercise every weight: ${firstProblems(problems)}`, problems };
  return { ...base, status: "pass", detail: `every recurrent layer of ${label} sees a non-zero state and no gate is flat throughout` };
}

/** Whether some unmasked step starts from a non-zero state h (or c). */
function seesRecurrentKernel(t: StepTrace): boolean {
  if (t.kind === "simple_rnn" || t.kind === "lstm" || t.kind === "gru") {
    for (let s = 0; s < t.samples; s++) {
      for (let step = 0; step < t.steps; step++) {
        if (t.mask[s * t.steps + step]) continue;
        if (t.stateBefore(s, step, "h").some((v) => v !== 0)) return true;
      }
    }
    return false;
  }
  return true;
}

function flatGates(t: StepTrace): { unit: number; gates: string[] }[] {
  const gates = (GATE_ARGS[t.kind] ?? []).flatMap(([gate, arg, act]) => {
    const bound = flatBeyond(t.activations[act] ?? "", t.hardSigmoid);
    return bound !== null && t.names.includes(arg) ? [{ gate, arg, bound }] : [];
  });
  const out: { unit: number; gates: string[] }[] = [];
  let anyStep = false;
  for (let j = 0; j < t.units; j++) {
    const flat = gates.filter(({ arg, bound }) => {
      let seen = false;
      for (let s = 0; s < t.samples; s++) {
        for (let step = 0; step < t.steps; step++) {
          if (t.mask[s * t.steps + step]) continue;
          seen = true;
          // NaN is not flat: it is the finite check's and the comparison's business.
          if (!(Math.abs(t.get(s, step, arg, j)) > bound)) return false;
        }
      }
      anyStep ||= seen;
      return seen;
    });
    if (flat.length) out.push({ unit: j, gates: flat.map((g) => g.gate) });
  }
  return anyStep ? out : [];
}
