/** `--config FILE` (the structure of a weights-only file) and how commands open their model with it. */
import type { Command } from "commander";
import { loadModel } from "../load/index.js";
import type { Model } from "../model.js";
import { safe } from "../present/text.js";

export interface ModelCliOptions {
  config?: string;
}

export function addConfigOption(cmd: Command): Command {
  return cmd.option(
    "--config <file>",
    "for a weights-only file: the model's structure (the JSON of model.to_json(), a .keras file's config.json, or a model file of the same architecture)",
  );
}

/** The model in `file`, with the structure from --config when given. */
export function openModel(file: string, opts: ModelCliOptions): Promise<Model> {
  return loadModel(file, { config: opts.config });
}

/** Every assumption an evaluation made, one line each on stderr. */
export function reportAssumptions(assumptions: string[]): void {
  for (const a of assumptions) process.stderr.write(`keras-inspect: assumed: ${safe(a)}\n`);
}
