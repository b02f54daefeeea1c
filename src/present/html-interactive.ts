/**
 * The interactive part of the `--html` page: the reader picks the step and the unit (sliders,
 * the arrow keys, a play button) and the substituted equations, the diagram's values, the
 * chosen step's table and the charts' step marker follow.
 *
 * The page computes nothing: it embeds the trace (every intermediate, the inputs, the
 * initial state, the gate weights) as little-endian typed arrays in base64, the intermediates
 * packed losslessly (packValues), and a small inline script unpacks them and only looks numbers up and writes them as explain.ts does (`fixed` for
 * recorded values, `significant` for inputs and weights; the same sums with the same
 * abbreviation). Which lines a cell has, and their symbolic equations, come from
 * buildExplanation on the server (`plan` below); the script fills in the numbers.
 * test/e2e/html.test.ts checks the page at several (step, unit) against `explain --json`.
 */
import { createRequire } from "node:module";
import type { Floats, StepTrace } from "../eval/trace.js";
import type { Explanation } from "./explain.js";
import { PAGE_PALETTE } from "./colour.js";
import { colourScale, MAX_EXPANDED_TERMS } from "./explain.js";

/** Steps before and after the chosen one in the chosen unit's table (html.ts windowTable). */
export const WINDOW_STEPS = 5;

/** How the script writes one line's work (see LINE_WORK in the script). */
export interface LinePlan {
  name: string;
  symbol: string;
  equation: string;
  /** in: xₜ·W + b; rec: h₍ₜ₋₁₎·U + rb; gate: act(x + rec); value: the result only (ConvLSTM's convolutions). */
  how: "in" | "rec" | "gate" | "lstm_c" | "lstm_h" | "gru_hh_after" | "gru_rec_h" | "gru_hh_before" | "gru_h" | "srnn_h" | "value";
  /** gate: the columns it reads (x_i, rec_i, arg_i) and the weight suffix (_i). */
  suffix?: string;
  act?: string;
  inline?: boolean;
}

export interface InteractiveData {
  kind: StepTrace["kind"];
  direction: StepTrace["direction"];
  sample: number;
  samples: number;
  steps: number;
  units: number;
  inputDim: number;
  digits: number;
  names: readonly string[];
  columns: readonly string[];
  stateNames: readonly string[];
  timeIndex: number[];
  mask: number[];
  /** "f4" or "f8", for values, inputs and initial state. */
  dtype: "f4" | "f8";
  /** Every recorded value, packed (packValues): base64 of zlib of the XOR-delta, byte-shuffled series. */
  values: string;
  inputs: string;
  initial: string;
  /** Gate weights, (rows, cols) row-major, in the type the trace holds them. */
  weights: Record<string, { rows: number; cols: number; dtype: "f4" | "f8"; data: string }>;
  plan: LinePlan[];
  /** Masked steps: which lines remain before the carried-over states. */
  maskedKeep: string[];
  /** Diagram value names → where they come from: a column name, `state:h`, or `arg:arg_c`. */
  scalars: Record<string, string>;
  /** Colour scale per line name (colourScale). */
  scales: Record<string, number>;
  actName: string;
  maxTerms: number;
  /** colour.ts PAGE_PALETTE as [r, g, b]: grey, positive, negative. */
  palette: number[][];
  /** Units the unit slider offers (the page's units). */
  unitList: number[];
  stepList: number[];
  step: number;
  unit: number;
  /** The explained step and unit's own lines' work, for the lines the script writes as value only (ConvLSTM's convolutions). */
  explainedWork: Record<string, string[]>;
  /** WINDOW_STEPS. */
  windowSteps: number;
}

function b64(a: Floats | Float64Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString("base64");
}

/**
 * The trace's values, packed so that a long trace stays a page a browser opens at once (the
 * 905-step × 64-unit GRU's 3.0 MB of float32 were 4.0 MB of base64, most of the page, and the
 * browser's parser takes its time over every byte): the values are written series by series
 * (sample, name, unit, then step), each value XOR the one a step before (a slowly moving
 * series keeps its sign, exponent and high mantissa bits, so they cancel), the bytes sorted by
 * their place in the number (the zeros come together), and deflated (zlib): 1.9 MB, 2.5 MB of
 * base64. Lossless: the page's script undoes each step and reads back the very bits.
 */
