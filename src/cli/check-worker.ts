/**
 * A worker thread of `check` on several files (check-files.ts): it is sent one file at a
 * time, checks it as the main thread would, and answers with the file's outcome (its
 * report, or why it could not be checked). The reference model, if any, is loaded once.
 */
import { parentPort, workerData } from "node:worker_threads";
import { type CheckContext, type CheckRequest, checkErrorOf, checkFile, type WorkerAnswer } from "./check-files.js";

const { request } = workerData as { request: CheckRequest };
const ctx: CheckContext = {};

parentPort!.on("message", async ({ index, file }: { index: number; file: string }) => {
  const { outcome } = await checkFile(file, request, ctx);
  try {
    parentPort!.postMessage({ index, outcome } satisfies WorkerAnswer);
  } catch (e) {
    // A report that cannot be copied back is a bug; the file still gets an outcome.
    parentPort!.postMessage({ index, outcome: { file, seconds: outcome.seconds, error: checkErrorOf(e) } } satisfies WorkerAnswer);
  }
});
