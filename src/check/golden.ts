/**
 * `--golden TRACE.json`: a regression check of every intermediate. TRACE.json is a
 * `step --json` document saved earlier; the same layer is evaluated again on the
 * same input and the two traces are compared value by value. The first value that
 * moved (earliest step, then sample, direction, and the step table's column order,
 * then unit) is named with the gate it belongs to: changing one weight of a gate
 * moves that gate's pre-activation (x_f for kernel_f and bias_f) or its activation
 * (f for recurrent_kernel_f, from step 2) before anything else.
 *
 * Input: with `--input`, the model's input (the layers before this one are run
 * again, so they are regression-checked too). Without it, the layer input recorded
 * in the trace (`x` at each step) is fed straight into the layer.
 * The trace does not record initial states: save it without --h0/--c0.
 */
import { readFileSync, statSync } from "node:fs";
import { systemReason, UsageError } from "../errors.js";
import { setOwn } from "../lookup.js";
import type { HardSigmoidVariant } from "../activations.js";
import type { StepRequest } from "../eval/step.js";
import type { EvalDType } from "../eval/trace.js";
import type { NdArray } from "../npy.js";
import { type Tolerance, toleranceText, withinTolerance } from "./tolerance.js";
import type { Check } from "./types.js";

/** Largest golden file read. */
const MAX_GOLDEN_BYTES = 256 * 1024 * 1024;

type Num = number;

export interface GoldenStep {
  t: number;
  x: Num[];
  masked: boolean;
  values: Record<string, Num[]>;
}

export interface GoldenDirection {
  direction: string;
  units: number;
  hardSigmoid: HardSigmoidVariant | null;
  samples: GoldenStep[][];
}

export interface GoldenTrace {
  layer: string;
  className: string;
  dtype: EvalDType;
  directions: GoldenDirection[];
  outputs: { name: string; shape: number[]; samples: Num[][] }[];
}

function toNumber(v: unknown, where: string, label: string): number {
  if (typeof v === "number") return v;
  if (v === "NaN") return NaN;
  if (v === "Infinity") return Infinity;
  if (v === "-Infinity") return -Infinity;
  throw new UsageError(`${label}: ${where} is ${JSON.stringify(v)?.slice(0, 30)}, not a number; is it a 'keras-inspect step --json' document?`);
}

const numbers = (v: unknown, where: string, label: string): number[] => {
  if (!Array.isArray(v)) throw new UsageError(`${label}: ${where} is not a list of numbers; is it a 'keras-inspect step --json' document?`);
  return v.map((x, k) => toNumber(x, `${where}[${k}]`, label));
};

const STEP_KEYS = new Set(["t", "x", "masked"]);

