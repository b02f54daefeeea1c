import type { Command } from "commander";
import { DEFAULT_DIFF_ATOL, diffModels } from "../../diff/index.js";
import { EXIT_CHECK_FAILED, UsageError } from "../../errors.js";
import { loadModel } from "../../load/index.js";
import { diffJson, formatDiff } from "../../present/diff.js";
import { toJson } from "../../present/json.js";
import { parseNumber } from "../options.js";

function tolerance(value: string): number {
  const n = parseNumber("--atol")(value);
  if (n < 0) throw new UsageError(`--atol must be ≥ 0, got '${value}'`);
  return n;
}

export function registerDiff(program: Command): void {
  program
    .command("diff")
    .description("compare the weights of two model or weights files of any formats; exit 0 equal, 1 different, 2 error")
    .argument("<a>", "a Keras model or weights file")
    .argument("<b>", "another one")
    .option("--atol <x>", `largest |Δ| still counted as equal; the default 0 asks for identical values (two saves of one model store the same float32 numbers)`, tolerance, DEFAULT_DIFF_ATOL)
    .option("--json", "print one JSON document")
    .action(async (a: string, b: string, opts: { atol: number; json?: boolean }) => {
      const [ma, mb] = [await loadModel(a), await loadModel(b)];
      const report = diffModels(ma, mb, { atol: opts.atol });
      process.stdout.write(`${opts.json ? toJson(diffJson(report)) : formatDiff(report)}\n`);
      if (report.verdict === "different") process.exitCode = EXIT_CHECK_FAILED;
    });
}
