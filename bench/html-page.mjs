// The interactive --html page at the size of k2_embedding_gru_full.h5's traces and more: a
// GRU of 64 units over 905 steps (synthetic weights, written with samples/keras-h5-writer.mjs),
// `step --html` and `explain --html` on it; page size in bytes, the time to write it, and the
// time Chromium takes to load it (DOMContentLoaded and load) and to follow one key press.
// Needs /usr/bin/chromium for the browser part. Runnable alone: `node bench/html-page.mjs`.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { gruConfig, sequentialConfig, writeKerasH5 } from "../samples/keras-h5-writer.mjs";

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
  const pages = [];
  for (const cmd of ["step", "explain"]) {
    const page = join(dir, `${cmd}.html`);
    const t0 = performance.now();
    execFileSync(process.execPath, [join(root, "bin", "keras-inspect.js"), cmd, model, "--input-file", input, "--html", page], { stdio: ["ignore", "ignore", "inherit"] });
    pages.push({ cmd, page, write: (performance.now() - t0) / 1000, size: statSync(page).size });
  }
  const chromium = "/usr/bin/chromium";
  if (existsSync(chromium)) {
    const { chromium: pw } = await import("playwright-core");
    const browser = await pw.launch({ executablePath: chromium, args: ["--headless", "--no-sandbox", "--disable-gpu"] });
    for (const p of pages) {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      await page.goto(pathToFileURL(p.page).href, { waitUntil: "load" });
      const nav = await page.evaluate(() => { const n = performance.getEntriesByType("navigation")[0]; return { dom: n.domContentLoadedEventEnd, load: n.loadEventEnd }; });
      const t0 = performance.now();
      await page.keyboard.press("ArrowLeft");
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => r())));
      p.key = (performance.now() - t0) / 1000;
      p.dom = nav.dom / 1000;
      p.load = nav.load / 1000;
      await page.close();
    }
    await browser.close();
  }
  console.log(`GRU, ${UNITS} units, ${STEPS} steps, ${FEATURES} features; node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}`);
  for (const p of pages) {
    console.log(`${p.cmd} --html: ${(p.size / 1e6).toFixed(2)} MB, written in ${p.write.toFixed(2)} s` + (p.load === undefined ? " (no chromium: not loaded)" : `; Chromium DOMContentLoaded ${p.dom.toFixed(2)} s, load ${p.load.toFixed(2)} s, one key press to painted ${p.key.toFixed(3)} s`));
  }
} finally {
  if (process.env.KEEP_PAGES) console.log(`pages kept in ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