/** Parses a `step --json` document (as `toJson` writes it: NaN/Inf as strings). `label` names the file. */
export function parseGolden(text: string, label: string): GoldenTrace {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`${label}: not valid JSON (${(e as Error).message})`);
  }
  const notTrace = (why: string): never => {
    throw new UsageError(`${label}: not a 'keras-inspect step --json' document (${why}); save one with: keras-inspect step MODEL --input ... --json > ${label}`);
  };
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) return notTrace("not a JSON object");
  const d = doc as Record<string, unknown>;
  if (typeof d.layer !== "string") notTrace("no 'layer'");
  if (d.dtype !== "float32" && d.dtype !== "float64") notTrace("'dtype' is not float32 or float64");
  if (!Array.isArray(d.directions) || d.directions.length === 0) notTrace("no 'directions'");
  const directions = (d.directions as unknown[]).map((dirRaw, di): GoldenDirection => {
    const dir = dirRaw as Record<string, unknown>;
    if (typeof dir !== "object" || dir === null || !Array.isArray(dir.samples) || typeof dir.units !== "number") notTrace(`directions[${di}] lacks 'units' or 'samples'`);
    const samples = (dir.samples as unknown[]).map((sRaw, s) => {
      if (!Array.isArray(sRaw)) return notTrace(`directions[${di}].samples[${s}] is not a list of steps`);
      return sRaw.map((stRaw, k): GoldenStep => {
        const st = stRaw as Record<string, unknown>;
        if (typeof st !== "object" || st === null || typeof st.t !== "number") return notTrace(`step ${k + 1} of sample ${s + 1} has no 't'`);
        const where = `directions[${di}].samples[${s}][${k}]`;
        const values: Record<string, number[]> = {};
        for (const [key, v] of Object.entries(st)) if (!STEP_KEYS.has(key)) setOwn(values, key, numbers(v, `${where}.${key}`, label));
        return { t: st.t, x: numbers(st.x, `${where}.x`, label), masked: st.masked === true, values };
      });
    });
    const hs = dir.hardSigmoid === "keras2" || dir.hardSigmoid === "keras3" ? dir.hardSigmoid : null;
    return { direction: String(dir.direction ?? "forward"), units: dir.units as number, hardSigmoid: hs, samples };
  });
  const outputs = Array.isArray(d.outputs)
    ? (d.outputs as Record<string, unknown>[]).map((o, k) => ({
        name: String(o?.name ?? `output ${k}`),
        shape: Array.isArray(o?.shape) ? (o.shape as number[]) : [],
        samples: Array.isArray(o?.samples) ? (o.samples as unknown[]).map((s, i) => numbers(s, `outputs[${k}].samples[${i}]`, label)) : [],
      }))
    : [];
  for (const dir of directions) {
    for (const sample of dir.samples) {
      for (const st of sample) {
        for (const [name, v] of Object.entries(st.values)) {
          if (v.length !== dir.units) {
            throw new UsageError(
              `${label}: '${name}' has ${v.length} value(s) per step but the layer has ${dir.units} units: the trace was saved with --unit; save the golden trace without --unit`,
            );
          }
        }
      }
    }
  }
  return { layer: d.layer as string, className: String(d.class ?? ""), dtype: d.dtype as EvalDType, directions, outputs };
}

export function readGolden(file: string): GoldenTrace {
  return parseGolden(readGoldenText(file), file);
}

/** The text of a --golden file, refused with one line when it cannot be read or is too large. */
export function readGoldenText(file: string): string {
  let text: string;
  try {
    const st = statSync(file);
    if (st.isDirectory()) throw new UsageError(`--golden ${file}: is a directory, not a trace file`);
    if (st.size > MAX_GOLDEN_BYTES) throw new UsageError(`--golden ${file}: ${st.size} bytes is over the ${MAX_GOLDEN_BYTES}-byte limit`);
    text = readFileSync(file, "utf8");
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`--golden ${file}: ${systemReason(e)}`);
  }
  return text;
}

/**
 * The `step` request that reproduces the golden trace: the model input when given,
 * else the layer input recorded at each step, put back in time order.
 */
export function goldenRequest(golden: GoldenTrace, inputs: NdArray[] | undefined, label: string, hardSigmoid?: HardSigmoidVariant): StepRequest {
  const base = { layer: golden.layer, dtype: golden.dtype, hardSigmoid: hardSigmoid ?? golden.directions[0].hardSigmoid ?? undefined };
  if (inputs && inputs.length > 0) return { ...base, inputs };
  const dir = golden.directions[0];
  if (dir.samples.some((s) => s.some((st) => st.masked))) {
    throw new UsageError(`--golden ${label}: the trace has masked steps, which the recorded layer input cannot reproduce; give the model input it was saved with (--input)`);
  }
  const B = dir.samples.length;
  const T = dir.samples[0]?.length ?? 0;
  const D = dir.samples[0]?.[0]?.x.length ?? 0;
  if (B === 0 || T === 0 || D === 0) throw new UsageError(`--golden ${label}: the trace has no steps`);
  const data = new Float64Array(B * T * D);
  dir.samples.forEach((sample, s) => {
    if (sample.length !== T) throw new UsageError(`--golden ${label}: sample ${s + 1} has ${sample.length} steps, sample 1 has ${T}`);
    sample.forEach((st) => {
      if (st.x.length !== D || st.t < 0 || st.t >= T) throw new UsageError(`--golden ${label}: sample ${s + 1} has a step with a bad 't' or 'x'`);
      data.set(st.x, (s * T + st.t) * D);
    });
  });
  return { ...base, inputs: [{ shape: [B, T, D], data }], rawInput: true };
}

