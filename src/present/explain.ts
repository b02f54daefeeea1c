/**
 * `explain`: the notebook's "Mathematical Definitions" made concrete for one step and
 * one unit of the user's own layer. Three parts:
 *   1. the cell's equations in Keras' notation, with the activation functions the
 *      layer really uses and their definitions for the writer's Keras version, the
 *      shape of every tensor in this model, and one line on what each symbol means;
 *   2. the same equations with the numbers substituted (operands, then the result);
 *   3. the cell diagram (diagram.ts) with the values on its wires and in its boxes.
 *
 * Everything comes from the StepTrace: inputs, previous states, gate weights and every
 * intermediate, including the argument each activation received (arg_g) as the
 * evaluator formed it. Nothing is computed here.
 */
import type { ChalkInstance } from "chalk";
import { getActivation, type HardSigmoidVariant } from "../activations.js";
import type { FeatureMapShape, Floats, StepTrace } from "../eval/trace.js";
import { paintValue } from "./colour.js";
import { renderDiagramText } from "./diagram.js";
import { unitPosition } from "./feature-map.js";
import { asciiText, displayWidth, wrapWords } from "./notation.js";
import { fixed, safe, significant } from "./text.js";

/** What the explanation needs to know beyond the trace: where the layer came from. */
export interface ExplainContext {
  /** The model file, as the user named it. */
  file: string;
  kerasVersion?: string;
  kerasMajor: number;
  /** GRU only: reset_after (the trace alone cannot tell when use_bias is false). */
  resetAfter?: boolean;
}

/** Which value to explain; all 0-based. */
export interface ExplainChoice {
  sample: number;
  step: number;
  unit: number;
}

export interface ActivationUse {
  /** `activation` or `recurrent_activation`. */
  role: string;
  /** Keras name: sigmoid, hard_sigmoid, tanh, ... */
  name: string;
  /** How the equations write it: σ for sigmoid, otherwise the Keras name. */
  symbol: string;
  /** Its definition, in x. */
  formula: string;
  /** Which Keras versions define it so (hard_sigmoid only). */
  note?: string;
}

export interface Definition {
  /** `i = σ(x_i + h₍ₜ₋₁₎·U_i)` */
  equation: string;
  meaning: string;
}

export interface SymbolInfo {
  /** One symbol or a family: `W_i, W_f, W_c, W_o`. */
  symbol: string;
  /** Keras weight names, for weights: `kernel_i … kernel_o`. */
  weights?: string;
  /** Shape in this model, e.g. [2, 1]; a vector is [units]. */
  shape: number[];
  meaning: string;
}

/** One equation with the numbers substituted. */
export interface NumberLine {
  /** The trace intermediate it produces (x_i, rec_i, i, c_tilde, c, h, ...). */
  name: string;
  /** How it is written: x_i, i, c̃, cₜ, hₜ. */
  symbol: string;
  /** The symbolic right-hand side: `xₜ·W_i + b_i`. */
  equation: string;
  /** The right-hand side with numbers, up to (not including) the result: `1·(-0.7879) + 10·(-0.140564) + 0`. */
  work: string[];
  /** The value from the trace. */
  value: number;
  /** The operands as data (for --json). */
  operands: Record<string, unknown>;
}

export interface Explanation {
  file: string;
  kerasVersion?: string;
  layer: string;
  className: string;
  kind: StepTrace["kind"];
  direction: StepTrace["direction"];
  dtype: StepTrace["dtype"];
  resetAfter?: boolean;
  sample: number;
  samples: number;
  step: number;
  steps: number;
  /** The time index the step read (differs from step for go_backwards). */
  t: number;
  unit: number;
  units: number;
  inputDim: number;
  masked: boolean;
  digits: number;
  activations: ActivationUse[];
  definitions: Definition[];
  symbols: SymbolInfo[];
  numbers: NumberLine[];
  /** xₜ: the input at this step. */
  input: number[];
  /** The states before the step (h, and c for LSTM), whole vectors. */
  before: Record<string, number[]>;
  /** ConvLSTM: the unit's output position and filter, and the maps' geometry. */
  featureMap?: { position: number[]; filter: number; shape: FeatureMapShape };
  /**
   * The chosen unit's scalars: every intermediate of the trace, the states before the
   * step (`h_prev`, `c_prev`) and each activation's argument (`arg_i`, `arg_hh`, ...).
   */
  scalars: Record<string, number>;
  notes: string[];
  /** No step was evaluated (summary --html): the diagram draws the cell's wiring with its value slots empty. */
  withoutNumbers?: boolean;
}

/** Terms of a dot product written out in full up to this many; beyond, the first and last few. */
export const MAX_EXPANDED_TERMS = 8;
const HEAD_TERMS = 3;
const TAIL_TERMS = 1;

const SUB_T = "ₜ";
const PREV = "₍ₜ₋₁₎";

/** How the equations and the diagram write an activation: σ for sigmoid, otherwise its Keras name. */
export function actSymbol(name: string): string {
  return name === "sigmoid" ? "σ" : name;
}

function hardSigmoidNote(variant: HardSigmoidVariant, ctx: ExplainContext): string {
  // keras_version comes from the file: neutralize control characters (found by the fuzz suite).
  const writer = ctx.kerasVersion ? `Keras ${safe(ctx.kerasVersion)}` : `Keras ${ctx.kerasMajor}`;
  const writerVariant: HardSigmoidVariant = ctx.kerasMajor >= 3 ? "keras3" : "keras2";
  const chosen = variant === writerVariant ? `as ${writer}, which wrote this file, defines it` : `chosen with --hard-sigmoid; ${writer}, which wrote this file, uses the other one`;
  return variant === "keras3"
    ? `Keras 3's definition (${chosen}); Keras 1/2 and tf.keras use clip(0.2·x + 0.5, 0, 1)`
    : `the definition of Keras 1, Keras 2 and tf.keras (${chosen}); Keras 3 uses clip(x/6 + 0.5, 0, 1)`;
}

