/**
 * `check`: runs every applicable check on a loaded model and returns them as data.
 *
 * Always: structure, dtypes, finite, plausible (a warning). On request: max-abs, require-layer, keras-version,
 * reference (weights against a known-good file), expect (needs an input), golden. With
 * an input: saturation (information only).
 * Behaviour checks (expect, golden, saturation) are skipped when the structure check
 * failed: a model whose tensors disagree with its config cannot be evaluated, and the
 * structure check already names the reason.
 *
 * Problems with the model are failed checks. Problems with what the user asked
 * (an --expect of the wrong shape, an unreadable trace, a model keras-inspect cannot
 * evaluate) throw InspectError: the tool could not run (exit 2).
 */
import type { HardSigmoidVariant } from "../activations.js";
import { InspectError, UnsupportedError, UsageError } from "../errors.js";
import { type BatchCoupling, predictAllSamples, type PredictResult } from "../eval/predict.js";
import { evaluateStep, modelInputs, recurrentLayers } from "../eval/step.js";
import type { EvalDType, LayerTrace } from "../eval/trace.js";
import type { Model } from "../model.js";
import type { NdArray } from "../npy.js";
import { toJson } from "../present/json.js";
import { stepJson } from "../present/step.js";
import { type LayerRequirement, kerasVersionCheck, requireLayerCheck, type VersionRange } from "./contract.js";
import { type ExpectedOutput, expectCheck } from "./expect.js";
import { goldenCheck, goldenRequest, type GoldenTrace, parseGolden } from "./golden.js";
import { coverageCheck, type GoldenModel, goldenModelChecks } from "./golden-model.js";
import { referenceCheck, type ReferenceOptions } from "./reference.js";
import { dtypeCheck, structureCheck } from "./structure.js";
import { DEFAULT_ATOL, DEFAULT_RTOL, type Tolerance } from "./tolerance.js";
import { type Check, type CheckReport, makeReport } from "./types.js";
import { finiteCheck, maxAbsCheck, plausibleCheck, saturationCheck } from "./values.js";

export interface CheckOptions {
  maxAbs?: number;
  requireLayers?: LayerRequirement[];
  kerasVersion?: VersionRange;
  /** The model's inputs (--input / --input-file), in model input order. */
  inputs?: NdArray[];
  expected?: ExpectedOutput[];
  /** --golden: one layer's `step --json` trace, or a model's golden file (golden-model.ts). */
  golden?: { label: string; trace?: GoldenTrace; model?: GoldenModel };
  tolerance?: Tolerance;
  dtype?: EvalDType;
  hardSigmoid?: HardSigmoidVariant;
  /**
   * --reference: a known-good model whose weights this one must equal within atol (a
   * quantized export: within half a step, unless exact); `partial`: this one holds part of it.
   */
  reference?: { model: Model; label: string } & ReferenceOptions;
  /** --strict: warnings fail the run. */
  strict?: boolean;
}

