/**
 * Standard output for every command: text written as it is made, in chunks, waiting
 * when the reader is slower than we are; and the options that shape text output,
 * shared so every command spells them the same way:
 *   --width N   fit tables and lines to N columns (default: the terminal's width when
 *               stdout is a terminal, else no limit; 0: no limit)
 *   --full      print every value (long vectors and matrices are abbreviated as numpy
 *               abbreviates them otherwise)
 */
import { once } from "node:events";
import { writeFileSync } from "node:fs";
import { type Command, Option } from "commander";
import { InspectError } from "../errors.js";
import { jsonChunks } from "../present/json.js";
import type { Write } from "../present/predict.js";
import { thousands } from "../present/text.js";
import { parseNonNegativeInt } from "./options.js";

/** Writes to standard output, waiting for it to drain when its buffer is full. */
export const stdoutWrite: Write = async (text) => {
  if (!process.stdout.write(text)) await once(process.stdout, "drain");
};

/** Writes bytes to standard output, waiting for it to drain when its buffer is full. */
async function stdoutWriteBytes(bytes: Uint8Array): Promise<void> {
  if (!process.stdout.write(bytes)) await once(process.stdout, "drain");
}

/** About what one write hands the stream: big enough to be cheap, small enough to stream. */
const CHUNK = 1 << 16;
/** Every so many bytes, let the event loop run: a reader that left (EPIPE) is noticed then. */
const YIELD_EVERY = 1 << 20;

/**
 * Writes pieces of output as they come (strings, or bytes already encoded), gathered into
 * chunks of bytes. Writing to a pipe or file is synchronous on Linux, so without a pause
 * now and then a reader that closed the pipe (`| head`) would only be noticed once
 * everything had been computed.
 */
export async function writePieces(pieces: Iterable<string | Uint8Array>, write: (bytes: Uint8Array) => Promise<void> = stdoutWriteBytes): Promise<void> {
  let chunk = Buffer.allocUnsafe(CHUNK);
  let used = 0;
  let text = "";
  let sinceYield = 0;
  const flush = async () => {
    if (used === 0) return;
    // A new buffer after each write: an asynchronous stream may still hold the last one.
    await write(chunk.subarray(0, used));
    sinceYield += used;
    chunk = Buffer.allocUnsafe(CHUNK);
    used = 0;
    if (sinceYield >= YIELD_EVERY) {
      sinceYield = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  // Strings are gathered as they are and encoded a few kilobytes at a time.
  const encodeText = async () => {
    if (text === "") return;
    if (used + 3 * text.length > CHUNK) await flush();
    if (3 * text.length > CHUNK) await write(Buffer.from(text));
    else used += chunk.write(text, used);
    text = "";
  };
  for (const piece of pieces) {
    if (typeof piece === "string") {
      text += piece;
      if (text.length >= 4096) await encodeText();
      continue;
    }
    await encodeText();
    if (used + piece.length > CHUNK) await flush();
    if (piece.length > CHUNK) await write(piece);
    else {
      chunk.set(piece, used);
      used += piece.length;
    }
  }
  await encodeText();
  await flush();
}

/** Writes lines, each ended by a newline. */
export function writeLines(lines: Iterable<string>): Promise<void> {
  return writePieces(
    (function* () {
      for (const line of lines) yield `${line}\n`;
    })(),
  );
}

/** Writes one JSON document (see present/json.ts) and a newline, piece by piece. */
export function writeJson(value: unknown): Promise<void> {
  return writePieces(
    (function* () {
      yield* jsonChunks(value);
      yield "\n";
    })(),
  );
}

export interface OutputCliOptions {
  width?: number;
  full?: boolean;
}

/** --width: the columns tables and lines are fitted to. */
export function addWidthOption(cmd: Command): Command {
  return cmd.addOption(
    new Option("--width <n>", "fit tables and lines to N columns (0: no limit); default: the terminal's width when printing to one, else no limit").argParser(
      parseNonNegativeInt("--width"),
    ),
  );
}

/** --full: no abbreviation. `what` says what is printed whole. */
export function addFullOption(cmd: Command, what: string): Command {
  return cmd.option("--full", `print ${what} (default: past 1,000 values, the first and last 3 of each axis, as numpy abbreviates)`);
}

/** The width text output fits: --width (0 = no limit), else the terminal's columns when stdout is one, else no limit. */
export function outputWidth(opts: OutputCliOptions): number {
  if (opts.width !== undefined) return opts.width === 0 ? Infinity : opts.width;
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : Infinity;
}

/**
 * The width of a heatmap, which always needs one to bin long sequences into: --width,
 * else stdout's columns when it is a terminal, else $COLUMNS, else 80.
 */
export function heatmapWidth(opts: OutputCliOptions): number {
  if (opts.width !== undefined && opts.width > 0) return opts.width;
  const fromEnv = Number(process.env.COLUMNS);
  return process.stdout.isTTY && process.stdout.columns ? process.stdout.columns : Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : 80;
}

/** Writes the HTML page, or fails with one line naming the path. */
export function writeHtml(path: string, html: string): void {
  try {
    writeFileSync(path, html);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
    throw new InspectError(`--html ${path}: cannot write the page (${code}); choose a writable path`);
  }
  process.stderr.write(`wrote ${path} (${thousands(Buffer.byteLength(html))} bytes)\n`);
}