function activationUses(trace: StepTrace, ctx: ExplainContext): ActivationUse[] {
  const variant: HardSigmoidVariant = trace.hardSigmoid ?? "keras3";
  return Object.entries(trace.activations).map(([role, name]) => {
    const def = getActivation(name, variant, `layer '${trace.layer}'`);
    return {
      role,
      name,
      symbol: actSymbol(name),
      formula: def.formula,
      note: name === "hard_sigmoid" ? hardSigmoidNote(variant, ctx) : undefined,
    };
  });
}

/** A number as an operand: negative ones in parentheses, as the seed notebook writes `10·(-0.140564)`. */
function par(s: string): string {
  return s.startsWith("-") ? `(${s})` : s;
}

/** Writes out a sum of terms, or its first and last few when there are many. */
function sumOf(terms: string[], tail: string[] = []): string {
  const shown =
    terms.length <= MAX_EXPANDED_TERMS
      ? terms
      : [...terms.slice(0, HEAD_TERMS), `… ${terms.length - HEAD_TERMS - TAIL_TERMS} more terms …`, ...terms.slice(terms.length - TAIL_TERMS)];
  const all = [...shown, ...tail];
  return all.length === 0 ? "0" : all.join(" + ");
}

interface Builder {
  trace: StepTrace;
  choice: ExplainChoice;
  digits: number;
  /** A recorded value (state, gate, intermediate): fixed decimals. */
  val: (v: number) => string;
  /** An input or a weight: significant digits, as stored. */
  num: (v: number) => string;
  get: (name: string) => number;
  x: Floats;
  hPrev: Floats;
  weight: (name: string, row: number) => number;
  hasWeight: (name: string) => boolean;
}

function makeBuilder(trace: StepTrace, choice: ExplainChoice, digits: number): Builder {
  const { sample, step, unit } = choice;
  return {
    trace,
    choice,
    digits,
    val: (v) => fixed(v, digits),
    num: (v) => significant(v, 6),
    get: (name) => trace.get(sample, step, name, unit),
    x: trace.input(sample, step),
    hPrev: trace.stateBefore(sample, step, "h"),
    weight: (name, row) => {
      const m = trace.gateWeights[name];
      return m.data[row * m.cols + unit];
    },
    hasWeight: (name) => trace.gateWeights[name] !== undefined,
  };
}

/** x_g = xₜ·W_g + b_g, expanded over the input features. */
function inputProjection(b: Builder, name: string, suffix: string): NumberLine {
  const W = `W${suffix}`;
  const bias = `b${suffix}`;
  const kernel = `kernel${suffix}`;
  const biasName = `bias${suffix}`;
  const useBias = b.hasWeight(biasName);
  const pairs = Array.from(b.x, (xd, d) => [xd, b.weight(kernel, d)] as const);
  const biasValue = useBias ? b.weight(biasName, 0) : undefined;
  const terms = pairs.map(([xd, w]) => `${par(b.num(xd))}·${par(b.num(w))}`);
  return {
    name,
    symbol: name,
    equation: `x${SUB_T}·${W}${useBias ? ` + ${bias}` : ""}`,
    work: [sumOf(terms, biasValue === undefined ? [] : [par(b.num(biasValue))])],
    value: b.get(name),
    operands: { terms: pairs.map(([xd, w]) => ({ x: xd, [kernel]: w })), ...(useBias ? { [biasName]: biasValue } : {}) },
  };
}

/** rec = h₍ₜ₋₁₎·U (+ recurrent bias), expanded over the units. */
function recurrentProjection(b: Builder, name: string, suffix: string): NumberLine {
  const rk = `recurrent_kernel${suffix}`;
  const rbName = `recurrent_bias${suffix}`;
  const rb = b.hasWeight(rbName) ? b.weight(rbName, 0) : undefined;
  const pairs = Array.from(b.hPrev, (h, k) => [h, b.weight(rk, k)] as const);
  const terms = pairs.map(([h, w]) => `${par(b.val(h))}·${par(b.num(w))}`);
  return {
    name,
    symbol: name,
    equation: `h${PREV}·U${suffix}${rb === undefined ? "" : ` + rb${suffix}`}`,
    work: [sumOf(terms, rb === undefined ? [] : [par(b.num(rb))])],
    value: b.get(name),
    operands: { terms: pairs.map(([h, w]) => ({ h_prev: h, [rk]: w })), ...(rb === undefined ? {} : { [rbName]: rb }) },
  };
}

/**
 * ConvLSTM: the (value, weight) pairs of one convolution at the unit's position and filter:
 * every kernel tap that lands inside the map (taps over the zero padding add nothing),
 * every channel. `v` is the map (spatial…, channels), `w` the gate's kernel as
 * (taps·channels, filters), as the trace holds them.
 */
function convolutionTerms(
  b: Builder,
  v: Floats,
  spatial: number[],
  channels: number,
  w: string,
  strides: number[],
  dilation: number[],
  padBefore: number[],
): { at: number[]; channel: number; value: number; weight: number }[] {
  const m = b.trace.featureMap!;
  const { position, filter } = unitPosition(m, b.choice.unit);
  const kernel = b.trace.gateWeights[w];
  const taps = m.kernelSize.reduce((x, y) => x * y, 1);
  const out: { at: number[]; channel: number; value: number; weight: number }[] = [];
  for (let tap = 0; tap < taps; tap++) {
    const at: number[] = [];
    let flat = 0;
    let inside = true;
    for (let a = 0, r = tap, div = taps; a < position.length; a++) {
      div /= m.kernelSize[a];
      const k = Math.floor(r / div);
      r %= div;
      const c = position[a] * strides[a] + k * dilation[a] - padBefore[a];
      if (c < 0 || c >= spatial[a]) inside = false;
      at.push(c);
      flat = flat * spatial[a] + c;
    }
    if (!inside) continue;
    for (let c = 0; c < channels; c++) out.push({ at, channel: c, value: v[flat * channels + c], weight: kernel.data[(tap * channels + c) * kernel.cols + filter] });
  }
  return out;
}

