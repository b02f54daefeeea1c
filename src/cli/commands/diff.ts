import type { Command } from "commander";
import { DEFAULT_DIFF_ATOL, diffModels } from "../../diff/index.js";
import { EXIT_CHECK_FAILED, UsageError } from "../../errors.js";
import { readDiffPair } from "../../diff/export-sides.js";
import { formatLocate, locateJson } from "../../present/locate.js";
import { diffJson, formatDiff } from "../../present/diff.js";
import { parseNumber } from "../options.js";
import { addWidthOption, outputWidth, writeJson, writeLines } from "../output.js";

function tolerance(value: string): number {
  const n = parseNumber("--atol")(value);
  if (n < 0) throw new UsageError(`--atol must be ≥ 0, got '${value}'`);
  return n;
}

export function registerDiff(program: Command): void {
  const cmd = program
    .command("diff")
    .description("compare the weights of two model or weights files of any formats; exit 0 equal (or within quantization), 1 different, 2 error")
    .argument("<a>", "a Keras model or weights file")
    .argument("<b>", "another one")
    .option("--atol <x>", `largest |Δ| still counted as equal; the default 0 asks for identical values (two saves of one model store the same float32 numbers)`, tolerance, DEFAULT_DIFF_ATOL)
    .option("--partial", "B holds part of A (one stage of a model exported in pieces): A's layers that B lacks are named in a warning instead of counted as differences")
    .option("--exact", "a quantized export's values must be within --atol too: 'within quantization' (every value within half a step of the other file's) counts as different, exit 1")
    .option("--json", "print one JSON document");
  addWidthOption(cmd).action(async (a: string, b: string, opts: { atol: number; partial?: boolean; exact?: boolean; json?: boolean; width?: number }) => {
    const pair = await readDiffPair(a, b, { partial: opts.partial === true, exact: opts.exact === true, atol: opts.atol });
    if ("located" in pair) {
      // An export without RNN ops: where each Keras weight lies among its constants.
      await (opts.json ? writeJson(locateJson(pair.located)) : writeLines([formatLocate(pair.located, outputWidth(opts))]));
      if (pair.located.verdict !== "equal") process.exitCode = EXIT_CHECK_FAILED;
      return;
    }
    const [ma, mb] = pair.models;
    const report = diffModels(ma, mb, { atol: opts.atol, partial: opts.partial === true, exact: opts.exact === true });
    if (opts.json) await writeJson(diffJson(report));
    else await writeLines([formatDiff(report, outputWidth(opts))]);
    if (report.verdict === "different") process.exitCode = EXIT_CHECK_FAILED;
  });
}
