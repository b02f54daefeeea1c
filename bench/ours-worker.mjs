// Times keras-inspect on one bench case in a worker thread of its own (see oursInWorker in
// cases.mjs): a fresh V8 isolate, so the JIT has seen one dtype and one engine only, as in
// a `step` or `predict` process, and no column's timing depends on the columns run before it.
import { parentPort, workerData } from "node:worker_threads";
import { makeCase, oursRunner } from "./cases.mjs";
import { measure } from "./measure.mjs";

const { spec, opts, repeats } = workerData;
const run = oursRunner(makeCase(...spec), opts);
// A fresh isolate starts in V8's baseline tiers: warm up for at least 3 runs and 0.3 s.
const start = performance.now();
for (let k = 0; k < 3 || performance.now() - start < 300; k++) run();
const m = await measure(run, repeats);
parentPort.postMessage({ times: m.times, result: m.result });
