/**
 * The value checks: no NaN or Inf in any stored tensor (`finite`), no weight larger
 * than a limit the user sets (`max-abs`, for exploding weights), and, for a given
 * input, how saturated the recurrent layers' gates are (`saturation`, information only).
 */
import type { LayerTrace } from "../eval/trace.js";
import { type Model, scanTensor, type Tensor, tensorSize, walkLayers } from "../model.js";
import { storedTensorStats } from "../stats.js";
import { type Check, firstProblems } from "./types.js";

export function finiteCheck(model: Model): Check {
  const problems: string[] = [];
  const bad: { tensor: string; nan: number; inf: number; count: number }[] = [];
  let values = 0;
  for (const { layer, path } of walkLayers(model.layers)) {
    for (const t of layer.weights) {
      const s = storedTensorStats(t);
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
      scanTensor(t, (values) => {
        for (let k = 0; k < values.length; k++) {
          const a = Math.abs(values[k]);
          if (!Number.isFinite(a)) continue;
          if (a > maxAbs) maxAbs = a;
          if (a > limit) count++;
        }
      });
      const name = `${path}/${t.name}`;
      if (largest === null || maxAbs > largest.value) largest = { tensor: name, value: maxAbs };
      if (count > 0) {
        over.push({ tensor: name, maxAbs, count });
        problems.push(`${name}: max |w| ${maxAbs.toPrecision(4)} > ${limit} (${count} of ${tensorSize(t.shape)} values)`);
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

/**
 * `plausible` (a warning, never a failure unless --strict): a value no training run
 * leaves in a float32 tensor, the mark of a corrupted or mis-decoded file.
 *
 * - |w| > 2^64 ≈ 1.8e19, the square root of float32's largest value: beyond it w² is
 *   Infinity in float32, so an L2 penalty, a weight norm or any product of two such
 *   weights overflows, and the training step that would have produced it diverges.
 * - |w − median| > PLAUSIBLE_SPREAD · MAD, in a tensor of at least PLAUSIBLE_MIN_VALUES
 *   finite values, where MAD = median |w − median| (the robust spread, untouched by the
 *   outlier itself; the mean |w − median| where more than half the values equal the
 *   median, as in a bias that is 0 but for its forget gate). For normally distributed
 *   values the MAD is 0.674σ, so 10,000 MADs are 6,740σ. Trained weights are heavier
 *   tailed than that: the real files in test/fixtures/real and ../shared/fixtures/real
 *   reach 521 MADs (a Bidirectional GRU's kernel, whose rows for one input feature are
 *   far larger than the rest; test/e2e/check-plausible.test.ts measures it), so the bound
 *   leaves 19× room, and still flags 1e6 among values of ~0.2 (some 10^7 MADs) or an
 *   exponent bit flipped upwards by 2^8 or more.
 *   Smaller tensors have no spread to judge by.
 * NaN and ±Infinity are the `finite` check's business and skipped here.
 */
export const PLAUSIBLE_MAX_ABS = 2 ** 64;
export const PLAUSIBLE_SPREAD = 10_000;
export const PLAUSIBLE_MIN_VALUES = 64;

export interface Implausible {
  tensor: string;
  /** Index of the value in the tensor, one number per axis. */
  index: number[];
  value: number;
  /** Why: beyond PLAUSIBLE_MAX_ABS, or how many MADs from the median. */
  reason: "magnitude" | "spread";
  median?: number;
  mad?: number;
}

function median(sorted: Float64Array): number {
  const n = sorted.length;
  return n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

function unravel(flat: number, shape: number[]): number[] {
  const index = new Array<number>(shape.length).fill(0);
  for (let a = shape.length - 1; a >= 0; a--) {
    const d = shape[a] || 1;
    index[a] = flat % d;
    flat = Math.floor(flat / d);
  }
  return shape.length ? index : [flat];
}

/** At most this many values (evenly strided) estimate a tensor's median and MAD: a 537 MB kernel is not sorted whole. */
const SPREAD_SAMPLE = 1 << 20;

/**
 * The robust centre and spread of a tensor's finite values, or null when it has too few:
 * from every stride-th value, so a pass streamed from the file (Tensor.scan) keeps only those.
 */
export function robustSpread(t: Pick<Tensor, "data" | "scan" | "shape">): { median: number; mad: number } | null {
  const size = tensorSize(t.shape);
  const stride = Math.max(1, Math.ceil(size / SPREAD_SAMPLE));
  const sample = new Float64Array(Math.ceil(size / stride));
  let n = 0;
  scanTensor(t, (values, first) => {
    // The first multiple of the stride in this block.
    for (let k = (stride - (first % stride)) % stride; k < values.length; k += stride) if (Number.isFinite(values[k])) sample[n++] = values[k];
  });
  if (n < PLAUSIBLE_MIN_VALUES) return null;
  const sorted = sample.subarray(0, n).sort();
  const m = median(sorted);
  const dev = sorted.map((v) => Math.abs(v - m)).sort();
  let mad = median(dev);
  if (mad === 0) mad = dev.reduce((a, v) => a + v, 0) / dev.length;
  return { median: m, mad };
}

export function plausibleCheck(model: Model): Check {
  const found: Implausible[] = [];
  /** Every implausible value counted; the first 100 kept (a damaged tensor may hold millions). */
  let count = 0;
  const note = (f: Implausible) => {
    count++;
    if (found.length < 100) found.push(f);
  };
  /** The largest |w − median| / MAD seen in any tensor judged by spread, and where. */
  let widest: { tensor: string; mads: number } | null = null;
  let tensors = 0;
  for (const { layer, path } of walkLayers(model.layers)) {
    for (const t of layer.weights) {
      tensors++;
      const name = `${path}/${t.name}`;
      // Two passes (the sample, then every value), each streamed from the file where the tensor can be.
      const spread = robustSpread(t);
      const centre = spread?.median ?? 0;
      const limit = spread && spread.mad > 0 ? PLAUSIBLE_SPREAD * spread.mad : Infinity;
      let widestDev = 0;
      scanTensor(t, (values, first) => {
        for (let i = 0; i < values.length; i++) {
          const v = values[i];
          const dev = Math.abs(v - centre);
          // NaN fails every comparison; ±Infinity is the finite check's.
          if (!(dev > limit || Math.abs(v) > PLAUSIBLE_MAX_ABS) || !Number.isFinite(v)) {
            if (dev > widestDev) widestDev = dev;
            continue;
          }
          const index = unravel(first + i, t.shape);
          if (Math.abs(v) > PLAUSIBLE_MAX_ABS) note({ tensor: name, index, value: v, reason: "magnitude" });
          else note({ tensor: name, index, value: v, reason: "spread", ...spread! });
        }
      });
      if (spread && spread.mad > 0 && Number.isFinite(widestDev)) {
        const mads = widestDev / spread.mad;
        if (widest === null || mads > widest.mads) widest = { tensor: name, mads };
      }
    }
  }
  const base = { id: "plausible", name: "plausible" };
  const data = { maxAbs: PLAUSIBLE_MAX_ABS, spread: PLAUSIBLE_SPREAD, minValues: PLAUSIBLE_MIN_VALUES, implausible: found, count, widest };
  if (count) {
    const problems = found.map((f) => {
      const why =
        f.reason === "magnitude"
          ? `beyond ±2^64, where w² overflows float32`
          : `${(Math.abs(f.value - f.median!) / f.mad!).toPrecision(3)} MADs from the tensor's median ${f.median!.toPrecision(3)} (MAD ${f.mad!.toPrecision(3)}; trained weights stay within ${PLAUSIBLE_SPREAD})`;
      return `${f.tensor}[${f.index.join(", ")}] = ${f.value.toPrecision(4)}: ${why}`;
    });
    if (count > found.length) problems.push(`and ${count - found.length} more value(s)`);
    const detail = count > 2 ? `${count} implausible values, the first: ${problems.slice(0, 2).join("; ")}` : `implausible value(s): ${problems.join("; ")}`;
    return { ...base, status: "warn", detail, problems, data };
  }
  return {
    ...base,
    status: "pass",
    detail: `every value of ${tensors} tensor(s) within ${PLAUSIBLE_SPREAD} MADs of its tensor's median and ±2^64${widest ? ` (widest: ${widest.mads.toFixed(1)} MADs, ${widest.tensor})` : ""}`,
    data,
  };
}
