// `--html FILE` on explain and step, checked in a real browser: Debian's chromium
// (installed by .ci/run), driven through playwright-core. The page must render with no
// network and no scripts; the charts, diagram and tables must be there, and the numbers
// in the DOM must equal the trace (`step --json`) and, for the seed, the seed notebook.
// Screenshots are saved under test-artifacts/ for a person to look at.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, type Browser, CHROMIUM, haveChromium, launchChromium } from "../support/chromium.js";
import { runCli } from "../support/cli.js";

if (!haveChromium) console.warn(`note: ${CHROMIUM} not found; the HTML browser checks are skipped (.ci/run installs Debian's chromium)`);

const tmp = mkdtempSync(join(tmpdir(), "keras-inspect-html-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SEED: Record<string, number> = { x_i: -2.19354, x_f: -3.25291, x_c: 10.566496, x_o: 7.354731, i: 0.100332, f: 0.037222, c: 0.100332, o: 0.999361, h: 0.0999329 };
const STACKED_INPUT = "1,2,3;0,0,1;-1,0.5,2;3,3,3;0,0,0";

const fixed6 = (v: number) => {
  const s = v.toFixed(6);
  return /^-0\.0*$/.test(s) ? s.slice(1) : s;
};

function writePage(args: string[], name: string): { path: string; html: string } {
  const path = join(tmp, name);
  const r = runCli([...args, "--html", path]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toMatch(new RegExp(`wrote .*${name} \\(`));
  return { path, html: readFileSync(path, "utf8") };
}

function selfContained(html: string): void {
  expect(html.startsWith("<!DOCTYPE html>")).toBe(true);
  for (const banned of ["<link", "<iframe", "<img", "@import", "url(", "http:", "https:", "src=", "fetch(", "XMLHttpRequest", "import("]) expect(html, banned).not.toContain(banned);
  // Two scripts, both inline: the trace as JSON, and the code that reads it.
  expect(html.match(/<script[^>]*>/g)).toEqual(['<script type="application/json" id="trace-data">', "<script>"]);
}

describe("--html pages are self-contained", () => {
  it("explain and step pages load nothing and run only their own inline script", () => {
    selfContained(writePage(["explain", "samples/seed-lstm.h5", "--input", "1,10"], "static-explain.html").html);
    selfContained(writePage(["step", "samples/gru.h5", "--input", "1,2;3,4"], "static-step.html").html);
  });
});

describe.skipIf(!haveChromium)("--html in headless Chromium", () => {
  // playwright-core is loaded only when a browser is there to drive.
  type Page = import("playwright-core").Page;
  let browser: Browser;

  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens the page, failing on any request that is not the file itself. */
  async function open(path: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const requests: string[] = [];
    page.on("request", (req) => requests.push(req.url()));
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(pathToFileURL(path).href);
    // An interactive page unpacks its trace (asynchronously) before it follows the reader.
    if ((await page.locator("#trace-data").count()) > 0) await page.waitForSelector('html[data-trace="ready"]', { timeout: 10_000 });
    expect(requests).toEqual([pathToFileURL(path).href]);
    expect(errors).toEqual([]);
    return page;
  }

  it("explain: the seed's equations, diagram and chart render with the seed's numbers", async () => {
    const { path } = writePage(["explain", "samples/seed-lstm.h5", "--input", "1,10"], "explain-seed.html");
    const page = await open(path);
    // The substituted equations: one per intermediate, each value the seed table's.
    const eqs = await page.$$eval("li.equation", (els) => els.map((e) => ({ name: e.getAttribute("data-name")!, value: Number(e.getAttribute("data-value")), text: e.querySelector(".result")!.textContent! })));
    expect(eqs.map((e) => e.name)).toEqual(["x_i", "x_f", "x_c", "x_o", "i", "f", "c_tilde", "o", "c", "h"]);
    for (const e of eqs) {
      expect(e.text).toBe(fixed6(e.value));
      // float32 values against the seed's 6 decimals: ≤ 1e-6 (see test/eval/seed-lstm.test.ts).
      if (SEED[e.name] !== undefined) expect(Math.abs(e.value - SEED[e.name]), e.name).toBeLessThanOrEqual(1e-6);
    }
    expect(await page.textContent("#definitions")).toContain("σ(x) = 1 / (1 + e^(-x))");
    // The diagram: drawn (it has a size on screen), with the values on its wires and in its boxes.
    const diagram = page.locator("svg.diagram");
    const box = await diagram.boundingBox();
    expect(box!.width).toBeGreaterThan(500);
    expect(box!.height).toBeGreaterThan(200);
    expect(await page.locator("svg.diagram rect.box").count()).toBe(5); // four gates and tanh(c)
    const wires = await page.$$eval("svg.diagram tspan.value", (els) => Object.fromEntries(els.map((e) => [e.getAttribute("data-name"), e.textContent])));
    expect(wires).toMatchObject({ c_prev: "0.000000", c: "0.100332", f: "0.037222", i: "0.100332", c_tilde: "1.000000", o: "0.999361", h: "0.099933", arg_i: "-2.193540", arg_c_tilde: "10.566496" });
    // One chart (one unit), one line per gate and state, each with its one point.
    expect(await page.locator("figure.chart").count()).toBe(1);
    const series = await page.$$eval("figure.chart polyline.series", (els) => els.map((e) => [e.getAttribute("data-name"), Number(e.getAttribute("data-values"))]));
    expect(series.map((s) => s[0])).toEqual(["i", "f", "c_tilde", "o", "c", "h"]);
    for (const [name, v] of series) if (SEED[name as string] !== undefined) expect(Math.abs((v as number) - SEED[name as string])).toBeLessThanOrEqual(1e-6);
    expect((await page.locator("figure.chart circle.point").first().boundingBox())!.width).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, "explain-seed.png"), fullPage: true });
    await diagram.screenshot({ path: join(ARTIFACTS, "explain-seed-diagram.png") });
    await page.close();
  });

  it("step: a chart per unit with every gate over time, and tables equal to step --json", async () => {
    const { path } = writePage(["step", "samples/stacked-lstm-dense.h5", "--input", STACKED_INPUT], "step-stacked.html");
    const json = runCli(["step", "samples/stacked-lstm-dense.h5", "--input", STACKED_INPUT, "--json"]);
    expect(json.status, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    const steps: Record<string, number[]>[] = doc.directions[0].samples[0];
    expect(steps.length).toBe(5);
    const page = await open(path);

    // Charts: 8 units, each with the 6 series over the 5 steps, drawn.
    const charts = await page.$$eval("figure.chart", (figs) =>
      figs.map((f) => ({
        unit: Number(f.getAttribute("data-unit")),
        series: Object.fromEntries([...f.querySelectorAll("polyline.series")].map((p) => [p.getAttribute("data-name"), p.getAttribute("data-values")!.split(" ").map(Number)])),
        points: f.querySelectorAll("circle.point").length,
      })),
    );
    expect(charts.map((c) => c.unit)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const c of charts) {
      expect(Object.keys(c.series)).toEqual(["i", "f", "c_tilde", "o", "c", "h"]);
      expect(c.points).toBe(6 * 5);
      for (const name of ["i", "f", "o", "c", "h"]) {
        // The JSON prints each float32 as its shortest decimal; the page holds the value itself.
        expect(c.series[name], `unit ${c.unit} ${name}`).toEqual(steps.map((s) => Math.fround(s[name][c.unit])));
      }
    }
    const line = await page.locator("figure.chart polyline.series").first().boundingBox();
    expect(line!.width).toBeGreaterThan(200);

    // Tables: one per step, a row per unit, every number as text and in full.
    const tables = await page.$$eval("table.step", (ts) =>
      ts.map((t) => [...t.querySelectorAll("td[data-name]")].map((td) => ({ name: td.getAttribute("data-name")!, unit: Number(td.parentElement!.getAttribute("data-unit")), value: Number(td.getAttribute("data-value")), text: td.textContent! }))),
    );
    expect(tables.length).toBe(5);
    tables.forEach((cells, k) => {
      expect(cells.length).toBe(8 * 9);
      for (const cell of cells) {
        expect(cell.value, `step ${k + 1} ${cell.name}[${cell.unit}]`).toBe(Math.fround(steps[k][cell.name][cell.unit]));
        expect(cell.text).toBe(fixed6(cell.value));
      }
    });
    // The diagram explains the last step of unit 0.
    expect(await page.textContent("#numbers h2")).toContain("step 5 of 5");
    expect(await page.locator("svg.diagram").count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, "step-stacked.png"), fullPage: true });
    await page.close();
  });

  it("a hostile layer name is text, not markup", async () => {
    const { writeRnnModel } = await import("../support/rnn-model-file.js");
    const { writeFileSync } = await import("node:fs");
    const spec = { kind: "simple_rnn" as const, units: 1, inputDim: 1, activation: "tanh", useBias: true, kernel: Float32Array.of(1), recurrentKernel: Float32Array.of(1), bias: Float32Array.of(0) };
    const file = join(tmp, "hostile.h5");
    writeFileSync(file, (await writeRnnModel(spec, { name: "<img src=x onerror=alert(1)>" })).bytes);
    const { path, html } = writePage(["explain", file, "--input", "1"], "hostile.html");
    expect(html).not.toContain("<img");
    const page = await open(path);
    expect(await page.locator("img").count()).toBe(0);
    expect(await page.textContent("h1")).toContain("<img src=x onerror=alert(1)>");
    await page.close();
  });

  /** Explain's own lines at (step, unit), from 0: what the page must show there. */
  function explainJson(file: string, input: string | string[], step: number, unit: number): { masked: boolean; equations: { name: string; substituted: string }[]; values: Record<string, number> } {
    const r = runCli(["explain", file, ...(typeof input === "string" ? ["--input", input] : input), "--steps", String(step), "--unit", String(unit), "--json"]);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  /** Drives the page to (step, unit) the way a reader does: the keys, or the sliders. */
  async function choose(page: Page, step: number, unit: number, how: "keys" | "slider"): Promise<void> {
    if (how === "slider") {
      await page.locator("#pick-step").fill(String(step));
      await page.locator("#pick-unit").fill(String(unit));
      return;
    }
    await page.locator("body").click({ position: { x: 1, y: 1 } });
    await page.keyboard.press("Home");
    for (let k = 0; k < step; k++) await page.keyboard.press("ArrowRight");
    for (let j = 0; j < 64; j++) await page.keyboard.press("ArrowDown");
    for (let j = 0; j < unit; j++) await page.keyboard.press("ArrowUp");
  }

  async function shown(page: Page) {
    return {
      equations: await page.$$eval("#numbers li.equation", (lis) => lis.map((li) => ({ name: li.getAttribute("data-name")!, text: li.querySelector(".plain")!.textContent! }))),
      typeset: await page.$$eval("#numbers li.equation", (lis) =>
        lis.map((li) => ({
          maths: [...li.querySelectorAll(".typeset > math")].map((m) => ({ ns: m.namespaceURI, text: m.textContent!, width: m.getBoundingClientRect().width })),
          result: li.querySelector(".typeset mn.result")!.textContent!,
        })),
      ),
      wires: Object.fromEntries<{ text: string; value: number }>(
        await page.$$eval("svg.diagram tspan.value", (els) => els.map((e) => [e.getAttribute("data-name")!, { text: e.textContent!, value: Number(e.getAttribute("data-value")) }] as const)),
      ),
      current: await page.$$eval("table.current tr.chosen td[data-name]", (tds) => tds.map((td) => ({ name: td.getAttribute("data-name")!, text: td.textContent!, value: Number(td.getAttribute("data-value")) }))),
      heading: (await page.textContent("#numbers h2"))!,
      marker: await page.$$eval("figure.chart.chosen line.marker", (ms) => ms.map((m) => m.getAttribute("x1"))),
    };
  }

  // The page computes nothing: at every (step, unit) it chooses, its equations must read as
  // explain's own at that step and unit, character for character (the same digits), and its
  // diagram and table hold the very trace values (float32, compared exactly).
  const GRU_RA: import("../reference/rnn-spec.js").RnnSpec = {
    kind: "gru", units: 3, inputDim: 2, activation: "tanh", recurrentActivation: "sigmoid", useBias: true, resetAfter: true,
    kernel: Float32Array.from({ length: 18 }, (_, i) => Math.sin(i + 1) * 0.7),
    recurrentKernel: Float32Array.from({ length: 27 }, (_, i) => Math.cos(i + 2) * 0.6),
    bias: Float32Array.from({ length: 18 }, (_, i) => Math.sin(3 * i) * 0.3),
  };
  const SRNN: import("../reference/rnn-spec.js").RnnSpec = {
    kind: "simple_rnn", units: 3, inputDim: 2, activation: "tanh", useBias: true,
    kernel: Float32Array.from({ length: 6 }, (_, i) => Math.sin(i + 1) * 0.8),
    recurrentKernel: Float32Array.from({ length: 9 }, (_, i) => Math.cos(i + 2) * 0.5),
    bias: Float32Array.from({ length: 3 }, (_, i) => 0.1 * i - 0.1),
  };
  const CASES: { label: string; file: () => Promise<string>; input: string; picks: [number, number, "keys" | "slider"][] }[] = [
    { label: "LSTM", file: async () => "samples/stacked-lstm-dense.h5", input: STACKED_INPUT, picks: [[0, 0, "keys"], [2, 5, "keys"], [4, 7, "slider"], [1, 3, "slider"]] },
    { label: "GRU reset_after=False", file: async () => "samples/gru.h5", input: "1,2;3,4;-5,6;0.5,-1", picks: [[0, 1, "keys"], [3, 3, "slider"], [2, 0, "keys"]] },
    { label: "GRU reset_after=True", file: () => modelFile(GRU_RA, "gru-ra.h5"), input: "1,2;3,-4;0.5,0.25", picks: [[0, 2, "keys"], [2, 1, "slider"], [1, 0, "keys"]] },
    { label: "SimpleRNN", file: () => modelFile(SRNN, "srnn.h5"), input: "1,2;3,-4;0.5,0.25", picks: [[0, 0, "slider"], [1, 2, "keys"], [2, 1, "keys"]] },
    // Masking(0) in front: steps 2 and 4 are masked, the states carried over (explain writes them so).
    { label: "GRU with masked steps", file: () => modelFile(GRU_RA, "gru-masked.h5", true), input: "1,2;0,0;0.5,0.25;0,0", picks: [[1, 2, "keys"], [2, 0, "slider"], [3, 1, "keys"]] },
    { label: "SimpleRNN with masked steps", file: () => modelFile(SRNN, "srnn-masked.h5", true), input: "1,2;0,0;0.5,0.25;0,0", picks: [[1, 1, "keys"], [0, 2, "slider"]] },
  ];
  async function modelFile(spec: import("../reference/rnn-spec.js").RnnSpec, name: string, masking = false): Promise<string> {
    const { writeRnnModel } = await import("../support/rnn-model-file.js");
    const { writeFileSync } = await import("node:fs");
    const file = join(tmp, name);
    writeFileSync(file, (await writeRnnModel(spec, { masking })).bytes);
    return file;
  }

  for (const c of CASES) {
    it(`interactive explain page, ${c.label}: at each chosen step and unit the equations, diagram and table are explain's there`, async () => {
      const file = await c.file();
      const name = `interactive-${c.label.replace(/\W+/g, "-").toLowerCase()}.html`;
      const { path, html } = writePage(["explain", file, "--input", c.input], name);
      selfContained(html);
      const page = await open(path);
      for (const [step, unit, how] of c.picks) {
        await choose(page, step, unit, how);
        const want = explainJson(file, c.input, step, unit);
        if (c.label.includes("masked")) expect(want.masked, `step ${step} masked`).toBe(step % 2 === 1);
        const got = await shown(page);
        const where = `${c.label} step ${step} unit ${unit} (${how})`;
        expect(got.heading, where).toContain(`step ${step + 1} of`);
        expect(got.heading, where).toContain(`unit ${unit}`);
        expect(got.equations, where).toEqual(want.equations.map((e) => ({ name: e.name, text: e.substituted })));
        // The same lines typeset: MathML elements (parsed as such, drawn), one per side of each
        // "=", whose tokens read as explain's line once spaces, subscripts, the function-application
        // mark and the typographic minus and asterisk are set aside; the result is the value shown.
        // Subscripts become structure; a long sum is one <math> per term (MathML Core does not break lines).: x_i is x with i below, h₍ₜ₋₁₎ is h with t−1 below.
        const plainMaths = (t: string) => t.replace(/[\s\u2061_]/g, "").replace(/₍ₜ₋₁₎/g, "t-1").replace(/ₜ/g, "t").replace(/−/g, "-").replace(/∗/g, "*");
        got.typeset.forEach((line, n) => {
          for (const m of line.maths) {
            expect(m.ns, where).toBe("http://www.w3.org/1998/Math/MathML");
            expect(m.width, where).toBeGreaterThan(0);
          }
          expect(plainMaths(line.maths.map((m) => m.text).join("")), `${where}: ${want.equations[n].name}`).toBe(plainMaths(want.equations[n].substituted));
          expect(line.result).toBe(want.equations[n].substituted.split(" = ").pop());
        });
        for (const [n, w] of Object.entries(got.wires)) {
          expect(want.values[n!], `${where}: ${n}`).toBeDefined();
          expect(w.value, `${where}: ${n}`).toBe(want.values[n!]);
          expect(w.text, `${where}: ${n}`).toBe(fixed6(want.values[n!]));
        }
        expect(got.current.length, where).toBeGreaterThan(0);
        for (const cell of got.current) {
          expect(cell.value, `${where}: ${cell.name}`).toBe(want.values[cell.name]);
          expect(cell.text).toBe(fixed6(cell.value));
        }
        expect(got.marker.length, where).toBe(1);
      }
      const defs = await page.$$eval("table.definitions td.eq", (tds) => tds.map((td) => td.querySelectorAll("math").length));
      expect(defs.length).toBeGreaterThan(0);
      for (const n of defs) expect(n).toBeGreaterThan(0);
      await page.close();
    });
  }

  // A long trace: the real 905-step × 64-unit GRU (k2_gru_hardsigmoid_full.h5, Apache-2.0, in
  // test/fixtures/real). Its page was 7.1 MB; the trace it embeds is 3.0 MB of float32 and
  // packs (losslessly) to 2.6 MB of base64, the compact chart lines are 0.7 MB, the tables
  // follow the pickers instead of being written out. The bound leaves room for small changes
  // but not for the every-step tables (1.3 MB) or unpacked values (+1.5 MB) to come back.
  // Numbers compared exactly (float32 values) and character for character (text), as above.
  it("a 905-step × 64-unit GRU page stays under 3.5 MB and shows the trace's numbers at steps 1, 451 and 905", async () => {
    const { writeNpyFloat32 } = await import("../../src/npy.js");
    const { writeFileSync } = await import("node:fs");
    const file = "test/fixtures/real/k2_gru_hardsigmoid_full.h5";
    const input = join(tmp, "gru-905-x.npy");
    writeFileSync(input, writeNpyFloat32([1, 905, 1], Array.from({ length: 905 }, (_, k) => 2 * Math.sin(k / 40))));
    const { path, html } = writePage(["step", file, "--input-file", input], "long-gru.html");
    selfContained(html);
    expect(Buffer.byteLength(html)).toBeLessThan(3.5e6);
    expect(html).not.toContain('<table class="step"');
    const page = await open(path);
    for (const [step, unit] of [[0, 5], [450, 63], [904, 0]]) {
      await choose(page, step, unit, "slider");
      const want = explainJson(file, ["--input-file", input], step, unit);
      const got = await shown(page);
      const where = `step ${step} unit ${unit}`;
      expect(got.heading, where).toContain(`step ${step + 1} of 905`);
      expect(got.equations, where).toEqual(want.equations.map((e) => ({ name: e.name, text: e.substituted })));
      for (const [n, w] of Object.entries(got.wires)) expect(w.value, `${where}: ${n}`).toBe(want.values[n!]);
      expect(got.current.length, where).toBe(7);
      for (const cell of got.current) expect(cell.value, `${where}: ${cell.name}`).toBe(want.values[cell.name]);
      // The chosen unit's table around the step: its chosen row is the same numbers.
      const row = await page.$$eval("table.window tr.chosen td[data-name]", (tds) => tds.map((td) => ({ name: td.getAttribute("data-name")!, text: td.textContent!, value: Number(td.getAttribute("data-value")) })));
      expect(row.length, where).toBe(7);
      for (const cell of row) {
        expect(cell.value, `${where}: ${cell.name}`).toBe(want.values[cell.name]);
        expect(cell.text).toBe(fixed6(cell.value));
      }
      expect(await page.$$eval("table.window tbody tr", (trs) => trs.length)).toBe(11);
      expect(got.marker.length, where).toBe(unit < 32 ? 1 : 0); // 32 charts at most: units 0 to 31
    }
    await page.close();
  });

  it("interactive page: play walks the steps to the last and stops; the chart reads out the value under the pointer", async () => {
    const { path } = writePage(["step", "samples/stacked-lstm-dense.h5", "--input", STACKED_INPUT], "interactive-play.html");
    const page = await open(path);
    await page.locator("#play").evaluate((b) => b.setAttribute("data-interval", "20"));
    await page.keyboard.press("Home");
    expect(await page.textContent("#pick-step-out")).toContain("1 of 5");
    await page.click("#play");
    await expect.poll(() => page.textContent("#play"), { timeout: 5000 }).toContain("play");
    expect(await page.textContent("#pick-step-out")).toContain("5 of 5");
    // Pointer over the chosen unit's chart, at its left edge: the first step's values.
    const json = runCli(["step", "samples/stacked-lstm-dense.h5", "--input", STACKED_INPUT, "--json"]);
    const first: Record<string, number[]> = JSON.parse(json.stdout).directions[0].samples[0][0];
    const fig = page.locator("figure.chart.chosen");
    const svg = fig.locator("svg");
    await svg.scrollIntoViewIfNeeded();
    const box = (await svg.boundingBox())!;
    await svg.hover({ position: { x: (52 / 440) * box.width + 1, y: box.height / 2 } });
    const text = await fig.locator(".readout").textContent();
    expect(text).toContain("step 1:");
    expect(text).toContain(`h ${fixed6(Math.fround(first.h[0]))}`);
    await page.screenshot({ path: join(ARTIFACTS, "interactive-1280.png"), fullPage: false });
    await page.close();
  });

  it("the page as a class sees it: a colour legend that reads (AA), gate names in the boxes, a one-step chart whose dots do not overlap, no sideways scroll at 700 px", async () => {
    const { contrastRatio } = await import("../../src/present/colour.js");
    const WHITE = { r: 255, g: 255, b: 255 };
    const rgb = (css: string) => {
      const [r, g, b] = css.match(/\d+/g)!.map(Number);
      return { r, g, b };
    };
    const pages = [
      writePage(["explain", "samples/seed-lstm.h5", "--input", "1,10"], "class-seed.html").path,
      writePage(["explain", "samples/gru.h5", "--input", "1,2;3,4;5,6"], "class-gru.html").path,
      writePage(["step", "samples/stacked-lstm-dense.h5", "--input", STACKED_INPUT], "class-stacked.html").path,
    ];
    for (const [n, path] of pages.entries()) {
      const page = await open(path);
      // Every coloured number on the page, legend included, against the white page (WCAG AA: 4.5:1).
      const colours = await page.$$eval(".colour-legend .sample, td[data-name], .typeset mn.result, svg.diagram tspan.value", (els) =>
        els.map((e) => {
          // The browser's own getComputedStyle (this file is typed without the DOM library).
          const style = (globalThis as unknown as { getComputedStyle(e: unknown): { fill: string; color: string } }).getComputedStyle(e);
          return e.tagName === "tspan" ? style.fill : style.color;
        }),
      );
      expect(colours.length).toBeGreaterThan(10);
      for (const c of colours) expect(contrastRatio(rgb(c), WHITE), c).toBeGreaterThanOrEqual(4.5);
      expect(await page.textContent(".colour-legend")).toMatch(/blue.*below 0.*orange-red.*above 0.*grey.*at 0.*saturated/s);
      const gates = await page.$$eval("svg.diagram text.gate", (ts) => ts.map((t) => t.textContent));
      expect(gates).toEqual(n === 1 ? ["z", "hh", "r"] : ["f", "i", "c̃", "o"]);
      await page.screenshot({ path: join(ARTIFACTS, `class-${n}-1280.png`), fullPage: true });
      await page.setViewportSize({ width: 700, height: 900 });
      const widths = await page.$eval("html", (h) => [h.scrollWidth, h.clientWidth]);
      expect(widths[0], `page ${n} at 700 px`).toBeLessThanOrEqual(widths[1]);
      await page.screenshot({ path: join(ARTIFACTS, `class-${n}-700.png`), fullPage: true });
      if (n === 0) {
        // The seed's one step: i, c and h are all ≈ 0.1, yet each dot stands apart, named.
        const dots = await page.$$eval("figure.chart circle.point", (cs) => cs.map((c) => { const b = c.getBoundingClientRect(); return { x: b.x + b.width / 2, y: b.y + b.height / 2, r: b.width / 2 }; }));
        expect(dots.length).toBe(6);
        for (let a = 0; a < dots.length; a++) for (let b = a + 1; b < dots.length; b++) expect(Math.hypot(dots[a].x - dots[b].x, dots[a].y - dots[b].y)).toBeGreaterThan(dots[a].r + dots[b].r);
        expect(await page.$$eval("figure.chart text.series-name", (ts) => ts.map((t) => t.textContent))).toEqual(["i", "f", "c̃", "o", "c", "h"]);
      }
      await page.close();
    }
  });

  it("interactive ConvLSTM page: the feature-map explanation at its step, the trace's values at the others", async (ctx) => {
    const { fixturePath } = await import("../load/fixture-paths.js");
    const fixture = fixturePath("tfk2_convlstm2d_full.h5");
    if (!fixture) {
      // Read from ../shared when present (its licence keeps it out of the repository).
      console.warn("note: tfk2_convlstm2d_full.h5 not found; the interactive ConvLSTM page check is skipped");
      return ctx.skip();
    }
    const { writeFileSync } = await import("node:fs");
    // One sample, 3 steps of 4 channels × 10 × 10, four decimals so that JSON carries it exactly.
    const x = Array.from({ length: 3 }, (_, k) => Array.from({ length: 4 }, (_, a) => Array.from({ length: 10 }, (_, i) => Array.from({ length: 10 }, (_, j) => Math.round(Math.sin(k * 7 + a * 3 + i * 11 + j) * 1e4) / 1e4))));
    const input = join(tmp, "convlstm-x.json");
    writeFileSync(input, JSON.stringify([x]));
    const args = ["explain", fixture, "--input-file", input, "--position", "0,3", "--filter", "2", "--steps", "1"];
    const { path, html } = writePage(args, "interactive-convlstm.html");
    selfContained(html);
    const json = runCli([...args, "--json"]);
    expect(json.status, json.stderr).toBe(0);
    const want: { equations: { name: string; substituted: string; value: number }[] } = JSON.parse(json.stdout);
    const page = await open(path);
    const lines = () => page.$$eval("#numbers li.equation", (ls) => ls.map((l) => ({ name: l.getAttribute("data-name"), text: l.querySelector(".plain")!.textContent, value: Number(l.getAttribute("data-value")) })));
    expect(await lines()).toEqual(want.equations.map((e) => ({ name: e.name, text: e.substituted, value: e.value })));
    // Step 3: the convolutions by their values from the trace, the cell's arithmetic written out.
    await page.keyboard.press("End");
    const at3 = await lines();
    expect(at3.map((l) => l.name)).toEqual(want.equations.map((e) => e.name));
    expect(at3[0].text).toMatch(/^x_i = \(xₜ \* W_i\)\[p\] \+ b_i = -?\d+\.\d{6}$/);
    expect(at3.find((l) => l.name === "c")!.text).toMatch(/^cₜ = f·c₍ₜ₋₁₎ \+ i·c̃ = /);
    // Back at step 2: explain's own lines again.
    await page.keyboard.press("ArrowLeft");
    expect(await lines()).toEqual(want.equations.map((e) => ({ name: e.name, text: e.substituted, value: e.value })));
    await page.close();
  });
});
