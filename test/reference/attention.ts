/**
 * Bridge to attention_reference.py, the float32 numpy reference for Attention,
 * AdditiveAttention and MultiHeadAttention written from Keras' source (see that file's
 * docstring for the request format). Skip its tests when python3 + numpy are missing:
 * `it.skipIf(!numpyAvailable())`, with noteNumpySkipped() so the skip shows in the log.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

export { noteNumpySkipped, numpyAvailable } from "./numpy.js";

const SCRIPT = fileURLToPath(new URL("./attention_reference.py", import.meta.url));
const PYTHON = process.env.PYTHON ?? "python3";

export interface AttentionReply {
  output: unknown;
  scores?: unknown;
}

let child: ChildProcessWithoutNullStreams | undefined;
const waiting: { resolve: (r: AttentionReply) => void; reject: (e: Error) => void }[] = [];

/** One answer of the reference; a single python process serves every request, one line each. */
export function runAttentionReference(request: Record<string, unknown>): Promise<AttentionReply> {
  if (!child) {
    const proc = spawn(PYTHON, [SCRIPT]);
    child = proc;
    proc.unref();
    let buffered = "";
    let stderr = "";
    proc.stdout.setEncoding("utf8");
    proc.stdout.on("data", (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        waiting.shift()?.resolve(JSON.parse(line) as AttentionReply);
      }
    });
    proc.stderr.on("data", (d) => (stderr += String(d)));
    proc.on("exit", () => {
      child = undefined;
      for (const w of waiting.splice(0)) w.reject(new Error(`attention_reference.py stopped: ${stderr}`));
    });
    (proc.stdout as unknown as { unref?: () => void }).unref?.();
  }
  const c = child;
  return new Promise((resolve, reject) => {
    waiting.push({ resolve, reject });
    c.stdin.write(`${JSON.stringify(request)}\n`);
  });
}

/** Ends the reference process (call in afterAll). */
export function stopAttentionReference(): void {
  child?.stdin.end();
}

/** A nested list (as numpy's tolist() writes it) flattened in row-major order. */
export function flat(v: unknown): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v as number];
}

/** A flat row-major array as nested lists of the given shape (for numpy). */
export function nested(data: ArrayLike<number>, shape: number[]): unknown {
  if (shape.length === 0) return data[0];
  const [n, ...rest] = shape;
  const size = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: n }, (_, i) => nested(Array.prototype.slice.call(data, i * size, (i + 1) * size), rest));
}