export function packValues(t: StepTrace): string {
  const w = t.values.BYTES_PER_ELEMENT;
  const src = new Uint8Array(t.values.buffer, t.values.byteOffset, t.values.byteLength);
  const count = t.values.length;
  const names = t.names.length;
  const out = new Uint8Array(src.length);
  let e = 0;
  for (let s = 0; s < t.samples; s++)
    for (let n = 0; n < names; n++)
      for (let j = 0; j < t.units; j++)
        for (let k = 0; k < t.steps; k++, e++) {
          const at = (((s * t.steps + k) * names + n) * t.units + j) * w;
          const before = k === 0 ? -1 : at - names * t.units * w;
          for (let b = 0; b < w; b++) out[b * count + e] = src[at + b] ^ (before < 0 ? 0 : src[before + b]);
        }
  // Node's zlib, loaded here: most commands never write a page.
  const zlib = createRequire(import.meta.url)("node:zlib") as typeof import("node:zlib");
  return zlib.deflateSync(out, { level: 6 }).toString("base64");
}

const GATE_SUFFIX: Record<string, string> = { i: "_i", f: "_f", c_tilde: "_c", o: "_o", z: "_z", r: "_r" };

/** The lines of the cell and how each is written; from an explanation of a step that was not masked. */
function planFor(t: StepTrace, ex: Explanation): LinePlan[] {
  const act = (role: string) => ex.activations.find((a) => a.role === role)?.symbol ?? "";
  const conv = t.kind === "conv_lstm";
  return ex.numbers.map((n): LinePlan => {
    const base = { name: n.name, symbol: n.symbol, equation: n.equation };
    if (/^x(_[a-z])?$/.test(n.name)) return { ...base, how: conv ? "value" : "in", suffix: n.name.slice(1) };
    if (n.name === "rec_h" && t.kind === "gru" && !ex.resetAfter) return { ...base, how: "gru_rec_h" };
    if (/^rec(_[a-z])?$/.test(n.name)) return { ...base, how: conv ? "value" : "rec", suffix: n.name.slice(3) };
    if (GATE_SUFFIX[n.name]) {
      const suffix = GATE_SUFFIX[n.name];
      const role = n.name === "c_tilde" ? "activation" : "recurrent_activation";
      return { ...base, how: "gate", suffix, act: act(role), inline: n.equation.includes("·U") };
    }
    if (t.kind === "gru" && n.name === "hh") return { ...base, how: ex.resetAfter ? "gru_hh_after" : "gru_hh_before", act: act("activation"), inline: n.equation.includes("(r·h") };
    if (t.kind === "gru" && n.name === "h") return { ...base, how: "gru_h" };
    if (n.name === "c") return { ...base, how: "lstm_c" };
    if (n.name === "h" && (t.kind === "lstm" || conv)) return { ...base, how: "lstm_h", act: act("activation") };
    if (n.name === "h") return { ...base, how: "srnn_h", act: act("activation"), inline: n.equation.includes("·U") };
    return { ...base, how: "value" };
  });
}

/** Where each of the diagram's values (Explanation.scalars) comes from. */
function scalarSources(t: StepTrace, ex: Explanation): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of Object.keys(ex.scalars)) {
    if (t.names.includes(key)) out[key] = key;
    else if (key.endsWith("_prev") && t.stateNames.includes(key.slice(0, -5))) out[key] = `state:${key.slice(0, -5)}`;
    else if (key.startsWith("arg_")) {
      const g = key.slice(4);
      const col = GATE_SUFFIX[g] ? `arg${GATE_SUFFIX[g]}` : g === "hh" ? "arg_h" : t.kind === "simple_rnn" && g === "h" ? "arg" : undefined;
      if (col && t.names.includes(col)) out[key] = col;
    }
  }
  return out;
}

