import { statSync, writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { parseLayerRequirement, parseVersionRange } from "../../check/contract.js";
import { parseExpectArgument } from "../../check/expect.js";
import { readGoldenFile } from "../../check/golden-model.js";
import { DEFAULT_ATOL, DEFAULT_RTOL, formatTolerance } from "../../check/tolerance.js";
import { type FileOutcome, runExitCode } from "../../check/types.js";
import { DEFAULT_DIFF_ATOL } from "../../diff/index.js";
import { systemReason, UsageError } from "../../errors.js";
import { readInputFile } from "../../inputs.js";
import { checkRunJson, formatCheckError, formatCheckReport, formatRunTotals, outcomeAnnotations } from "../../present/check.js";
import { junitRunXml } from "../../present/junit.js";
import { safe } from "../../present/text.js";
import { type CheckRequest, checkErrorOf, checkFile, checkFiles, defaultJobs } from "../check-files.js";
import { addEvalOptions, type EvalCliOptions } from "../eval-options.js";
import { addInputOptions, type InputOptions } from "../input-options.js";
import { addConfigOption, type ModelCliOptions } from "../model-options.js";
import { parseNumber, parsePositiveInt } from "../options.js";
import { addWidthOption, type OutputCliOptions, outputWidth, writeJson, writeLines } from "../output.js";

/**
 * Numbers arrive as the user typed them and are read in the action, so that a bad value
 * is an error of the run, reported in --junit, --json and annotations like any other.
 */
interface CheckCliOptions extends InputOptions, EvalCliOptions, OutputCliOptions, ModelCliOptions {
  maxAbs?: string;
  requireLayer?: string[];
  kerasVersion?: string;
  expect?: string[];
  golden?: string;
  writeGolden?: string;
  reference?: string;
  referenceAtol: string;
  referenceExact?: boolean;
  referencePartial?: boolean;
  atol: string;
  rtol: string;
  jobs?: string;
  json?: boolean;
  junit?: string;
  strict?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function nonNegative(name: string, value: string): number {
  const n = parseNumber(name)(value);
  if (n < 0) throw new UsageError(`${name} must be ≥ 0, got '${value}'`);
  return n;
}

function positive(name: string, value: string): number {
  const n = parseNumber(name)(value);
  if (n <= 0) throw new UsageError(`${name} must be > 0, got '${value}'`);
  return n;
}

const isFile = (path: string) => {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
};

/** Everything the user gave besides the files, read and validated once: a problem here is every file's error (exit 2). */
function checkRequest(opts: CheckCliOptions, files: string[]): CheckRequest {
  const tolerance = { atol: nonNegative("--atol", opts.atol), rtol: nonNegative("--rtol", opts.rtol) };
  const maxAbs = opts.maxAbs !== undefined ? positive("--max-abs", opts.maxAbs) : undefined;
  const referenceAtol = nonNegative("--reference-atol", opts.referenceAtol);
  if (opts.reference === undefined && (opts.referencePartial || opts.referenceExact)) {
    throw new UsageError(`${opts.referencePartial ? "--reference-partial" : "--reference-exact"} says how to compare with --reference GOOD, which is not given`);
  }
  const requireLayers = (opts.requireLayer ?? []).map(parseLayerRequirement);
  const kerasVersion = opts.kerasVersion !== undefined ? parseVersionRange(opts.kerasVersion) : undefined;
  if (files.length > 1 && (opts.inputFile ?? []).some((f) => f === "-" || f.endsWith("=-"))) {
    throw new UsageError("--input-file - (standard input) can be read for one model only; save it to a file to check several models");
  }
  if (opts.writeGolden !== undefined && files.length > 1) throw new UsageError("--write-golden records one model: give one file");
  if (opts.writeGolden !== undefined && opts.golden !== undefined) throw new UsageError("--write-golden and --golden: write the golden file first, then check against it");
  const golden = opts.golden !== undefined ? { label: opts.golden, ...readGoldenFile(opts.golden) } : undefined;
  const expected = (opts.expect ?? []).map((arg) => {
    const { output, file } = parseExpectArgument(arg, isFile);
    return { label: file, ...(output !== undefined ? { output } : {}), array: readInputFile(file) };
  });
  return {
    input: opts.input,
    inputFile: opts.inputFile,
    maxAbs,
    requireLayers,
    kerasVersion,
    expected,
    golden,
    tolerance,
    dtype: opts.dtype,
    hardSigmoid: opts.hardSigmoid,
    reference:
      opts.reference !== undefined ? { file: opts.reference, atol: referenceAtol, exact: opts.referenceExact === true, partial: opts.referencePartial === true } : undefined,
    config: opts.config,
    writeGolden: opts.writeGolden,
    strict: opts.strict === true,
  };
}

export function registerCheck(program: Command): void {
  const cmd = program
    .command("check")
    .description(
      "verify models for CI: tensors match configs, no NaN/Inf, contracts, outputs, a known-good reference; exit 0 pass, 1 a check failed, 2 could not run (several files: the worst)",
    )
    .argument("<files...>", "Keras model or weights files (several: one report, checked in parallel)");
  addInputOptions(cmd);
  addConfigOption(cmd);
  addEvalOptions(cmd)
    .option("--max-abs <x>", "fail when any weight's |value| exceeds x (exploding weights)")
    .option("--require-layer <CLASS[:UNITS]>", "fail unless the model has a layer of this class (and units), e.g. LSTM:64 (repeatable)", collect)
    .option("--keras-version <range>", "fail unless the writer's Keras version is in the range, e.g. '>=2.3 <3', '3.x'")
    .option("--reference <good.h5>", "fail unless the weights equal those of this known-good file (any format), compared as 'diff' does, per gate")
    .addOption(
      new Option("--reference-atol <x>", "largest |Δ| between a weight and the reference's still counted as equal; 0 asks for identical values, as two saves of one model hold")
        .default(String(DEFAULT_DIFF_ATOL), String(DEFAULT_DIFF_ATOL)),
    )
    .option("--reference-exact", "a quantized export must be within --reference-atol of the reference too; without it, every value within half a quantization step passes ('within quantization')")
    .option(
      "--reference-partial",
      "the file holds part of the reference (one stage of a model exported in pieces): the reference's layers it lacks are named in a warning instead of failing the check (as diff --partial); none at all fails it",
    )
    .option(
      "--expect <[NAME=]file>",
      "compare predict(--input) with Y saved from Keras' model.predict(X) (.npy or JSON): one per model output in output order, or NAME=FILE per output as predict names them (lstm_3, lstm_3:1)",
      collect,
    )
    .option("--golden <file.json>", "compare with a golden file written by --write-golden (every recurrent layer's intermediates and every output), or with a 'step --json' trace of one layer")
    .option("--write-golden <file.json>", "record the model's golden file for --input: the input, every recurrent layer's trace and the outputs (then checked against itself)")
    .addOption(
      new Option("--atol <x>", "absolute tolerance for --expect and --golden: |ours − y| ≤ atol + rtol·|y| (Keras' own tests use 1e-5)").default(
        String(DEFAULT_ATOL),
        formatTolerance(DEFAULT_ATOL),
      ),
    )
    .addOption(
      new Option("--rtol <x>", "relative tolerance for --expect and --golden; outputs from a GPU (TF32 matmuls) may need --atol 1e-3 --rtol 1e-3").default(
        String(DEFAULT_RTOL),
        formatTolerance(DEFAULT_RTOL),
      ),
    )
    .option("--strict", "warnings fail the run (exit 1): implausible weights, a golden input that cannot see a weight")
    .option("--jobs <n>", "check at most n files at once, each on its own thread (default: the number of cores)")
    .option("--json", "print one JSON document: checks, results, verdict (several files: one document with a 'files' list)")
    .option("--junit <file>", "also write the checks as JUnit XML, one test suite per file (GitLab, Jenkins, GitHub test reporters)");
  addWidthOption(cmd).action(async (files: string[], opts: CheckCliOptions) => {
    let outcomes: FileOutcome[];
    // The error to rethrow when one file was checked: main.ts prints it as every command's (with --debug's stack).
    let thrown: unknown;
    try {
      const request = checkRequest(opts, files);
      const jobs = opts.jobs !== undefined ? parsePositiveInt("--jobs")(opts.jobs) : defaultJobs();
      if (files.length === 1) {
        const one = await checkFile(files[0], request, {});
        outcomes = [one.outcome];
        thrown = one.thrown;
      } else {
        outcomes = await checkFiles(files, request, jobs);
      }
    } catch (e) {
      // A bad option or --expect/--golden file: no file can be checked; each one's report says why.
      const error = checkErrorOf(e);
      outcomes = files.map((file) => ({ file, seconds: 0, error }));
      thrown = e;
    }
    await report(outcomes, opts);
    // One file, or an error that stopped every file: one line on stderr, as for every command.
    if (thrown !== undefined) throw thrown;
    // Several files: each one that could not be checked is one line on stderr; the run exits with the worst code.
    for (const o of outcomes) {
      if (o.error) process.stderr.write(`keras-inspect: ${safe(o.error.message.startsWith(`${o.file}: `) ? o.error.message : `${o.file}: ${o.error.message}`)}\n`);
    }
    process.exitCode = runExitCode(outcomes);
  });
}

/** Every report asked for, errors included: JUnit file, stdout (text or JSON), GitHub annotations. */
async function report(outcomes: FileOutcome[], opts: CheckCliOptions): Promise<void> {
  if (opts.junit !== undefined) {
    try {
      writeFileSync(opts.junit, junitRunXml(outcomes));
    } catch (e) {
      throw new UsageError(`--junit ${opts.junit}: ${systemReason(e, "a file", "write")}`);
    }
  }
  const color = !opts.json && process.stdout.isTTY === true && !process.env.NO_COLOR;
  const width = opts.json ? undefined : outputWidth(opts);
  if (opts.json) await writeJson(checkRunJson(outcomes));
  else {
    const texts = outcomes.map((o) => (o.report ? formatCheckReport(o.report, { color, width }) : formatCheckError(o, { color, width })));
    // One file that could not be checked says so on stderr only, as every command does.
    if (outcomes.length > 1) await writeLines([texts.join("\n\n"), "", formatRunTotals(outcomes, { color })]);
    else if (outcomes[0].report) await writeLines(texts);
  }
  if (process.env.GITHUB_ACTIONS === "true") {
    // Workflow commands are read from both streams; keep stdout a pure JSON document with --json.
    const out = opts.json ? process.stderr : process.stdout;
    for (const line of outcomes.flatMap(outcomeAnnotations)) out.write(`${line}\n`);
  }
}
