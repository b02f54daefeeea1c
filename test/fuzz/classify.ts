/**
 * Outcome classes of one run, and the rules that assign them. Only "ok" and
 * "clean-error" are acceptable; every other class is a finding and gets a reproducer.
 */
import type { MustFail } from "./mutators.js";
import type { RunOutcome } from "./pool.js";

export const OUTCOME_CLASSES = [
  "ok",
  "clean-error",
  // findings:
  "crash",
  "hang",
  // an answer, but slower than the bound its file's mutation sets (work driven by what the file claims)
  "slow",
  "oom",
  "stack-trace",
  "internal-error",
  "messy-error",
  "unclear-error",
  "unsafe-output",
  "bad-json",
  "silent-nan",
  "silent-wrong",
  "executed",
  "leak",
  "poisoned",
  "divergence",
] as const;

export type OutcomeClass = (typeof OUTCOME_CLASSES)[number];

export const ACCEPTABLE = new Set<OutcomeClass>(["ok", "clean-error"]);

export interface Classified {
  cls: OutcomeClass;
  /** Why, in one line (for reports). */
  why: string;
  /** The error line, normalized (file path and numbers removed), to group distinct messages. */
  signature: string;
}

/**
 * Raw control characters (except newline and tab), an ANSI escape, a bidi override, or a
 * surrogate without its pair (written out it would show as U+FFFD) in text meant for a terminal.
 */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** JavaScript's own error texts: a message like this means a bug escaped as if it were a file problem. */
const JS_INTERNAL = /Cannot read propert(y|ies) of|Cannot set propert(y|ies) of|is not a function|is not iterable|is not defined|\b(undefined|null) is not (an object|a function|iterable)|Maximum call stack|Invalid array length|Invalid typed array length|Cannot convert (undefined|null|a BigInt|a Symbol)|Do not know how to serialize a BigInt|\bat Object\.|\[object Object\]|\[native code\]/;

/**
 * Does an answer print a NaN or infinite *value*? JSON output spells them "NaN",
 * "Infinity", "-Infinity" (present/json.ts); in text, a NaN/Inf token counts when it sits
 * on a line with other numbers (a table row), not in a header ("│ NaN │ Inf │") or a
 * sentence ("no NaN or Inf in 16 value(s)").
 */
export function printsNonFinite(stdout: string, json: boolean): boolean {
  if (json) {
    try {
      let found = false;
      JSON.parse(stdout, (_k, v) => {
        if (v === "NaN" || v === "Infinity" || v === "-Infinity") found = true;
        return v;
      });
      return found;
    } catch {
      return false;
    }
  }
  return stdout.split("\n").some((line) => /-?\d+\.\d+/.test(line) && /(^|[\s│|,(\[=])(NaN|-?Inf(inity)?)(?=$|[\s│|,)\]])/.test(line));
}

export function normalizeMessage(line: string, file: string): string {
  return line
    .split(file)
    .join("FILE")
    .replace(/'[^']{0,200}'/g, "'…'")
    .replace(/"[^"]{0,200}"/g, '"…"')
    .replace(/\b0x[0-9a-f]+\b/gi, "N")
    .replace(/-?\d+(\.\d+)?(e[+-]?\d+)?/gi, "N")
    .replace(/(N[,× ]*)+/g, "N ")
    .slice(0, 240);
}

export interface ClassifyInput {
  outcome: RunOutcome;
  file: string;
  answerCodes: number[];
  refusalCodes?: number[];
  json: boolean;
  mustFail: MustFail;
  evaluates: boolean;
  /** The command line feeds the first recurrent layer directly (step and explain with --raw-input). */
  rawInput?: boolean;
  nonFiniteOk?: boolean;
  /** The command prints a JSON error document on exit 2 with --json (check). */
  errorReport?: boolean;
}

/** check --json's report of a file it could not check: one document, `"status": "error"`. */
function isErrorDocument(stdout: string): boolean {
  try {
    return (JSON.parse(stdout) as { status?: unknown }).status === "error";
  } catch {
    return false;
  }
}

