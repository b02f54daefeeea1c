import type { Command } from "commander";
import { evaluateStep, recurrentLayers } from "../../eval/step.js";
import type { LayerTrace, StepTrace } from "../../eval/trace.js";
import { UsageError } from "../../errors.js";
import { parseInlineValues } from "../../inputs.js";
import { recurrentKindOf } from "../../layers/registry.js";
import { type Model, walkLayers } from "../../model.js";
import { makeChalk, terminalColourLevel } from "../../present/colour.js";
import { buildExplanation, explanationJson, formatExplanation } from "../../present/explain.js";
import { formatHeatmap } from "../../present/heatmap.js";
import { htmlReport } from "../../present/html.js";
import { runInteractive } from "../../present/interactive.js";
import { safe } from "../../present/text.js";
import { addEvalOptions, type EvalCliOptions } from "../eval-options.js";
import { featureMapSelection, type FeatureMapCliOptions } from "../feature-map-options.js";
import { addInputOptions, collectInputs, type InputOptions } from "../input-options.js";
import { addConfigOption, type ModelCliOptions, openModel, reportAssumptions } from "../model-options.js";
import { parseNonNegativeInt, parseSteps, selectSteps, type StepSlice } from "../options.js";
import { writeHtml, writeJson, writeLines } from "../output.js";
import { explainContext } from "../views.js";

interface ExplainOptions extends InputOptions, EvalCliOptions, FeatureMapCliOptions, ModelCliOptions {
  layer?: string;
  steps?: StepSlice;
  /** Deprecated: the step from 1; --steps counts from 0. */
  step?: number;
  unit?: number;
  sample?: number;
  h0?: string;
  c0?: string;
  rawInput?: boolean;
  digits: number;
  ascii?: boolean;
  json?: boolean;
  html?: string;
  interactive?: boolean;
}

const EXPLAINED = "LSTM, GRU (reset_after True or False), SimpleRNN and ConvLSTM1D/2D/3D, also as CuDNNLSTM/CuDNNGRU or inside Bidirectional";

/** Refuses a layer kind that has no explanation before anything runs, naming the kinds that have one. */
function requireExplainable(model: Model, requested: string | undefined): void {
  if (requested === undefined) {
    if (recurrentLayers(model).length === 0) {
      const kinds = [...new Set(model.layers.map((l) => l.className))].join(", ");
      throw new UsageError(`${model.source} has no layer that explain covers (its layers are ${kinds}); explain covers ${EXPLAINED}`);
    }
    return;
  }
  const found = [...walkLayers(model.layers)].find((e) => e.path === requested || e.layer.name === requested);
  if (!found) return; // evaluateStep names the layers that exist
  const layer = found.layer.className === "Bidirectional" ? found.layer.children[0] : found.layer;
  if (!layer || !recurrentKindOf(layer.className)) {
    throw new UsageError(`layer '${requested}' is ${found.layer.className}; explain covers ${EXPLAINED}`);
  }
}

function inRange(flag: string, value: number | undefined, first: number, last: number, what: string): void {
  if (value !== undefined && (value < first || value > last)) {
    throw new UsageError(`${flag} ${value} is out of range: ${what} ${first === last ? `only ${first}` : `${first} to ${last}`}`);
  }
}

/** The direction explained: a Bidirectional wrapper's forward one unless a direction was named. */
function explainedDirection(trace: LayerTrace): StepTrace {
  return trace.directions[0];
}

/**
 * The step explain shows, from 0: the one --steps selects, or (deprecated) --step T from 1,
 * or the last.
 */
function explainedStep(opts: ExplainOptions, steps: number): number {
  if (opts.steps !== undefined && opts.step !== undefined) throw new UsageError("--step and --steps both choose the step; give --steps only (--step is deprecated)");
  if (opts.steps !== undefined) {
    const chosen = selectSteps(opts.steps, steps);
    if (chosen.length !== 1) throw new UsageError(`explain shows one step, and --steps ${opts.steps.text} selects ${chosen.length}; give one index, e.g. --steps ${chosen[0]} or --steps -1`);
    return chosen[0];
  }
  if (opts.step !== undefined) {
    inRange("--step", opts.step, 1, steps, `the input has ${steps} step(s), so --step is`);
    process.stderr.write(`keras-inspect: note: --step is deprecated; use --steps ${opts.step - 1} (--steps counts from 0, as Python does)\n`);
    return opts.step - 1;
  }
  return steps - 1;
}

