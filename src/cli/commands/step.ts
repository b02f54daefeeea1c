import type { Command } from "commander";
import { evaluateStep } from "../../eval/step.js";
import { UsageError } from "../../errors.js";
import { parseInlineValues } from "../../inputs.js";
import { stepJson, stepTableLines } from "../../present/step.js";
import { addEvalOptions, type EvalCliOptions } from "../eval-options.js";
import { addFeatureMapOptions, featureMapSelection, type FeatureMapCliOptions } from "../feature-map-options.js";
import { addInputOptions, collectInputs, type InputOptions } from "../input-options.js";
import { addConfigOption, type ModelCliOptions, openModel, reportAssumptions } from "../model-options.js";
import { addStepsOption, parseNonNegativeInt, selectSteps, type StepSlice } from "../options.js";
import { addFullOption, addWidthOption, type OutputCliOptions, outputWidth, writeHtml, writeJson, writeLines } from "../output.js";
import { stepHeatmap, stepHtml } from "../views.js";

interface StepOptions extends InputOptions, EvalCliOptions, OutputCliOptions, FeatureMapCliOptions, ModelCliOptions {
  layer?: string;
  h0?: string;
  c0?: string;
  unit?: string;
  digits: number;
  rawInput?: boolean;
  json?: boolean;
  heatmap?: boolean;
  html?: string;
  steps?: StepSlice;
}

function vector(flag: string, text: string | undefined): Float64Array | undefined {
  if (text === undefined) return undefined;
  return parseInlineValues(text, flag).data;
}

function parseUnits(text: string | undefined, units: number): number[] | undefined {
  if (text === undefined) return undefined;
  const list = text.split(",").map((s) => s.trim());
  return list.map((s) => {
    const u = Number(s);
    if (!/^\d+$/.test(s) || u >= units) throw new UsageError(`--unit ${s} is out of range: the layer has units 0 to ${units - 1}`);
    return u;
  });
}

export function registerStep(program: Command): void {
  const cmd = program
    .command("step")
    .description("evaluate a recurrent layer step by step and print every intermediate (LSTM: x_i x_f x_c x_o i f c o h)")
    .argument("<file>", "a Keras model file");
  addInputOptions(cmd);
  addConfigOption(cmd);
  addEvalOptions(cmd)
    .option("-l, --layer <name>", "the layer (path for nested layers, e.g. bidirectional_1/forward_lstm_1); default: the first recurrent layer")
    .option("--raw-input", "feed the input straight into the layer instead of the layers before it")
    .option("--h0 <values>", "initial hidden state h (one value per unit; ConvLSTM: the whole map, in the layer's data_format); default zeros")
    .option("--c0 <values>", "initial cell state c for LSTM; default zeros")
    .option("--unit <list>", "show only these units (comma-separated, from 0)");
  addFeatureMapOptions(cmd);
  addStepsOption(cmd, "the processing steps to show")
    .option("--digits <n>", "decimals to print", parseNonNegativeInt("--digits"), 6)
    .option("--json", "print one JSON document with every value (see README: JSON output)")
    .option("--heatmap", "show each gate and state as a units × steps grid shaded by value, instead of the tables")
    .option("--html <file>", "also write a self-contained HTML page (cell diagram, charts of every gate per unit, tables)");
  addFullOption(cmd, "every unit of each step table and every value of x and the output");
  addWidthOption(cmd).action(async (file: string, opts: StepOptions) => {
    const model = await openModel(file, opts);
    const inputs = collectInputs(model, opts, true, opts.rawInput ? "layer" : "model");
    // NaN propagates to every value it reaches; evaluate as asked, but say so.
    const nan = inputs.reduce((n, a) => n + a.data.filter(Number.isNaN).length, 0);
    if (nan > 0) process.stderr.write(`keras-inspect: warning: the input contains ${nan} NaN value(s)\n`);
    const { resolved, trace } = evaluateStep(model, {
      layer: opts.layer,
      inputs,
      rawInput: opts.rawInput,
      h0: vector("--h0", opts.h0),
      c0: vector("--c0", opts.c0),
      dtype: opts.dtype,
      hardSigmoid: opts.hardSigmoid,
    });
    reportAssumptions(trace.assumptions ?? []);
    const first = trace.directions[0];
    const maps = featureMapSelection(first, opts, { unit: opts.unit, full: opts.full });
    const units = maps?.units ?? parseUnits(opts.unit, first.units);
    const steps = opts.steps === undefined ? undefined : selectSteps(opts.steps, first.steps);
    if (opts.json && opts.heatmap) throw new UsageError("--json and --heatmap are two different outputs; choose one");
    if (opts.html !== undefined) writeHtml(opts.html, stepHtml(model, resolved, trace, file, { units, steps, digits: opts.digits }));
    if (opts.json) await writeJson(stepJson(trace, { units, steps }));
    else if (opts.heatmap) await writeLines([stepHeatmap(trace, { units, steps, width: opts.width })]);
    else await writeLines(stepTableLines(trace, { digits: opts.digits, units, steps, full: opts.full === true, width: outputWidth(opts), shown: maps?.shown }));
  });
}
