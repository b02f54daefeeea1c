// The teaching printers (explain, diagram, heatmap) on traces built by hand, so every
// value is chosen by the test: edge cases the sample models do not reach (huge and NaN
// values, masked steps, layers without bias, many units) and the layout rules
// (80 columns, 7-bit ASCII, no colour at level 0).
import { describe, expect, it } from "vitest";
import { StepTrace, type GateWeights } from "../../src/eval/trace.js";
import { makeChalk } from "../../src/present/colour.js";
import { buildDiagram, renderDiagramSvg, renderDiagramText } from "../../src/present/diagram.js";
import { buildExplanation, explanationJson, formatExplanation } from "../../src/present/explain.js";
import { binning, formatHeatmap, scaleFor, shadeIndex } from "../../src/present/heatmap.js";
import { asciiText, displayWidth } from "../../src/present/notation.js";

const plain = makeChalk(0);
const width = (s: string) => [...s.replace(/\x1b\[[0-9;]*m/g, "")].length; // eslint-disable-line no-control-regex

function matrix(rows: number, cols: number, f: (r: number, c: number) => number) {
  return { rows, cols, data: Float64Array.from({ length: rows * cols }, (_, k) => f(Math.floor(k / cols), k % cols)) };
}

/** An LSTM trace with chosen values: value(name, step, unit). */
function lstmTrace(opts: { units: number; inputDim: number; steps: number; bias?: boolean; value: (name: string, step: number, unit: number) => number }): StepTrace {
  const names = ["x_i", "x_f", "x_c", "x_o", "rec_i", "rec_f", "rec_c", "rec_o", "arg_i", "arg_f", "arg_c", "arg_o", "i", "f", "c_tilde", "c", "act_c", "o", "h"];
  const w: GateWeights = {};
  for (const g of ["i", "f", "c", "o"]) {
    w[`kernel_${g}`] = matrix(opts.inputDim, opts.units, (r, c) => 0.125 * (r + 1) - 0.0625 * c);
    w[`recurrent_kernel_${g}`] = matrix(opts.units, opts.units, (r, c) => (r === c ? 0.5 : -0.25));
    if (opts.bias !== false) w[`bias_${g}`] = matrix(1, opts.units, () => 0.25);
  }
  const t = new StepTrace({
    layer: "lstm_x",
    className: "LSTM",
    kind: "lstm",
    direction: "forward",
    dtype: "float64",
    units: opts.units,
    inputDim: opts.inputDim,
    names,
    columns: ["x_i", "x_f", "x_c", "x_o", "i", "f", "c", "o", "h"],
    samples: 1,
    steps: opts.steps,
    activations: { activation: "tanh", recurrent_activation: "sigmoid" },
    gateWeights: w,
    stateNames: ["h", "c"],
  });
  for (let s = 0; s < opts.steps; s++) {
    t.timeIndex[s] = s;
    for (let d = 0; d < opts.inputDim; d++) t.inputs[s * opts.inputDim + d] = d + 1;
    names.forEach((n, k) => {
      // An activation's argument is what the evaluator records: x_g + rec_g.
      const v = n.startsWith("arg_") ? (j: number) => opts.value(`x_${n.slice(4)}`, s, j) + opts.value(`rec_${n.slice(4)}`, s, j) : (j: number) => opts.value(n, s, j);
      for (let j = 0; j < opts.units; j++) t.values[t.offset(0, s, k) + j] = v(j);
    });
  }
  return t;
}

const ctx = { file: "model.h5", kerasVersion: "2.2.4", kerasMajor: 2 };

describe("explain on a hand-built trace", () => {
  it("writes the recurrent dot product term by term for a few units, summarized for many", () => {
    const few = lstmTrace({ units: 3, inputDim: 2, steps: 2, value: (n, s, j) => 0.1 * (j + 1) + s });
    const ex = buildExplanation(few, { sample: 0, step: 1, unit: 2 }, ctx);
    const rec = ex.numbers.find((n) => n.name === "rec_i")!;
    // h₍ₜ₋₁₎ is the first step's h: 0.1, 0.2, 0.3; U_i[:, 2] is (-0.25, -0.25, 0.5).
    expect(rec.work[0]).toBe("0.100000·(-0.25) + 0.200000·(-0.25) + 0.300000·0.5");
    const i = ex.numbers.find((n) => n.name === "i")!;
    expect(i.equation).toBe("σ(x_i + rec_i)");
    // The argument is x_i + rec_i = 1.3 + 1.3.
    expect(i.work[1]).toBe("σ(2.600000)");

    const many = lstmTrace({ units: 20, inputDim: 12, steps: 1, value: () => 0.5 });
    const ex2 = buildExplanation(many, { sample: 0, step: 0, unit: 0 }, ctx);
    expect(ex2.numbers.find((n) => n.name === "x_i")!.work[0]).toMatch(/^1·0\.125 \+ 2·0\.25 \+ 3·0\.375 \+ … 8 more terms … \+ 12·1\.5 \+ 0\.25$/);
    expect(ex2.numbers.find((n) => n.name === "rec_o")!.work[0]).toContain("… 16 more terms …");
  });

  it("drops the bias from the equations of a layer without one", () => {
    const t = lstmTrace({ units: 1, inputDim: 1, steps: 1, bias: false, value: () => 0.5 });
    const ex = buildExplanation(t, { sample: 0, step: 0, unit: 0 }, ctx);
    expect(ex.definitions[0].equation).toBe("x_i = xₜ·W_i");
    expect(ex.numbers[0].work[0]).toBe("1·0.125");
    expect(ex.symbols.some((s) => s.symbol.startsWith("b_"))).toBe(false);
  });

  it("says when a step was masked instead of pretending the cell equations hold", () => {
    const t = lstmTrace({ units: 1, inputDim: 1, steps: 2, value: (n, s) => (n === "c" || n === "h" ? 0.75 : 0.1 + s) });
    t.mask[1] = 1;
    const ex = buildExplanation(t, { sample: 0, step: 1, unit: 0 }, ctx);
    expect(ex.masked).toBe(true);
    expect(ex.numbers.find((n) => n.name === "c")!.work[0]).toContain("masked step: the state is carried over");
    expect(formatExplanation(ex, { ascii: false, chalk: plain })).toMatch(/note: step 2 is masked/);
  });

  it("keeps huge, tiny and NaN values inside 80 columns, in Unicode and ASCII", () => {
    const odd = [-123456789.5, 1e-9, NaN, Infinity, -0.000123];
    const t = lstmTrace({ units: 2, inputDim: 3, steps: 1, value: (n, _s, j) => odd[(n.length + j) % odd.length] });
    const ex = buildExplanation(t, { sample: 0, step: 0, unit: 1 }, ctx, 9);
    for (const ascii of [false, true]) {
      const text = formatExplanation(ex, { ascii, chalk: plain });
      const over = text.split("\n").filter((l) => width(l) > 80);
      expect(over).toEqual([]);
      if (ascii) expect(text).toMatch(/^[\x00-\x7f]*$/); // eslint-disable-line no-control-regex
    }
    expect(renderDiagramText(ex, { ascii: false, chalk: plain }).join("\n")).toContain("NaN");
    expect(explanationJson(ex).equations.length).toBe(ex.numbers.length);
  });

  it("colours only when asked, and the colour is the only difference", () => {
    const t = lstmTrace({ units: 1, inputDim: 2, steps: 1, value: (n) => (n.startsWith("x") ? -1.5 : 0.4) });
    const ex = buildExplanation(t, { sample: 0, step: 0, unit: 0 }, ctx);
    const none = formatExplanation(ex, { ascii: false, chalk: makeChalk(0) });
    const rich = formatExplanation(ex, { ascii: false, chalk: makeChalk(3) });
    expect(none).not.toContain("\x1b");
    expect(rich).toContain("\x1b[38;2;");
    expect(rich.replace(/\x1b\[[0-9;]*m/g, "")).toBe(none); // eslint-disable-line no-control-regex
  });

  it("draws the same diagram as SVG, with every value slot as data", () => {
    const t = lstmTrace({ units: 1, inputDim: 2, steps: 1, value: (n) => (n === "f" ? 0.25 : 0.5) });
    const ex = buildExplanation(t, { sample: 0, step: 0, unit: 0 }, ctx);
    const svg = renderDiagramSvg(ex);
    expect(svg).toMatch(/^<svg class="diagram" viewBox="-8 -8 \d+ \d+"/);
    expect(svg).toContain('data-name="f" data-value="0.25"');
    expect((svg.match(/<rect class="box"/g) ?? []).length).toBe(5);
    // Every primitive stays on the 79-column grid.
    const d = buildDiagram(ex);
    for (const p of d.primitives) {
      if (p.kind === "hline") expect(p.to).toBeLessThan(79);
      if (p.kind === "slot") expect(p.col + p.width).toBeLessThanOrEqual(79);
      if (p.kind === "box") expect(p.col + p.width).toBeLessThanOrEqual(79);
    }
  });
});

describe("heatmap scales, shades and bins", () => {
  it("uses the activation's range when the values lie in it", () => {
    expect(scaleFor({ name: "f", label: "", activation: "sigmoid" }, [0.1, 0.9])).toEqual([0, 1]);
    expect(scaleFor({ name: "c_tilde", label: "", activation: "tanh" }, [-0.5, 0.2])).toEqual([-1, 1]);
    expect(scaleFor({ name: "c", label: "" }, [-3, 1])).toEqual([-3, 3]);
    expect(scaleFor({ name: "c", label: "" }, [0.5, 2])).toEqual([0, 2]);
    expect(scaleFor({ name: "x", label: "", activation: "relu" }, [0, 5])).toEqual([0, 5]);
  });

  it("maps values to five shades, the ends included", () => {
    expect([0, 0.19, 0.2, 0.5, 0.8, 1, 1.5, -1].map((v) => shadeIndex(v, 0, 1))).toEqual([0, 0, 1, 2, 4, 4, 4, 0]);
    expect(shadeIndex(NaN, 0, 1)).toBe(-1);
  });

  it("bins only when the sequence is wider than the space", () => {
    expect(binning(5, 70)).toEqual({ size: 1, columns: 5, cellWidth: 3 });
    expect(binning(70, 70)).toEqual({ size: 1, columns: 70, cellWidth: 1 });
    expect(binning(905, 69)).toEqual({ size: 14, columns: 65, cellWidth: 1 });
  });

  it("draws a grid per gate with the means of each bin", () => {
    // f = 1 for steps 1–100, 0 for 101–200: with 2-step bins, the columns switch at column 51.
    const t = lstmTrace({ units: 1, inputDim: 1, steps: 200, value: (n, s) => (n === "f" ? (s < 100 ? 1 : 0) : 0.5) });
    const out = formatHeatmap({ layer: "lstm_x", className: "LSTM", directions: [t], outputs: [], notes: [] }, { width: 80, chalk: plain });
    const lines = out.split("\n");
    const row = lines[lines.findIndex((l) => l.startsWith("f  ")) + 2];
    const cells = /│(.*)│/.exec(row)![1];
    expect(out.replace(/\n/g, " ")).toMatch(/each column is the mean of 3 consecutive steps \(the last of 2\), 67 columns in all/);
    expect(cells.length).toBe(67);
    // Bin 34 (steps 100–102) mixes 1 and 0: mean 1/3, the second shade.
    expect(cells).toBe("█".repeat(33) + "░" + " ".repeat(33));
    expect(lines.every((l) => displayWidth(l) <= 80)).toBe(true);
  });
});

describe("ASCII notation", () => {
  it("spells every symbol in 7 bits and escapes anything else", () => {
    expect(asciiText("i = σ(x_i + h₍ₜ₋₁₎·U_i); cₜ = f ⊙ c₍ₜ₋₁₎ + i ⊙ c̃ … (1 − z)")).toBe("i = sigmoid(x_i + h[t-1] @ U_i); c[t] = f * c[t-1] + i * c_tilde ... (1 - z)");
    expect(asciiText("layer_é")).toBe("layer_\\u{e9}");
  });
});
