/**
 * `check` over one or more files: each file is loaded and judged on its own, and whatever
 * happens to it becomes a FileOutcome — its report, or why it could not be checked — so
 * that the JUnit, JSON and annotation reports cover every file, errors included.
 *
 * Several files are spread over worker threads (check-worker.ts), one file at a time
 * per worker, handed out as workers free up; the request (options, --expect arrays,
 * the golden trace) is read once here and copied to each worker. One file, or --jobs 1,
 * runs in this thread.
 */
import { availableParallelism } from "node:os";
import { runChecks } from "../check/index.js";
import { locatedReferenceReport } from "../check/located.js";
import type { ReferenceOptions } from "../check/reference.js";
import type { LayerRequirement, VersionRange } from "../check/contract.js";
import type { ExpectedOutput } from "../check/expect.js";
import type { GoldenTrace } from "../check/golden.js";
import { type GoldenModel, goldenDocument, goldenPrediction, parseGoldenFile } from "../check/golden-model.js";
import type { Tolerance } from "../check/tolerance.js";
import type { CheckError, FileOutcome } from "../check/types.js";
import { writeFileSync } from "node:fs";
import { InspectError, systemReason, UsageError } from "../errors.js";
import { toJson } from "../present/json.js";
import type { HardSigmoidVariant } from "../activations.js";
import type { EvalDType } from "../eval/trace.js";
import { requireStructureForModel } from "../eval/assumptions.js";
import { loadModel } from "../load/index.js";
import type { Model } from "../model.js";
import { collectInputs } from "./input-options.js";

/** Everything a file's check needs besides the file: plain data, copied to workers as it is. */
export interface CheckRequest {
  input?: string[];
  inputFile?: string[];
  maxAbs?: number;
  requireLayers: LayerRequirement[];
  kerasVersion?: VersionRange;
  expected: ExpectedOutput[];
  golden?: { label: string; trace?: GoldenTrace; model?: GoldenModel };
  /** --write-golden FILE: record the model's golden file for the input first (one model only). */
  writeGolden?: string;
  tolerance: Tolerance;
  dtype: EvalDType;
  hardSigmoid?: HardSigmoidVariant;
  /** --reference FILE, and how it is compared (--reference-atol, --reference-exact, --reference-partial). */
  reference?: { file: string } & ReferenceOptions;
  /** --config FILE: the structure of weights-only files. */
  config?: string;
  /** --strict: warnings fail. */
  strict?: boolean;
}

/** What one thread keeps between files: the reference model, loaded once. */
export interface CheckContext {
  reference?: Promise<Model>;
}

/** The error a file's check raised, as report data: an InspectError's message and code, anything else a bug (exit 3). */
export function checkErrorOf(e: unknown): CheckError {
  if (e instanceof InspectError) return { message: e.message, exitCode: e.exitCode };
  const message = e instanceof Error ? e.message.split("\n")[0] : String(e);
  return { message: `internal error: ${message} (this is a bug; run with --debug for the stack trace)`, exitCode: 3 };
}

function referenceModel(req: CheckRequest, ctx: CheckContext): Promise<Model> | undefined {
  if (!req.reference) return undefined;
  ctx.reference ??= loadModel(req.reference.file).catch((e: unknown) => {
    // Name the option: "good.h5: no such file" alone reads as if the candidate were missing.
    if (e instanceof InspectError) throw new InspectError(`--reference ${e.message}`, { exitCode: e.exitCode, cause: e });
    throw e;
  });
  return ctx.reference;
}

