/**
 * `check` results as data. Every check is one record; printers (text, JSON, JUnit,
 * GitHub annotations) read these and compute nothing.
 */

/**
 * pass: the property holds. fail: it does not (exit 1). warn: something looks wrong
 * but may be right (an implausible weight, a golden input that cannot see a weight):
 * exit 0, unless --strict makes it a failure. info: a measurement that never fails the
 * run (saturation). skip: the check does not apply, with the reason.
 */
export type CheckStatus = "pass" | "fail" | "warn" | "info" | "skip";

export interface Check {
  /** Stable identifier, for JSON and JUnit: `structure`, `finite`, `expect`, `require-layer:LSTM:64`, ... */
  id: string;
  /** What the check is, as the text output prints it. */
  name: string;
  status: CheckStatus;
  /** One line: what was found (for a failure, the first or worst problem). */
  detail: string;
  /** Every problem found, when there are several (the detail names the first). */
  problems?: string[];
  /** The measurements behind the verdict (JSON `results`). */
  data?: unknown;
}

export type Verdict = "pass" | "fail";

export interface CheckReport {
  file: string;
  format: string;
  kerasVersion: string | null;
  checks: Check[];
  verdict: Verdict;
  counts: Record<CheckStatus, number>;
}

export function makeReport(file: string, format: string, kerasVersion: string | null, checks: Check[]): CheckReport {
  const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, warn: 0, info: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return { file, format, kerasVersion, checks, verdict: counts.fail > 0 ? "fail" : "pass", counts };
}

/** A detail line naming the first problems and how many more there are. */
export function firstProblems(problems: string[], shown = 2): string {
  const head = problems.slice(0, shown).join("; ");
  return problems.length > shown ? `${head}; and ${problems.length - shown} more` : head;
}

/**
 * Why `check` could not judge a file (a missing or corrupt file, a bad --expect file, an
 * activation it does not know...): the one-line message the error path prints, and the
 * exit code it stands for (2; 3 for a bug in keras-inspect).
 */
export interface CheckError {
  message: string;
  exitCode: number;
}

/** One file of a `check` run: its report, or why there is none; and how long it took. */
export type FileOutcome = { file: string; seconds: number } & ({ report: CheckReport; error?: undefined } | { error: CheckError; report?: undefined });

/** A run's verdict: error (could not check) is worse than fail, fail worse than pass. */
export type RunVerdict = Verdict | "error";

export function outcomeVerdict(o: FileOutcome): RunVerdict {
  return o.error ? "error" : o.report.verdict;
}

/** The exit code of one file (0 pass, 1 a check failed, 2 could not check, 3 a bug), and of a run: the worst. */
export function outcomeExitCode(o: FileOutcome): number {
  return o.error ? o.error.exitCode : o.report.verdict === "fail" ? 1 : 0;
}

export function runExitCode(outcomes: FileOutcome[]): number {
  return Math.max(0, ...outcomes.map(outcomeExitCode));
}

export function runVerdict(outcomes: FileOutcome[]): RunVerdict {
  const v = outcomes.map(outcomeVerdict);
  return v.includes("error") ? "error" : v.includes("fail") ? "fail" : "pass";
}
