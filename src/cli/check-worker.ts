/**
 * A worker thread of `check` on several files (check-files.ts): it takes the next file from
 * the counter it shares with the main thread and the other workers, checks it as the main
 * thread would, answers with the file's outcome (its report, or why it could not be
 * checked), and ends when no file is left. The reference model, if any, is loaded once.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type CheckContext, checkErrorOf, checkFile, type WorkerAnswer, type WorkerData } from "./check-files.js";

const { request, files, next } = workerData as WorkerData;
const ctx: CheckContext = {};

for (let k = Atomics.add(next, 0, 1); k < files.length; k = Atomics.add(next, 0, 1)) {
  const { outcome } = await checkFile(files[k], request, ctx);
  try {
    parentPort!.postMessage({ index: k, outcome } satisfies WorkerAnswer);
  } catch (e) {
    // A report that cannot be copied back is a bug; the file still gets an outcome.
    parentPort!.postMessage({ index: k, outcome: { file: files[k], seconds: outcome.seconds, error: checkErrorOf(e) } } satisfies WorkerAnswer);
  }
}
