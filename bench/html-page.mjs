// The interactive --html page at the size of k2_embedding_gru_full.h5's traces and more: a
// GRU of 64 units over 905 steps (synthetic weights, written with samples/keras-h5-writer.mjs),
// `step --html` and `explain --html` on it, and `step --html` on the real 905-step × 64-unit
// test/fixtures/real/k2_gru_hardsigmoid_full.h5; page size in bytes (and how much of it is
// the embedded trace and the charts), the time to write it, and the time Chromium takes to
// load it (DOMContentLoaded, load), to be interactive (the script has unpacked the trace and
// drawn the chosen step: <html data-trace="ready">, then one frame) and to follow one key press.
// Median of 3 loads. Needs /usr/bin/chromium for the browser part. Runnable alone:
// `node bench/html-page.mjs` (after `npm run build`).
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gruConfig, sequentialConfig, writeKerasH5 } from "../samples/keras-h5-writer.mjs";
import { writeNpyFloat32 } from "../dist/npy.js";

const root = new URL("..", import.meta.url).pathname;
const [STEPS, UNITS, FEATURES] = [905, 64, 16];
const dir = mkdtempSync(join(os.tmpdir(), "keras-inspect-html-bench-"));
try {
  let seed = 1;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const g = 3 * UNITS;
  const floats = (n, a) => Float32Array.from({ length: n }, () => rnd() * a);
  const cfg = gruConfig("gru_1", UNITS, { reset_after: false });
  cfg.config.batch_input_shape = [null, null, FEATURES];
  const bytes = await writeKerasH5({
    modelConfig: sequentialConfig("sequential_1", [cfg]),
    layers: [{ name: "gru_1", weights: [
      { name: "gru_1/kernel:0", shape: [FEATURES, g], data: floats(FEATURES * g, 0.3) },
      { name: "gru_1/recurrent_kernel:0", shape: [UNITS, g], data: floats(UNITS * g, 0.15) },
      { name: "gru_1/bias:0", shape: [g], data: floats(g, 0.1) },
    ] }],
  });
  const model = join(dir, "gru-905x64.h5");
  writeFileSync(model, bytes);
  const input = join(dir, "x.json");
  writeFileSync(input, JSON.stringify([Array.from({ length: STEPS }, () => Array.from({ length: FEATURES }, () => Number(rnd().toFixed(3))))]));
  const realInput = join(dir, "gru-905-x.npy");
  writeFileSync(realInput, writeNpyFloat32([1, 905, 1], Float32Array.from({ length: 905 }, (_, k) => 2 * Math.sin(k / 40))));
  const pages = [];
  const cases = [
    { what: "step --html, synthetic GRU", cmd: "step", model, input },
    { what: "explain --html, synthetic GRU", cmd: "explain", model, input },
    { what: "step --html, k2_gru_hardsigmoid_full.h5 (1 feature)", cmd: "step", model: join(root, "test", "fixtures", "real", "k2_gru_hardsigmoid_full.h5"), input: realInput },
  ];
  for (const [n, c] of cases.entries()) {
    const page = join(dir, `page-${n}.html`);
    const t0 = performance.now();
    execFileSync(process.execPath, [join(root, "bin", "keras-inspect.js"), c.cmd, c.model, "--input-file", c.input, "--html", page], { stdio: ["ignore", "ignore", "inherit"] });
    const html = readFileSync(page, "utf8");
    const bytesOf = (re) => [...html.matchAll(re)].reduce((a, m) => a + Buffer.byteLength(m[0]), 0);
    pages.push({
      ...c,
      page,
      write: (performance.now() - t0) / 1000,
      size: statSync(page).size,
      trace: bytesOf(/<script type="application\/json" id="trace-data">[\s\S]*?<\/script>/g),
      charts: bytesOf(/<figure class="chart"[\s\S]*?<\/figure>/g),
      tables: bytesOf(/<table[\s\S]*?<\/table>/g),
    });
  }
  const chromium = "/usr/bin/chromium";
  if (existsSync(chromium)) {
    const { chromium: pw } = await import("playwright-core");
    const browser = await pw.launch({ executablePath: chromium, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
    const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    for (const p of pages) {
      const runs = [];
      for (let r = 0; r < 3; r++) {
        const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
        await page.goto(pathToFileURL(p.page).href, { waitUntil: "load" });
        await page.waitForSelector('html[data-trace="ready"]', { timeout: 60_000 });
        // Milliseconds from the start of navigation to the frame after the page became interactive.
        const ready = await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r(performance.now()))));
        const nav = await page.evaluate(() => { const n = performance.getEntriesByType("navigation")[0]; return { dom: n.domContentLoadedEventEnd, load: n.loadEventEnd }; });
        const t0 = performance.now();
        await page.keyboard.press("ArrowLeft");
        await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
        runs.push({ key: (performance.now() - t0) / 1000, dom: nav.dom / 1000, load: nav.load / 1000, ready: ready / 1000 });
        await page.close();
      }
      for (const k of ["key", "dom", "load", "ready"]) p[k] = median(runs.map((r) => r[k]));
    }
    await browser.close();
  }
  console.log(`GRU, ${UNITS} units, ${STEPS} steps (synthetic: ${FEATURES} features); node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`);
  const mb = (b) => (b / 1e6).toFixed(2);
  for (const p of pages) {
    console.log(
      `${p.what}: ${mb(p.size)} MB (trace ${mb(p.trace)}, charts ${mb(p.charts)}, tables ${mb(p.tables)}), written in ${p.write.toFixed(2)} s` +
        (p.load === undefined ? " (no chromium: not loaded)" : `; Chromium DOMContentLoaded ${p.dom.toFixed(2)} s, load ${p.load.toFixed(2)} s, interactive ${p.ready.toFixed(2)} s, one key press to painted ${p.key.toFixed(3)} s`),
    );
  }
} finally {
  if (process.env.KEEP_PAGES) console.log(`pages kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