/** What each intermediate belongs to, for naming what moved. */
const ROLE: Record<string, string> = {
  x_i: "gate i (input)", rec_i: "gate i (input)", i: "gate i (input)",
  x_f: "gate f (forget)", rec_f: "gate f (forget)", f: "gate f (forget)",
  x_c: "gate c (candidate)", rec_c: "gate c (candidate)", c_tilde: "gate c (candidate)",
  x_o: "gate o (output)", rec_o: "gate o (output)", o: "gate o (output)",
  c: "cell state c",
  x_z: "gate z (update)", rec_z: "gate z (update)", z: "gate z (update)",
  x_r: "gate r (reset)", rec_r: "gate r (reset)", r: "gate r (reset)",
  x_h: "gate h (candidate)", rec_h: "gate h (candidate)", hh: "gate h (candidate)",
  h: "hidden state h",
  x: "the layer's input",
};

/** The gate letter an intermediate belongs to, or null for states and inputs. */
export function gateOf(intermediate: string): string | null {
  const m = /^gate (\w)/.exec(ROLE[intermediate] ?? "");
  return m ? m[1] : null;
}

export interface Moved {
  intermediate: string;
  role: string;
  gate: string | null;
  direction: string;
  sample: number;
  /** 0-based processing step, and the time index it read. */
  step: number;
  t: number;
  unit: number;
  golden: number;
  now: number;
  absDiff: number;
}

const num = (v: number) => (Number.isFinite(v) ? v.toFixed(6) : String(v));

/** "N of M value(s) moved beyond tol", saying how many became (or were) NaN/±Infinity, and the largest finite |Δ|. */
function movedText(moved: number, nonFinite: number, count: number, tolText: string, maxAbsDiff: number): string {
  const text = `${moved} of ${count} value(s) moved beyond ${tolText}`;
  if (nonFinite === 0) return `${text}, max |Δ| ${small(maxAbsDiff)}`;
  const which = `${nonFinite === moved ? "all" : nonFinite} to or from NaN/±Infinity`;
  return nonFinite === moved ? `${text} (${which})` : `${text} (${which}), max |Δ| of the others ${small(maxAbsDiff)}`;
}
const small = (v: number) => (v === 0 ? "0" : Number.isFinite(v) ? v.toExponential(2) : String(v));

/**
 * Compares the golden trace with a fresh `stepJson` of the same layer. `columns`
 * lists the fresh trace's intermediates in the step table's order, per direction.
 */
