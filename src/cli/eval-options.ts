/** Options of every command that evaluates: --dtype and --hard-sigmoid. */
import { type Command, Option } from "commander";
import type { HardSigmoidVariant } from "../activations.js";
import type { EvalDType } from "../eval/trace.js";

export interface EvalCliOptions {
  dtype: EvalDType;
  hardSigmoid?: HardSigmoidVariant;
}

export function addEvalOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--dtype <dtype>", "arithmetic: float32 as Keras computes, or float64 as a reference").choices(["float32", "float64"]).default("float32"))
    .addOption(
      new Option("--hard-sigmoid <variant>", "hard_sigmoid definition: keras2 = clip(0.2x+0.5) (Keras 1/2, tf.keras), keras3 = clip(x/6+0.5); default: by the Keras version that wrote the file").choices(["keras2", "keras3"]),
    );
}
