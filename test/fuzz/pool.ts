/**
 * Parent side of the fuzz workers: starts worker.ts in a child process, sends it one
 * command line at a time, and enforces what cannot be enforced from inside:
 * - a deadline per run (the child is killed: a loop inside wasm cannot be interrupted),
 * - a resident-memory limit (polled from /proc; the child is killed when over it),
 * - V8's heap limit (--max-old-space-size), whose crash is recognised as out-of-memory.
 * After a kill or a crash the next run starts a fresh worker.
 */
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { FromWorker, RunReport, ToWorker } from "./worker.js";

const WORKER = fileURLToPath(new URL("./worker.ts", import.meta.url));
const REGISTER = new URL("./ts-register.mjs", import.meta.url).href;

export interface PoolOptions {
  /** Per-run deadline, ms. */
  deadlineMs: number;
  /** Resident set limit for a worker, bytes. */
  rssLimit: number;
  /** V8 old-space limit for a worker, MB. */
  heapMb: number;
  /** Known-good command lines re-run to prove the process is not poisoned. */
  probes: string[][];
  /** Read each dataset on its own, streamed where the reader can (FuzzOptions.stream). */
  stream?: boolean;
  /** Startup deadline (loading TypeScript and src/), ms. */
  startMs?: number;
}

export type RunOutcome =
  | RunReport
  | { type: "hang"; ms: number }
  | { type: "oom"; ms: number; rss: number; detail: string }
  | { type: "died"; ms: number; code: number | null; signal: string | null; detail: string };

export type ProbeOutcome = { ok: true } | { ok: false; detail: string };

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const OOM_TEXT = /heap out of memory|Allocation failed|Cannot enlarge memory|out of memory|Array buffer allocation failed/i;

export class FuzzWorker {
  private child?: ChildProcess;
  private ready?: Promise<string[]>;
  private nextId = 1;
  private stderrTail = "";
  private waiting?: (msg: FromWorker | { type: "exit"; code: number | null; signal: string | null }) => void;
  /** Highest RSS seen in any worker this object started. */
  peakRss = 0;
  restarts = 0;
  baseline?: string[];

  constructor(private readonly opts: PoolOptions) {}