/** ConvLSTM x_g = (xₜ * W_g)[p, j] + b_g[j]: the sum over the kernel window at the unit's position. */
function convInputProjection(b: Builder, name: string, suffix: string): NumberLine {
  const m = b.trace.featureMap!;
  const biasName = `bias${suffix}`;
  const useBias = b.hasWeight(biasName);
  const { filter } = unitPosition(m, b.choice.unit);
  const biasValue = useBias ? b.trace.gateWeights[biasName].data[filter] : undefined;
  const terms = convolutionTerms(b, b.x, m.inputSpatial, m.channels, `kernel${suffix}`, m.strides, m.dilation, m.padBefore);
  return {
    name,
    symbol: name,
    equation: `(x${SUB_T} * W${suffix})[p]${useBias ? ` + b${suffix}` : ""}`,
    work: [sumOf(terms.map((t) => `${par(b.num(t.value))}·${par(b.num(t.weight))}`), biasValue === undefined ? [] : [par(b.num(biasValue))])],
    value: b.get(name),
    operands: { terms: terms.map((t) => ({ at: t.at, channel: t.channel, x: t.value, [`kernel${suffix}`]: t.weight })), ...(useBias ? { [biasName]: biasValue } : {}) },
  };
}

/** ConvLSTM rec_g = (h₍ₜ₋₁₎ * U_g)[p, j]: stride 1, padding "same". */
function convRecurrentProjection(b: Builder, name: string, suffix: string): NumberLine {
  const m = b.trace.featureMap!;
  const ones = m.kernelSize.map(() => 1);
  const terms = convolutionTerms(b, b.hPrev, m.outputSpatial, m.filters, `recurrent_kernel${suffix}`, ones, ones, m.recurrentPadBefore);
  return {
    name,
    symbol: name,
    equation: `(h${PREV} * U${suffix})[p]`,
    work: [sumOf(terms.map((t) => `${par(b.val(t.value))}·${par(b.num(t.weight))}`))],
    value: b.get(name),
    operands: { terms: terms.map((t) => ({ at: t.at, filter: t.channel, h_prev: t.value, [`recurrent_kernel${suffix}`]: t.weight })) },
  };
}

/** The products a cell's lines are made of: matrix products, or a ConvLSTM's convolutions. */
interface Projections {
  input: (b: Builder, name: string, suffix: string) => NumberLine;
  recurrent: (b: Builder, name: string, suffix: string) => NumberLine;
}
const MATRIX: Projections = { input: inputProjection, recurrent: recurrentProjection };
const CONVOLUTION: Projections = { input: convInputProjection, recurrent: convRecurrentProjection };

/** Whether h₍ₜ₋₁₎·U_g is short enough to write inside the gate's line (one unit, no recurrent bias). */
function inlineRecurrent(b: Builder, suffix: string): boolean {
  return b.trace.units === 1 && !b.hasWeight(`recurrent_bias${suffix}`) && !b.trace.featureMap;
}

/**
 * g = act(x_g + rec_g): with rec_g written inline as h₍ₜ₋₁₎·U_g when it is one term,
 * else referring to the rec_g line before it.
 */
function gate(b: Builder, out: NumberLine[], gateName: string, symbol: string, act: ActivationUse, suffix: string, scalars: Record<string, number>, proj: Projections = MATRIX): void {
  const xName = `x${suffix}`;
  const recName = `rec${suffix}`;
  const xv = b.get(xName);
  const rv = b.get(recName);
  const arg = b.get(`arg${suffix}`);
  scalars[`arg_${gateName}`] = arg;
  const inline = inlineRecurrent(b, suffix);
  if (!inline) out.push(proj.recurrent(b, recName, suffix));
  const u0 = inline ? b.weight(`recurrent_kernel${suffix}`, 0) : 0;
  out.push({
    name: gateName,
    symbol,
    equation: inline ? `${act.symbol}(${xName} + h${PREV}·U${suffix})` : `${act.symbol}(${xName} + ${recName})`,
    work: [
      inline ? `${act.symbol}(${b.val(xv)} + ${par(b.val(b.hPrev[0]))}·${par(b.num(u0))})` : `${act.symbol}(${b.val(xv)} + ${par(b.val(rv))})`,
      `${act.symbol}(${b.val(arg)})`,
    ],
    value: b.get(gateName),
    operands: { [xName]: xv, [recName]: rv, argument: arg, activation: act.name },
  });
}

function lstmLines(b: Builder, acts: Record<string, ActivationUse>, masked: boolean, scalars: Record<string, number>, proj: Projections = MATRIX): NumberLine[] {
  const ra = acts.recurrent_activation;
  const a = acts.activation;
  const out: NumberLine[] = ["i", "f", "c", "o"].map((g) => proj.input(b, `x_${g}`, `_${g}`));
  gate(b, out, "i", "i", ra, "_i", scalars, proj);
  gate(b, out, "f", "f", ra, "_f", scalars, proj);
  gate(b, out, "c_tilde", "c̃", a, "_c", scalars, proj);
  gate(b, out, "o", "o", ra, "_o", scalars, proj);
  const cPrev = b.trace.stateBefore(b.choice.sample, b.choice.step, "c")[b.choice.unit];
  const [f, i, ct, c, o, h] = ["f", "i", "c_tilde", "c", "o", "h"].map(b.get);
  if (masked) {
    out.push({ name: "c", symbol: `c${SUB_T}`, equation: `c${PREV}`, work: [`${b.val(cPrev)} (masked step: the state is carried over)`], value: c, operands: { c_prev: cPrev } });
    const hp = b.hPrev[b.choice.unit];
    out.push({ name: "h", symbol: `h${SUB_T}`, equation: `h${PREV}`, work: [`${b.val(hp)} (masked step: the state is carried over)`], value: h, operands: { h_prev: hp } });
    return out;
  }
  out.push({
    name: "c",
    symbol: `c${SUB_T}`,
    equation: `f·c${PREV} + i·c̃`,
    work: [`${b.val(f)}·${par(b.val(cPrev))} + ${b.val(i)}·${par(b.val(ct))}`],
    value: c,
    operands: { f, c_prev: cPrev, i, c_tilde: ct },
  });
  out.push({
    name: "h",
    symbol: `h${SUB_T}`,
    equation: `o·${a.symbol}(c${SUB_T})`,
    work: [`${b.val(o)}·${a.symbol}(${b.val(c)})`, `${b.val(o)}·${b.val(b.get("act_c"))}`],
    value: h,
    operands: { o, c, act_c: b.get("act_c"), activation: a.name },
  });
  return out;
}

