/**
 * The value checks: no NaN or Inf in any stored tensor (`finite`), no weight larger
 * than a limit the user sets (`max-abs`, for exploding weights), and, for a given
 * input, how saturated the recurrent layers' gates are (`saturation`, information only).
 */
import type { LayerTrace } from "../eval/trace.js";
import { type Model, walkLayers } from "../model.js";
import { tensorStats } from "../stats.js";
import { type Check, firstProblems } from "./types.js";

export function finiteCheck(model: Model): Check {
  const problems: string[] = [];
  const bad: { tensor: string; nan: number; inf: number; count: number }[] = [];
  let values = 0;
  for (const { layer, path } of walkLayers(model.layers)) {
    for (const t of layer.weights) {
      const s = tensorStats(t.data);
      values += s.count;
      if (s.nan > 0 || s.inf > 0) {
        const what = [s.nan ? `${s.nan} NaN` : "", s.inf ? `${s.inf} Inf` : ""].filter(Boolean).join(" and ");
        problems.push(`${path}/${t.name} has ${what} (of ${s.count} values)`);
        bad.push({ tensor: `${path}/${t.name}`, nan: s.nan, inf: s.inf, count: s.count });
      }
    }
  }
  const data = { values, tensors: bad };
  if (problems.length) return { id: "finite", name: "finite", status: "fail", detail: firstProblems(problems), problems, data };
  return { id: "finite", name: "finite", status: "pass", detail: `no NaN or Inf in ${values} value(s)`, data };
}

/** Largest |w| per tensor against a limit; NaN/Inf are the `finite` check's business and skipped here. */
export function maxAbsCheck(model: Model, limit: number): Check {
  const problems: string[] = [];
  let largest: { tensor: string; value: number } | null = null;
  const over: { tensor: string; maxAbs: number; count: number }[] = [];
  for (const { layer, path } of walkLayers(model.layers)) {
    for (const t of layer.weights) {
      let maxAbs = 0;
      let count = 0;
      for (let k = 0; k < t.data.length; k++) {
        const a = Math.abs(t.data[k]);
        if (!Number.isFinite(a)) continue;
        if (a > maxAbs) maxAbs = a;
        if (a > limit) count++;
      }
      const name = `${path}/${t.name}`;
      if (largest === null || maxAbs > largest.value) largest = { tensor: name, value: maxAbs };
      if (count > 0) {
        over.push({ tensor: name, maxAbs, count });
        problems.push(`${name}: max |w| ${maxAbs.toPrecision(4)} > ${limit} (${count} of ${t.data.length} values)`);
      }
    }
  }
  const data = { limit, largest, over };
  if (problems.length) return { id: "max-abs", name: "max |w|", status: "fail", detail: firstProblems(problems), problems, data };
  return {
    id: "max-abs",
    name: "max |w|",
    status: "pass",
    detail: largest ? `largest |w| is ${largest.value.toPrecision(4)} (${largest.tensor}), within ${limit}` : "no weights",
    data,
  };
}

/**
 * A gate value counts as saturated when it is below 0.01 or above 0.99: the gate is
 * then (almost) closed or open whatever its input does, so the unit no longer
 * responds to it (with the sigmoid, |pre-activation| > 4.6; with hard_sigmoid,
 * clipped at 0 or 1).
 */
export const SATURATION_LOW = 0.01;
export const SATURATION_HIGH = 0.99;

/** The gates whose saturation is reported, by recurrent kind: LSTM input, forget, output; GRU update, reset. */
const SATURATION_GATES: Record<string, string[]> = { lstm: ["i", "f", "o"], gru: ["z", "r"] };

export interface GateSaturation {
  gate: string;
  /** (sample, step, unit) triples counted (masked steps excluded). */
  count: number;
  low: number;
  high: number;
  /** (low + high) / count */
  share: number;
}

export interface LayerSaturation {
  layer: string;
  className: string;
  direction: "forward" | "backward";
  gates: GateSaturation[];
}

export function gateSaturation(traces: LayerTrace[]): LayerSaturation[] {
  const out: LayerSaturation[] = [];
  for (const trace of traces) {
    for (const t of trace.directions) {
      const gates = SATURATION_GATES[t.kind];
      if (!gates) continue;
      out.push({
        layer: t.layer,
        className: t.className,
        direction: t.direction,
        gates: gates.map((gate) => {
          let low = 0;
          let high = 0;
          let count = 0;
          for (let s = 0; s < t.samples; s++) {
            for (let step = 0; step < t.steps; step++) {
              if (t.mask[s * t.steps + step]) continue;
              const v = t.vector(s, step, gate);
              for (let j = 0; j < t.units; j++) {
                count++;
                if (v[j] < SATURATION_LOW) low++;
                else if (v[j] > SATURATION_HIGH) high++;
              }
            }
          }
          return { gate, count, low, high, share: count ? (low + high) / count : 0 };
        }),
      });
    }
  }
  return out;
}

const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.001 ? 2 : 1)}%`;

/**
 * Saturation of every LSTM/GRU layer reached by the input. `unreached` names the
 * recurrent layers that could not be evaluated, with why.
 */
export function saturationCheck(traces: LayerTrace[] | null, reason: string | null, unreached: string[] = []): Check {
  if (traces === null) return { id: "saturation", name: "saturation", status: "skip", detail: reason ?? "needs --input" };
  const layers = gateSaturation(traces);
  if (layers.length === 0) {
    return {
      id: "saturation",
      name: "saturation",
      status: "skip",
      detail: unreached.length ? `no LSTM/GRU layer could be evaluated: ${unreached.join("; ")}` : "the model has no LSTM or GRU layer with gates",
    };
  }
  const parts = layers.map(
    (l) => `${l.layer}${l.direction === "backward" ? " (backward)" : ""}: ${l.gates.map((g) => `${g.gate} ${pct(g.share)}`).join(", ")}`,
  );
  return {
    id: "saturation",
    name: "saturation",
    status: "info",
    detail: `share of (step, unit) with gate < ${SATURATION_LOW} or > ${SATURATION_HIGH} for this input: ${parts.join("; ")}${unreached.length ? `; not evaluated: ${unreached.join("; ")}` : ""}`,
    data: { low: SATURATION_LOW, high: SATURATION_HIGH, layers, unreached },
  };
}
