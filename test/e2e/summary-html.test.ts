// summary --html FILE: the model's graph as SVG, checked against the file itself. For HDF5
// models the expected edges come from the model_config attribute read here with h5wasm
// (Keras 2's inbound_nodes: [layer, node, tensor, kwargs] per consumed tensor; a Sequential's
// chain; a model used as a layer holds its own config), not from our loader. Every layer
// must be a box exactly once, every edge one the config records, each edge's shape the one
// summary prints. A model written here (samples/keras-h5-writer.mjs, the committed writer)
// has hostile names and a nested model; in headless Chromium (as test/e2e/html.test.ts)
// the pages open with no request leaving them, no script in them, and no sideways scroll
// at 700 px; screenshots go to test-artifacts/.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import h5wasm from "h5wasm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ARTIFACTS, type Browser, CHROMIUM, haveChromium, launchChromium } from "../support/chromium.js";
import { fixturePath, noteMissing } from "../load/fixture-paths.js";
import { writer } from "../support/rnn-model-file.js";
import { isCleanError, runCli } from "../support/cli.js";

if (!haveChromium) console.warn(`note: ${CHROMIUM} not found; the summary --html browser checks are skipped (.ci/run installs Debian's chromium)`);

const tmp = mkdtempSync(join(tmpdir(), "keras-inspect-summary-html-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Edge {
  from: string;
  to: string;
}
interface Page {
  html: string;
  layers: string[];
  edges: (Edge & { node: number; tensor: number; shape: string })[];
  path: string;
}

function unescape(s: string): string {
  return s.replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

/** Writes the page and reads the graph back from its data attributes. */
function writePage(file: string, name: string): Page {
  const path = join(tmp, name);
  const r = runCli(["summary", file, "--html", path]);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toMatch(new RegExp(`wrote .*${name} \\(`));
  const html = readFileSync(path, "utf8");
  const layers = [...html.matchAll(/<g class="node[^"]*" data-layer="([^"]*)"/g)].map((m) => unescape(m[1]));
  const edges = [...html.matchAll(/<g class="edge" data-from="([^"]*)" data-to="([^"]*)" data-node="(\d+)" data-tensor="(\d+)" data-shape="([^"]*)"/g)].map((m) => ({
    from: unescape(m[1]),
    to: unescape(m[2]),
    node: Number(m[3]),
    tensor: Number(m[4]),
    shape: unescape(m[5]),
  }));
  return { html, layers, edges, path };
}

type LayerConfig = { class_name: string; name?: string; config: Record<string, unknown> & { name: string }; inbound_nodes?: unknown[] };

/** The model_config attribute of a Keras HDF5 file, read with h5wasm. */
async function modelConfig(file: string): Promise<{ class_name: string; config: unknown }> {
  const Module = await h5wasm.ready;
  const mem = `/summary-html-${process.pid}.h5`;
  Module.FS.writeFile(mem, readFileSync(file));
  const f = new h5wasm.File(mem, "r");
  try {
    return JSON.parse(f.attrs.model_config.value as string);
  } finally {
    f.close();
    Module.FS.unlink(mem);
  }
}

const MODEL_CLASSES = new Set(["Sequential", "Model", "Functional"]);

/** Every layer path and every edge a Keras 2 config records, nested models included (their layers' paths under theirs). */
function expected(cfg: { class_name: string; config: unknown }, prefix = ""): { layers: string[]; edges: Edge[] } {
  const at = (name: string) => (prefix ? `${prefix}/${name}` : name);
  const list = (Array.isArray(cfg.config) ? cfg.config : (cfg.config as { layers: LayerConfig[] }).layers) as LayerConfig[];
  const layers: string[] = [];
  const edges: Edge[] = [];
  list.forEach((l, k) => {
    const name = l.config.name;
    layers.push(at(name));
    if (MODEL_CLASSES.has(l.class_name)) {
      const inner = expected(l, at(name));
      layers.push(...inner.layers);
      edges.push(...inner.edges);
    }
    if (cfg.class_name === "Sequential") {
      if (k === 0 && l.class_name !== "InputLayer") edges.push({ from: at("(input)"), to: at(name) });
      if (k > 0) edges.push({ from: at(list[k - 1].config.name), to: at(name) });
    } else {
      for (const node of (l.inbound_nodes ?? []) as unknown[][][]) for (const entry of node) edges.push({ from: at(entry[0] as string), to: at(name) });
    }
  });
  return { layers, edges };
}

