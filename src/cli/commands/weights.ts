import type { Command } from "commander";
import { weightsJson, weightsLines } from "../../present/weights.js";
import { computeStats, layerReports, selectGate } from "../../slice/index.js";
import { addConfigOption, type ModelCliOptions, openModel } from "../model-options.js";
import { parseNonNegativeInt } from "../options.js";
import { addFullOption, addWidthOption, type OutputCliOptions, outputWidth, writeJson, writeLines } from "../output.js";

interface WeightsOptions extends OutputCliOptions, ModelCliOptions {
  layer?: string;
  gate?: string;
  digits: number;
  full?: boolean;
  json?: boolean;
}

export function registerWeights(program: Command): void {
  const cmd = program
    .command("weights")
    .description("show every layer's weights; recurrent layers cut by gate (kernel_i, recurrent_kernel_f, bias_o, ...) with statistics")
    .argument("<file>", "a Keras model or weights file (.h5, .hdf5, .keras, .weights.h5)")
    .option("-l, --layer <name>", "only this layer (path for nested layers, e.g. bidirectional_1/forward_lstm_1)")
    .option("-g, --gate <gate>", "only this gate's tensors (LSTM i f c o, GRU z r h)")
    .option("--digits <n>", "decimals to print", parseNonNegativeInt("--digits"), 6)
    .option("--json", "print one JSON document with every value (see README: JSON output)");
  addFullOption(cmd, "every value of every tensor");
  addConfigOption(cmd);
  addWidthOption(cmd).action(async (file: string, opts: WeightsOptions) => {
    const model = await openModel(file, opts);
    let reports = layerReports(model, opts.layer);
    if (opts.gate !== undefined) reports = selectGate(reports, opts.gate, opts.layer !== undefined);
    // Values are read (large kernels streamed) before the first line: an unreadable file prints no half listing.
    computeStats(reports);
    if (opts.json) await writeJson(weightsJson(model, reports));
    else await writeLines(weightsLines(model, reports, { digits: opts.digits, full: opts.full === true, width: outputWidth(opts) }));
  });
}
