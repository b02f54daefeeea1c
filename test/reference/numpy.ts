/**
 * Bridge to rnn_reference.py, the float32 numpy reference written from the
 * equations in keras-formats.md §A3-§A5 (see that file's docstring for the
 * JSON protocol). Tests that use it should be skipped when python3 + numpy are
 * missing:
 *
 *   it.skipIf(!numpyAvailable())("...", async () => { ... runNumpy(...) ... })
 *
 * and call noteNumpySkipped() once so the skip is visible in the log.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from "node:child_process";
import { fileURLToPath } from "node:url";

import { backwardGoesBackwards, isBidirectional, type BidirectionalSpec, type RnnSpec } from "./rnn-spec.js";

export type HardSigmoidVariant = "keras2" | "keras3";

/**
 * Output at a masked step when zero_output_for_mask is off:
 * - "previous_output": last emitted output, 0 before the first (Keras 3 TF/JAX, tf.keras 2.x);
 * - "previous_state": the carried h (tfjs, Keras 2.2.4 TF while-loop, Keras 3 numpy backend).
 */
export type MaskedOutputRule = "previous_output" | "previous_state";

export interface NumpyRequest {
  spec: RnnSpec | BidirectionalSpec;
  /** (B, T, D) */
  x: number[][][];
  /** LSTM [h, c], GRU/SimpleRNN [h], each (B, units); Bidirectional forward states then backward. */
  initialState?: number[][][];
  /** (B, T); true = real step. */
  mask?: boolean[][];
  /** Required when any activation is hard_sigmoid: keras2 = clip(0.2x+0.5), keras3 = clip(x/6+0.5). */
  hardSigmoid?: HardSigmoidVariant;
  /** Default "previous_output". */
  maskedOutput?: MaskedOutputRule;
  /** Default true: Bidirectional forces zero_output_for_mask = return_sequences (tf.keras 2, Keras 3). */
  bidirectionalZeroOutputForMask?: boolean;
}

/**
 * Per-step values in processing order. `steps[name][s][b][j]`:
 * LSTM x_i x_f x_c x_o i f c o h; GRU x_z x_r x_h z r hh h; SimpleRNN x h;
 * plus "output", what the layer emits at that step after the mask rule.
 * Cell values are computed before masking (Keras runs the cell at masked steps too).
 */
export interface NumpyTrace {
  /** Input time index of each processed step (reversed for go_backwards). */
  timeIndex: number[];
  steps: Record<string, number[][][]>;
}

export interface NumpyResult {
  /** (B, u) or (B, T, u); Bidirectional with mergeMode null: [y, y_rev]. */
  output: number[][] | number[][][] | Array<number[][] | number[][][]>;
  /** Final states (LSTM h, c), forward then backward for Bidirectional; always present. */
  states: number[][][];
  trace: NumpyTrace | { forward: NumpyTrace; backward: NumpyTrace };
}

const SCRIPT = fileURLToPath(new URL("./rnn_reference.py", import.meta.url));
const PYTHON = process.env.PYTHON ?? "python3";

let available: boolean | undefined;

/** python3 with numpy importable? Cached after the first call. */
export function numpyAvailable(): boolean {
  if (available === undefined) {
    const r = spawnSync(PYTHON, ["-c", "import numpy"], { stdio: "ignore", timeout: 20_000 });
    available = r.status === 0;
  }
  return available;
}

let noted = false;

/** Print once per process that numpy-based checks were skipped. */
export function noteNumpySkipped(): void {
  if (!noted && !numpyAvailable()) {
    noted = true;
    console.warn(`note: ${PYTHON} with numpy not found; numpy reference checks are skipped`);
  }
}

function layerJson(spec: RnnSpec, goBackwards?: boolean): Record<string, unknown> {
  return {
    kind: spec.kind,
    units: spec.units,
    input_dim: spec.inputDim,
    activation: spec.activation,
    recurrent_activation: spec.recurrentActivation ?? "sigmoid",
    use_bias: spec.useBias,
    reset_after: spec.resetAfter ?? false,
    go_backwards: goBackwards ?? spec.goBackwards ?? false,
    return_sequences: spec.returnSequences ?? false,
    zero_output_for_mask: spec.zeroOutputForMask ?? false,
    kernel: Array.from(spec.kernel),
    recurrent_kernel: Array.from(spec.recurrentKernel),
    bias: spec.useBias && spec.bias ? Array.from(spec.bias) : null,
  };
}

