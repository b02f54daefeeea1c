/**
 * `step` as text and JSON: for each sample and processing step, a table with the
 * layer's units as rows and the seed notebook's intermediates as columns. The text is
 * written line by line (a 905-step trace is tens of megabytes of tables), fitted to the
 * width asked for; long vectors and tables with more than 1,000 values are abbreviated
 * as numpy abbreviates them unless `full`.
 */
import type { Floats, LayerTrace, OutputTensor, StepTrace } from "../eval/trace.js";
import { abbreviates, axisIndices } from "../abbreviate.js";
import { arrayLines, ELLIPSIS } from "./array.js";
import { describeMaps, unitLabel, unitPosition } from "./feature-map.js";
import { float32Values, lazyArray } from "./json.js";
import { displayWidth, wrapLine } from "./notation.js";
import { tableLines } from "./table.js";
import { fixed, safe, significant } from "./text.js";

export interface StepView {
  digits: number;
  /** Units to show (all when undefined). */
  units?: number[];
  /** Processing steps to show, from 0 (all when undefined). */
  steps?: number[];
  /** Print every unit and value instead of abbreviating past 1,000 values. */
  full?: boolean;
  /** Columns to fit (Infinity, the default: no limit). */
  width?: number;
  /** ConvLSTM: which units are shown, in words (printed under the layer's description). */
  shown?: string;
}

function describeLayer(t: StepTrace): string {
  const acts = Object.entries(t.activations)
    .map(([role, name]) => `${role} ${safe(name)}${name === "hard_sigmoid" && t.hardSigmoid ? ` (${t.hardSigmoid === "keras3" ? "Keras 3: clip(x/6 + 0.5, 0, 1)" : "Keras 1/2: clip(0.2·x + 0.5, 0, 1)"})` : ""}`)
    .join(", ");
  const m = t.featureMap;
  const size = m
    ? `${describeMaps(m)} (${t.units} units) from ${[...m.inputSpatial, m.channels].join(" × ")} input maps (channels last)`
    : `${t.units} unit(s), ${t.inputDim} feature(s)`;
  return `${safe(t.layer)} (${safe(t.className)}${t.direction === "backward" ? ", backward direction" : ""}): ${size}, ${t.dtype}, ${acts}`;
}

function unitList(t: StepTrace, view: Pick<StepView, "units">): number[] {
  return view.units ?? Array.from({ length: t.units }, (_, j) => j);
}

function stepList(t: StepTrace, view: Pick<StepView, "steps">): number[] {
  return view.steps ?? Array.from({ length: t.steps }, (_, k) => k);
}

/** A layer output of one sample, `name (shape): [values]`, abbreviated and fitted like every array. */
function outputLines(prefix: string, name: string, out: OutputTensor, sample: number, view: StepView): string[] {
  const size = out.shape.reduce((a, b) => a * b, 1);
  const base = sample * size;
  return arrayLines(`${prefix}${safe(name)} (${out.shape.join(" × ")}): `, out.shape, (i) => fixed(out.data[base + i], view.digits), {
    full: view.full === true,
    width: view.width ?? Infinity,
  });
}

/**
 * A ConvLSTM's x as the table needs it: under the kernel at the one position the table
 * shows (the values the input convolution reads there, 0 where it reads padding), or
 * else the whole input map, abbreviated unless --full.
 */
function mapInput(t: StepTrace, x: Floats, units: number[], view: StepView): { label: string; shape: number[]; at: (i: number) => number; abbreviate: boolean } {
  const m = t.featureMap!;
  const positions = new Set(units.map((j) => Math.floor(j / m.filters)));
  if (positions.size !== 1 || view.full) {
    return { label: `x (${[...m.inputSpatial, m.channels].join(" × ")}, channels last)`, shape: [...m.inputSpatial, m.channels], at: (i) => x[i], abbreviate: true };
  }
  const { position } = unitPosition(m, units[0]);
  const rank = position.length;
  const taps = m.kernelSize.reduce((a, b) => a * b, 1);
  const window = new Float64Array(taps * m.channels);
  for (let tap = 0; tap < taps; tap++) {
    let inPos = 0;
    let inside = true;
    for (let a = 0, r = tap, div = taps; a < rank; a++) {
      div /= m.kernelSize[a];
      const k = Math.floor(r / div);
      r %= div;
      const c = position[a] * m.strides[a] + k * m.dilation[a] - m.padBefore[a];
      if (c < 0 || c >= m.inputSpatial[a]) inside = false;
      inPos = inPos * m.inputSpatial[a] + c;
    }
    if (inside) for (let c = 0; c < m.channels; c++) window[tap * m.channels + c] = x[inPos * m.channels + c];
  }
  return {
    label: `x under the kernel at (${position.join(", ")}) (${[...m.kernelSize, m.channels].join(" × ")}${m.padding === "same" ? ", 0 = padding" : ""})`,
    shape: [...m.kernelSize, m.channels],
    at: (i) => window[i],
    abbreviate: false,
  };
}

