/**
 * A worker thread of `predictInParallel`: holds a copy of the model and evaluates the
 * batches it is sent, answering each with the batch's outputs (their buffers transferred)
 * or with the error it raised.
 */
import { parentPort, workerData } from "node:worker_threads";
import { InspectError } from "../errors.js";
import type { Value } from "../layers/kind.js";
import type { Model } from "../model.js";
import { predict, type PredictOptions, type PredictOutput } from "./predict.js";

export interface WorkerRequest {
  id: number;
  inputs: Value[];
}

export type WorkerReply =
  | { id: number; outputs: PredictOutput[] }
  | { id: number; error: { message: string; exitCode: number; internal: boolean } };

const { model, opts } = workerData as { model: Model; opts: PredictOptions };

parentPort!.on("message", ({ id, inputs }: WorkerRequest) => {
  let reply: WorkerReply;
  try {
    const { outputs } = predict(model, inputs, { ...opts, record: false });
    reply = { id, outputs };
  } catch (e) {
    const inspect = e instanceof InspectError;
    reply = { id, error: { message: e instanceof Error ? e.message : String(e), exitCode: inspect ? e.exitCode : 3, internal: !inspect } };
  }
  const transfer = "outputs" in reply ? [...new Set(reply.outputs.map((o) => o.value.data.buffer as ArrayBuffer))] : [];
  parentPort!.postMessage(reply, transfer);
});