function requestJson(req: NumpyRequest): Record<string, unknown> {
  const out: Record<string, unknown> = { x: req.x };
  const s = req.spec;
  if (isBidirectional(s)) {
    out.bidirectional = {
      forward: layerJson(s.forward),
      backward: layerJson(s.backward, backwardGoesBackwards(s)),
      merge_mode: s.mergeMode,
      return_sequences: s.returnSequences ?? s.forward.returnSequences ?? false,
    };
  } else {
    out.layer = layerJson(s);
  }
  if (req.initialState) out.initial_state = req.initialState;
  if (req.mask) out.mask = req.mask;
  if (req.hardSigmoid) out.hard_sigmoid = req.hardSigmoid;
  if (req.maskedOutput) out.masked_output = req.maskedOutput;
  if (req.bidirectionalZeroOutputForMask !== undefined) {
    out.bidirectional_zero_output_for_mask = req.bidirectionalZeroOutputForMask;
  }
  return out;
}

interface RawTrace {
  time_index: number[];
  [name: string]: number[] | number[][][];
}

function traceFrom(raw: RawTrace): NumpyTrace {
  const steps: Record<string, number[][][]> = {};
  for (const [k, v] of Object.entries(raw)) if (k !== "time_index") steps[k] = v as number[][][];
  return { timeIndex: raw.time_index, steps };
}

function parseAnswer(raw: {
  output: NumpyResult["output"];
  states: number[][][];
  trace: RawTrace | { forward: RawTrace; backward: RawTrace };
}): NumpyResult {
  const t = raw.trace;
  const trace = "time_index" in t ? traceFrom(t as RawTrace) : { forward: traceFrom(t.forward), backward: traceFrom(t.backward) };
  return { output: raw.output, states: raw.states, trace };
}

/**
 * One long-lived `rnn_reference.py --serve` process (numpy's import costs
 * ~0.4 s per start). Requests are answered in order, one line each. The child
 * and its pipes are unref'd while idle so they never keep Node alive; the
 * child exits when our end of its stdin closes.
 */
class Server {
  private child: ChildProcessWithoutNullStreams;
  private buffered = "";
  private waiting: Array<{ resolve: (r: NumpyResult) => void; reject: (e: Error) => void }> = [];
  private dead: Error | undefined;

  constructor() {
    this.child = spawn(PYTHON, [SCRIPT, "--serve"], { stdio: ["pipe", "pipe", "pipe"] });
    const stderr: string[] = [];
    this.child.stderr.on("data", (b: Buffer) => stderr.push(b.toString("utf8")));
    this.child.stdout.on("data", (b: Buffer) => this.onData(b.toString("utf8")));
    this.child.on("error", (e) => this.fail(e));
    this.child.on("close", (code) => this.fail(new Error(`rnn_reference.py exited (${code}): ${stderr.join("").trim()}`)));
    this.idle();
  }

  request(body: string): Promise<NumpyResult> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.busy();
      this.child.stdin.write(body + "\n");
    });
  }

  close(): void {
    this.child.stdin.end();
  }

  private onData(text: string): void {
    this.buffered += text;
    let nl: number;
    while ((nl = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const next = this.waiting.shift();
      if (!next) continue;
      try {
        const reply = JSON.parse(line) as { ok?: Parameters<typeof parseAnswer>[0]; error?: string };
        if (reply.error !== undefined || !reply.ok) next.reject(new Error(`rnn_reference.py: ${reply.error}`));
        else next.resolve(parseAnswer(reply.ok));
      } catch (e) {
        next.reject(e as Error);
      }
    }
    if (this.waiting.length === 0) this.idle();
  }

  private fail(e: Error): void {
    this.dead ??= e;
    for (const w of this.waiting.splice(0)) w.reject(this.dead);
    if (server === this) server = undefined;
  }

  private busy(): void {
    this.child.ref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as Refable).ref?.();
  }

  private idle(): void {
    this.child.unref();
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr]) (s as unknown as Refable).unref?.();
  }
}

/** Child-process pipes are net.Sockets at run time; their types say only Readable/Writable. */
interface Refable {
  ref?: () => void;
  unref?: () => void;
}

let server: Server | undefined;

/** Run the numpy reference. Rejects with the script's one-line message on bad input. */
export function runNumpy(req: NumpyRequest): Promise<NumpyResult> {
  if (!numpyAvailable()) return Promise.reject(new Error(`${PYTHON} with numpy is not available`));
  server ??= new Server();
  return server.request(JSON.stringify(requestJson(req)));
}

/** Stop the background python process (optional; it also ends with this process). */
export function closeNumpy(): void {
  server?.close();
  server = undefined;
}
