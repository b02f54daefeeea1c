/**
 * `check --junit FILE`: the checks as a JUnit XML report, the format GitLab
 * (artifacts:reports:junit), Jenkins (junit step) and GitHub test-report actions read:
 *   <testsuites tests failures errors skipped>
 *     <testsuite name tests failures errors skipped timestamp>
 *       <testcase classname name time> [<failure message type>detail</failure> | <skipped message/>] <system-out>detail</system-out>
 * One testsuite per file, one testcase per check. Information checks (saturation) and
 * warnings pass and carry their detail in system-out (a warning's starting "warning: "); skipped checks are <skipped/>; a file that could not be
 * checked is one <error/> test case.
 */
import type { CheckReport, FileOutcome } from "../check/types.js";

/** Escapes text for XML 1.0 content and attribute values; drops characters XML 1.0 cannot hold. */
export function xmlEscape(s: string): string {
  return (
    s
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/"/g, "&quot;")
      .replace(/'/g, "&apos;")
      .replace(/\n/g, "&#10;")
  );
}

export function junitXml(report: CheckReport, options: { timestamp?: Date; seconds?: number } = {}): string {
  return junitRunXml([{ file: report.file, seconds: options.seconds ?? 0, report }], options);
}

/**
 * A run over one or more files: one <testsuite> per file. A file that could not be checked
 * (exit 2) is a suite of one errored test case, `check`, whose <error> carries the message:
 * what a CI job shows instead of an empty report.
 */
export function junitRunXml(outcomes: FileOutcome[], options: { timestamp?: Date } = {}): string {
  const ts = (options.timestamp ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "");
  const suites = outcomes.map((o) => suiteXml(o, ts));
  const sum = (k: "tests" | "failures" | "errors" | "skipped") => suites.reduce((a, s) => a + s.counts[k], 0);
  const time = outcomes.reduce((a, o) => a + o.seconds, 0).toFixed(3);
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="keras-inspect check" tests="${sum("tests")}" failures="${sum("failures")}" errors="${sum("errors")}" skipped="${sum("skipped")}" time="${time}">`,
    ...suites.map((s) => s.xml),
    `</testsuites>`,
    "",
  ].join("\n");
}

function suiteXml(o: FileOutcome, ts: string): { xml: string; counts: { tests: number; failures: number; errors: number; skipped: number } } {
  const time = o.seconds.toFixed(3);
  const suite = `keras-inspect check ${o.file}`;
  if (o.error) {
    const counts = { tests: 1, failures: 0, errors: 1, skipped: 0 };
    const xml = [
      `  <testsuite name="${xmlEscape(suite)}" tests="1" failures="0" errors="1" skipped="0" time="${time}" timestamp="${ts}">`,
      `    <testcase classname="keras-inspect.check" name="check" time="${time}">`,
      `      <error message="${xmlEscape(o.error.message)}" type="exit ${o.error.exitCode}">${xmlEscape(o.error.message)}</error>`,
      `    </testcase>`,
      `  </testsuite>`,
    ].join("\n");
    return { xml, counts };
  }
  const report = o.report;
  const counts = { tests: report.checks.length, failures: report.counts.fail, errors: 0, skipped: report.counts.skip };
  const cases = report.checks.map((k) => {
    const open = `    <testcase classname="keras-inspect.check" name="${xmlEscape(k.name)}" time="0">`;
    const body: string[] = [];
    if (k.status === "fail") {
      const text = [k.detail, ...(k.problems && k.problems.length > 1 ? k.problems.map((p) => `- ${p}`) : [])].join("\n");
      body.push(`      <failure message="${xmlEscape(k.detail)}" type="${xmlEscape(k.id)}">${xmlEscape(text)}</failure>`);
    } else if (k.status === "skip") {
      body.push(`      <skipped message="${xmlEscape(k.detail)}"/>`);
    } else if (k.status === "warn") {
      // A warning passes (unless --strict made it a failure): its text goes where reporters show a passing test's output.
      const text = [`warning: ${k.detail}`, ...(k.problems && k.problems.length > 1 ? k.problems.map((p) => `- ${p}`) : [])].join("\n");
      body.push(`      <system-out>${xmlEscape(text)}</system-out>`);
    } else {
      body.push(`      <system-out>${xmlEscape(k.detail)}</system-out>`);
    }
    return [open, ...body, "    </testcase>"].join("\n");
  });
  const xml = [
    `  <testsuite name="${xmlEscape(suite)}" tests="${counts.tests}" failures="${counts.failures}" errors="0" skipped="${counts.skipped}" time="${time}" timestamp="${ts}">`,
    ...cases,
    `  </testsuite>`,
  ].join("\n");
  return { xml, counts };
}