  private start(): Promise<string[]> {
    this.restarts++;
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
    delete env.FORCE_COLOR;
    const child = fork(WORKER, [], {
      execArgv: ["--import", REGISTER, `--max-old-space-size=${this.opts.heapMb}`],
      silent: true,
      env,
      serialization: "advanced",
    });
    this.child = child;
    this.stderrTail = "";
    child.stderr?.on("data", (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString("utf8")).slice(-4000);
    });
    child.stdout?.on("data", () => {
      /* the worker captures its own output; anything here escaped the capture */
    });
    // Events of a worker already replaced (killed after a hang) must not reach the new one's waiter.
    child.on("message", (msg: FromWorker) => {
      if (this.child === child) this.waiting?.(msg);
    });
    child.on("exit", (code, signal) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.ready = undefined;
      this.waiting?.({ type: "exit", code, signal });
    });
    return new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`fuzz worker did not start within ${this.opts.startMs ?? 60000} ms`));
      }, this.opts.startMs ?? 60000);
      this.waiting = (msg) => {
        clearTimeout(timer);
        this.waiting = undefined;
        if (msg.type === "ready") {
          this.baseline ??= msg.baseline;
          if (msg.baseline.some((b, i) => b !== this.baseline![i])) {
            reject(new Error("a fresh fuzz worker gives different probe output than the first one: the probes are not deterministic"));
          } else resolve(msg.baseline);
        } else reject(new Error(`fuzz worker failed to start: ${JSON.stringify(msg).slice(0, 300)} ${this.stderrTail}`));
      };
      child.send({ type: "init", probes: this.opts.probes, stream: this.opts.stream === true } satisfies ToWorker);
    });
  }

  private async ensure(): Promise<ChildProcess> {
    if (!this.child || !this.ready) this.ready = this.start();
    await this.ready;
    return this.child!;
  }

  kill(): void {
    const c = this.child;
    this.child = undefined;
    this.ready = undefined;
    c?.kill("SIGKILL");
    // A request still waiting on that child ends as if the child had exited.
    this.waiting?.({ type: "exit", code: null, signal: "SIGKILL" });
  }

  /** Sends one request and waits for its answer, the deadline, the memory limit or the child's death. */
  private async exchange(req: ToWorker, deadlineMs: number): Promise<FromWorker | { type: "hang" | "oom" | "exit"; ms: number; rss?: number; code?: number | null; signal?: string | null }> {
    const child = await this.ensure();
    const t0 = performance.now();
    return new Promise((resolve) => {
      let done = false;
      const finish = (v: FromWorker | { type: "hang" | "oom" | "exit"; ms: number; rss?: number; code?: number | null; signal?: string | null }) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        clearInterval(poll);
        this.waiting = undefined;
        resolve(v);
      };
      const timer = setTimeout(() => {
        this.kill();
        finish({ type: "hang", ms: performance.now() - t0 });
      }, deadlineMs);
      const poll = setInterval(() => {
        const rss = rssOf(child.pid!);
        if (rss > this.peakRss) this.peakRss = rss;
        if (rss > this.opts.rssLimit) {
          this.kill();
          finish({ type: "oom", ms: performance.now() - t0, rss });
        }
      }, 25);
      this.waiting = (msg) => {
        if (msg.type === "exit") {
          this.child = undefined;
          this.ready = undefined;
          finish({ type: "exit", ms: performance.now() - t0, code: msg.code, signal: msg.signal });
        } else if (msg.type === "fatal") {
          this.stderrTail += `\n${msg.reason}`;
        } else finish(msg);
      };
      child.send(req);
    });
  }

  async run(argv: string[], file: string, answerCodes: number[]): Promise<RunOutcome> {
    const id = this.nextId++;
    const r = await this.exchange({ type: "run", id, argv, file, answerCodes }, this.opts.deadlineMs);
    if (r.type === "result") {
      if (r.maxRss > this.peakRss) this.peakRss = r.maxRss;
      return r;
    }
    if (r.type === "hang") return { type: "hang", ms: r.ms };
    if (r.type === "oom") return { type: "oom", ms: r.ms, rss: r.rss ?? 0, detail: `resident memory ${Math.round((r.rss ?? 0) / 2 ** 20)} MB over the limit` };
    if (r.type === "exit") {
      // Give the stderr pipe a moment to deliver V8's last words.
      await new Promise((res) => setTimeout(res, 50));
      const tail = this.stderrTail.trim();
      if (OOM_TEXT.test(tail)) return { type: "oom", ms: r.ms, rss: 0, detail: tail.split("\n").slice(-3).join(" | ") };
      return { type: "died", ms: r.ms, code: r.code ?? null, signal: r.signal ?? null, detail: tail.slice(-1500) };
    }
    return { type: "died", ms: 0, code: null, signal: null, detail: `unexpected message ${JSON.stringify(r).slice(0, 200)}` };
  }

  /** Re-runs the probes; a mismatch means an earlier run poisoned the process. The worker is replaced then. */
  async probe(): Promise<ProbeOutcome> {
    const id = this.nextId++;
    const r = await this.exchange({ type: "probe", id }, Math.max(this.opts.deadlineMs, 30000));
    if (r.type === "probe") {
      if (r.ok) return { ok: true };
      this.kill();
      return { ok: false, detail: `probe '${r.mismatch!.argv.join(" ")}' changed: expected ${JSON.stringify(r.mismatch!.expected.slice(0, 300))}, got ${JSON.stringify(r.mismatch!.got.slice(0, 300))}` };
    }
    this.kill();
    return { ok: false, detail: `probe run failed: ${r.type}` };
  }

  close(): void {
    this.kill();
  }
}
