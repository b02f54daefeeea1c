/**
 * The fuzz worker: a child process that runs keras-inspect command lines in-process,
 * one after another, through the real program (`main()` of src/cli/main.ts), with
 * stdout and stderr captured. Running in-process is what makes ≥ 10,000 files × 4
 * commands affordable, and it is also the test of "a good file after a bad one in the
 * same process still opens": the probes (known-good command lines whose output was
 * recorded when this process started) are re-run between files and must give the
 * same bytes.
 *
 * The parent (pool.ts) enforces the per-run deadline and the memory limit by killing
 * this process: a hang inside wasm cannot be interrupted from inside.
 *
 * Started by pool.ts as `node --import ./ts-register.mjs worker.ts`.
 */
// src first: the loader must see h5wasm's wasm instance being created (src/load/wasm-stack.ts).
import { main } from "../../src/cli/main.js";
import h5wasm from "h5wasm";
import { openFileSourceCount } from "../../src/load/byte-source.js";
import { setDeferredBatchBytes, setScanBlockBytes } from "../../src/load/hdf5-file.js";
import { loadModel } from "../../src/load/index.js";
import { walkLayers } from "../../src/model.js";
import { printsNonFinite } from "./classify.js";
import { EXECUTED_SENTINEL } from "./mutators.js";

export type ToWorker =
  | { type: "init"; probes: string[][]; stream: boolean }
  | { type: "run"; id: number; argv: string[]; file: string; answerCodes: number[] }
  | { type: "probe"; id: number };

export interface RunReport {
  type: "result";
  id: number;
  exitCode: number;
  stdout: string;
  stdoutBytes: number;
  stderr: string;
  ms: number;
  rss: number;
  maxRss: number;
  wasmHeap: number;
  /** What the run left behind: MEMFS file nodes (an HDF5 file not closed), host file descriptors not closed. */
  leaked: string[];
  /** A serialized function from the file was evaluated. */
  executed: boolean;
  /** When the answer prints NaN/Inf: does the file itself hold non-finite or huge weights? */
  weights?: { nonFinite: boolean; maxAbs: number; loaded: boolean };
}

export type FromWorker =
  | { type: "ready"; baseline: string[] }
  | RunReport
  | { type: "probe"; id: number; ok: boolean; mismatch?: { argv: string[]; expected: string; got: string } }
  | { type: "fatal"; reason: string };

/**
 * Stdout kept per run for the checks on it (JSON, control characters); past it only its
 * length is counted (RunReport.stdoutBytes), and classify.ts does not parse what is cut.
 */
const MAX_KEEP = 16 << 20;

const realStdout = process.stdout.write.bind(process.stdout);
const realStderr = process.stderr.write.bind(process.stderr);
let capture: { out: string[]; err: string[]; outBytes: number; kept: number } | undefined;

function capturer(which: "out" | "err", real: typeof realStdout) {
  return ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (!capture) return real(chunk as string, ...(rest as []));
    const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    if (which === "out") {
      capture.outBytes += text.length;
      // Printers write as they go, in many pieces: keep whole pieces up to the limit.
      if (capture.kept < MAX_KEEP) {
        capture.out.push(text);
        capture.kept += text.length;
      }
    } else {
      capture.err.push(text);
    }
    const cb = rest.find((r) => typeof r === "function") as (() => void) | undefined;
    cb?.();
    return true;
  }) as typeof process.stdout.write;
}
process.stdout.write = capturer("out", realStdout);
process.stderr.write = capturer("err", realStderr);

function send(msg: FromWorker): void {
  process.send!(msg);
}

// Ctrl-C at the terminal reaches the whole process group: the parent decides (it finishes
// the runs in flight, then kills its workers), so a worker does not die mid-run and look
// like a crash. Without a parent there is nothing left to do.
process.on("SIGINT", () => {});
process.on("disconnect", () => process.exit(0));

process.on("uncaughtException", (err) => {
  send({ type: "fatal", reason: `uncaught exception: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` });
  process.exit(70);
});
process.on("unhandledRejection", (err) => {
  send({ type: "fatal", reason: `unhandled rejection: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}` });
  process.exit(70);
});

