/**
 * The command-line program. Each command lives in commands/<name>.ts and stays thin:
 * parse options, call the core, hand the result to a printer. This file is the only
 * place that turns errors into stderr lines and exit codes (see errors.ts).
 */
import { Command, CommanderError, Option } from "commander";
import { EXIT_ERROR, InspectError } from "../errors.js";
import { safe } from "../present/text.js";
import { registerCommands } from "./commands/index.js";
import { VERSION } from "./version.js";

/** Exit code for a bug in keras-inspect itself (never expected; reported by the fuzz suite). */
export const EXIT_INTERNAL = 3;

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("keras-inspect")
    .description("Open saved Keras models and see, number by number, what their recurrent layers compute.")
    .version(VERSION, "-V, --version")
    .addOption(new Option("--debug", "print stack traces of errors").default(false))
    .addOption(new Option("--no-color", "plain output without colours (NO_COLOR is honoured too)"))
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: usageLine("keras-inspect") });
  registerCommands(program);
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: usageLine(`keras-inspect ${c.name()}`) });
  return program;
}

/**
 * Commander's usage errors ("error: missing required argument 'file'") as every other
 * error: one line, with where to read the usage.
 */
function usageLine(path: string): (message: string, write: (s: string) => void) => void {
  return (message, write) => {
    // Commander puts its suggestion on a second line ("unknown command 'sumary'\n(Did you mean summary?)"): one line here.
    const lines = message.trim().replace(/^error: /, "").split(/\r?\n/);
    write(`keras-inspect: ${lines.map((l) => safe(l.trim())).join(" ")} (run '${path} --help' for usage)\n`);
  };
}

/**
 * A reader that closes the pipe (`keras-inspect step … | head -1`) has all it wants: end
 * at once, quietly, with success, instead of computing the rest and dying on EPIPE with
 * Node's stack trace.
 */
function endQuietlyWhenTheReaderLeaves(): void {
  if (process.stdout.listeners("error").includes(onStdoutError)) return; // main() may run many times in one process (tests)
  process.stdout.on("error", onStdoutError);
}

function onStdoutError(err: NodeJS.ErrnoException): void {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
}

export async function main(argv: string[]): Promise<void> {
  endQuietlyWhenTheReaderLeaves();
  const debug = argv.includes("--debug");
  if (argv.includes("--no-color")) process.env.NO_COLOR = "1";
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err, debug);
  }
}

function reportError(err: unknown, debug: boolean): number {
  if (err instanceof CommanderError) {
    // Commander already printed its message; help and version exit 0, usage errors 2.
    return err.exitCode === 0 ? 0 : EXIT_ERROR;
  }
  if (err instanceof InspectError) {
    process.stderr.write(`keras-inspect: ${safe(err.message)}\n`);
    if (debug) process.stderr.write(`${err.stack ?? ""}\n${err.cause instanceof Error ? `caused by: ${err.cause.stack}\n` : ""}`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(
    `keras-inspect: internal error: ${safe(message.split("\n")[0])} (this is a bug; run with --debug for the stack trace)\n`,
  );
  if (debug && err instanceof Error) process.stderr.write(`${err.stack}\n`);
  return EXIT_INTERNAL;
}