function gruLines(b: Builder, acts: Record<string, ActivationUse>, resetAfter: boolean, masked: boolean, scalars: Record<string, number>): NumberLine[] {
  const ra = acts.recurrent_activation;
  const a = acts.activation;
  const out: NumberLine[] = ["z", "r", "h"].map((g) => inputProjection(b, `x_${g}`, `_${g}`));
  gate(b, out, "z", "z", ra, "_z", scalars);
  gate(b, out, "r", "r", ra, "_r", scalars);
  const u = b.choice.unit;
  const [xh, recH, r, hh, z, h] = ["x_h", "rec_h", "r", "hh", "z", "h"].map(b.get);
  const hp = b.hPrev[u];
  if (resetAfter) {
    // hh = act(x_h + r ⊙ (h₍ₜ₋₁₎·U_h + rb_h))
    out.push(recurrentProjection(b, "rec_h", "_h"));
    const arg = b.get("arg_h");
    scalars.arg_hh = arg;
    out.push({
      name: "hh",
      symbol: "hh",
      equation: `${a.symbol}(x_h + r·rec_h)`,
      work: [`${a.symbol}(${b.val(xh)} + ${b.val(r)}·${par(b.val(recH))})`, `${a.symbol}(${b.val(arg)})`],
      value: hh,
      operands: { x_h: xh, r, rec_h: recH, argument: arg, activation: a.name },
    });
  } else {
    // hh = act(x_h + (r ⊙ h₍ₜ₋₁₎)·U_h); the trace's rec_h is (r ⊙ h₍ₜ₋₁₎)·U_h.
    const rv = b.trace.vector(b.choice.sample, b.choice.step, "r");
    const triples = Array.from(b.hPrev, (hk, k) => [rv[k], hk, b.weight("recurrent_kernel_h", k)] as const);
    const arg = b.get("arg_h");
    scalars.arg_hh = arg;
    const inline = b.trace.units === 1;
    if (!inline) {
      out.push({
        name: "rec_h",
        symbol: "rec_h",
        equation: `(r ⊙ h${PREV})·U_h`,
        work: [sumOf(triples.map(([rk, hk, w]) => `(${b.val(rk)}·${par(b.val(hk))})·${par(b.num(w))}`))],
        value: recH,
        operands: { terms: triples.map(([rk, hk, w]) => ({ r: rk, h_prev: hk, recurrent_kernel_h: w })) },
      });
    }
    const [r0, h0, w0] = triples[0];
    out.push({
      name: "hh",
      symbol: "hh",
      equation: inline ? `${a.symbol}(x_h + (r·h${PREV})·U_h)` : `${a.symbol}(x_h + rec_h)`,
      work: [
        inline ? `${a.symbol}(${b.val(xh)} + (${b.val(r0)}·${par(b.val(h0))})·${par(b.num(w0))})` : `${a.symbol}(${b.val(xh)} + ${par(b.val(recH))})`,
        `${a.symbol}(${b.val(arg)})`,
      ],
      value: hh,
      operands: { x_h: xh, rec_h: recH, argument: arg, activation: a.name },
    });
  }
  if (masked) {
    out.push({ name: "h", symbol: `h${SUB_T}`, equation: `h${PREV}`, work: [`${b.val(hp)} (masked step: the state is carried over)`], value: h, operands: { h_prev: hp } });
  } else {
    out.push({
      name: "h",
      symbol: `h${SUB_T}`,
      equation: `z·h${PREV} + (1 − z)·hh`,
      work: [`${b.val(z)}·${par(b.val(hp))} + (1 − ${b.val(z)})·${par(b.val(hh))}`],
      value: h,
      operands: { z, h_prev: hp, hh },
    });
  }
  return out;
}

function simpleRnnLines(b: Builder, acts: Record<string, ActivationUse>, masked: boolean, scalars: Record<string, number>): NumberLine[] {
  const a = acts.activation;
  const out: NumberLine[] = [inputProjection(b, "x", "")];
  const hp = b.hPrev[b.choice.unit];
  if (masked) {
    out.push({ name: "h", symbol: `h${SUB_T}`, equation: `h${PREV}`, work: [`${b.val(hp)} (masked step: the state is carried over)`], value: b.get("h"), operands: { h_prev: hp } });
    return out;
  }
  const [xv, rv] = [b.get("x"), b.get("rec")];
  const arg = b.get("arg");
  scalars.arg_h = arg;
  const inline = inlineRecurrent(b, "");
  if (!inline) out.push(recurrentProjection(b, "rec", ""));
  out.push({
    name: "h",
    symbol: `h${SUB_T}`,
    equation: inline ? `${a.symbol}(x + h${PREV}·U)` : `${a.symbol}(x + rec)`,
    work: [
      inline ? `${a.symbol}(${b.val(xv)} + ${par(b.val(b.hPrev[0]))}·${par(b.num(b.weight("recurrent_kernel", 0)))})` : `${a.symbol}(${b.val(xv)} + ${par(b.val(rv))})`,
      `${a.symbol}(${b.val(arg)})`,
    ],
    value: b.get("h"),
    operands: { x: xv, rec: rv, argument: arg, activation: a.name },
  });
  return out;
}

/**
 * GRU with reset_after=False: rec_h = (r ⊙ h₍ₜ₋₁₎)·U_h, so unit j's rec_h takes every unit's
 * reset gate, not only unit j's. The r of each unit, for saying so; undefined for other cells.
 */