export function runChecks(model: Model, opts: CheckOptions = {}): CheckReport {
  const tol = opts.tolerance ?? { atol: DEFAULT_ATOL, rtol: DEFAULT_RTOL };
  const dtype = opts.dtype ?? "float32";
  const inputs = opts.inputs && opts.inputs.length > 0 ? opts.inputs : undefined;
  if (opts.expected && opts.expected.length > 0 && !inputs) {
    throw new UsageError("--expect needs the input it was computed from: pass --input or --input-file X, where Y = model.predict(X)");
  }
  const checks: Check[] = [];
  const structure = structureCheck(model);
  checks.push(structure, dtypeCheck(model), finiteCheck(model), plausibleCheck(model));
  if (opts.maxAbs !== undefined) checks.push(maxAbsCheck(model, opts.maxAbs));
  for (const req of opts.requireLayers ?? []) checks.push(requireLayerCheck(model, req));
  if (opts.kerasVersion) checks.push(kerasVersionCheck(model, opts.kerasVersion));
  if (opts.reference) checks.push(referenceCheck(model, opts.reference.model, opts.reference.label, opts.reference));

  const blocked = structure.status === "fail" ? "not run: the structure check failed, so the model cannot be evaluated" : null;
  let prediction: (PredictResult & { grouped?: BatchCoupling }) | null = null;
  let predictError: InspectError | null = null;
  if (!blocked && inputs) {
    // Inputs that do not fit the model are the user's error (exit 2), not a check result.
    const values = modelInputs(model, inputs, inputs.map(() => "--input"));
    try {
      // An attention layer that scores samples against each other: Keras' batches of 32 decide the outputs.
      prediction = predictAllSamples(model, values, { dtype, hardSigmoid: opts.hardSigmoid });
    } catch (e) {
      // A layer keras-inspect cannot evaluate: --expect cannot run (exit 2), saturation still can, layer by layer.
      if (!(e instanceof UnsupportedError)) throw e;
      predictError = e;
    }
  }

  if (opts.expected && opts.expected.length > 0) {
    if (blocked) checks.push({ id: "expect", name: "expect", status: "skip", detail: blocked });
    else {
      if (predictError) throw predictError;
      checks.push(expectCheck(prediction!, opts.expected, tol));
    }
  }

  if (opts.golden) {
    if (blocked) checks.push({ id: "golden", name: "golden", status: "skip", detail: blocked });
    else {
      const { label, trace: golden, model: goldenModel } = opts.golden;
      if (goldenModel) checks.push(...goldenModelChecks(model, goldenModel, label, tol, inputs, opts.hardSigmoid));
      else if (golden) {
        const req = goldenRequest(golden, inputs, label, opts.hardSigmoid);
        const { trace } = evaluateStep(model, req);
        const fresh = parseGolden(toJson(stepJson(trace, {})), "(fresh trace)");
        checks.push(goldenCheck(golden, fresh, trace.directions.map((d) => d.columns), tol, label, !req.rawInput), coverageCheck([trace], label));
      }
    }
  }

  if (inputs) {
    if (blocked) checks.push({ id: "saturation", name: "saturation", status: "skip", detail: blocked });
    else if (prediction?.grouped) {
      const g = prediction.grouped;
      checks.push({ id: "saturation", name: "saturation", status: "skip", detail: `not run: layer '${g.layer}' (${g.className}) scores each sample against the others of its batch, so the samples were predicted in Keras' batches of 32, which record no gate trace; give at most 32 samples` });
    } else if (prediction) checks.push(saturationCheck(prediction.traces, null));
    else checks.push(saturationByLayer(model, inputs, dtype, opts.hardSigmoid, predictError));
  }

  const judged = opts.strict ? checks.map((k): Check => (k.status === "warn" ? { ...k, status: "fail", detail: `${k.detail} (a warning; --strict fails it)` } : k)) : checks;
  return makeReport(model.source, model.format, model.kerasVersion ?? null, judged);
}

/**
 * When the whole model cannot be evaluated (a layer after the recurrent ones is not
 * supported), each recurrent layer is still evaluated up to itself.
 */
function saturationByLayer(model: Model, inputs: NdArray[], dtype: EvalDType, hardSigmoid: HardSigmoidVariant | undefined, why: InspectError | null): Check {
  const traces: LayerTrace[] = [];
  const unreached: string[] = [];
  const done = new Set<string>();
  for (const { path } of recurrentLayers(model)) {
    const top = path.split("/").slice(0, -1).join("/");
    if (done.has(top)) continue; // a direction of a Bidirectional already evaluated
    try {
      const { trace, resolved } = evaluateStep(model, { layer: path, inputs, dtype, hardSigmoid });
      done.add(resolved.callPath);
      if (!traces.some((t) => t.layer === trace.layer)) traces.push(trace);
    } catch (e) {
      if (!(e instanceof InspectError)) throw e;
      unreached.push(`${path} (${e.message})`);
    }
  }
  if (traces.length === 0 && unreached.length === 0 && why) return saturationCheck(null, `cannot evaluate the model: ${why.message}`);
  return saturationCheck(traces, null, unreached);
}