/**
 * The data the script reads. `explainAt` builds the explanation of another (sample, step, unit)
 * of the same direction: the plan is taken from a step that was not masked, so that the
 * page can write every step's lines.
 */
export function interactiveData(
  t: StepTrace,
  ex: Explanation,
  explainAt: (step: number, unit: number) => Explanation,
  view: { units: number[]; steps: number[] },
): InteractiveData {
  let planEx = ex;
  if (ex.masked) {
    const open = view.steps.find((k) => t.mask[ex.sample * t.steps + k] === 0);
    if (open !== undefined) planEx = explainAt(open, ex.unit);
  }
  const plan = planFor(t, planEx);
  // A masked step keeps the lines before the state update: the projections and gates (LSTM,
  // GRU), the input part alone (SimpleRNN); explain.ts writes the states as carried over.
  const maskedKeep = t.kind === "simple_rnn" ? plan.filter((p) => p.how === "in").map((p) => p.name) : plan.filter((p) => p.name !== "c" && p.name !== "h").map((p) => p.name);
  const f8 = t.dtype !== "float32";
  const weights: InteractiveData["weights"] = {};
  for (const [name, m] of Object.entries(t.gateWeights)) weights[name] = { rows: m.rows, cols: m.cols, dtype: m.data instanceof Float32Array ? "f4" : "f8", data: b64(m.data) };
  const scales: Record<string, number> = {};
  for (const n of [...t.names, ...Object.keys(ex.scalars)]) scales[n] = colourScale(n);
  return {
    kind: t.kind,
    direction: t.direction,
    sample: ex.sample,
    samples: t.samples,
    steps: t.steps,
    units: t.units,
    inputDim: t.inputDim,
    digits: ex.digits,
    names: t.names,
    columns: t.columns,
    stateNames: t.stateNames,
    timeIndex: Array.from(t.timeIndex),
    mask: Array.from(t.mask),
    dtype: f8 ? "f8" : "f4",
    values: packValues(t),
    inputs: b64(t.inputs),
    initial: b64(t.initialState),
    weights,
    plan,
    maskedKeep,
    scalars: scalarSources(t, ex),
    scales,
    actName: ex.activations.find((a) => a.role === "activation")?.symbol ?? "",
    maxTerms: MAX_EXPANDED_TERMS,
    palette: [PAGE_PALETTE.grey, PAGE_PALETTE.positive, PAGE_PALETTE.negative].map((c) => [c.r, c.g, c.b]),
    unitList: view.units,
    stepList: view.steps,
    step: ex.step,
    unit: ex.unit,
    windowSteps: WINDOW_STEPS,
    explainedWork: Object.fromEntries(ex.numbers.filter((n) => plan.some((p) => p.name === n.name && p.how === "value")).map((n) => [n.name, n.work])),
  };
}

/** JSON inside a <script> element: nothing in it can close the element or open a comment. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029");
}

/**
 * The page's script. Plain ES2020, no libraries; `D` is InteractiveData. Formatting mirrors
 * text.ts (fixed, significant) and explain.ts (par, sumOf, the lines' work); colours mirror
 * colour.ts (valueRgb).
 */