function recHUsesEveryR(ex: Explanation): number[] | undefined {
  if (ex.kind !== "gru" || ex.resetAfter) return undefined;
  const terms = ex.numbers.find((l) => l.name === "rec_h")?.operands.terms as { r: number }[] | undefined;
  return terms?.map((t) => t.r);
}

function definitionsFor(trace: StepTrace, acts: Record<string, ActivationUse>, resetAfter: boolean): Definition[] {
  const useBias = Object.keys(trace.gateWeights).some((k) => k.startsWith("bias"));
  const proj = (g: string) => `x_${g} = x${SUB_T}·W_${g}${useBias ? ` + b_${g}` : ""}`;
  const ra = acts.recurrent_activation?.symbol;
  const a = acts.activation.symbol;
  if (trace.kind === "conv_lstm") {
    // keras/src/layers/rnn/conv_lstm.py, ConvLSTMCell.call: convolutions in place of the products.
    const conv = (g: string) => `x_${g} = x${SUB_T} * W_${g}${useBias ? ` + b_${g}` : ""}`;
    return [
      { equation: conv("i"), meaning: "input part of each gate: a feature map (the step table's x_i …)" },
      { equation: conv("f"), meaning: "" },
      { equation: conv("c"), meaning: "" },
      { equation: conv("o"), meaning: "" },
      { equation: `i  = ${ra}(x_i + h${PREV} * U_i)`, meaning: "input gate: how much of c̃ is written" },
      { equation: `f  = ${ra}(x_f + h${PREV} * U_f)`, meaning: `forget gate: how much of c${PREV} is kept` },
      { equation: `c̃  = ${a}(x_c + h${PREV} * U_c)`, meaning: "candidate cell state" },
      { equation: `o  = ${ra}(x_o + h${PREV} * U_o)`, meaning: `output gate: how much of ${a}(c${SUB_T}) goes out` },
      { equation: `c${SUB_T} = f ⊙ c${PREV} + i ⊙ c̃`, meaning: "new cell state, at every position and filter" },
      { equation: `h${SUB_T} = o ⊙ ${a}(c${SUB_T})`, meaning: "new hidden state = the output" },
    ];
  }
  if (trace.kind === "lstm") {
    return [
      { equation: proj("i"), meaning: "input part of each gate (the step table's x_i …)" },
      { equation: proj("f"), meaning: "" },
      { equation: proj("c"), meaning: "" },
      { equation: proj("o"), meaning: "" },
      { equation: `i  = ${ra}(x_i + h${PREV}·U_i)`, meaning: "input gate: how much of c̃ is written" },
      { equation: `f  = ${ra}(x_f + h${PREV}·U_f)`, meaning: `forget gate: how much of c${PREV} is kept` },
      { equation: `c̃  = ${a}(x_c + h${PREV}·U_c)`, meaning: "candidate cell state" },
      { equation: `o  = ${ra}(x_o + h${PREV}·U_o)`, meaning: `output gate: how much of ${a}(c${SUB_T}) goes out` },
      { equation: `c${SUB_T} = f ⊙ c${PREV} + i ⊙ c̃`, meaning: "new cell state (the step table's c)" },
      { equation: `h${SUB_T} = o ⊙ ${a}(c${SUB_T})`, meaning: "new hidden state = the output" },
    ];
  }
  if (trace.kind === "gru") {
    const rb = (g: string) => (trace.gateWeights[`recurrent_bias_${g}`] ? ` + rb_${g}` : "");
    return [
      { equation: proj("z"), meaning: "input part of each gate" },
      { equation: proj("r"), meaning: "" },
      { equation: proj("h"), meaning: "" },
      { equation: `z  = ${ra}(x_z + h${PREV}·U_z${rb("z")})`, meaning: `update gate: share of h${PREV} kept` },
      { equation: `r  = ${ra}(x_r + h${PREV}·U_r${rb("r")})`, meaning: `reset gate: share of h${PREV} hh sees` },
      resetAfter
        ? { equation: `hh = ${a}(x_h + r ⊙ (h${PREV}·U_h${rb("h")}))`, meaning: "candidate state (reset_after=True)" }
        : { equation: `hh = ${a}(x_h + (r ⊙ h${PREV})·U_h)`, meaning: "candidate state (reset_after=False)" },
      { equation: `h${SUB_T} = z ⊙ h${PREV} + (1 − z) ⊙ hh`, meaning: "new hidden state = the output" },
    ];
  }
  return [
    { equation: `x  = x${SUB_T}·W${useBias ? " + b" : ""}`, meaning: "input part" },
    { equation: `h${SUB_T} = ${a}(x + h${PREV}·U)`, meaning: "new hidden state = the output" },
  ];
}

function shapeOf(trace: StepTrace, name: string): number[] {
  const m = trace.gateWeights[name];
  return m.rows === 1 && name.includes("bias") ? [m.cols] : [m.rows, m.cols];
}

/** ConvLSTM's symbols: maps and kernels with their shapes (channels last). */
function convSymbols(trace: StepTrace, m: FeatureMapShape): SymbolInfo[] {
  const map = [...m.outputSpatial, m.filters];
  const rows: SymbolInfo[] = [
    { symbol: `x${SUB_T}`, shape: [...m.inputSpatial, m.channels], meaning: `the input map at this step: ${m.channels} channel(s) at each position` },
    { symbol: `h${PREV}`, shape: map, meaning: "previous hidden state (0 at step 1 unless --h0)" },
    { symbol: `c${PREV}`, shape: map, meaning: "previous cell state (0 at step 1 unless --c0)" },
    { symbol: "W_i, W_f, W_c, W_o", weights: "kernel_i … kernel_o", shape: [...m.kernelSize, m.channels, m.filters], meaning: "input kernels" },
    { symbol: "U_i, U_f, U_c, U_o", weights: "recurrent_kernel_i … _o", shape: [...m.kernelSize, m.filters, m.filters], meaning: "recurrent kernels" },
  ];
  if (trace.gateWeights.bias_i) rows.push({ symbol: "b_i, b_f, b_c, b_o", weights: "bias_i … bias_o", shape: [m.filters], meaning: "biases, one per filter" });
  rows.push({ symbol: "x_i, x_f, x_c, x_o", shape: map, meaning: `input parts: x${SUB_T} * W + b` });
  rows.push({ symbol: "i, f, o", shape: map, meaning: "gates, each between 0 and 1 for σ" });
  rows.push({ symbol: "c̃", shape: map, meaning: "candidate cell state" });
  rows.push({ symbol: `c${SUB_T}, h${SUB_T}`, shape: map, meaning: "new cell state and new hidden state" });
  rows.push({ symbol: "p", shape: [m.outputSpatial.length], meaning: "the output position explained; [p] is the value there, for the filter explained" });
  return rows;
}

