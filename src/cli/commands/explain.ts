import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { evaluateStep, recurrentLayers, type ResolvedLayer } from "../../eval/step.js";
import type { LayerTrace, StepTrace } from "../../eval/trace.js";
import { InspectError, UsageError } from "../../errors.js";
import { parseInlineValues } from "../../inputs.js";
import { resetAfter } from "../../layers/gru.js";
import { recurrentKindOf } from "../../layers/registry.js";
import { loadModel } from "../../load/index.js";
import { type Model, walkLayers } from "../../model.js";
import { makeChalk, terminalColourLevel } from "../../present/colour.js";
import { buildExplanation, type ExplainContext, explanationJson, formatExplanation } from "../../present/explain.js";
import { formatHeatmap } from "../../present/heatmap.js";
import { htmlReport } from "../../present/html.js";
import { toJson } from "../../present/json.js";
import { thousands } from "../../present/text.js";
import { addEvalOptions, type EvalCliOptions } from "../eval-options.js";
import { addInputOptions, collectInputs, type InputOptions } from "../input-options.js";
import { parseNonNegativeInt } from "../options.js";

interface ExplainOptions extends InputOptions, EvalCliOptions {
  layer?: string;
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
}

const EXPLAINED = "LSTM, GRU (reset_after True or False) and SimpleRNN, also as CuDNNLSTM/CuDNNGRU or inside Bidirectional";

/** Where the explained layer came from: the file, its writer, and GRU's reset_after. */
export function explainContext(model: Model, resolved: ResolvedLayer, file: string): ExplainContext {
  const layer = resolved.layer.className === "Bidirectional" ? resolved.layer.children[0] : resolved.layer;
  return {
    file,
    kerasVersion: model.kerasVersion,
    kerasMajor: model.kerasMajor,
    resetAfter: recurrentKindOf(layer.className)?.kind === "gru" ? resetAfter(layer) : undefined,
  };
}

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

/** Writes the HTML page, or fails with one line naming the path. */
export function writeHtml(path: string, html: string): void {
  try {
    writeFileSync(path, html);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new InspectError(`--html ${path}: cannot write the page (${code}); choose a writable path`);
  }
  process.stderr.write(`wrote ${path} (${thousands(Buffer.byteLength(html))} bytes)\n`);
}

/** The direction explained: a Bidirectional wrapper's forward one unless a direction was named. */
function explainedDirection(trace: LayerTrace): StepTrace {
  return trace.directions[0];
}

/** The terminal's width: stdout's columns when it is a terminal, else $COLUMNS, else 80. */
export function terminalWidth(): number {
  const fromEnv = Number(process.env.COLUMNS);
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 80;
}

/** `step --heatmap`. */
export function stepHeatmap(trace: LayerTrace, units: number[] | undefined): string {
  return formatHeatmap(trace, { width: terminalWidth(), units, chalk: makeChalk(terminalColourLevel()) });
}

/** `step --html`: the page for the whole sequence, with the last step of the first shown unit explained. */
export function stepHtml(model: Model, resolved: ResolvedLayer, trace: LayerTrace, file: string, units: number[] | undefined, digits: number): string {
  const t = trace.directions[0];
  const ex = buildExplanation(t, { sample: 0, step: t.steps - 1, unit: units?.[0] ?? 0 }, explainContext(model, resolved, file), digits);
  return htmlReport(trace, { explanation: ex, digits, units });
}

export function registerExplain(program: Command): void {
  const cmd = program
    .command("explain")
    .description("show one step of a recurrent layer as equations with your numbers substituted, and as a cell diagram")
    .argument("<file>", "a Keras model file");
  addInputOptions(cmd);
  addEvalOptions(cmd)
    .option("-l, --layer <name>", "the layer (path for a Bidirectional direction, e.g. bidirectional_1/backward_lstm_1); default: the first recurrent layer")
    .option("--step <t>", "the processing step to explain, from 1; default: the last", parseNonNegativeInt("--step"))
    .option("--unit <u>", "the unit to explain, from 0; default 0", parseNonNegativeInt("--unit"))
    .option("--sample <n>", "the sample of a batch input, from 1; default 1", parseNonNegativeInt("--sample"))
    .option("--raw-input", "feed the input straight into the layer instead of the layers before it")
    .option("--h0 <values>", "initial hidden state h (one value per unit); default zeros")
    .option("--c0 <values>", "initial cell state c for LSTM; default zeros")
    .option("--digits <n>", "decimals to print", parseNonNegativeInt("--digits"), 6)
    .option("--ascii", "plain 7-bit text: ASCII diagram and notation (h[t-1], sigmoid, *)")
    .option("--json", "print one JSON document: equations, symbols, shapes and values")
    .option("--html <file>", "also write a self-contained HTML page (diagram, charts, tables)")
    .action(async (file: string, opts: ExplainOptions) => {
      const model = await loadModel(file);
      requireExplainable(model, opts.layer);
      const { resolved, trace } = evaluateStep(model, {
        layer: opts.layer,
        inputs: collectInputs(model, opts),
        rawInput: opts.rawInput,
        h0: opts.h0 === undefined ? undefined : parseInlineValues(opts.h0, "--h0").data,
        c0: opts.c0 === undefined ? undefined : parseInlineValues(opts.c0, "--c0").data,
        dtype: opts.dtype,
        hardSigmoid: opts.hardSigmoid,
      });
      const t = explainedDirection(trace);
      inRange("--step", opts.step, 1, t.steps, `the input has ${t.steps} step(s), so --step is`);
      inRange("--unit", opts.unit, 0, t.units - 1, `'${resolved.path}' has ${t.units} unit(s), so --unit is`);
      inRange("--sample", opts.sample, 1, t.samples, `the input has ${t.samples} sample(s), so --sample is`);
      const choice = { sample: (opts.sample ?? 1) - 1, step: (opts.step ?? t.steps) - 1, unit: opts.unit ?? 0 };
      const ex = buildExplanation(t, choice, explainContext(model, resolved, file), opts.digits);
      if (trace.directions.length > 1) {
        ex.notes.push(`${trace.layer} is Bidirectional: this is its forward direction; name ${trace.directions[1].layer} with --layer for the other`);
      }
      if (opts.html !== undefined) writeHtml(opts.html, htmlReport(trace, { explanation: ex, digits: opts.digits }));
      const text = opts.json
        ? toJson(explanationJson(ex))
        : formatExplanation(ex, { ascii: opts.ascii === true, chalk: makeChalk(terminalColourLevel()) });
      process.stdout.write(`${text}\n`);
    });
}
