/**
 * The commands a mutated file is run through, as data. A spec is used only when the
 * program registers a command of that name (others are being written); its flags are
 * kept only when the command has them, so a spec written ahead of its command still
 * produces a valid command line.
 */
import { readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Command } from "commander";
import type { BaseFile } from "./corpus.js";
import type { Rng } from "./rng.js";

export interface CommandSpec {
  name: string;
  /** The program's command it runs, when not `name` (locate runs diff). */
  command?: string;
  /** Arguments after the program name: the command, the file, options. `out` is a scratch directory. */
  argv(file: string, base: BaseFile, rng: Rng, out: string): string[];
  /** Exit codes that mean "ran and answered" (check and diff answer 1 for "failed" / "differs"). */
  answerCodes: number[];
  /** Answer codes that also count as refusing a file that must be refused (check's 1: "a check failed"). */
  refusalCodes?: number[];
  /** Evaluates the first recurrent layer (what a mustFail "eval" mutation breaks). */
  evaluates: boolean;
  /** Prints Infinity by design (diff's relative difference from a zero). */
  nonFiniteOk?: boolean;
  /** With --json, prints a document on exit 2 too (`"status": "error"`): check's report for CI. */
  errorReport?: boolean;
}

const maybeJson = (rng: Rng, p = 0.35) => (rng.chance(p) ? ["--json"] : []);

/**
 * The Keras file an export was made from, for `locate`: beside it with the same stem
 * (`x.tflite` ↔ `x.h5` / `x.keras`), else the first Keras file in its folder, else the seed model.
 */
function pairedKeras(b: BaseFile): string {
  const folder = dirname(b.path);
  const stem = basename(b.path).replace(/\.[^.]*$/, "");
  const names = (() => {
    try {
      return readdirSync(folder).sort();
    } catch {
      return [];
    }
  })().filter((n) => /\.(h5|keras)$/i.test(n) && join(folder, n) !== b.path);
  const same = names.find((n) => n.replace(/\.[^.]*$/, "") === stem);
  const pick = same ?? names[0];
  return pick ? join(folder, pick) : "samples/seed-lstm.h5";
}

export const COMMAND_SPECS: CommandSpec[] = [
  { name: "summary", argv: (f, _b, rng) => ["summary", f, "--weights", ...maybeJson(rng)], answerCodes: [0], evaluates: false },
  { name: "weights", argv: (f, _b, rng) => ["weights", f, ...maybeJson(rng)], answerCodes: [0], evaluates: false },
  { name: "step", argv: (f, b, rng) => ["step", f, ...b.inputArgs, ...maybeJson(rng)], answerCodes: [0], evaluates: true },
  // check reports an unevaluable layer as a skipped check, by design, so only load failures must make it refuse.
  { name: "check", argv: (f, b, rng) => ["check", f, ...b.inputArgs, ...maybeJson(rng)], answerCodes: [0, 1], refusalCodes: [1], evaluates: false, errorReport: true },
  { name: "predict", argv: (f, b, rng) => ["predict", f, ...b.inputArgs, ...maybeJson(rng)], answerCodes: [0], evaluates: true },
  { name: "explain", argv: (f, b, rng) => ["explain", f, ...b.inputArgs, ...maybeJson(rng)], answerCodes: [0], evaluates: true },
  { name: "diff", argv: (f, b, rng) => ["diff", b.path, f, ...maybeJson(rng)], answerCodes: [0, 1], evaluates: false, nonFiniteOk: true },
  // A Keras file against the mutated one: an export without RNN ops has its Keras weights located among its constants.
  { name: "locate", command: "diff", argv: (f, b, rng) => ["diff", pairedKeras(b), f, ...(rng.chance(0.5) ? ["--partial"] : []), ...maybeJson(rng)], answerCodes: [0, 1], evaluates: false, nonFiniteOk: true },
  // Writes files: into the scratch directory, which the engine empties after each file.
  {
    name: "export",
    argv: (f, b, rng, out) => ["export", f, "--layer", b.firstRecurrent ?? b.layerNames[0] ?? "layer", "--to", `${out}/export`, ...(rng.chance(0.5) ? ["--format", "json"] : [])],
    answerCodes: [0],
    evaluates: false,
  },
];

/** The commands the issue asks every mutated file to go through (when they exist). */
export const DEFAULT_COMMANDS = ["summary", "weights", "step", "check"];

export interface Available {
  spec: CommandSpec;
  /** Long and short flags the registered command accepts. */
  flags: Set<string>;
  /** How many positional arguments it takes. */
  positional: number;
}

/** Specs whose command the program registers, in the order asked for. */
export function availableCommands(program: Command, wanted: string[]): Available[] {
  const out: Available[] = [];
  for (const name of wanted) {
    const spec = COMMAND_SPECS.find((s) => s.name === name);
    const cmd = program.commands.find((c) => c.name() === (spec?.command ?? name));
    if (!spec || !cmd) continue;
    const flags = new Set<string>();
    for (const o of cmd.options) {
      if (o.long) flags.add(o.long);
      if (o.short) flags.add(o.short);
    }
    out.push({ spec, flags, positional: cmd.registeredArguments.length });
  }
  return out;
}

/**
 * Drops options the command does not have (with their value), so a spec written before
 * its command still gives a valid command line.
 */
export function fitArgv(argv: string[], a: Available, takesValue: (flag: string) => boolean): string[] {
  const out: string[] = [];
  let positional = 0;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (i === 0) {
      out.push(arg);
      continue;
    }
    if (arg.startsWith("-")) {
      const has = a.flags.has(arg);
      const value = takesValue(arg) && i + 1 < argv.length ? argv[++i] : undefined;
      if (has) out.push(arg, ...(value !== undefined ? [value] : []));
      continue;
    }
    if (positional++ < a.positional) out.push(arg);
  }
  return out;
}

export function valueFlags(program: Command): (name: string, flag: string) => boolean {
  return (name, flag) => {
    const cmd = program.commands.find((c) => c.name() === name);
    const opt = cmd?.options.find((o) => o.long === flag || o.short === flag);
    return opt ? opt.required || opt.optional : ["--input", "--to", "--layer", "--format"].includes(flag);
  };
}
