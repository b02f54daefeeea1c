/**
 * `check` output: one line per check (✓ pass, ✗ fail, ℹ information, – skipped) and a
 * verdict line; the `--json` document; GitHub Actions `::error` annotations. A file that
 * could not be checked (exit 2) has a report too: an ERROR line, a JSON document with
 * `"status": "error"`, an annotation. Several files: each in turn, then a totals line.
 */
import { Chalk } from "chalk";
import { type Check, type CheckReport, type CheckStatus, type FileOutcome, outcomeExitCode, runExitCode, runVerdict } from "../check/types.js";
import { FORMAT_DESCRIPTIONS, type FormatName } from "../model.js";
import { wrapLine } from "./notation.js";
import { safe } from "./text.js";

const ICON: Record<CheckStatus, string> = { pass: "✓", fail: "✗", warn: "!", info: "ℹ", skip: "–" };


/**
 * One line per check and the verdict, each fitted to `width` columns (default: no limit): a
 * long detail continues under where the details start.
 */
export function formatCheckReport(report: CheckReport, options: { color?: boolean; width?: number } = {}): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const width = options.width ?? Infinity;
  const paint: Record<CheckStatus, (s: string) => string> = { pass: c.green, fail: c.red, warn: c.yellow, info: c.cyan, skip: c.dim };
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
  const { pass, fail, warn, info, skip } = report.counts;
  const extra = [warn ? `${warn} warning(s)` : "", info ? `${info} information` : "", skip ? `${skip} skipped` : ""].filter(Boolean).join(", ");
  if (report.verdict === "pass") return c.green.bold(`PASS`) + `: ${pass} of ${n} check(s) passed${extra ? ` (${extra})` : ""}`;
  const failed = report.checks.filter((k) => k.status === "fail").map((k) => k.name);
  return c.red.bold(`FAIL`) + `: ${fail} of ${n} check(s) failed: ${failed.map(safe).join(", ")}`;
}

/**
 * The `check --json` document: the checks (status and detail), the measurements behind them,
 * the verdict; `status` repeats the verdict, as the document of a file that could not be
 * checked has `"status": "error"`.
 */
export function checkJson(report: CheckReport) {
  return {
    file: report.file,
    format: report.format,
    kerasVersion: report.kerasVersion,
    checks: report.checks.map(({ id, name, status, detail, problems }: Check) => ({ id, name, status, detail, ...(problems ? { problems } : {}) })),
    results: Object.fromEntries(report.checks.filter((k) => k.data !== undefined).map((k) => [k.id, k.data])),
    counts: report.counts,
    verdict: report.verdict,
    status: report.verdict,
    exitCode: report.verdict === "fail" ? 1 : 0,
  };
}

/** One file's document: checkJson, or for a file that could not be checked its message and exit code. */
export function outcomeJson(o: FileOutcome) {
  if (o.report) return checkJson(o.report);
  return { file: o.file, status: "error" as const, verdict: "error" as const, message: o.error.message, exitCode: o.error.exitCode };
}

/**
 * The document of a run: one file's document when one file was checked; for several,
 * `files` (one document each, in the order given), counts of pass/fail/error, the worst
 * verdict and the exit code.
 */
export function checkRunJson(outcomes: FileOutcome[]) {
  if (outcomes.length === 1) return outcomeJson(outcomes[0]);
  const counts = { pass: 0, fail: 0, error: 0 };
  for (const o of outcomes) counts[o.error ? "error" : o.report.verdict]++;
  return { files: outcomes.map(outcomeJson), counts, verdict: runVerdict(outcomes), status: runVerdict(outcomes), exitCode: runExitCode(outcomes) };
}

/** The text of a file that could not be checked: its name and an ERROR line with the reason. */
export function formatCheckError(o: FileOutcome & { error: object }, options: { color?: boolean; width?: number } = {}): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const width = options.width ?? Infinity;
  // The file is named on the line above: "trunc.h5: the file is damaged" reads "the file is damaged" under it.
  const message = o.error.message.startsWith(`${o.file}: `) ? o.error.message.slice(o.file.length + 2) : o.error.message;
  return [...wrapLine(safe(o.file), width), ...wrapLine(`${c.red.bold("ERROR")}: could not check it (exit ${o.error.exitCode}): ${safe(message)}`, width)].join("\n");
}

/** The last line of a run over several files. */
export function formatRunTotals(outcomes: FileOutcome[], options: { color?: boolean } = {}): string {
  const c = new Chalk({ level: options.color ? 1 : 0 });
  const n = (v: string) => outcomes.filter((o) => (o.error ? "error" : o.report.verdict) === v).length;
  const verdict = runVerdict(outcomes);
  const word = verdict === "pass" ? c.green.bold("PASS") : c.red.bold(verdict.toUpperCase());
  return `${word}: ${outcomes.length} file(s): ${n("pass")} passed, ${n("fail")} failed, ${n("error")} could not be checked (exit ${runExitCode(outcomes)})`;
}

/**
 * GitHub Actions workflow commands, one per failed check (`::error`) and one per warning
 * (`::warning`) (docs.github.com: "Workflow commands for GitHub Actions", setting an
 * error / a warning message). Data escapes %, CR and LF; property values also ':' and ','.
 */
export function githubAnnotations(report: CheckReport): string[] {
  return report.checks
    .filter((k) => k.status === "fail" || k.status === "warn")
    .map((k) => annotation(report.file, `keras-inspect check: ${k.name}`, k.detail, k.status === "warn" ? "warning" : "error"));
}

/** The annotations of one file: one per failed check, or one saying why it could not be checked. */
export function outcomeAnnotations(o: FileOutcome): string[] {
  if (o.report) return githubAnnotations(o.report);
  return [annotation(o.file, `keras-inspect check: could not check it (exit ${outcomeExitCode(o)})`, o.error.message)];
}

function annotation(file: string, title: string, message: string, kind: "error" | "warning" = "error"): string {
  const data = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  const prop = (s: string) => data(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
  return `::${kind} file=${prop(file)},title=${prop(title)}::${data(safe(message))}`;
}
