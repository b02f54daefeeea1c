import { once } from "node:events";
import type { Command } from "commander";
import { DEFAULT_BATCH_SIZE, predictBatches } from "../../eval/predict.js";
import { modelInputs } from "../../eval/step.js";
import { loadModel } from "../../load/index.js";
import { fileSink, jsonSink, type PredictionSink, textSink, type Write } from "../../present/predict.js";
import { addEvalOptions, type EvalCliOptions } from "../eval-options.js";
import { addInputOptions, collectInputs, type InputOptions } from "../input-options.js";
import { parseNonNegativeInt, parsePositiveInt } from "../options.js";

interface PredictOptions extends InputOptions, EvalCliOptions {
  digits: number;
  json?: boolean;
  batchSize: number;
  output?: string;
}

/** Writes to standard output, waiting for it to drain when the reader is slower than we are. */
const stdoutWrite: Write = async (text) => {
  if (!process.stdout.write(text)) await once(process.stdout, "drain");
};

export function registerPredict(program: Command): void {
  const cmd = program
    .command("predict")
    .description("run the whole model on the inputs, as Keras' model.predict does")
    .argument("<file>", "a Keras model file");
  addInputOptions(cmd);
  addEvalOptions(cmd)
    .option("--digits <n>", "decimals to print", parseNonNegativeInt("--digits"), 6)
    .option("--json", "print one JSON document (see README: JSON output)")
    .option("--batch-size <n>", "samples evaluated together; memory grows with it, not with the number of samples", parsePositiveInt("--batch-size"), DEFAULT_BATCH_SIZE)
    .option("-o, --output <file>", "write the outputs to FILE instead: .npy, .csv or .json by its extension (one file per output when the model has several)")
    .action(async (file: string, opts: PredictOptions) => {
      const model = await loadModel(file);
      const arrays = collectInputs(model, opts);
      const inputs = modelInputs(model, arrays, arrays.map(() => "--input"));
      const samples = inputs[0]?.shape[0] ?? 0;
      const sink: PredictionSink = opts.output
        ? fileSink(opts.output, samples, opts.dtype)
        : opts.json
          ? jsonSink(stdoutWrite, samples)
          : textSink(stdoutWrite, samples, opts.digits);
      for (const batch of predictBatches(model, inputs, { dtype: opts.dtype, hardSigmoid: opts.hardSigmoid }, opts.batchSize)) await sink.write(batch);
      const said = await sink.end();
      if (said) await stdoutWrite(`${said}\n`);
    });
}