export const INTERACTIVE_SCRIPT = String.raw`
(() => {
"use strict";
const D = JSON.parse(document.getElementById("trace-data").textContent);
const bytes = (s) => { const b = atob(s); const u = new Uint8Array(b.length); for (let i = 0; i < b.length; i++) u[i] = b.charCodeAt(i); return u.buffer; };
const floats = (s) => (D.dtype === "f8" ? new Float64Array(bytes(s)) : new Float32Array(bytes(s)));
const inputs = floats(D.inputs), initial = floats(D.initial);
// The values, unpacked (html-interactive.ts packValues, undone step by step): inflated, the bytes
// put back in their numbers, each value XOR the one a step before it, series back in trace order.
let values = null;
const unpack = async (s) => {
  // Written to the stream in one piece (a Blob's stream took Chromium four times as long).
  const ds = new DecompressionStream("deflate"), writer = ds.writable.getWriter(), reader = ds.readable.getReader();
  writer.write(new Uint8Array(bytes(s))).catch(() => {});
  writer.close().catch(() => {});
  const parts = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
  const packed = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (packed.set(p, at), at + p.length), 0);
  // Four bytes at a time: word q of a value is its bytes 4q … 4q+3 (little-endian), one from each plane.
  const words = D.dtype === "f8" ? 2 : 1, count = packed.length / (4 * words), N = D.names.length, U = D.units, K = D.steps;
  const raw = new Uint32Array(count * words);
  let e = 0;
  for (let s = 0; s < D.samples; s++) for (let n = 0; n < N; n++) for (let j = 0; j < U; j++) for (let k = 0; k < K; k++, e++) {
    const at = (((s * K + k) * N + n) * U + j) * words, before = at - N * U * words;
    for (let q = 0; q < words; q++) {
      const p = 4 * q * count + e;
      const v = packed[p] | (packed[p + count] << 8) | (packed[p + 2 * count] << 16) | (packed[p + 3 * count] << 24);
      raw[at + q] = k === 0 ? v : v ^ raw[before + q];
    }
  }
  return words === 2 ? new Float64Array(raw.buffer) : new Float32Array(raw.buffer);
};
const W = {};
for (const [k, m] of Object.entries(D.weights)) W[k] = { rows: m.rows, cols: m.cols, data: m.dtype === "f4" ? new Float32Array(bytes(m.data)) : new Float64Array(bytes(m.data)) };
const nameIndex = new Map(D.names.map((n, i) => [n, i]));
const S = D.sample, U = D.units;
const col = (name, k, j) => values[((S * D.steps + k) * D.names.length + nameIndex.get(name)) * U + j];
const stateBefore = (state, k, j) => k === 0 ? initial[(S * D.stateNames.length + D.stateNames.indexOf(state)) * U + j] : col(state, k - 1, j);
const input = (k, d) => inputs[(S * D.steps + k) * D.inputDim + d];
const weight = (name, row, j) => W[name].data[row * W[name].cols + j];
const fixed = (v, digits) => { if (Number.isNaN(v)) return "NaN"; if (!Number.isFinite(v)) return v > 0 ? "Inf" : "-Inf"; const s = v.toFixed(digits); return /^-0\.?0*$/.test(s) ? s.slice(1) : s; };
const significant = (v, digits = 6) => { if (Number.isNaN(v)) return "NaN"; if (!Number.isFinite(v)) return v > 0 ? "Inf" : "-Inf"; if (v === 0) return "0"; const a = Math.abs(v); if (a >= 1e-4 && a < 1e6) return String(Number(v.toPrecision(digits))); return v.toExponential(digits - 1); };
const V = (v) => fixed(v, D.digits), N = (v) => significant(v, 6);
const par = (s) => (s.startsWith("-") ? "(" + s + ")" : s);
const sumOf = (terms, tail = []) => { const shown = terms.length <= D.maxTerms ? terms : [...terms.slice(0, 3), "… " + (terms.length - 4) + " more terms …", ...terms.slice(terms.length - 1)]; const all = [...shown, ...tail]; return all.length === 0 ? "0" : all.join(" + "); };
const [GREY, POS, NEG] = D.palette;
const colour = (v, scale) => { if (Number.isNaN(v)) return "#" + GREY.map((g) => g.toString(16).padStart(2, "0")).join(""); const t = Math.min(1, Math.abs(v) / (scale > 0 ? scale : 1)); const c = v < 0 ? NEG : POS; const q = Math.sqrt(t); return "#" + GREY.map((g, i) => Math.round(g + (c[i] - g) * q).toString(16).padStart(2, "0")).join(""); };
const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const range = (n) => Array.from({ length: n }, (_, i) => i);

// Our notation (x_i, xₜ, h₍ₜ₋₁₎, c̃, σ(…), ·, ⊙) as MathML Core tokens: identifiers with their
// subscripts, numbers, operators; a name right before "(" is a function; "… n more terms …"
// and the masked-step remark stay text.
const mathTokens = (s) => {
  let out = "", i = 0;
  while (i < s.length) {
    const c = s[i], rest = s.slice(i);
    if (c === " ") { i++; continue; }
    if (c === "…") { const j = s.indexOf("…", i + 1); const end = j < 0 ? s.length : j + 1; out += "<mtext>" + esc(s.slice(i, end)) + "</mtext>"; i = end; continue; }
    if (rest.startsWith("(masked")) { out += "<mtext>" + esc(rest) + "</mtext>"; break; }
    // A sign right after "(" or at the start belongs to the number: (−0.78), not ( − 0.78).
    let m = (i === 0 || s[i - 1] === "(" ? /^-?(?:NaN|Inf|\d+(?:\.\d+)?(?:e[+-]?\d+)?)/ : /^(?:NaN|Inf|\d+(?:\.\d+)?(?:e[+-]?\d+)?)/).exec(rest);
    if (m) { out += "<mn>" + m[0].replace("-", "−") + "</mn>"; i += m[0].length; continue; }
    m = /^[A-Za-zσ][A-Za-z0-9_]*\u0303?/.exec(rest);
    if (m) {
      const name = m[0];
      i += name.length;
      if (s[i] === "(") { out += "<mi>" + name + "</mi><mo>\u2061</mo>"; continue; }
      const u = name.indexOf("_");
      let base = name, sub = "";
      if (u > 0) { base = name.slice(0, u); sub = "<mi>" + name.slice(u + 1) + "</mi>"; }
      if (s[i] === "ₜ") { sub = "<mi>t</mi>"; i++; }
      else if (s.startsWith("₍ₜ₋₁₎", i)) { sub = "<mrow><mi>t</mi><mo>−</mo><mn>1</mn></mrow>"; i += 5; }
      out += sub ? "<msub><mi>" + base + "</mi>" + sub + "</msub>" : "<mi>" + base + "</mi>";
      continue;
    }
    out += c === "(" || c === ")" || c === "[" || c === "]" ? '<mo stretchy="false">' + c + "</mo>" : "<mo>" + esc({ "-": "−", "*": "∗" }[c] ?? c) + "</mo>";
    i++;
  }
  return out;
};
/** Top-level " + " of a long sum: MathML Core does not break lines, so each term gets its own <math>. */
const terms = (s) => {
  if (s.length <= 40) return [s];
  const out = [];
  let depth = 0, start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === "(") depth++;
    else if (s[i] === ")") depth--;
    else if (depth === 0 && s.startsWith(" + ", i)) { out.push(s.slice(start, i)); start = i + 3; i += 2; }
  }
  out.push(s.slice(start));
  return out;
};
const math = (s, lead = "") => terms(s).map((t, n) => '<math class="part">' + (n ? '<mo form="infix" lspace="0.2222em" rspace="0.2222em">+</mo>' : lead) + mathTokens(t) + "</math>").join("");
/** A line typeset: one <math> per side of each "=", so that a long line wraps between them. */
const typeset = (l) => '<span class="typeset">' + math(l.symbol) + [l.equation, ...l.work].map((p) => math(p, "<mo>=</mo>")).join("") + '<math class="part"><mo>=</mo><mn class="result" style="color:' + colour(l.value, D.scales[l.name] ?? 1) + '">' + V(l.value) + "</mn></math></span>";
for (const td of document.querySelectorAll("table.definitions td.eq, table.symbols td.eq")) {
  const text = td.textContent;
  td.innerHTML = '<span class="plain" hidden>' + esc(text) + "</span>" + text.split(" = ").map((p, n) => math(p, n ? "<mo>=</mo>" : "")).join("");
}

function work(p, k, j) {
  const g = (n) => col(n, k, j);
  const hp = (i) => stateBefore("h", k, i);
  switch (p.how) {
    case "in": {
      const b = W["bias" + p.suffix] ? [par(N(weight("bias" + p.suffix, 0, j)))] : [];
      return [sumOf(range(D.inputDim).map((d) => par(N(input(k, d))) + "·" + par(N(weight("kernel" + p.suffix, d, j)))), b)];
    }
    case "rec": {
      const rb = W["recurrent_bias" + p.suffix] ? [par(N(weight("recurrent_bias" + p.suffix, 0, j)))] : [];
      return [sumOf(range(U).map((i) => par(V(hp(i))) + "·" + par(N(weight("recurrent_kernel" + p.suffix, i, j)))), rb)];
    }
    case "gate": {
      const x = g("x" + p.suffix), r = g("rec" + p.suffix), arg = g("arg" + p.suffix);
      return [p.inline ? p.act + "(" + V(x) + " + " + par(V(hp(0))) + "·" + par(N(weight("recurrent_kernel" + p.suffix, 0, j))) + ")" : p.act + "(" + V(x) + " + " + par(V(r)) + ")", p.act + "(" + V(arg) + ")"];
    }
    case "lstm_c": return [V(g("f")) + "·" + par(V(stateBefore("c", k, j))) + " + " + V(g("i")) + "·" + par(V(g("c_tilde")))];
    case "lstm_h": return [V(g("o")) + "·" + p.act + "(" + V(g("c")) + ")", V(g("o")) + "·" + V(g("act_c"))];
    case "gru_hh_after": return [p.act + "(" + V(g("x_h")) + " + " + V(g("r")) + "·" + par(V(g("rec_h"))) + ")", p.act + "(" + V(g("arg_h")) + ")"];
    case "gru_rec_h": return [sumOf(range(U).map((i) => "(" + V(col("r", k, i)) + "·" + par(V(hp(i))) + ")·" + par(N(weight("recurrent_kernel_h", i, j)))))];
    case "gru_hh_before": return [p.inline ? p.act + "(" + V(g("x_h")) + " + (" + V(col("r", k, 0)) + "·" + par(V(hp(0))) + ")·" + par(N(weight("recurrent_kernel_h", 0, j))) + ")" : p.act + "(" + V(g("x_h")) + " + " + par(V(g("rec_h"))) + ")", p.act + "(" + V(g("arg_h")) + ")"];
    case "gru_h": return [V(g("z")) + "·" + par(V(hp(j))) + " + (1 − " + V(g("z")) + ")·" + par(V(g("hh")))];
    case "srnn_h": return [p.inline ? p.act + "(" + V(g("x")) + " + " + par(V(hp(0))) + "·" + par(N(weight("recurrent_kernel", 0, j))) + ")" : p.act + "(" + V(g("x")) + " + " + par(V(g("rec"))) + ")", p.act + "(" + V(g("arg")) + ")"];
    default: return k === D.step && j === D.unit && D.explainedWork[p.name] ? D.explainedWork[p.name] : [];
  }
}

function lines(k, j) {
  if (!D.mask[S * D.steps + k]) return D.plan.map((p) => ({ name: p.name, symbol: p.symbol, equation: p.equation, work: work(p, k, j), value: col(p.name, k, j) }));
  const out = D.plan.filter((p) => D.maskedKeep.includes(p.name)).map((p) => ({ name: p.name, symbol: p.symbol, equation: p.equation, work: work(p, k, j), value: col(p.name, k, j) }));
  for (const s of D.stateNames.includes("c") ? ["c", "h"] : ["h"]) {
    out.push({ name: s, symbol: s + "ₜ", equation: s + "₍ₜ₋₁₎", work: [V(stateBefore(s, k, j)) + " (masked step: the state is carried over)"], value: col(s, k, j) });
  }
  return out;
}

const $ = (sel) => document.querySelector(sel);
const stepIn = $("#pick-step"), unitIn = $("#pick-unit"), play = $("#play");
let k = D.step, ui = Math.max(0, D.unitList.indexOf(D.unit)), timer = null;

function scalar(src, j) {
  if (src.startsWith("state:")) return stateBefore(src.slice(6), k, j);
  return col(src, k, j);
}

function render() {
  const j = D.unitList[ui];
  stepIn.value = String(D.stepList.indexOf(k));
  unitIn.value = String(ui);
  $("#pick-step-out").textContent = (k + 1) + " of " + D.steps + " (t=" + D.timeIndex[k] + ")";
  $("#pick-unit-out").textContent = String(j);
  const head = $("#numbers h2");
  if (head) head.textContent = "The numbers: step " + (k + 1) + " of " + D.steps + " (t=" + D.timeIndex[k] + "), unit " + j + (D.samples > 1 ? ", sample " + (S + 1) : "");
  const xs = $("#numbers .x-now");
  if (xs) xs.textContent = "xₜ = [" + range(D.inputDim).map((d) => significant(input(k, d), 6)).join(", ") + "]";
  for (const s of D.stateNames) {
    const li = $('#numbers [data-state="' + s + '"]');
    if (li) li.textContent = s + "₍ₜ₋₁₎ = [" + range(U).map((i) => V(stateBefore(s, k, i))).join(", ") + "]";
  }
  const ol = $("#numbers ol.equations");
  if (ol) {
    ol.innerHTML = lines(k, j).map((l) => '<li class="equation" data-name="' + l.name + '" data-value="' + String(l.value) + '"><span class="plain" hidden><span class="eq">' + esc(l.symbol + " = " + l.equation) + '</span><span class="work"> = ' + l.work.map((w) => esc(w) + " = ").join("") + '<b class="result">' + V(l.value) + "</b></span></span>" + typeset(l) + "</li>").join("");
  }
  for (const el of document.querySelectorAll("svg.diagram tspan.value")) {
    const src = D.scalars[el.getAttribute("data-name")];
    if (src === undefined) continue;
    const v = scalar(src, j);
    el.textContent = V(v);
    el.setAttribute("data-value", String(v));
    el.setAttribute("fill", colour(v, D.scales[el.getAttribute("data-name")] ?? 1));
  }
  const cur = $("table.current");
  if (cur) {
    cur.querySelector("caption").textContent = "step " + (k + 1) + " of " + D.steps + " (t=" + D.timeIndex[k] + ")" + (D.mask[S * D.steps + k] ? " (masked: states carried over)" : "");
    cur.querySelector("tbody").innerHTML = D.unitList.map((u) => '<tr data-unit="' + u + '"' + (u === j ? ' class="chosen"' : "") + "><td>" + u + "</td>" + D.columns.map((c) => { const v = col(c, k, u); return '<td data-name="' + c + '" data-value="' + String(v) + '" style="color:' + colour(v, D.scales[c] ?? 1) + '">' + V(v) + "</td>"; }).join("") + "</tr>").join("");
  }
  const win = $("table.window");
  if (win) {
    // The chosen unit over the steps around the chosen one (html.ts stepWindow).
    const at = D.stepList.indexOf(k), w = D.windowSteps;
    const from = Math.max(0, Math.min(at - w, D.stepList.length - (2 * w + 1)));
    win.setAttribute("data-unit", String(j));
    win.querySelector("caption").textContent = "unit " + j + ", steps around step " + (k + 1);
    win.querySelector("tbody").innerHTML = D.stepList.slice(from, from + 2 * w + 1).map((kk) => '<tr data-step="' + (kk + 1) + '"' + (kk === k ? ' class="chosen"' : "") + "><td>" + (kk + 1) + "</td>" + D.columns.map((c) => { const v = col(c, kk, j); return '<td data-name="' + c + '" data-value="' + String(v) + '" style="color:' + colour(v, D.scales[c] ?? 1) + '">' + V(v) + "</td>"; }).join("") + "</tr>").join("");
  }
  for (const tr of document.querySelectorAll("table.step tr.chosen")) tr.classList.remove("chosen");
  const row = document.querySelector('table.step[data-direction="' + D.direction + '"][data-sample="' + (S + 1) + '"][data-step="' + (k + 1) + '"] tr[data-unit="' + j + '"]');
  if (row) row.classList.add("chosen");
  for (const fig of document.querySelectorAll("figure.chart")) {
    const mine = fig.getAttribute("data-direction") === D.direction && Number(fig.getAttribute("data-sample")) === S + 1;
    fig.classList.toggle("chosen", mine && Number(fig.getAttribute("data-unit")) === j);
    const m = fig.querySelector("line.marker");
    if (!m) continue;
    const steps = fig.getAttribute("data-steps").split(",").map(Number);
    const s = mine ? steps.indexOf(k) : -1;
    m.style.display = s < 0 ? "none" : "";
    if (s >= 0) { const x = xAt(fig, s, steps.length); m.setAttribute("x1", x); m.setAttribute("x2", x); }
  }
}

function xAt(fig, s, n) {
  const l = Number(fig.getAttribute("data-left")), r = Number(fig.getAttribute("data-right"));
  return n === 1 ? (l + r) / 2 : l + (s * (r - l)) / (n - 1);
}

function go(dk, du) {
  const si = Math.min(D.stepList.length - 1, Math.max(0, D.stepList.indexOf(k) + dk));
  k = D.stepList[si];
  ui = Math.min(D.unitList.length - 1, Math.max(0, ui + du));
  render();
}

function toggle() {
  if (timer !== null) { clearInterval(timer); timer = null; play.textContent = "▶ play"; return; }
  if (D.stepList.indexOf(k) === D.stepList.length - 1) k = D.stepList[0];
  play.textContent = "❚❚ pause";
  render();
  timer = setInterval(() => { if (D.stepList.indexOf(k) === D.stepList.length - 1) toggle(); else go(1, 0); }, Number(play.getAttribute("data-interval")) || 600);
}

function start() {
  stepIn.addEventListener("input", () => { k = D.stepList[Number(stepIn.value)]; render(); });
  unitIn.addEventListener("input", () => { ui = Number(unitIn.value); render(); });
  play.addEventListener("click", toggle);
  document.addEventListener("keydown", (e) => {
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    const move = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1], Home: [-1e9, 0], End: [1e9, 0] }[e.key];
    if (move) { e.preventDefault(); go(move[0], move[1]); }
    else if (e.key === " " && e.target === document.body) { e.preventDefault(); toggle(); }
  });

  // Charts: the value of every series under the pointer, at the nearest step.
  for (const fig of document.querySelectorAll("figure.chart")) {
    const svg = fig.querySelector("svg"), out = fig.querySelector(".readout");
    if (!svg || !out) continue;
    const steps = fig.getAttribute("data-steps").split(",").map(Number);
    const unit = Number(fig.getAttribute("data-unit"));
    const mine = fig.getAttribute("data-direction") === D.direction && Number(fig.getAttribute("data-sample")) === S + 1;
    if (!mine) continue;
    svg.addEventListener("pointermove", (e) => {
      const box = svg.getBoundingClientRect();
      const x = ((e.clientX - box.left) * svg.viewBox.baseVal.width) / box.width;
      const l = Number(fig.getAttribute("data-left")), r = Number(fig.getAttribute("data-right"));
      const s = steps.length === 1 ? 0 : Math.min(steps.length - 1, Math.max(0, Math.round(((x - l) * (steps.length - 1)) / (r - l))));
      const kk = steps[s];
      out.textContent = "step " + (kk + 1) + ": " + [...fig.querySelectorAll(".series")].map((p) => p.getAttribute("data-label") + " " + V(col(p.getAttribute("data-name"), kk, unit))).join(", ");
      out.setAttribute("data-step", String(kk + 1));
    });
    svg.addEventListener("click", () => { const st = out.getAttribute("data-step"); if (st) { k = Number(st) - 1; const u = D.unitList.indexOf(unit); if (u >= 0) ui = u; render(); } });
  }
  render();
  // The page now follows the reader (a test waits for this mark).
  document.documentElement.setAttribute("data-trace", "ready");
}

// Without the trace the page stays as written, at the explained step and unit, and says so.
const stayStatic = (why) => {
  const note = document.createElement("p");
  note.className = "note";
  note.textContent = "The page cannot follow the pickers: " + why + "; it shows the explained step and unit only.";
  document.getElementById("controls")?.after(note);
  document.documentElement.setAttribute("data-trace", "static");
};
if (typeof DecompressionStream !== "function") stayStatic("this browser cannot unpack the embedded trace (it has no DecompressionStream)");
else unpack(D.values).then((v) => { values = v; start(); }, (e) => stayStatic("the embedded trace did not unpack (" + e + ")"));
})();
`;
