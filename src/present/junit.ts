/**
 * `check --junit FILE`: the checks as a JUnit XML report, the format GitLab
 * (artifacts:reports:junit), Jenkins (junit step) and GitHub test-report actions read:
 *   <testsuites tests failures errors skipped>
 *     <testsuite name tests failures errors skipped timestamp>
 *       <testcase classname name time> [<failure message type>detail</failure> | <skipped message/>] <system-out>detail</system-out>
 * One testcase per check. Information checks (saturation) pass and carry their detail in
 * system-out; skipped checks are <skipped/>.
 */
import type { CheckReport } from "../check/types.js";

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
  const tests = report.checks.length;
  const failures = report.counts.fail;
  const skipped = report.counts.skip;
  const time = (options.seconds ?? 0).toFixed(3);
  const suite = `keras-inspect check ${report.file}`;
  const ts = (options.timestamp ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "");
  const cases = report.checks.map((k) => {
    const open = `    <testcase classname="keras-inspect.check" name="${xmlEscape(k.name)}" time="0">`;
    const body: string[] = [];
    if (k.status === "fail") {
      const text = [k.detail, ...(k.problems && k.problems.length > 1 ? k.problems.map((p) => `- ${p}`) : [])].join("\n");
      body.push(`      <failure message="${xmlEscape(k.detail)}" type="${xmlEscape(k.id)}">${xmlEscape(text)}</failure>`);
    } else if (k.status === "skip") {
      body.push(`      <skipped message="${xmlEscape(k.detail)}"/>`);
    } else {
      body.push(`      <system-out>${xmlEscape(k.detail)}</system-out>`);
    }
    return [open, ...body, "    </testcase>"].join("\n");
  });
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="keras-inspect check" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}">`,
    `  <testsuite name="${xmlEscape(suite)}" tests="${tests}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}" timestamp="${ts}">`,
    ...cases,
    `  </testsuite>`,
    `</testsuites>`,
    "",
  ].join("\n");
}
