/**
 * `check` output: one line per check (✓ pass, ✗ fail, ℹ information, – skipped) and a
 * verdict line; the `--json` document; GitHub Actions `::error` annotations.
 */
import { Chalk } from "chalk";
import type { Check, CheckReport, CheckStatus } from "../check/types.js";
import { FORMAT_DESCRIPTIONS, type FormatName } from "../model.js";
import { wrapLine } from "./notation.js";
import { safe } from "./text.js";

const ICON: Record<CheckStatus, string> = { pass: "✓", fail: "✗", info: "ℹ", skip: "–" };


/**
 * One line per check and the verdict, each fitted to `width` columns (default: no limit): a
 * long detail continues under where the details start.
 */
export function formatCheckReport(report: CheckReport, options: { color?: boolean; width?: number } = {}): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const width = options.width ?? Infinity;
  const paint: Record<CheckStatus, (s: string) => string> = { pass: c.green, fail: c.red, info: c.cyan, skip: c.dim };
  const nameWidth = Math.max(...report.checks.map((k) => k.name.length), 8);
  const lines = [
    ...wrapLine(`${safe(report.file)} (${FORMAT_DESCRIPTIONS[report.format as FormatName] ?? report.format}, ${report.kerasVersion ? `Keras ${safe(report.kerasVersion)}` : "Keras version not recorded"})`, width),
    ...report.checks.flatMap((k) => wrapLine(`${paint[k.status](ICON[k.status])} ${safe(k.name).padEnd(nameWidth)}  ${safe(k.detail)}`, width, nameWidth + 4)),
    ...wrapLine(verdictLine(report, c), width),
  ];
  return lines.join("\n");
}

function verdictLine(report: CheckReport, c: InstanceType<typeof Chalk>): string {
  const n = report.checks.length;
  const { pass, fail, info, skip } = report.counts;
  const extra = [info ? `${info} information` : "", skip ? `${skip} skipped` : ""].filter(Boolean).join(", ");
  if (report.verdict === "pass") return c.green.bold(`PASS`) + `: ${pass} of ${n} check(s) passed${extra ? ` (${extra})` : ""}`;
  const failed = report.checks.filter((k) => k.status === "fail").map((k) => k.name);
  return c.red.bold(`FAIL`) + `: ${fail} of ${n} check(s) failed: ${failed.map(safe).join(", ")}`;
}

/** The `check --json` document: the checks (status and detail), the measurements behind them, the verdict. */
export function checkJson(report: CheckReport) {
  return {
    file: report.file,
    format: report.format,
    kerasVersion: report.kerasVersion,
    checks: report.checks.map(({ id, name, status, detail, problems }: Check) => ({ id, name, status, detail, ...(problems ? { problems } : {}) })),
    results: Object.fromEntries(report.checks.filter((k) => k.data !== undefined).map((k) => [k.id, k.data])),
    counts: report.counts,
    verdict: report.verdict,
  };
}

/**
 * GitHub Actions workflow commands, one per failed check
 * (docs.github.com: "Workflow commands for GitHub Actions", setting an error message).
 * Data escapes %, CR and LF; property values also ':' and ','.
 */
export function githubAnnotations(report: CheckReport): string[] {
  const data = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  const prop = (s: string) => data(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
  return report.checks
    .filter((k) => k.status === "fail")
    .map((k) => `::error file=${prop(report.file)},title=${prop(`keras-inspect check: ${k.name}`)}::${data(safe(k.detail))}`);
}
