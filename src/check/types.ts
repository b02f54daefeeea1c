/**
 * `check` results as data. Every check is one record; printers (text, JSON, JUnit,
 * GitHub annotations) read these and compute nothing.
 */

/**
 * pass: the property holds. fail: it does not (exit 1). info: a measurement that
 * never fails the run (saturation). skip: the check does not apply, with the reason.
 */
export type CheckStatus = "pass" | "fail" | "info" | "skip";

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
  const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, info: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return { file, format, kerasVersion, checks, verdict: counts.fail > 0 ? "fail" : "pass", counts };
}

/** A detail line naming the first problems and how many more there are. */
export function firstProblems(problems: string[], shown = 2): string {
  const head = problems.slice(0, shown).join("; ");
  return problems.length > shown ? `${head}; and ${problems.length - shown} more` : head;
}