export function registerExplain(program: Command): void {
  const cmd = program
    .command("explain")
    .description("show one step of a recurrent layer as equations with your numbers substituted, and as a cell diagram")
    .argument("<file>", "a Keras model file");
  addInputOptions(cmd);
  addConfigOption(cmd);
  addEvalOptions(cmd)
    .option("-l, --layer <name>", "the layer (path for a Bidirectional direction, e.g. bidirectional_1/backward_lstm_1); default: the first recurrent layer")
    .option("--steps <index>", "the processing step to explain: an index counted from 0 as in Python (2, -1); default: the last", parseSteps)
    .option("--step <t>", "deprecated: the step from 1; --step T is --steps T-1", parseNonNegativeInt("--step"))
    .option("--unit <u>", "the unit to explain, from 0; default 0", parseNonNegativeInt("--unit"))
    .option("--position <coords>", "ConvLSTM: the output position to explain, one index per spatial axis from 0 (e.g. 4,5); default: the centre", (v: string, prev?: string[]) => [...(prev ?? []), v])
    .option("--filter <f>", "ConvLSTM: the filter to explain, from 0; default 0")
    .option("--sample <n>", "the sample of a batch input, from 1; default 1", parseNonNegativeInt("--sample"))
    .option("--raw-input", "feed the input straight into the layer instead of the layers before it")
    .option("--h0 <values>", "initial hidden state h (one value per unit; ConvLSTM: the whole map, in the layer's data_format); default zeros")
    .option("--c0 <values>", "initial cell state c for LSTM; default zeros")
    .option("--digits <n>", "decimals to print", parseNonNegativeInt("--digits"), 6)
    .option("--ascii", "plain 7-bit text: ASCII diagram and notation (h[t-1], sigmoid, *)")
    .option("--json", "print one JSON document: equations, symbols, shapes and values")
    .option("--html <file>", "also write a self-contained HTML page (diagram, charts, tables)")
    .option("--interactive", "full-screen in a terminal: ←/→ steps, ↑/↓ units, e/d/h equations, diagram, heatmap, q quits (static text when not a terminal)")
    .action(async (file: string, opts: ExplainOptions) => {
      const model = await openModel(file, opts);
      requireExplainable(model, opts.layer);
      const { resolved, trace } = evaluateStep(model, {
        layer: opts.layer,
        inputs: collectInputs(model, opts, true, opts.rawInput ? "layer" : "model"),
        rawInput: opts.rawInput,
        h0: opts.h0 === undefined ? undefined : parseInlineValues(opts.h0, "--h0").data,
        c0: opts.c0 === undefined ? undefined : parseInlineValues(opts.c0, "--c0").data,
        dtype: opts.dtype,
        hardSigmoid: opts.hardSigmoid,
      });
      reportAssumptions(trace.assumptions ?? []);
      const t = explainedDirection(trace);
      inRange("--unit", opts.unit, 0, t.units - 1, `'${resolved.path}' has ${t.units} unit(s), so --unit is`);
      inRange("--sample", opts.sample, 1, t.samples, `the input has ${t.samples} sample(s), so --sample is`);
      // ConvLSTM: one position and one filter (the centre and filter 0 unless chosen).
      if ((opts.position?.length ?? 0) > 1 || (opts.filter ?? "").includes(",")) throw new UsageError("explain shows one position and one filter; give one of each");
      const map = featureMapSelection(t, { position: opts.position, filter: opts.filter ?? (t.featureMap && opts.unit === undefined ? "0" : undefined) }, { unit: opts.unit === undefined ? undefined : String(opts.unit) });
      const choice = { sample: (opts.sample ?? 1) - 1, step: explainedStep(opts, t.steps), unit: map?.units[0] ?? opts.unit ?? 0 };
      const ex = buildExplanation(t, choice, explainContext(model, resolved, file), opts.digits);
      if (trace.directions.length > 1) {
        ex.notes.push(`${trace.layer} is Bidirectional: this is its forward direction; name ${trace.directions[1].layer} with --layer for the other`);
      }
      if (opts.html !== undefined) {
        const ctx = explainContext(model, resolved, file);
        const explainAt = (step: number, unit: number) => buildExplanation(t, { sample: choice.sample, step, unit }, ctx, opts.digits);
        writeHtml(opts.html, htmlReport(trace, { explanation: ex, digits: opts.digits, explainAt }));
      }
      if (opts.interactive && !opts.json) {
        if (process.stdout.isTTY && process.stdin.isTTY) {
          const ctx = explainContext(model, resolved, file);
          const chalk = makeChalk(terminalColourLevel());
          const source = {
            title: `${safe(t.layer)} (${safe(t.className)}), ${safe(file)}`,
            steps: t.steps,
            units: t.units,
            explain: (step: number, unit: number, width: number) =>
              formatExplanation(buildExplanation(t, { sample: choice.sample, step, unit }, ctx, opts.digits), { ascii: opts.ascii === true, chalk, width }),
            heatmap: (width: number) => formatHeatmap(trace, { width, chalk }),
            timeIndex: (step: number) => t.timeIndex[step],
          };
          await runInteractive(source, process.stdin, process.stdout, { step: choice.step, unit: choice.unit });
          return;
        }
        process.stderr.write("keras-inspect: note: --interactive needs a terminal on standard input and output; printing the static explanation\n");
      }
      if (opts.json) await writeJson(trace.assumptions ? { ...explanationJson(ex), assumptions: trace.assumptions } : explanationJson(ex));
      else await writeLines([formatExplanation(ex, { ascii: opts.ascii === true, chalk: makeChalk(terminalColourLevel()) })]);
    });
}