/** One step's title line(s): which step, its time index and its input x. */
function stepTitle(t: StepTrace, s: number, step: number, units: number[], view: StepView): string[] {
  const width = view.width ?? Infinity;
  const x = t.input(s, step);
  // A ConvLSTM's x is a feature map: shown with its shape, channels last.
  const shown = t.featureMap ? mapInput(t, x, units, view) : { label: "x", shape: [t.inputDim], at: (i: number) => x[i], abbreviate: false };
  const lines = arrayLines(`${t.samples > 1 ? `sample ${s + 1}, ` : ""}step ${step + 1} of ${t.steps} (t=${t.timeIndex[step]}), ${shown.label} = `, shown.shape, (i) => significant(shown.at(i), 7), {
    full: view.full === true,
    width,
    abbreviate: shown.abbreviate,
  });
  if (t.mask[s * t.steps + step]) {
    const masked = "  [masked: states carried over]";
    const last = lines.length - 1;
    if (displayWidth(lines[last]) + masked.length <= width) lines[last] += masked;
    else lines.push(masked.trim());
  }
  return lines;
}

/** One step's table: a row per unit (the first and last 3 past 1,000 values), a column per intermediate. */
function* stepTable(t: StepTrace, s: number, step: number, units: number[], view: StepView): Generator<string> {
  const columns = t.columns.map((name) => t.offset(s, step, t.indexOf(name)));
  const shown = axisIndices(units.length, abbreviates(units.length * columns.length, view.full === true));
  const rows = shown.map((k) => {
    if (k === null) return [ELLIPSIS, ...columns.map(() => ELLIPSIS)];
    const j = units[k];
    return [unitLabel(t.featureMap, j), ...columns.map((offset) => fixed(t.values[offset + j], view.digits))];
  });
  yield* tableLines({ head: [t.featureMap ? "position filter" : "unit", ...t.columns], rows, align: ["left", ...t.columns.map(() => "right" as const)], rules: true }, view.width ?? Infinity);
}

/** The text of `step`, line by line. */
export function* stepTableLines(trace: LayerTrace, view: StepView): Generator<string> {
  const width = view.width ?? Infinity;
  const samples = trace.directions[0].samples;
  let started = false;
  for (const note of trace.notes) {
    started = true;
    yield* wrapLine(`note: ${safe(note)}`, width);
  }
  for (let s = 0; s < samples; s++) {
    for (const t of trace.directions) {
      // A blank line before each layer description, except at the very top.
      if (started) yield "";
      started = true;
      yield* wrapLine(describeLayer(t), width);
      if (view.shown) yield* wrapLine(view.shown, width);
      const units = unitList(t, view);
      for (const step of stepList(t, view)) {
        yield* stepTitle(t, s, step, units, view);
        yield* stepTable(t, s, step, units, view);
      }
    }
    for (const o of trace.outputs) yield* outputLines(samples > 1 ? `sample ${s + 1} ` : "", o.name, o.tensor, s, view);
  }
}

/**
 * The documented `step --json` document (README: JSON output). Its samples and steps are
 * made as they are written (a long trace is tens of megabytes of JSON); `steps` keeps
 * only those processing steps, each still naming its time index `t`.
 */
export function stepJson(trace: LayerTrace, view: Pick<StepView, "units" | "steps">) {
  const first = trace.directions[0];
  // float32 values are written as their shortest float32 decimals, as numpy prints them.
  const f32 = first.dtype === "float32";
  const values = (v: ArrayLike<number>) => (f32 ? float32Values(v) : Array.from(v));
  return {
    layer: trace.layer,
    class: trace.className,
    dtype: first.dtype,
    mergeMode: trace.mergeMode,
    notes: trace.notes,
    ...(trace.precision ? { precision: trace.precision } : {}),
    ...(trace.assumptions ? { assumptions: trace.assumptions } : {}),
    directions: trace.directions.map((t) => {
      const units = unitList(t, view);
      const steps = stepList(t, view);
      const columns = t.columns.map((name) => [name, t.indexOf(name)] as const);
      const stepObject = (s: number, step: number) => ({
        t: t.timeIndex[step],
        x: values(t.input(s, step)),
        masked: t.mask[s * t.steps + step] === 1,
        ...Object.fromEntries(
          columns.map(([name, k]) => {
            const offset = t.offset(s, step, k);
            return [name, values(units.map((j) => t.values[offset + j]))];
          }),
        ),
      });
      const m = t.featureMap;
      return {
        direction: t.direction,
        units: t.units,
        // ConvLSTM: the maps' shapes, and the (position, filter) of each unit shown, in order.
        ...(m
          ? {
              featureMap: {
                dataFormat: m.dataFormat,
                input: [...m.inputSpatial, m.channels],
                output: [...m.outputSpatial, m.filters],
                kernelSize: m.kernelSize,
                strides: m.strides,
                dilationRate: m.dilation,
                padding: m.padding,
                shown: units.map((j) => unitPosition(m, j)),
              },
            }
          : {}),
        activations: t.activations,
        hardSigmoid: t.hardSigmoid ?? null,
        samples: lazyArray(t.samples, (s) => lazyArray(steps.length, (k) => stepObject(s, steps[k]))),
      };
    }),
    outputs: trace.outputs.map((o) => {
      const size = o.tensor.shape.reduce((a, b) => a * b, 1);
      return {
        name: o.name,
        shape: o.tensor.shape,
        samples: Array.from({ length: o.tensor.samples }, (_, s) => values(o.tensor.data.subarray(s * size, (s + 1) * size))),
      };
    }),
  };
}