function symbolsFor(trace: StepTrace, resetAfter: boolean): SymbolInfo[] {
  if (trace.featureMap) return convSymbols(trace, trace.featureMap);
  const u = trace.units;
  const D = trace.inputDim;
  const gates = trace.kind === "lstm" ? ["i", "f", "c", "o"] : trace.kind === "gru" ? ["z", "r", "h"] : [""];
  const sfx = (g: string) => (g ? `_${g}` : "");
  const fam = (prefix: string) => gates.map((g) => `${prefix}${sfx(g)}`).join(", ");
  const names = (prefix: string) => (gates.length > 1 ? `${prefix}${sfx(gates[0])} … ${prefix}${sfx(gates[gates.length - 1])}` : prefix);
  const rows: SymbolInfo[] = [
    { symbol: `x${SUB_T}`, shape: [1, D], meaning: `the input at this step: ${D} feature(s)` },
    { symbol: `h${PREV}`, shape: [1, u], meaning: "previous hidden state (0 at step 1 unless --h0)" },
  ];
  if (trace.kind === "lstm") rows.push({ symbol: `c${PREV}`, shape: [1, u], meaning: "previous cell state (0 at step 1 unless --c0)" });
  rows.push({ symbol: fam("W"), weights: names("kernel"), shape: shapeOf(trace, `kernel${sfx(gates[0])}`), meaning: "input weights" });
  rows.push({ symbol: fam("U"), weights: gates.length > 1 ? `recurrent_kernel${sfx(gates[0])} … ${sfx(gates[gates.length - 1])}` : "recurrent_kernel", shape: shapeOf(trace, `recurrent_kernel${sfx(gates[0])}`), meaning: "recurrent weights" });
  if (trace.gateWeights[`bias${sfx(gates[0])}`]) rows.push({ symbol: fam("b"), weights: names("bias"), shape: [u], meaning: "biases" });
  if (trace.gateWeights[`recurrent_bias${sfx(gates[0])}`]) {
    rows.push({ symbol: fam("rb"), weights: names("recurrent_bias"), shape: [u], meaning: "recurrent biases (reset_after=True)" });
  }
  const vec = (symbol: string, meaning: string): SymbolInfo => ({ symbol, shape: [1, u], meaning });
  if (trace.kind === "lstm") {
    rows.push(vec("x_i, x_f, x_c, x_o", `input parts: x${SUB_T}·W + b`));
    rows.push(vec("i, f, o", "gates, each between 0 and 1 for σ"));
    rows.push(vec("c̃", "candidate cell state"));
    rows.push(vec(`c${SUB_T}, h${SUB_T}`, "new cell state and new hidden state"));
  } else if (trace.kind === "gru") {
    rows.push(vec("x_z, x_r, x_h", `input parts: x${SUB_T}·W + b`));
    rows.push(vec("z, r", "update and reset gates"));
    rows.push(vec("hh", resetAfter ? "candidate state (Keras' name hh)" : "candidate state (Keras' name hh)"));
    rows.push(vec(`h${SUB_T}`, "new hidden state"));
  } else {
    rows.push(vec("x", `input part: x${SUB_T}·W + b`));
    rows.push(vec(`h${SUB_T}`, "new hidden state"));
  }
  return rows;
}

/**
 * The explanation of one step and one unit of one direction of a recurrent layer.
 * Throws RangeError on a choice outside the trace (the command checks ranges first).
 */
export function buildExplanation(trace: StepTrace, choice: ExplainChoice, ctx: ExplainContext, digits = 6): Explanation {
  const { sample, step, unit } = choice;
  if (sample < 0 || sample >= trace.samples || step < 0 || step >= trace.steps || unit < 0 || unit >= trace.units) {
    throw new RangeError(`choice ${JSON.stringify(choice)} is outside the trace of ${trace.layer}`);
  }
  const b = makeBuilder(trace, choice, digits);
  const uses = activationUses(trace, ctx);
  const acts = Object.fromEntries(uses.map((a) => [a.role, a]));
  const resetAfter = trace.kind === "gru" ? (ctx.resetAfter ?? Object.keys(trace.gateWeights).some((k) => k.startsWith("recurrent_bias"))) : undefined;
  const masked = trace.mask[sample * trace.steps + step] === 1;
  const scalars: Record<string, number> = {};
  const numbers =
    trace.kind === "conv_lstm"
      ? lstmLines(b, acts, masked, scalars, CONVOLUTION)
      : trace.kind === "lstm"
      ? lstmLines(b, acts, masked, scalars)
      : trace.kind === "gru"
        ? gruLines(b, acts, resetAfter === true, masked, scalars)
        : simpleRnnLines(b, acts, masked, scalars);
  for (const name of trace.names) scalars[name] = b.get(name);
  const before: Record<string, number[]> = {};
  for (const s of trace.stateNames) {
    const v = Array.from(trace.stateBefore(sample, step, s));
    before[s] = v;
    scalars[`${s}_prev`] = v[unit];
  }
  const notes = [...trace.notes];
  if (masked) notes.push(`step ${step + 1} is masked: the cell ran, but Keras keeps the previous state, so the new state equals the old one`);
  return {
    file: ctx.file,
    kerasVersion: ctx.kerasVersion,
    layer: trace.layer,
    className: trace.className,
    kind: trace.kind,
    direction: trace.direction,
    dtype: trace.dtype,
    resetAfter,
    sample,
    samples: trace.samples,
    step,
    steps: trace.steps,
    t: trace.timeIndex[step],
    unit,
    units: trace.units,
    inputDim: trace.inputDim,
    masked,
    digits,
    activations: uses,
    definitions: definitionsFor(trace, acts, resetAfter === true),
    symbols: symbolsFor(trace, resetAfter === true),
    numbers,
    input: Array.from(b.x),
    before,
    scalars,
    notes,
    ...(trace.featureMap ? { featureMap: { ...unitPosition(trace.featureMap, unit), shape: trace.featureMap } } : {}),
  };
}

