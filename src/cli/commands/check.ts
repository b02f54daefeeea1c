import { writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { runChecks } from "../../check/index.js";
import { parseLayerRequirement, parseVersionRange } from "../../check/contract.js";
import { readGolden } from "../../check/golden.js";
import { DEFAULT_ATOL, DEFAULT_RTOL, formatTolerance } from "../../check/tolerance.js";
import { EXIT_CHECK_FAILED, UsageError } from "../../errors.js";
import { readInputFile } from "../../inputs.js";
import { loadModel } from "../../load/index.js";
import { checkJson, formatCheckReport, githubAnnotations } from "../../present/check.js";
import { junitXml } from "../../present/junit.js";
import { addEvalOptions, type EvalCliOptions } from "../eval-options.js";
import { addInputOptions, collectInputs, type InputOptions } from "../input-options.js";
import { parseNumber } from "../options.js";
import { addWidthOption, type OutputCliOptions, outputWidth, writeJson, writeLines } from "../output.js";

interface CheckCliOptions extends InputOptions, EvalCliOptions, OutputCliOptions {
  maxAbs?: number;
  requireLayer?: string[];
  kerasVersion?: string;
  expect?: string[];
  golden?: string;
  atol: number;
  rtol: number;
  json?: boolean;
  junit?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function nonNegative(name: string) {
  const parse = parseNumber(name);
  return (value: string): number => {
    const n = parse(value);
    if (n < 0) throw new UsageError(`${name} must be ≥ 0, got '${value}'`);
    return n;
  };
}

function positive(name: string) {
  const parse = parseNumber(name);
  return (value: string): number => {
    const n = parse(value);
    if (n <= 0) throw new UsageError(`${name} must be > 0, got '${value}'`);
    return n;
  };
}

export function registerCheck(program: Command): void {
  const cmd = program
    .command("check")
    .description("verify a model for CI: tensors match configs, no NaN/Inf, contracts, outputs; exit 0 pass, 1 a check failed, 2 could not run")
    .argument("<file>", "a Keras model or weights file");
  addInputOptions(cmd);
  addEvalOptions(cmd)
    .option("--max-abs <x>", "fail when any weight's |value| exceeds x (exploding weights)", positive("--max-abs"))
    .option("--require-layer <CLASS[:UNITS]>", "fail unless the model has a layer of this class (and units), e.g. LSTM:64 (repeatable)", collect)
    .option("--keras-version <range>", "fail unless the writer's Keras version is in the range, e.g. '>=2.3 <3', '3.x'")
    .option("--expect <file>", "compare predict(--input) with Y saved from Keras' model.predict(X) (.npy or JSON); one per model output", collect)
    .option("--golden <trace.json>", "compare a fresh 'step --json' trace with one saved earlier (regression of every intermediate)")
    .addOption(
      new Option("--atol <x>", "absolute tolerance for --expect and --golden: |ours − y| ≤ atol + rtol·|y| (Keras' own tests use 1e-5)")
        .argParser(nonNegative("--atol"))
        .default(DEFAULT_ATOL, formatTolerance(DEFAULT_ATOL)),
    )
    .addOption(
      new Option("--rtol <x>", "relative tolerance for --expect and --golden; outputs from a GPU (TF32 matmuls) may need --atol 1e-3 --rtol 1e-3")
        .argParser(nonNegative("--rtol"))
        .default(DEFAULT_RTOL, formatTolerance(DEFAULT_RTOL)),
    )
    .option("--json", "print one JSON document: checks, results, verdict")
    .option("--junit <file>", "also write the checks as JUnit XML (GitLab, Jenkins, GitHub test reporters)");
  addWidthOption(cmd).action(async (file: string, opts: CheckCliOptions) => {
    const started = Date.now();
    // Everything the user gave is read and validated before the model is judged: bad usage is exit 2.
    const requireLayers = (opts.requireLayer ?? []).map(parseLayerRequirement);
    const kerasVersion = opts.kerasVersion !== undefined ? parseVersionRange(opts.kerasVersion) : undefined;
    const golden = opts.golden !== undefined ? { label: opts.golden, trace: readGolden(opts.golden) } : undefined;
    const expected = (opts.expect ?? []).map((f) => ({ label: f, array: readInputFile(f) }));
    const model = await loadModel(file);
    const inputs = collectInputs(model, opts, false);
    const report = runChecks(model, {
      maxAbs: opts.maxAbs,
      requireLayers,
      kerasVersion,
      inputs,
      expected,
      golden,
      tolerance: { atol: opts.atol, rtol: opts.rtol },
      dtype: opts.dtype,
      hardSigmoid: opts.hardSigmoid,
    });
    if (opts.junit !== undefined) {
      try {
        writeFileSync(opts.junit, junitXml(report, { seconds: (Date.now() - started) / 1000 }));
      } catch (e) {
        throw new UsageError(`--junit ${opts.junit}: cannot write it (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
      }
    }
    const color = !opts.json && process.stdout.isTTY === true && !process.env.NO_COLOR;
    if (opts.json) await writeJson(checkJson(report));
    else await writeLines([formatCheckReport(report, { color, width: outputWidth(opts) })]);
    if (process.env.GITHUB_ACTIONS === "true") {
      // Workflow commands are read from both streams; keep stdout a pure JSON document with --json.
      const out = opts.json ? process.stderr : process.stdout;
      for (const line of githubAnnotations(report)) out.write(`${line}\n`);
    }
    if (report.verdict === "fail") process.exitCode = EXIT_CHECK_FAILED;
  });
}