const key = (e: Edge) => `${e.from} -> ${e.to}`;
const sorted = (xs: string[]) => [...xs].sort();

function summaryJson(file: string): { modelClass: string; layers: { name: string; outputShape: string; params: number; connectedTo: string[] }[] } {
  const r = runCli(["summary", file, "--json"]);
  expect(r.status, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** Top-level edges carry the producer's output shape as summary prints it (one of them, for a layer with several outputs). */
function expectShapesAsSummary(file: string, page: Page): void {
  const shapes = new Map(summaryJson(file).layers.map((l) => [l.name, l.outputShape]));
  for (const e of page.edges.filter((e) => !e.from.includes("/"))) {
    const s = shapes.get(e.from);
    if (s === undefined) continue; // a Sequential's virtual input
    if (s.startsWith("[")) expect(s, key(e)).toContain(e.shape);
    else expect(e.shape, key(e)).toBe(s);
  }
}

const H5_MODELS = [
  "k2_lstm_functional_full.h5",
  "k2_lstm_multi_io_states_full.h5",
  "k2_lstm_multiinput_tddense_full.h5",
  "k2_cudnnlstm_functional_full.h5",
  "tfk2_attention_full.h5",
  "k2_nested_model_gan_full.h5",
  "tfk2_nested_sequential_gan_full.h5",
  "tfk2_lstm_stacked_full.h5",
];
noteMissing("summary --html", H5_MODELS);

describe("summary --html: the graph is the config's", () => {
  for (const name of H5_MODELS) {
    const file = fixturePath(name);
    it.skipIf(!file)(`${name}: every layer once, the config's edges, summary's shapes`, async () => {
      const page = writePage(file!, `${name}.html`);
      const want = expected(await modelConfig(file!));
      expect(sorted(page.layers)).toEqual(sorted(want.layers));
      expect(new Set(page.layers).size).toBe(page.layers.length);
      expect(sorted(page.edges.map(key))).toEqual(sorted(want.edges.map(key)));
      expectShapesAsSummary(file!, page);
      expect(page.edges.every((e) => e.shape !== "?"), "every shape inferred").toBe(true);
    });
  }

  it("a nested model's edges carry its inner shapes: the GAN's generator ends at its output shape", () => {
    const file = fixturePath("k2_nested_model_gan_full.h5");
    if (!file) return;
    const page = writePage(file, "gan.html");
    const shapes = new Map(summaryJson(file).layers.map((l) => [l.name, l.outputShape]));
    // The generator (model_2): its Dense of 784 units, then a Reshape whose output is the generator's, which feeds model_1.
    expect(page.edges.find((e) => e.from === "model_2/generator_out_layer")!.shape).toBe("(None, 784)");
    expect(page.edges.find((e) => e.from === "model_2" && e.to === "model_1")!.shape).toBe(shapes.get("model_2"));
    expect(page.html).toContain(`data-layer="model_2/generator_out_reshape_layer" data-class="Reshape" data-params="0" data-shape="${shapes.get("model_2")}"`);
  });

  it("a Keras 3 .keras archive and a TensorFlow.js model: every layer once, edges as summary's Connected to", () => {
    for (const file of ["test/fixtures/real/tfk2_bidir_gru_multiinput_v3.keras", "test/fixtures/exports/tfjs_written_by_tfjs_time_distributed_lstm_unpaired/model.json"]) {
      const page = writePage(file, "other.html");
      const doc = summaryJson(file);
      expect(page.layers).toEqual(doc.layers.map((l) => l.name));
      const fromSummary =
        doc.modelClass === "Sequential"
          ? doc.layers.map((l, k) => ({ from: k === 0 ? "(input)" : doc.layers[k - 1].name, to: l.name }))
          : doc.layers.flatMap((l) => l.connectedTo.map((c) => ({ from: c.slice(0, c.indexOf("[")), to: l.name })));
      expect(sorted(page.edges.map(key))).toEqual(sorted(fromSummary.map(key)));
      expectShapesAsSummary(file, page);
    }
  });

  it("files with no recorded structure: the layers found, unconnected, and why", () => {
    const cases = [
      ["test/fixtures/real/k2_lstm_dense_weights.h5", /holds weights only.*--config/],
      ["test/fixtures/exports/dtln_keras_onnx_tflite_pair/model_1.onnx", /Only this graph's recurrent nodes are read as layers/],
      ["test/fixtures/exports/tflite_mnist_lstm_unpaired/trained_lstm.tflite", /Only this graph's recurrent nodes are read as layers/],
    ] as const;
    for (const [file, why] of cases) {
      const page = writePage(file, "unconnected.html");
      expect(page.layers).toEqual(summaryJson(file).layers.map((l) => l.name));
      expect(page.edges).toEqual([]);
      expect(page.html).toMatch(why);
      // Each recurrent layer has its section, linked from its box.
      expect(page.html).toMatch(/<a href="#recurrent-1"/);
      expect(page.html).toMatch(/<section class="recurrent" id="recurrent-1"/);
    }
  });

  it("a file that cannot be written to: one line, exit code of a file error", () => {
    const r = runCli(["summary", "samples/seed-lstm.h5", "--html", join(tmp, "no-such-dir", "x.html")]);
    expect(isCleanError(r), r.stderr).toBe(true);
    expect(r.stderr).toMatch(/--html .*x\.html: cannot write the page \(ENOENT\)/);
  });
});

// Names no HTML may carry through unescaped (no '/', which HDF5 takes as a path).
const EVIL = {
  input: `x"in`,
  lstm: `<script>alert('x')<`,
  gru: `gru'q&amp;`,
  nested: `inner"><svg onload=alert(1)>`,
  dense: `in_dense<b>`,
  /** Longer than a box shows (36 characters): cut with "…", whole in the box's tooltip. */
  long: `side_${"&".repeat(50)}`,
};

/**
 * A functional model: an LSTM and a GRU on one input, added, then a nested Sequential and a Dense
 * on the sum; the Dense is called again on the GRU's output (a shared layer), and its two calls' outputs are added.
 */
async function hostileModel(): Promise<string> {
  const w = await writer();
  const zeros = (n: number) => new Float32Array(n).map((_, k) => Math.sin(k) / 4);
  const ref = (name: string) => [name, 0, 0, {}];
  const config = {
    class_name: "Model",
    config: {
      name: "hostile<model>",
      layers: [
        { class_name: "InputLayer", name: EVIL.input, config: { name: EVIL.input, batch_input_shape: [null, 4, 3], dtype: "float32", sparse: false }, inbound_nodes: [] },
        { ...w.lstmConfig(EVIL.lstm, 5), name: EVIL.lstm, inbound_nodes: [[ref(EVIL.input)]] },
        { ...w.gruConfig(EVIL.gru, 5), name: EVIL.gru, inbound_nodes: [[ref(EVIL.input)]] },
        { class_name: "Add", name: "merge", config: { name: "merge", trainable: true }, inbound_nodes: [[ref(EVIL.lstm), ref(EVIL.gru)]] },
        {
          ...w.sequentialConfig(EVIL.nested, [w.denseConfig(EVIL.dense, 3, { batch_input_shape: [null, 5] }), w.denseConfig("out_dense", 2)]),
          name: EVIL.nested,
          inbound_nodes: [[ref("merge")]],
        },
        { ...w.denseConfig(EVIL.long, 1), name: EVIL.long, inbound_nodes: [[ref("merge")], [ref(EVIL.gru)]] },
        { class_name: "Add", name: "both", config: { name: "both", trainable: true }, inbound_nodes: [[ref(EVIL.long), [EVIL.long, 1, 0, {}]]] },
      ],
      input_layers: [[EVIL.input, 0, 0]],
      output_layers: [
        [EVIL.nested, 1, 0],
        ["both", 0, 0],
      ],
    },
  };
  const bytes = await w.writeKerasH5({
    modelConfig: config,
    layers: [
      { name: EVIL.input, weights: [] },
      {
        name: EVIL.lstm,
        weights: [
          { name: `${EVIL.lstm}/kernel:0`, shape: [3, 20], data: zeros(60) },
          { name: `${EVIL.lstm}/recurrent_kernel:0`, shape: [5, 20], data: zeros(100) },
          { name: `${EVIL.lstm}/bias:0`, shape: [20], data: zeros(20) },
        ],
      },
      {
        name: EVIL.gru,
        weights: [
          { name: `${EVIL.gru}/kernel:0`, shape: [3, 15], data: zeros(45) },
          { name: `${EVIL.gru}/recurrent_kernel:0`, shape: [5, 15], data: zeros(75) },
          { name: `${EVIL.gru}/bias:0`, shape: [15], data: zeros(15) },
        ],
      },
      { name: "merge", weights: [] },
      {
        name: EVIL.nested,
        weights: [
          { name: `${EVIL.dense}/kernel:0`, shape: [5, 3], data: zeros(15) },
          { name: `${EVIL.dense}/bias:0`, shape: [3], data: zeros(3) },
          { name: "out_dense/kernel:0", shape: [3, 2], data: zeros(6) },
          { name: "out_dense/bias:0", shape: [2], data: zeros(2) },
        ],
      },
      {
        name: EVIL.long,
        weights: [
          { name: `${EVIL.long}/kernel:0`, shape: [5, 1], data: zeros(5) },
          { name: `${EVIL.long}/bias:0`, shape: [1], data: zeros(1) },
        ],
      },
      { name: "both", weights: [] },
    ],
  });
  const file = join(tmp, "hostile.h5");
  writeFileSync(file, bytes);
  return file;
}

describe("summary --html on hostile names", () => {
  it("every name is escaped; the graph is still the config's, the nested model a box of its own", async () => {
    const file = await hostileModel();
    const page = writePage(file, "hostile.html");
    const want = expected(await modelConfig(file));
    expect(sorted(page.layers)).toEqual(sorted(want.layers));
    expect(sorted(page.edges.map(key))).toEqual(sorted(want.edges.map(key)));
    expect(page.edges.find((e) => e.from === `${EVIL.nested}/${EVIL.dense}`)!.shape).toBe("(None, 3)");
    // The shared Dense: one box, both calls' outputs into the Add, each shape written once, naming the call.
    expect(page.edges.filter((e) => e.from === EVIL.long).map((e) => [e.to, e.node, e.shape])).toEqual([
      ["both", 0, "(None, 1)"],
      ["both", 1, "(None, 1)"],
    ]);
    expect(page.html).toContain(">[0] (None, 1)</text>");
    expect(page.html).toContain(">call 1 [0] (None, 1)</text>");
    expect(page.html).toContain(`<text class="name" x="8" y="20">side_${"&amp;".repeat(30)}…</text>`);
    expect(page.html).toContain(`<title>side_${"&amp;".repeat(50)} (Dense)`);
    // Nothing from the file opens a tag or an attribute: no script, no svg element but ours, no stray quote.
    for (const raw of [...Object.values(EVIL), "<script", "<svg onload", "<b>", "'x'"]) expect(page.html).not.toContain(raw);
    // Our three: the graph and the two cell diagrams.
    expect(page.html.match(/<svg/g)!.length).toBe(3);
    expect(page.html.match(/<svg class="(model-graph|diagram)"/g)!.length).toBe(3);
    expect(page.html).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;");
    expect(page.html).toContain("gru&#39;q&amp;amp;");
    // The LSTM and the GRU link to their sections, each with the gates and the command for its cell page.
    expect(page.html.match(/<a href="#recurrent-\d"/g)).toEqual(['<a href="#recurrent-1"', '<a href="#recurrent-2"']);
    expect(page.html).toMatch(/<section class="recurrent" id="recurrent-1" data-layer="&lt;script&gt;alert\(&#39;x&#39;\)&lt;">/);
    expect(page.html).toContain("gates i, f, c, o (Keras order)");
    // Each section draws its cell as explain does, value slots empty: the LSTM's four gate boxes, the GRU's three, named.
    const gates = [...page.html.matchAll(/<figure class="cell">(.*?)<\/figure>/g)].map((m) => [...m[1].matchAll(/data-gate="([^"]*)"/g)].map((g) => g[1]));
    expect(gates).toEqual([
      ["f", "i", "c̃", "o"],
      ["z", "hh", "r"],
    ]);
    expect(page.html).not.toMatch(/<figure class="cell">[^]*?(n\/a|data-value)[^]*?<\/figure>/);
    expect(page.html).toContain(`keras-inspect explain ${file} --layer &#39;gru&#39;\\&#39;&#39;q&amp;amp;&#39; --input-file YOUR_INPUT.npy --html gru_q_amp_.html`);
  });
});

describe.skipIf(!haveChromium)("summary --html in headless Chromium", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it("pages open with no request, run no script, fit 700 px (the graph scrolls in its own box); a recurrent box opens its section", async () => {
    const pages: [string, string][] = [
      ["hostile", await hostileModel()],
      ["multi-io", "test/fixtures/real/k2_lstm_multi_io_states_full.h5"],
    ];
    const gan = fixturePath("k2_nested_model_gan_full.h5");
    if (gan) pages.push(["nested-gan", gan]);
    for (const [name, file] of pages) {
      const { path } = writePage(file, `browser-${name}.html`);
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      page.on("request", (req) => requests.push(req.url()));
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("dialog", (d) => errors.push(`dialog: ${d.message()}`));
      await page.goto(pathToFileURL(path).href);
      expect(requests).toEqual([pathToFileURL(path).href]);
      expect(errors).toEqual([]);
      expect(await page.$$eval("script, img, iframe, foreignObject", (els) => els.length)).toBe(0);
      // Drawn: every box has a size, every edge a path.
      const boxes = await page.$$eval("svg.model-graph g.node > rect, svg.model-graph g.node > a > rect", (rs) => rs.map((r) => (r as unknown as { getBBox(): { width: number } }).getBBox().width));
      expect(boxes.length).toBeGreaterThan(2);
      for (const w of boxes) expect(w).toBeGreaterThan(50);
      if (name === "hostile") {
        const names = await page.$$eval("svg.model-graph text.name", (ts) => ts.map((t) => t.textContent));
        expect(names).toEqual(expect.arrayContaining([EVIL.input, EVIL.lstm, EVIL.gru, EVIL.nested, EVIL.dense]));
      }
      // The multi-output model's page is 10,000 px tall (eleven recurrent sections): its screenshots show the graph only (a whole-page one takes 10 s).
      const fullPage = name !== "multi-io";
      await page.screenshot({ path: join(ARTIFACTS, `summary-${name}-1280.png`), fullPage });
      await page.setViewportSize({ width: 700, height: 900 });
      const widths = await page.$eval("html", (h) => [h.scrollWidth, h.clientWidth]);
      expect(widths[0], `${name} at 700 px`).toBeLessThanOrEqual(widths[1]);
      await page.screenshot({ path: join(ARTIFACTS, `summary-${name}-700.png`), fullPage });
      if (name === "multi-io") {
        // Its graph is wider than the page: it scrolls inside its own box.
        const [inner, box] = await page.$eval(".graph-box", (b) => [b.scrollWidth, b.clientWidth]);
        expect(inner).toBeGreaterThan(box);
      }
      if (name !== "nested-gan") {
        const box = page.locator("svg.model-graph g.node.recurrent a").first();
        await box.scrollIntoViewIfNeeded();
        await box.click();
        expect(await page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash)).toBe("#recurrent-1");
        expect(await page.textContent("#recurrent-1 pre.overview")).toMatch(/units?, \d+ input features?/);
      }
      await page.close();
    }
  });
});
