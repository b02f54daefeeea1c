import type { Command } from "commander";
import { summaryLines } from "../../present/summary.js";
import { summaryHtml } from "../../present/summary-html.js";
import { summarize } from "../../summary.js";
import { addConfigOption, type ModelCliOptions, openModel } from "../model-options.js";
import { addWidthOption, outputWidth, writeHtml, writeJson, writeLines } from "../output.js";

export function registerSummary(program: Command): void {
  const cmd = program
    .command("summary")
    .description("show the model as Keras' model.summary() does, with the file's format and writer")
    .argument("<file>", "a Keras model or weights file (.h5, .hdf5, .keras, .weights.h5)")
    .option("--weights", "also list every tensor: shape, dtype, min, max, mean, std, NaN and Inf counts")
    .option("--json", "print one JSON document (see README: JSON output)")
    .option("--html <file>", "also write a self-contained HTML page: the layers as a graph (branches, nested models, shapes on the edges), each recurrent layer's gates");
  addConfigOption(cmd);
  addWidthOption(cmd).action(async (file: string, opts: { weights?: boolean; json?: boolean; html?: string; width?: number } & ModelCliOptions) => {
    const model = await openModel(file, opts);
    const summary = summarize(model, { tensors: opts.weights === true });
    if (opts.html !== undefined) writeHtml(opts.html, summaryHtml(model, summary));
    if (opts.json) await writeJson(summary);
    else await writeLines(summaryLines(summary, outputWidth(opts)));
  });
}