/** One file: its outcome, and the error it raised (for the caller to rethrow, with its stack, when only one file was asked for). */
export async function checkFile(file: string, req: CheckRequest, ctx: CheckContext): Promise<{ outcome: FileOutcome; thrown?: unknown }> {
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  try {
    // A tensor the file lists but lacks is a failed structure check, not a refusal.
    const model = await loadModel(file, { missingTensors: "keep", config: req.config }).catch(async (e: unknown) => {
      // An export without RNN ops: --reference's weights are located among its constants, if nothing else needs the model.
      const needsModel = req.expected.length > 0 || req.golden !== undefined || req.writeGolden !== undefined || req.maxAbs !== undefined || req.requireLayers.length > 0 || req.kerasVersion !== undefined || (req.input ?? []).length + (req.inputFile ?? []).length > 0;
      const reference = req.reference ? { model: () => referenceModel(req, ctx)!, label: req.reference.file, ...req.reference } : undefined;
      const report = await locatedReferenceReport(e, file, reference, needsModel);
      if (report) return report;
      throw e;
    });
    if ("checks" in model) return { outcome: { file, seconds: seconds(), report: model } };
    // --expect and --golden evaluate the model: a weights-only file needs its structure for that.
    if (req.expected.length > 0 || req.golden || req.writeGolden) requireStructureForModel(model, `check ${req.writeGolden ? "--write-golden" : req.golden ? "--golden" : "--expect"}`);
    const inputs = collectInputs(model, req, false);
    let golden = req.golden;
    if (req.writeGolden !== undefined) {
      if (!inputs || inputs.length === 0) throw new UsageError("--write-golden records the model's answer to an input: pass --input or --input-file");
      const text = toJson(goldenDocument(model, inputs, goldenPrediction(model, inputs, req.dtype, req.hardSigmoid), req.dtype));
      try {
        writeFileSync(req.writeGolden, text);
      } catch (e) {
        throw new UsageError(`--write-golden ${req.writeGolden}: ${systemReason(e, "a file", "write")}`);
      }
      // Checked against itself at once: the report says what the recorded input cannot exercise.
      golden = { label: req.writeGolden, model: parseGoldenFile(text, req.writeGolden).model };
    }
    const reference = await referenceModel(req, ctx);
    const report = runChecks(model, {
      maxAbs: req.maxAbs,
      requireLayers: req.requireLayers,
      kerasVersion: req.kerasVersion,
      inputs,
      expected: req.expected,
      golden,
      tolerance: req.tolerance,
      dtype: req.dtype,
      hardSigmoid: req.hardSigmoid,
      reference: reference && req.reference ? { model: reference, label: req.reference.file, ...req.reference } : undefined,
      strict: req.strict,
    });
    return { outcome: { file, seconds: seconds(), report } };
  } catch (e) {
    return { outcome: { file, seconds: seconds(), error: checkErrorOf(e) }, thrown: e };
  }
}

/** The default of --jobs: one worker per core. */
export function defaultJobs(): number {
  return availableParallelism();
}

/**
 * Every file's outcome, in the order given. With more than one file and jobs > 1, this
 * thread and jobs − 1 worker threads take the files one at a time from a shared counter,
 * so that this thread works while the workers start (a worker has to load the program and
 * its WebAssembly first) and no worker waits for this thread to hand it a file. A file
 * whose worker died is checked again here, so that every file has an outcome.
 */
export async function checkFiles(files: string[], req: CheckRequest, jobs: number): Promise<FileOutcome[]> {
  const outcomes: (FileOutcome | undefined)[] = new Array(files.length).fill(undefined);
  const ctx: CheckContext = {};
  const threads = Math.min(jobs, files.length) - 1;
  if (threads > 0) {
    const next = new Int32Array(new SharedArrayBuffer(4));
    const workers = await startWorkers(threads, { request: req, files, next }, outcomes);
    for (let k = Atomics.add(next, 0, 1); k < files.length; k = Atomics.add(next, 0, 1)) {
      outcomes[k] = (await checkFile(files[k], req, ctx)).outcome;
    }
    await workers;
  }
  for (let k = 0; k < files.length; k++) outcomes[k] ??= (await checkFile(files[k], req, ctx)).outcome;
  return outcomes as FileOutcome[];
}

/** What a worker is given: the request, every file, and the counter of the next file to take. */
export interface WorkerData {
  request: CheckRequest;
  files: string[];
  next: Int32Array;
}

export interface WorkerAnswer {
  index: number;
  outcome: FileOutcome;
}

/** Starts the workers; the promise settles when every one has exited, its answers in `outcomes`. */
async function startWorkers(threads: number, data: WorkerData, outcomes: (FileOutcome | undefined)[]): Promise<Promise<void>> {
  const { Worker } = await import("node:worker_threads");
  const run = () =>
    new Promise<void>((resolve) => {
      let worker: InstanceType<typeof Worker>;
      try {
        worker = new Worker(new URL("./check-worker.js", import.meta.url), { workerData: data });
      } catch {
        // No worker (its file missing, threads unavailable): the main thread takes every file.
        resolve();
        return;
      }
      worker.on("message", (answer: WorkerAnswer) => {
        outcomes[answer.index] = answer.outcome;
      });
      // A worker that dies leaves its file to be checked again in this thread (checkFiles).
      worker.on("error", () => undefined);
      worker.on("exit", () => resolve());
    });
  return Promise.all(Array.from({ length: threads }, run)).then(() => undefined);
}