export function goldenCheck(golden: GoldenTrace, fresh: GoldenTrace, columns: readonly (readonly string[])[], tol: Tolerance, label: string, compareInput: boolean): Check {
  const base = { id: "golden", name: "golden" };
  const fail = (detail: string, data: unknown = null): Check => ({ ...base, status: "fail", detail, data });
  if (golden.className && fresh.className && golden.className !== fresh.className) {
    return fail(`${golden.layer} was ${golden.className} in ${label}, is ${fresh.className} now`);
  }
  if (golden.directions.length !== fresh.directions.length) {
    return fail(`${label} has ${golden.directions.length} direction(s), the layer now has ${fresh.directions.length}`);
  }
  for (let d = 0; d < fresh.directions.length; d++) {
    const g = golden.directions[d];
    const f = fresh.directions[d];
    if (g.units !== f.units) return fail(`${golden.layer}${fresh.directions.length > 1 ? ` (${f.direction})` : ""} had ${g.units} units in ${label}, has ${f.units} now`);
    if (g.samples.length !== f.samples.length || g.samples[0]?.length !== f.samples[0]?.length) {
      // Not the model failing: the two traces are of different inputs, so nothing was compared (exit 2, not 1).
      throw new UsageError(`--golden ${label} has ${g.samples.length} sample(s) × ${g.samples[0]?.length ?? 0} step(s), the input given ${f.samples.length} × ${f.samples[0]?.length ?? 0}: give the input the trace was saved with`);
    }
    const missing = columns[d].filter((c) => !(c in (g.samples[0]?.[0]?.values ?? {})));
    if (missing.length) return fail(`${label} lacks intermediate(s) ${missing.join(", ")} that ${fresh.className} records`);
  }

  let first: Moved | null = null;
  let moved = 0;
  /** Moved values with NaN or ±Infinity on either side: they have no |Δ| to report. */
  let movedNonFinite = 0;
  let count = 0;
  let maxAbsDiff = 0;
  const steps = fresh.directions[0].samples[0].length;
  const samples = fresh.directions[0].samples.length;
  for (let step = 0; step < steps; step++) {
    for (let s = 0; s < samples; s++) {
      for (let d = 0; d < fresh.directions.length; d++) {
        const gs = golden.directions[d].samples[s][step];
        const fs = fresh.directions[d].samples[s][step];
        const names = compareInput ? ["x", ...columns[d]] : columns[d];
        for (const name of names) {
          const gv = name === "x" ? gs.x : gs.values[name];
          const fv = name === "x" ? fs.x : fs.values[name];
          for (let j = 0; j < fv.length; j++) {
            count++;
            const a = fv[j];
            const e = gv[j];
            if (Number.isFinite(a) && Number.isFinite(e)) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a - e));
            if (withinTolerance(a, e, tol)) continue;
            moved++;
            if (!Number.isFinite(a) || !Number.isFinite(e)) movedNonFinite++;
            if (!first) {
              first = {
                intermediate: name,
                role: ROLE[name] ?? name,
                gate: gateOf(name),
                direction: fresh.directions[d].direction,
                sample: s,
                step,
                t: fs.t,
                unit: j,
                golden: e,
                now: a,
                absDiff: Math.abs(a - e),
              };
            }
          }
        }
      }
    }
  }
  // The layer's outputs are the last intermediates; compared for completeness.
  let outputsMoved = 0;
  fresh.outputs.forEach((o, k) => {
    const g = golden.outputs[k];
    if (!g) return;
    o.samples.forEach((vals, s) => vals.forEach((v, i) => {
      const e = g.samples[s]?.[i];
      if (e === undefined || !withinTolerance(v, e, tol)) outputsMoved++;
    }));
  });
  const data = { tolerance: tol, values: count, moved, movedNonFinite, maxAbsDiff, firstMoved: first, outputsMoved };
  const tolText = toleranceText(tol);
  if (first) {
    const m: Moved = first;
    const where = `step ${m.step + 1} (t=${m.t})${samples > 1 ? `, sample ${m.sample + 1}` : ""}${fresh.directions.length > 1 ? `, ${m.direction} direction` : ""}${m.intermediate === "x" ? "" : `, unit ${m.unit}`}`;
    const what = m.intermediate === "x" ? `the layer's input x (feature ${m.unit})` : `${m.intermediate} (${m.role})`;
    return {
      ...base,
      status: "fail",
      detail: `${golden.layer}: first moved ${what} at ${where}: ${num(m.golden)} → ${num(m.now)}${Number.isFinite(m.absDiff) ? ` (|Δ| ${small(m.absDiff)})` : ""}; ${movedText(moved, movedNonFinite, count, tolText, maxAbsDiff)}`,
      data,
    };
  }
  if (outputsMoved > 0) return { ...base, status: "fail", detail: `${golden.layer}: every step matches ${label}, but ${outputsMoved} output value(s) moved beyond ${tolText}`, data };
  return {
    ...base,
    status: "pass",
    detail: `${golden.layer}: all ${count} intermediate value(s) of ${samples} sample(s) × ${steps} step(s) match ${label} within ${tolText} (max |Δ| ${small(maxAbsDiff)})`,
    data,
  };
}