// ---------------------------------------------------------------------------
// Text

export interface TextOptions {
  ascii: boolean;
  chalk: ChalkInstance;
  /** Lines are wrapped to this many columns (default 80). */
  width?: number;
}

/**
 * Wraps `lhs = part = part = result` to the width: breaks before " = " and " + " at the
 * top level (outside parentheses), continuation lines indented under the first "=".
 */
function wrapEquation(head: string, parts: string[], width: number): string[] {
  const indent = " ".repeat(Math.min(displayWidth(head) + 1, 16));
  const tokens: string[] = [];
  parts.forEach((p, k) => {
    let depth = 0;
    let start = 0;
    const pieces: string[] = [];
    for (let i = 0; i < p.length; i++) {
      const ch = p[i];
      if (ch === "(") depth++;
      else if (ch === ")") depth--;
      else if (depth === 0 && p.startsWith(" + ", i)) {
        pieces.push(p.slice(start, i));
        start = i + 1; // keep "+ " with the next piece
      }
    }
    pieces.push(p.slice(start));
    pieces.forEach((piece, j) => tokens.push(j === 0 ? `${k === 0 ? "" : "= "}${piece}` : piece));
  });
  const lines: string[] = [];
  let line = head;
  for (const tok of tokens) {
    const candidate = `${line} ${tok}`;
    if (displayWidth(candidate) > width && line.trim() !== "" && line !== head) {
      lines.push(line);
      line = `${indent}${tok}`;
    } else {
      line = candidate;
    }
  }
  lines.push(line);
  return lines;
}

function vectorText(v: number[], fmt: (x: number) => string, max = 8): string {
  if (v.length <= max) return `[${v.map(fmt).join(", ")}]`;
  return `[${[...v.slice(0, 4).map(fmt), "…", ...v.slice(-2).map(fmt)].join(", ")}]`;
}

/** Colour scale of a value by what it is: gate outputs and states within ±1, activation arguments and input parts within ±4. */
export function colourScale(name: string): number {
  return /^(x_|x$|rec|arg_)/.test(name) ? 4 : 1;
}

function shapeText(shape: number[]): string {
  return shape.join("×");
}

function padTo(s: string, w: number): string {
  return s + " ".repeat(Math.max(0, w - displayWidth(s)));
}

