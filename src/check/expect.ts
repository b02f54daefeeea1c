/**
 * `--input X --expect Y`: our `predict` of X against Y, the output Keras'
 * model.predict(X) gave (saved as .npy or JSON), element by element within
 * atol + rtol·|y| (tolerance.ts says why the defaults are what they are).
 */
import { UsageError } from "../errors.js";
import type { PredictResult } from "../eval/predict.js";
import type { NdArray } from "../npy.js";
import { compareArrays, type Tolerance, toleranceText, unravel } from "./tolerance.js";
import type { Check } from "./types.js";

export interface ExpectedOutput {
  /** Where it came from (the --expect file), for messages. */
  label: string;
  /**
   * The model output it is for, as predict names outputs (`lstm_3`, `lstm_3:1`), from
   * `--expect NAME=FILE`; absent for a plain `--expect FILE`, taken in output order.
   */
  output?: string;
  array: NdArray;
}

/**
 * `--expect` as given: NAME=FILE names the output, FILE alone does not. An argument that is
 * itself an existing file (`y=1.npy`) is a file; a NAME holds no path separator.
 */
export function parseExpectArgument(arg: string, isFile: (path: string) => boolean): { output?: string; file: string } {
  const m = /^([^=/\\]+)=(.+)$/s.exec(arg);
  if (!m || isFile(arg)) return { file: arg };
  return { output: m[1], file: m[2] };
}

/** Each expected array with the model output it is compared with. */
function pairOutputs(result: PredictResult, expected: ExpectedOutput[]): [PredictResult["outputs"][number], ExpectedOutput][] {
  const names = result.outputs.map((o) => o.name);
  const named = expected.filter((e) => e.output !== undefined);
  if (named.length === 0) {
    if (expected.length !== result.outputs.length) {
      throw new UsageError(
        `the model has ${result.outputs.length} output(s) (${names.join(", ")}), ${expected.length} --expect file(s) given; give one per output, in output order, or name the outputs: --expect NAME=FILE`,
      );
    }
    return result.outputs.map((o, k) => [o, expected[k]]);
  }
  if (named.length !== expected.length) {
    throw new UsageError(`--expect: name every output (NAME=FILE) or none; ${expected.find((e) => e.output === undefined)!.label} has no name; the model's outputs: ${names.join(", ")}`);
  }
  const seen = new Set<string>();
  return expected.map((e) => {
    const o = result.outputs.find((x) => x.name === e.output);
    if (!o) throw new UsageError(`--expect ${e.output}=${e.label}: the model has no output '${e.output}'; its outputs: ${names.join(", ")}`);
    if (seen.has(o.name)) throw new UsageError(`--expect: output '${o.name}' is named twice`);
    seen.add(o.name);
    return [o, e];
  });
}

const shapeText = (s: number[]) => `(${s.join(", ")}${s.length === 1 ? "," : ""})`;

/** Y must have the output's shape; a Y without the batch axis is accepted for a batch of one. */
function fitExpected(actualShape: number[], exp: ExpectedOutput, outputName: string): number[] {
  const s = exp.array.shape;
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((d, k) => d === b[k]);
  if (same(s, actualShape)) return actualShape;
  if (actualShape[0] === 1 && same(s, actualShape.slice(1))) return actualShape;
  throw new UsageError(
    `--expect ${exp.label} has shape ${shapeText(s)}, but the model's output '${outputName}' for this input has shape ${shapeText(actualShape)}; save Y = model.predict(X) for the same X`,
  );
}

const num = (v: number) => (Number.isFinite(v) ? (Math.abs(v) >= 1e-3 && Math.abs(v) < 1e6 ? v.toPrecision(7) : v.toExponential(6)) : String(v));
const small = (v: number) => (v === 0 ? "0" : Number.isFinite(v) ? v.toExponential(2) : String(v));

export function expectCheck(result: PredictResult, expected: ExpectedOutput[], tol: Tolerance): Check {
  const outputs = pairOutputs(result, expected).map(([o, exp]) => {
    const shape = fitExpected(o.value.shape, exp, o.name);
    const c = compareArrays(o.value.data, exp.array.data, tol);
    return { name: o.name, file: exp.label, shape, ...c };
  });
  const data = {
    atol: tol.atol,
    rtol: tol.rtol,
    outputs: outputs.map((o) => ({
      name: o.name,
      file: o.file,
      shape: o.shape,
      count: o.count,
      mismatches: o.mismatches,
      maxAbsDiff: o.maxAbsDiff,
      worst: o.worst && { index: unravel(o.worst.index, o.shape), actual: o.worst.actual, expected: o.worst.expected, absDiff: o.worst.absDiff },
    })),
  };
  const failing = outputs.filter((o) => o.mismatches > 0);
  const tolText = toleranceText(tol);
  if (failing.length === 0) {
    const total = outputs.reduce((s, o) => s + o.count, 0);
    const maxDiff = Math.max(0, ...outputs.map((o) => o.maxAbsDiff));
    return {
      id: "expect",
      name: "expect",
      status: "pass",
      detail: `${total} value(s) of ${outputs.map((o) => o.name).join(", ")} match ${outputs.map((o) => o.file).join(", ")} within ${tolText} (max |Δ| ${small(maxDiff)})`,
      data,
    };
  }
  // The worst element over all outputs: the one furthest outside its allowed difference.
  const worstOut = failing.reduce((a, b) => (b.worst!.excess > a.worst!.excess ? b : a));
  const w = worstOut.worst!;
  const allowed = tol.atol + tol.rtol * (Number.isFinite(w.expected) ? Math.abs(w.expected) : 0);
  const where = `${worstOut.name}[${unravel(w.index, worstOut.shape).join(", ")}]`;
  const problems = failing.map((o) => `${o.name}: ${o.mismatches} of ${o.count} value(s) outside ${tolText}${o.maxAbsDiff > 0 ? ` (max |Δ| ${small(o.maxAbsDiff)})` : ""}`);
  // A NaN or Inf against a number has no meaningful |Δ|: the two values say it all.
  const gap = Number.isFinite(w.absDiff) ? `, |Δ| ${small(w.absDiff)} > ${small(allowed)} allowed (${tolText})` : "";
  return {
    id: "expect",
    name: "expect",
    status: "fail",
    detail: `worst ${where}: ours ${num(w.actual)}, expected ${num(w.expected)}${gap}; ${problems.join("; ")}`,
    problems,
    data,
  };
}
