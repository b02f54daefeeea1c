import type { Command } from "commander";
import { modelPrecision, precisionJson } from "../../dtype-policy.js";
import { availableParallelism } from "node:os";
import { autoThreads, type BatchCoupling, batchCoupling, DEFAULT_BATCH_SIZE, KERAS_PREDICT_BATCH_SIZE, predictBatches, predictInParallel } from "../../eval/predict.js";
import { modelInputs } from "../../eval/step.js";
import { requireStructureForModel } from "../../eval/assumptions.js";
import { fileSink, jsonSink, type PredictionSink, textSink } from "../../present/predict.js";
import { addEvalOptions, type EvalCliOptions } from "../eval-options.js";
import { addInputOptions, collectInputs, type InputOptions } from "../input-options.js";
import { parseNonNegativeInt, parsePositiveInt } from "../options.js";
import { addConfigOption, type ModelCliOptions, openModel } from "../model-options.js";
import { addFullOption, stdoutWrite } from "../output.js";
import { safe } from "../../present/text.js";

interface PredictOptions extends InputOptions, EvalCliOptions, ModelCliOptions {
  digits: number;
  json?: boolean;
  full?: boolean;
  batchSize?: number;
  threads: number | "auto";
  output?: string;
}

const parseThreads = (value: string): number | "auto" => (value === "auto" ? "auto" : parsePositiveInt("--threads")(value));

/** What the batch size means for a model whose samples are scored against each other. */
export function batchNote(c: BatchCoupling, size: number, byDefault: boolean): string {
  return (
    `layer '${safe(c.layer)}' (${c.className}) is applied to 2-D tensors, so, as in tf.keras, each sample is scored against every sample of its batch ` +
    `and the output depends on which samples are predicted together: batches of ${size} samples${byDefault ? ", Keras' predict default (--batch-size to change)" : " (--batch-size)"}`
  );
}

export function registerPredict(program: Command): void {
  const cmd = program
    .command("predict")
    .description("run the whole model on the inputs, as Keras' model.predict does")
    .argument("<file>", "a Keras model file");
  addInputOptions(cmd);
  addConfigOption(cmd);
  addFullOption(addEvalOptions(cmd), "every output value")
    .option("--digits <n>", "decimals to print", parseNonNegativeInt("--digits"), 6)
    .option("--json", "print one JSON document (see README: JSON output)")
    .option(
      "--batch-size <n>",
      `samples evaluated together; memory grows with it, not with the number of samples (default: ${DEFAULT_BATCH_SIZE}; ${KERAS_PREDICT_BATCH_SIZE}, as Keras' predict, where an attention layer scores the samples of a batch against each other)`,
      parsePositiveInt("--batch-size"),
    )
    .option("--threads <n>", "worker threads evaluating batches side by side: a number (1: none) or auto (one per core when the work is large)", parseThreads, "auto")
    .option("-o, --output <file>", "write the outputs to FILE instead: .npy, .csv or .json by its extension (one file per output when the model has several)")
    .action(async (file: string, opts: PredictOptions) => {
      const model = await openModel(file, opts);
      requireStructureForModel(model, "predict");
      const arrays = collectInputs(model, opts);
      const inputs = modelInputs(model, arrays, arrays.map(() => "--input"));
      const samples = inputs[0]?.shape[0] ?? 0;
      const sink: PredictionSink = opts.output
        ? fileSink(opts.output, samples, opts.dtype)
        : opts.json
          ? jsonSink(stdoutWrite, samples, opts.dtype)
          : textSink(stdoutWrite, samples, opts.digits, opts.full);
      const coupling = batchCoupling(model);
      const batchSize = opts.batchSize ?? (coupling ? KERAS_PREDICT_BATCH_SIZE : DEFAULT_BATCH_SIZE);
      if (coupling) {
        process.stderr.write(`keras-inspect: note: ${batchNote(coupling, batchSize, opts.batchSize === undefined)}\n`);
        sink.batching?.({ size: batchSize, samples_scored_together_by: coupling.layer });
      }
      const precision = modelPrecision(model, opts.dtype);
      if (precision) {
        process.stderr.write(`keras-inspect: note: ${precision.note}\n`);
        sink.precision?.(precisionJson(precision));
      }
      const evalOpts = { dtype: opts.dtype, hardSigmoid: opts.hardSigmoid };
      const threads = opts.threads === "auto" ? autoThreads(model, inputs, batchSize, availableParallelism()) : opts.threads;
      const batches = threads > 1 ? predictInParallel(model, inputs, evalOpts, batchSize, threads) : predictBatches(model, inputs, evalOpts, batchSize);
      for await (const batch of batches) await sink.write(batch);
      const said = await sink.end();
      if (said) await stdoutWrite(`${said}\n`);
    });
}
