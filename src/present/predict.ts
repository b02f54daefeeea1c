/**
 * `predict` output, written a batch at a time as the evaluator yields batches: as text or
 * JSON on standard output, or into .npy, .csv or .json files. Nothing here holds more than
 * one batch's values, except that with several model outputs the later outputs' text is kept
 * until the first is written (they are printed one after the other).
 */
import { closeSync, openSync, writeSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { UsageError } from "../errors.js";
import type { PredictBatch, PredictOutput } from "../eval/predict.js";
import type { PrecisionJson } from "../dtype-policy.js";
import type { EvalDType } from "../eval/trace.js";
import { safeFileName } from "../export/index.js";
import { npyHeader, npyValues } from "../npy.js";
import { jsonNumber, toJson } from "./json.js";
import { abbreviates, axisIndices, EDGE_ITEMS } from "../abbreviate.js";
import { ELLIPSIS } from "./array.js";
import { fixed, safe, shortestFloat32 } from "./text.js";

/** Receives predict's batches in order, then `end`. */
export interface PredictionSink {
  write(batch: PredictBatch): Promise<void>;
  /** Returns what to tell the user on standard output, if anything. */
  end(): Promise<string | undefined>;
  /** Before the first batch: how samples are grouped where the grouping changes the outputs (JSON: `batch`). */
  batching?(batch: BatchGrouping): void;
  /** Before the first batch: what a 16-bit dtype policy computes in and what was used (JSON: `precision`). */
  precision?(precision: PrecisionJson): void;
}

/** Samples per batch, and the layer that makes the grouping matter. */
export interface BatchGrouping {
  size: number;
  samples_scored_together_by: string;
}

/** Writes to a stream, waiting for it to drain when its buffer is full, so memory stays bounded. */
export type Write = (text: string) => Promise<void>;

const size = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** One sample's values in nested brackets; with `abbreviate`, each long axis as numpy shows it (first 3, …, last 3). */
function nested(shape: number[], data: ArrayLike<number>, offset: number, digits: number, abbreviate: boolean): string {
  const n = shape[0] ?? 1;
  const inner = size(shape.slice(1));
  const parts = axisIndices(n, abbreviate).map((k) =>
    k === null ? ELLIPSIS : shape.length <= 1 ? fixed(data[offset + k], digits) : nested(shape.slice(1), data, offset + k * inner, digits, abbreviate),
  );
  return `[${parts.join(", ")}]`;
}

/**
 * One output's text in pieces: a header, then per batch its samples. Output k > 0 is kept
 * until the outputs before it are complete.
 */
class OutputStream {
  private readonly kept: string[] = [];
  constructor(
    private readonly live: boolean,
    private readonly write: Write,
  ) {}
  async put(text: string): Promise<void> {
    if (this.live) await this.write(text);
    else this.kept.push(text);
  }
  async flush(): Promise<void> {
    for (const t of this.kept.splice(0)) await this.write(t);
  }
}

/** A sink that writes each output as a prefix, its values batch by batch, and a suffix. */
function streamingSink(write: Write, samples: number, piece: {
  prefix(k: number, output: PredictOutput, shape: number[]): string;
  values(k: number, values: ArrayLike<number>, sampleShape: number[], from: number): string;
  suffix(k: number, last: boolean): string;
  end: string;
}): PredictionSink {
  let streams: OutputStream[] = [];
  return {
    async write(batch) {
      if (batch.from === 0) {
        streams = batch.outputs.map((_, k) => new OutputStream(k === 0, write));
        for (const [k, output] of batch.outputs.entries()) await streams[k].put(piece.prefix(k, output, [samples, ...output.value.shape.slice(1)]));
      }
      for (const [k, { value }] of batch.outputs.entries()) await streams[k].put(piece.values(k, value.data, value.shape.slice(1), batch.from));
    },
    async end() {
      for (const [k, s] of streams.entries()) {
        await s.put(piece.suffix(k, k === streams.length - 1));
        await s.flush();
      }
      await write(piece.end);
      return undefined;
    },
  };
}

/**
 * Text: per output `name: shape (…) (samples first)` and the nested values on one line.
 * Past 1,000 values an output is abbreviated as numpy abbreviates it, unless `full`: the
 * first and last 3 samples around "…" (the last 3 kept as they stream by), and each long
 * axis of a sample likewise.
 */
export function textSink(write: Write, samples: number, digits: number, full = false): PredictionSink {
  const abbreviated: boolean[] = [];
  const tails: string[][] = [];
  return streamingSink(write, samples, {
    prefix(k, { name, role }, shape) {
      abbreviated[k] = abbreviates(size(shape), full);
      tails[k] = [];
      return `${k > 0 ? "\n" : ""}${safe(name)}${role ? ` (${role})` : ""}: shape (${shape.join(", ")}) (samples first)\n[`;
    },
    values(k, data, sampleShape, from) {
      const per = Math.max(1, size(sampleShape));
      const shown = new Set(axisIndices(samples, abbreviated[k]));
      const out: string[] = [];
      for (let b = 0; b * per < data.length; b++) {
        const s = from + b;
        if (!shown.has(s)) continue;
        const text = nested(sampleShape, data, b * per, digits, abbreviated[k]);
        // Samples after the elided middle wait for the suffix: the middle's "…" comes first.
        if (abbreviated[k] && samples > 2 * EDGE_ITEMS && s >= EDGE_ITEMS) tails[k].push(text);
        else out.push(`${s === 0 ? "" : ", "}${text}`);
      }
      return out.join("");
    },
    suffix: (k) => `${tails[k].length > 0 ? `, ${ELLIPSIS}, ${tails[k].join(", ")}` : ""}]`,
    end: "\n",
  });
}

/** The skeleton of the JSON document around each output's values, formatted by toJson itself. */
function jsonPieces(outputs: { name: string; role?: string; shape: number[] }[], batch?: BatchGrouping, precision?: PrecisionJson): { before: string[]; after: string } {
  const marker = (k: number) => `\u0000values ${k}`;
  const doc = toJson({ ...(batch ? { batch } : {}), ...(precision ? { precision } : {}), outputs: outputs.map(({ name, role, shape }, k) => ({ name, ...(role ? { role } : {}), shape, values: marker(k) })) });
  const before: string[] = [];
  let rest = doc;
  outputs.forEach((_, k) => {
    const m = JSON.stringify(marker(k));
    const at = rest.indexOf(m);
    before.push(rest.slice(0, at));
    rest = rest.slice(at + m.length);
  });
  return { before, after: rest };
}

/**
 * JSON: `{ "outputs": [ { "name", "shape", "values" } ] }` (with `"batch": { "size", "samples_scored_together_by" }` first where the grouping of samples changes the outputs, and `"precision"` where a 16-bit dtype policy or 16-bit weights are involved: see dtype-policy.ts), values flattened in row-major
 * order; in float32 mode each is the shortest decimal that reads back as the same float32.
 */
export function jsonSink(write: Write, samples: number, dtype: EvalDType): PredictionSink {
  const number = dtype === "float32" ? (v: number) => jsonNumber(shortestFloat32(v)) : jsonNumber;
  let pieces: { before: string[]; after: string } | undefined;
  let grouping: BatchGrouping | undefined;
  let precisionUsed: PrecisionJson | undefined;
  const sink = streamingSink(write, samples, {
    prefix: (k) => `${pieces!.before[k]}[`,
    values: (_k, data, _shape, from) => (data.length === 0 ? "" : `${from === 0 ? "" : ", "}${Array.from(data, number).join(", ")}`),
    suffix: () => "]",
    get end() {
      return `${pieces!.after}\n`;
    },
  });
  return {
    async write(batch) {
      if (batch.from === 0) pieces = jsonPieces(batch.outputs.map(({ name, role, value }) => ({ name, role, shape: [samples, ...value.shape.slice(1)] })), grouping, precisionUsed);
      await sink.write(batch);
    },
    end: () => sink.end(),
    batching(b) {
      grouping = b;
    },
    precision(p) {
      precisionUsed = p;
    },
  };
}

/**
 * The files outputs go to: FILE itself for a single output; for several, FILE with `.NAME`
 * before its extension, and `.NAME.N` where N counts the outputs of one layer (a layer
 * that returns its states gives the model several outputs of the same name).
 */
function outputPaths(file: string, names: string[]): string[] {
  if (names.length === 1) return [file];
  const ext = extname(file);
  const seen = new Map<string, number>();
  return names.map((name) => {
    const n = seen.get(name) ?? 0;
    seen.set(name, n + 1);
    const repeated = names.filter((x) => x === name).length > 1;
    return join(dirname(file), `${basename(file, ext)}.${safeFileName(name)}${repeated ? `.${n}` : ""}${ext}`);
  });
}

const FILE_FORMATS = [".npy", ".csv", ".json"] as const;

/**
 * Files: `.npy` (float32 in float32 mode, float64 in float64 mode, shape (samples, …)),
 * `.csv` (a header row naming the values name[i, j], then one row per sample, its values
 * flattened in row-major order), `.json` (the document of --json). Several model outputs
 * go to one file each.
 */
export function fileSink(file: string, samples: number, dtype: EvalDType): PredictionSink {
  const ext = extname(file).toLowerCase();
  if (!(FILE_FORMATS as readonly string[]).includes(ext)) {
    throw new UsageError(`--output ${file}: the extension says the format; use ${FILE_FORMATS.join(", ")}`);
  }
  let files: { path: string; fd: number; shape: number[]; sink: PredictionSink }[] = [];
  return {
    async write(batch) {
      if (batch.from === 0) {
        const paths = outputPaths(file, batch.outputs.map((o) => o.layer));
        files = batch.outputs.map(({ name, value }, k) => {
          const path = paths[k];
          const fd = openForWriting(path);
          const write: Write = async (t) => void writeSync(fd, t);
          const shape = [samples, ...value.shape.slice(1)];
          const sink = ext === ".npy" ? npySink(fd, shape, dtype) : ext === ".csv" ? csvSink(write, name, shape, dtype) : jsonSink(write, samples, dtype);
          return { path, fd, shape, sink };
        });
      }
      for (const [k, f] of files.entries()) await f.sink.write({ ...batch, outputs: [batch.outputs[k]] });
    },
    async end() {
      for (const f of files) {
        await f.sink.end();
        closeSync(f.fd);
      }
      return files.map((f) => `wrote ${safe(f.path)}: shape (${f.shape.join(", ")})${ext === ".npy" ? `, ${dtype}` : ""}`).join("\n");
    },
  };
}

function openForWriting(path: string): number {
  try {
    return openSync(path, "w");
  } catch (e) {
    throw new UsageError(`--output ${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

function npySink(fd: number, shape: number[], dtype: EvalDType): PredictionSink {
  writeSync(fd, npyHeader(shape, dtype));
  return {
    async write(batch) {
      writeSync(fd, npyValues(batch.outputs[0].value.data, dtype));
    },
    end: async () => undefined,
  };
}

function csvSink(write: Write, name: string, shape: number[], dtype: EvalDType): PredictionSink {
  const number = dtype === "float32" ? (v: number) => csvNumber(shortestFloat32(v)) : csvNumber;
  const per = shape.slice(1);
  const n = size(per);
  const header = Array.from({ length: n }, (_, i) => {
    const idx: number[] = [];
    let r = i;
    for (let d = per.length - 1; d >= 0; d--) {
      idx.unshift(r % per[d]);
      r = Math.floor(r / per[d]);
    }
    return csvField(per.length === 0 ? name : `${name}[${idx.join(", ")}]`);
  });
  let started = false;
  return {
    async write(batch) {
      if (!started) await write(`${header.join(",")}\n`);
      started = true;
      const data = batch.outputs[0].value.data;
      const lines: string[] = [];
      for (let b = 0; b * n < data.length; b++) lines.push(`${Array.from(data.subarray(b * n, (b + 1) * n), number).join(",")}\n`);
      await write(lines.join(""));
    },
    end: async () => undefined,
  };
}

/** A CSV number: the shortest decimal that reads back as the same float64; nan and inf as numpy and pandas read them. */
function csvNumber(v: number): string {
  if (Number.isNaN(v)) return "nan";
  if (!Number.isFinite(v)) return v > 0 ? "inf" : "-inf";
  return String(v);
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