export function classify(c: ClassifyInput): Classified {
  const o = c.outcome;
  if (o.type === "hang") return { cls: "hang", why: `no answer within the deadline (${Math.round(o.ms)} ms)`, signature: "hang" };
  if (o.type === "oom") return { cls: "oom", why: o.detail, signature: "oom" };
  if (o.type === "died") return { cls: "crash", why: `worker died (code ${o.code}, signal ${o.signal}): ${o.detail.split("\n").slice(-2).join(" | ")}`, signature: `crash ${normalizeMessage(o.detail.split("\n").find((l) => l.trim()) ?? "", c.file)}` };
  const stderr = o.stderr;
  const lines = stderr.split("\n").filter((l) => l.length > 0);
  const first = lines[0] ?? "";
  const sig = normalizeMessage(first, c.file);
  if (o.executed) return { cls: "executed", why: "a serialized function from the file was evaluated", signature: "executed" };
  if (/\n\s+at .+:\d+/.test(stderr) || /^\s+at /m.test(stderr)) return { cls: "stack-trace", why: `stack trace on stderr: ${first}`, signature: `stack ${sig}` };
  if (/out of memory|Cannot enlarge memory|Array buffer allocation failed|Allocation failed/i.test(stderr)) return { cls: "oom", why: first, signature: `oom ${sig}` };
  if (o.exitCode === 3) return { cls: "internal-error", why: first, signature: `internal ${sig}` };
  if (o.leaked.length > 0) return { cls: "leak", why: `left behind: ${o.leaked.join(", ")} (HDF5 in-memory files, host file descriptors)`, signature: "leak" };
  if (CONTROL.test(stderr.replace(/\n$/, ""))) return { cls: "unsafe-output", why: `raw control character on stderr: ${JSON.stringify(first).slice(0, 200)}`, signature: `unsafe-stderr ${sig}` };

  if (c.answerCodes.includes(o.exitCode)) {
    if (CONTROL.test(o.stdout)) return { cls: "unsafe-output", why: "raw control character on stdout", signature: "unsafe-stdout" };
    // A document cut by the worker's capture limit is not a document that does not parse.
    if (c.json && o.stdout.length === o.stdoutBytes) {
      try {
        JSON.parse(o.stdout);
      } catch (err) {
        return { cls: "bad-json", why: `--json output does not parse: ${(err as Error).message}`, signature: "bad-json" };
      }
    }
    const mustRefuse = c.mustFail === "load" || (c.mustFail === "eval" && c.evaluates) || (c.mustFail === "eval-upstream" && c.evaluates && !c.rawInput);
    if (mustRefuse && c.refusalCodes?.includes(o.exitCode)) return { cls: "ok", why: `refused with exit ${o.exitCode}`, signature: "ok-refused" };
    if (mustRefuse) {
      return { cls: "silent-wrong", why: `answered (exit ${o.exitCode}) for a file it must refuse (${c.mustFail})`, signature: `silent-wrong ${c.mustFail}` };
    }
    if (!c.nonFiniteOk && printsNonFinite(o.stdout, c.json)) {
      const w = o.weights;
      // NaN is a right answer when the file holds non-finite weights, or weights large enough to overflow float32 arithmetic.
      if (!w || !w.loaded || (!w.nonFinite && w.maxAbs < 1e15)) {
        return { cls: "silent-nan", why: `NaN/Inf printed though the weights are finite (max |w| ${w?.maxAbs})`, signature: "silent-nan" };
      }
    }
    // Notes on stderr are fine when they are the program's own lines.
    if (lines.some((l) => !l.startsWith("keras-inspect: "))) return { cls: "messy-error", why: `answered but wrote other text to stderr: ${first}`, signature: `stderr-on-success ${sig}` };
    return { cls: "ok", why: "", signature: "ok" };
  }
  if (o.exitCode !== 2) return { cls: "crash", why: `exit code ${o.exitCode}: ${first}`, signature: `exit${o.exitCode} ${sig}` };
  if (lines.length !== 1 || !first.startsWith("keras-inspect: ")) {
    return { cls: "messy-error", why: `stderr is not one 'keras-inspect: ' line (${lines.length} lines): ${JSON.stringify(stderr.slice(0, 300))}`, signature: `messy ${sig}` };
  }
  if (o.stdout.length > 0 && !(c.errorReport && c.json && isErrorDocument(o.stdout))) {
    return { cls: "messy-error", why: `error after printing ${o.stdout.length} bytes of output`, signature: `partial-output ${sig}` };
  }
  if (JS_INTERNAL.test(first)) return { cls: "unclear-error", why: first, signature: `unclear ${sig}` };
  return { cls: "clean-error", why: first, signature: sig };
}