export function formatExplanation(ex: Explanation, opts: TextOptions): string {
  const width = opts.width ?? 80;
  const { chalk } = opts;
  // Lay out in the notation printed (ASCII spellings are longer), so widths are right.
  const n = (s: string) => (opts.ascii ? asciiText(s) : s);
  const bold = (s: string) => chalk.bold(s);
  const lines: string[] = [];
  const wrapped = (text: string, indent = "") => wrapWords(n(text), width - indent.length).map((l) => indent + l);
  const fm = ex.featureMap;
  const kindName = ex.kind === "lstm" ? "LSTM" : ex.kind === "conv_lstm" ? safe(ex.className) : ex.kind === "gru" ? `GRU (reset_after=${ex.resetAfter ? "True" : "False"})` : "SimpleRNN";
  const size = fm
    ? `${fm.shape.outputSpatial.join(" × ")} position(s) × ${fm.shape.filters} filter(s) from ${[...fm.shape.inputSpatial, fm.shape.channels].join(" × ")} input maps`
    : `${ex.units} unit(s), ${ex.inputDim} feature(s)`;
  const which = fm ? `position p = (${fm.position.join(", ")}), filter ${fm.filter} (unit ${ex.unit} of ${ex.units})` : `unit ${ex.unit} of ${ex.units} (numbered from 0)`;
  const writer = ex.kerasVersion ? `written by Keras ${safe(ex.kerasVersion)}` : "writer's Keras version not recorded";
  lines.push(...wrapped(`${safe(ex.layer)} (${safe(ex.className)}${ex.direction === "backward" ? ", backward direction" : ""}) in ${safe(ex.file)}`).map(bold));
  lines.push(...wrapped(`${writer}; ${kindName}, ${size}, ${ex.dtype} arithmetic`));
  lines.push(...wrapped(`step ${ex.step + 1} of ${ex.steps} (t=${ex.t}), ${which}${ex.samples > 1 ? `, sample ${ex.sample + 1} of ${ex.samples}` : ""}`));

  // 1. Mathematical definitions
  const cell = ex.kind === "lstm" ? "LSTMCell" : ex.kind === "conv_lstm" ? "ConvLSTMCell" : ex.kind === "gru" ? "GRUCell" : "SimpleRNNCell";
  lines.push("", bold("MATHEMATICAL DEFINITIONS") + `  (Keras' ${cell})`, "");
  const eqWidth = Math.max(...ex.definitions.map((d) => displayWidth(n(d.equation)))) + 3;
  for (const d of ex.definitions) lines.push(...columns(`  ${padTo(n(d.equation), eqWidth)}`, n(d.meaning), width));
  lines.push("", "  where");
  for (const a of ex.activations) {
    if (a.formula === `${a.name}(x)`) continue; // tanh(x) = tanh(x) says nothing
    lines.push(...wrapped(`${a.symbol}(x) = ${a.formula}   (${a.role})`, "    "));
    if (a.note) lines.push(...wrapped(a.note, "      "));
  }
  if (fm) {
    const g = fm.shape;
    lines.push(
      ...wrapped(
        `* is the convolution: x${SUB_T} * W with strides (${g.strides.join(", ")}), padding "${g.padding}", dilation (${g.dilation.join(", ")}); h${PREV} * U with stride 1 and padding "same", so the state keeps its shape. ⊙ is the element-wise product, at every position and filter.`,
        "    ",
      ),
    );
  } else {
    lines.push(...wrapped("· is the matrix product (a row times a matrix), ⊙ the element-wise one", "    "));
  }
  lines.push("", `  Shapes in this model, and what each symbol is:`);
  const symWidth = Math.max(...ex.symbols.map((s) => displayWidth(n(s.symbol)))) + 2;
  const shapeWidth = Math.max(...ex.symbols.map((s) => shapeText(s.shape).length)) + 2;
  for (const s of ex.symbols) {
    const meaning = n(s.weights ? `${s.meaning} (${s.weights})` : s.meaning);
    lines.push(...columns(`    ${padTo(n(s.symbol), symWidth)}${padTo(shapeText(s.shape), shapeWidth)}`, meaning, width));
  }

  // 2. The numbers
  const where = fm ? `p = (${fm.position.join(", ")}), filter ${fm.filter}` : `unit ${ex.unit}`;
  lines.push("", bold("THE NUMBERS") + `  (step ${ex.step + 1}, ${where})`, "");
  const vfmt = (v: number) => fixed(v, ex.digits);
  const count = (v: number[]) => (v.length > 8 ? ` (${v.length} values)` : "");
  lines.push(...wrapped(`x${SUB_T}${count(ex.input)} = ${vectorText(ex.input, (v) => significant(v, 6))}`, "  "));
  for (const [s, v] of Object.entries(ex.before)) lines.push(...wrapped(`${s}${PREV}${count(v)} = ${vectorText(v, vfmt)}`, "  "));
  if (fm) {
    lines.push(
      ...wrapped(
        `Each line below is the value at p for filter ${fm.filter}: the convolutions sum the kernel's taps that land inside the map (taps over the zero padding add nothing), over the ${fm.shape.channels} input channel(s) for W and the ${fm.shape.filters} filter(s) of h${PREV} for U.`,
        "  ",
      ),
    );
  } else if (ex.units > 1) {
    lines.push(
      ...wrapped(
        `Each line below is unit ${ex.unit}'s component; the products with W run over the ${ex.inputDim} input feature(s), those with U over the ${ex.units} units of h${PREV}.${recHUsesEveryR(ex) ? ` In rec_h each term takes its own unit's reset gate, since r ⊙ h${PREV} comes before ·U_h: r = [${recHUsesEveryR(ex)!.map((v) => fixed(v, ex.digits)).join(", ")}].` : ""}`,
        "  ",
      ),
    );
  }
  lines.push("");
  for (const line of ex.numbers) {
    const result = fixed(line.value, ex.digits);
    const painted = paintValue(chalk, result, line.value, colourScale(line.name));
    const parts = [line.equation, ...line.work, result].map(n);
    const out = wrapEquation(`  ${n(line.symbol)} =`, parts, width);
    // Colour the result (the last token) once the layout is fixed.
    out[out.length - 1] = out[out.length - 1].replace(new RegExp(`${escapeRegExp(result)}$`), painted);
    lines.push(...out);
  }

  // 3. The diagram
  lines.push("", bold("GRAPHICAL ILLUSTRATION") + `  (step ${ex.step + 1}, ${where})`, "");
  lines.push(...renderDiagramText(ex, { ascii: opts.ascii, chalk }));

  if (ex.notes.length > 0) {
    lines.push("");
    for (const note of ex.notes) wrapped(safe(note), "      ").forEach((l, k) => lines.push(k === 0 ? `note: ${l.trimStart()}` : l));
  }
  const text = lines.join("\n");
  return opts.ascii ? asciiText(text) : text;
}

/** `left` then `text` word-wrapped into the columns to its right (or below it, when too little room is left). */
function columns(left: string, text: string, width: number): string[] {
  const room = width - displayWidth(left);
  if (!text) return [left.trimEnd()];
  if (room < 24) return [left.trimEnd(), ...wrapWords(text, width - 6).map((l) => `      ${l}`)];
  const pad = " ".repeat(displayWidth(left));
  return wrapWords(text, room).map((l, k) => `${k === 0 ? left : pad}${l}`);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The documented `explain --json` document: the same content as data. */
export function explanationJson(ex: Explanation) {
  return {
    file: ex.file,
    kerasVersion: ex.kerasVersion ?? null,
    layer: ex.layer,
    class: ex.className,
    kind: ex.kind,
    direction: ex.direction,
    resetAfter: ex.resetAfter,
    dtype: ex.dtype,
    sample: ex.sample + 1,
    samples: ex.samples,
    step: ex.step + 1,
    steps: ex.steps,
    t: ex.t,
    unit: ex.unit,
    units: ex.units,
    inputDim: ex.inputDim,
    ...(ex.featureMap ? { position: ex.featureMap.position, filter: ex.featureMap.filter } : {}),
    masked: ex.masked,
    activations: ex.activations.map((a) => ({ role: a.role, name: a.name, symbol: a.symbol, formula: a.formula, note: a.note })),
    definitions: ex.definitions,
    symbols: ex.symbols.map((s) => ({ symbol: s.symbol, weights: s.weights, shape: s.shape, meaning: s.meaning })),
    input: ex.input,
    before: ex.before,
    equations: ex.numbers.map((n) => ({
      name: n.name,
      symbol: n.symbol,
      equation: `${n.symbol} = ${n.equation}`,
      substituted: `${n.symbol} = ${[n.equation, ...n.work].join(" = ")} = ${fixed(n.value, ex.digits)}`,
      value: n.value,
      operands: n.operands,
    })),
    values: ex.scalars,
    notes: ex.notes,
  };
}
