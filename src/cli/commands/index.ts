import type { Command } from "commander";
import { registerCheck } from "./check.js";
import { registerDiff } from "./diff.js";
import { registerExplain } from "./explain.js";
import { registerExport } from "./export.js";
import { registerPredict } from "./predict.js";
import { registerStep } from "./step.js";
import { registerSummary } from "./summary.js";
import { registerWeights } from "./weights.js";

/** Every command, in the order `--help` lists them. */
export function registerCommands(program: Command): void {
  registerSummary(program);
  registerStep(program);
  registerExplain(program);
  registerPredict(program);
  registerCheck(program);
  registerDiff(program);
  registerWeights(program);
  registerExport(program);
}
