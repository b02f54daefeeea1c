import type { Command } from "commander";
import { predict } from "../../eval/predict.js";
import { modelInputs } from "../../eval/step.js";
import { loadModel } from "../../load/index.js";
import { toJson } from "../../present/json.js";
import { formatPrediction, predictionJson } from "../../present/predict.js";
import { addEvalOptions, type EvalCliOptions } from "../eval-options.js";
import { addInputOptions, collectInputs, type InputOptions } from "../input-options.js";
import { parseNonNegativeInt } from "../options.js";

interface PredictOptions extends InputOptions, EvalCliOptions {
  digits: number;
  json?: boolean;
}

export function registerPredict(program: Command): void {
  const cmd = program
    .command("predict")
    .description("run the whole model on the inputs, as Keras' model.predict does")
    .argument("<file>", "a Keras model file");
  addInputOptions(cmd);
  addEvalOptions(cmd)
    .option("--digits <n>", "decimals to print", parseNonNegativeInt("--digits"), 6)
    .option("--json", "print one JSON document (see README: JSON output)")
    .action(async (file: string, opts: PredictOptions) => {
      const model = await loadModel(file);
      const arrays = collectInputs(model, opts);
      const result = predict(model, modelInputs(model, arrays, arrays.map(() => "--input")), { dtype: opts.dtype, hardSigmoid: opts.hardSigmoid });
      process.stdout.write(`${opts.json ? toJson(predictionJson(result)) : formatPrediction(result, opts.digits)}\n`);
    });
}