async function runOnce(argv: string[]): Promise<{ exitCode: number; stdout: string; stdoutBytes: number; stderr: string; ms: number }> {
  process.exitCode = undefined;
  capture = { out: [], err: [], outBytes: 0, kept: 0 };
  const t0 = performance.now();
  try {
    await main(["node", "keras-inspect", ...argv]);
  } catch (err) {
    // main() catches everything; reaching here is itself a finding.
    capture.err.push(`main() threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 99;
  }
  const ms = performance.now() - t0;
  const c = capture;
  capture = undefined;
  const exitCode = typeof process.exitCode === "number" ? process.exitCode : Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { exitCode, stdout: c.out.join(""), stdoutBytes: c.outBytes, stderr: c.err.join(""), ms };
}

const h5 = await h5wasm.ready;

function leftovers(): string[] {
  const names = (h5.FS.readdir("/") as string[]).filter((n) => n.startsWith("keras-inspect-"));
  for (const n of names) {
    try {
      h5.FS.unlink(`/${n}`);
    } catch {
      /* already gone */
    }
  }
  return names;
}

async function weightStats(file: string): Promise<{ nonFinite: boolean; maxAbs: number; loaded: boolean }> {
  try {
    const model = await loadModel(file);
    let nonFinite = false;
    let maxAbs = 0;
    for (const { layer } of walkLayers(model.layers)) {
      for (const t of layer.weights) {
        for (let i = 0; i < t.data.length; i++) {
          const v = t.data[i];
          if (!Number.isFinite(v)) nonFinite = true;
          else if (Math.abs(v) > maxAbs) maxAbs = Math.abs(v);
        }
      }
    }
    return { nonFinite, maxAbs, loaded: true };
  } catch {
    return { nonFinite: false, maxAbs: 0, loaded: false };
  }
}

let probes: string[][] = [];
let baseline: string[] = [];

async function probeOutputs(): Promise<string[]> {
  const outs: string[] = [];
  for (const argv of probes) {
    const r = await runOnce(argv);
    outs.push(`exit ${r.exitCode}\n${r.stdout}\n${r.stderr}`);
  }
  leftovers();
  return outs;
}

let chain = Promise.resolve();

process.on("message", (msg: ToWorker) => {
  chain = chain.then(() => handle(msg));
});

async function handle(msg: ToWorker): Promise<void> {
  if (msg.type === "init") {
    if (msg.stream) {
      // Every dataset past a batch of 0 bytes: read alone, or streamed in blocks that cut rows anywhere.
      setDeferredBatchBytes(0);
      setScanBlockBytes(4 * 1021);
    }
    probes = msg.probes;
    baseline = await probeOutputs();
    send({ type: "ready", baseline });
    return;
  }
  if (msg.type === "probe") {
    const now = await probeOutputs();
    const k = now.findIndex((o, i) => o !== baseline[i]);
    send(k < 0 ? { type: "probe", id: msg.id, ok: true } : { type: "probe", id: msg.id, ok: false, mismatch: { argv: probes[k], expected: baseline[k].slice(0, 2000), got: now[k].slice(0, 2000) } });
    return;
  }
  const g = globalThis as Record<string, unknown>;
  g[EXECUTED_SENTINEL] = undefined;
  const descriptors = openFileSourceCount();
  const r = await runOnce(msg.argv);
  const executed = g[EXECUTED_SENTINEL] !== undefined;
  const leaked = leftovers();
  const stillOpen = openFileSourceCount() - descriptors;
  if (stillOpen > 0) leaked.push(`${stillOpen} open file descriptor(s)`);
  const usage = process.memoryUsage();
  const report: RunReport = {
    type: "result",
    id: msg.id,
    ...r,
    rss: usage.rss,
    maxRss: process.resourceUsage().maxRSS * 1024,
    wasmHeap: h5.HEAPU8.length,
    leaked,
    executed,
  };
  if (msg.answerCodes.includes(r.exitCode) && printsNonFinite(r.stdout, msg.argv.includes("--json"))) report.weights = await weightStats(msg.file);
  send(report);
}
