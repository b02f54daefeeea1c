/**
 * The fuzz loop: for iteration i, draw a corpus file and a mutation from a generator
 * seeded with `${seed}:${i}` (so any single iteration can be replayed with --only i),
 * write the mutated file, run it through each command in a fuzz worker, classify each
 * outcome, re-run the probes (poisoning), and occasionally run the real CLI binary on the
 * same file (the stderr / exit-code contract as users see it). Findings keep their
 * reproducer: the smallest file per outcome class, and one per distinct message.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildProgram } from "../../src/cli/main.js";
import { ACCEPTABLE, classify, type Classified, type OutcomeClass } from "./classify.js";
import { availableCommands, DEFAULT_COMMANDS, fitArgv, valueFlags, type Available } from "./commands.js";
import { listCorpus, loadBase, type BaseFile } from "./corpus.js";
import { mutable, mutate, type Mutation } from "./mutators.js";
import { FuzzWorker, type RunOutcome } from "./pool.js";
import { Rng } from "./rng.js";
import type { RunReport } from "./worker.js";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export interface FuzzOptions {
  iterations: number;
  seed: string;
  corpus: string[];
  /** Command names; only those the program registers are run. */
  commands?: string[];
  jobs?: number;
  deadlineMs?: number;
  /** Time bound of one run on a file whose mutation claims work it does not hold (a bomb); longer is a "slow" finding. Default 2000. */
  boundedMs?: number;
  rssLimitMb?: number;
  heapMb?: number;
  /** Directory for reproducers and report.json; default: a fresh one under the OS temp dir. */
  out?: string;
  /** Run the built CLI (bin/keras-inspect.js) on every Nth file too; 0 = never. */
  cliEvery?: number;
  /** Re-run the probes after every Nth file. */
  probeEvery?: number;
  /** Replay only these iterations. */
  only?: number[];
  /** Restrict to these mutators. */
  mutators?: string[];
  /** Keep every mutated file (with a .json saying how it was made) in this directory: for replays with --only. */
  saveFiles?: string;
  /** Workers read each dataset on its own and stream the ones their reader can (the path large tensors take). */
  stream?: boolean;
  /** Progress lines on stderr every N files (0 = quiet). */
  progressEvery?: number;
  log?: (line: string) => void;
  /** Aborting it stops drawing new files; the files in flight finish and the report is written. */
  signal?: AbortSignal;
}

export interface SignatureStat {
  cls: OutcomeClass;
  command: string;
  signature: string;
  count: number;
  example: { iteration: number; mutator: string; detail: string; why: string; argv: string[]; reproducer?: string };
}

export interface FuzzReport {
  seed: string;
  iterations: number;
  corpus: string[];
  commands: string[];
  files: number;
  runs: number;
  /** Stopped through `signal` before all iterations ran. */
  interrupted: boolean;
  /** Mutated files run, per command. */
  perCommand: Record<string, Partial<Record<OutcomeClass, number>>>;
  totals: Partial<Record<OutcomeClass, number>>;
  findings: number;
  cli: { runs: number; perCommand: Record<string, Partial<Record<OutcomeClass, number>>>; skipped?: string; messageMismatches: number };
  perMutator: Record<string, { files: number; ok: number; cleanError: number; findings: number }>;
  longestRun: { ms: number; argv: string[]; iteration: number };
  peakRssMb: number;
  /** The run during which a worker's resident memory reached its highest. */
  peakRun: { rssMb: number; argv: string[]; iteration: number; mutator: string };
  /** Largest wasm heap of the HDF5 module seen in a worker. */
  peakWasmHeapMb: number;
  workerStarts: number;
  probes: string[][];
  elapsedMs: number;
  reproducers: Partial<Record<OutcomeClass, { file: string; bytes: number; iteration: number; command: string; why: string }>>;
  signatures: SignatureStat[];
  out: string;
}

const bump = (rec: Partial<Record<OutcomeClass, number>>, cls: OutcomeClass) => (rec[cls] = (rec[cls] ?? 0) + 1);

function numbersOf(text: string): string[] {
  return text.match(/-?\d+\.\d+(?:e[+-]?\d+)?|NaN|-?Inf(?:inity)?/g) ?? [];
}

/** Picks probe command lines: small corpus files that load, one per container kind. */
function chooseProbes(bases: BaseFile[], commands: Set<string>): string[][] {
  const probes: string[][] = [];
  const byKind = new Map<string, BaseFile>();
  for (const b of [...bases].sort((x, y) => x.bytes.length - y.bytes.length)) {
    if (!b.loads) continue;
    const kind = b.kind !== "hdf5" ? b.kind : b.h5!.map.superblockVersion >= 2 ? "hdf5-v2" : "hdf5-v0";
    if (!byKind.has(kind)) byKind.set(kind, b);
  }
  for (const b of byKind.values()) {
    if (commands.has("summary")) probes.push(["summary", b.path, "--weights", "--json"]);
    if (commands.has("step") && b.inputArgs.length > 0) probes.push(["step", b.path, ...b.inputArgs, "--json"]);
  }
  return probes;
}

function distIsStale(): string | undefined {
  const dist = join(REPO_ROOT, "dist/cli/main.js");
  if (!existsSync(dist)) return "dist/ is not built (npm run build)";
  const built = statSync(dist).mtimeMs;
  const walk = (dir: string): number =>
    Math.max(0, ...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : statSync(join(dir, e.name)).mtimeMs)));
  const newest = walk(join(REPO_ROOT, "src"));
  return newest > built + 1000 ? "dist/ is older than src/ (npm run build); the CLI sample would test stale code" : undefined;
}

function runCli(argv: string[], timeoutMs: number): Promise<RunOutcome> {
  return new Promise((resolvePromise) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
    delete env.FORCE_COLOR;
    const t0 = performance.now();
    const child = spawn(process.execPath, [join(REPO_ROOT, "bin/keras-inspect.js"), ...argv], { env, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => err.push(d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      const stderr = Buffer.concat(err).toString("utf8");
      if (timedOut) return resolvePromise({ type: "hang", ms });
      if (signal || code === null) return resolvePromise({ type: "died", ms, code, signal, detail: stderr.slice(-1500) });
      const stdout = Buffer.concat(out).toString("utf8");
      resolvePromise({ type: "result", id: 0, exitCode: code, stdout, stdoutBytes: stdout.length, stderr, ms, rss: 0, maxRss: 0, wasmHeap: 0, leaked: [], executed: false });
    });
  });
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const out = opts.out ?? mkdtempSync(join(tmpdir(), `keras-inspect-fuzz-${opts.seed}-`));
  mkdirSync(join(out, "reproducers"), { recursive: true });
  mkdirSync(join(out, "signatures"), { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), "keras-inspect-fuzz-files-"));

  // A corpus folder that is not here (../shared/fixtures/exports outside this workplace) is skipped, saying so.
  for (const dir of opts.corpus.filter((d) => !existsSync(d))) log(`fuzz: corpus folder ${dir} is absent: skipped`);
  const corpusFiles = listCorpus(opts.corpus);
  if (corpusFiles.length === 0) throw new Error(`no model files in the corpus: ${opts.corpus.join(", ")}`);
  const bases: BaseFile[] = [];
  for (const f of corpusFiles) bases.push(await loadBase(f));

  const program = buildProgram();
  const wanted = opts.commands ?? DEFAULT_COMMANDS;
  const commands: Available[] = availableCommands(program, wanted);
  if (commands.length === 0) throw new Error(`none of the commands ${wanted.join(", ")} exists`);
  const takesValue = valueFlags(program);
  const probes = chooseProbes(bases, new Set(commands.map((c) => c.spec.name)));

  const jobs = Math.max(1, opts.jobs ?? 1);
  const poolOpts = {
    deadlineMs: opts.deadlineMs ?? 10000,
    rssLimit: (opts.rssLimitMb ?? 2048) * 2 ** 20,
    heapMb: opts.heapMb ?? 2048,
    probes,
    stream: opts.stream === true,
  };
  const workers = Array.from({ length: jobs }, () => new FuzzWorker(poolOpts));
  const boundedMs = opts.boundedMs ?? 2000;
  const cliEvery = opts.cliEvery ?? 0;
  const cliSkip = cliEvery > 0 ? distIsStale() : undefined;
  if (cliSkip) log(`fuzz: CLI sample skipped: ${cliSkip}`);

  const report: FuzzReport = {
    seed: opts.seed,
    iterations: opts.iterations,
    corpus: corpusFiles,
    commands: commands.map((c) => c.spec.name),
    files: 0,
    runs: 0,
    interrupted: false,
    perCommand: Object.fromEntries(commands.map((c) => [c.spec.name, {}])),
    totals: {},
    findings: 0,
    cli: { runs: 0, perCommand: {}, skipped: cliSkip, messageMismatches: 0 },
    perMutator: {},
    longestRun: { ms: 0, argv: [], iteration: -1 },
    peakRssMb: 0,
    peakRun: { rssMb: 0, argv: [], iteration: -1, mutator: "" },
    peakWasmHeapMb: 0,
    workerStarts: 0,
    probes,
    elapsedMs: 0,
    reproducers: {},
    signatures: [],
    out,
  };
  const signatures = new Map<string, SignatureStat>();
  let findingSignatures = 0;
  const onlyMutators = opts.mutators ? new Set(opts.mutators) : undefined;
  // Small files run faster; .keras archives are few in the corpus but get a fixed share of the draws.
  const eligible = bases.filter((b) => mutable(b, onlyMutators));
  if (eligible.length === 0) throw new Error("no corpus file suits the selected mutators");
  const hasZip = eligible.some((b) => b.kind === "zip");
  const zipShare = !hasZip ? 0 : eligible.every((b) => b.kind === "zip") ? 1 : 0.35;
  const drawWeight = (b: BaseFile) => 1 / Math.sqrt(Math.max(4096, b.bytes.length));
  // ONNX and TensorFlow.js exports get a fixed share of the draws each, when the corpus has them.
  const exportShares = (["onnx", "tfjs"] as const).map((kind) => [kind, eligible.some((b) => b.kind === kind) ? (kind === "onnx" ? 0.2 : 0.15) : 0] as const);
  const drawBase = (rng: Rng): BaseFile => {
    for (const [kind, share] of exportShares) {
      if (share > 0 && rng.chance(share)) return rng.pick(eligible.filter((b) => b.kind === kind));
    }
    // A corpus of exports alone: each format as often as the others.
    if (eligible.every((b) => b.kind === "onnx" || b.kind === "tfjs" || b.kind === "tflite")) {
      const kinds = [...new Set(eligible.map((b) => b.kind))];
      const kind = rng.pick(kinds);
      return rng.pick(eligible.filter((b) => b.kind === kind));
    }
    const zip = rng.chance(zipShare);
    // HDF5 files and TFLite exports share the draws that are not a .keras archive's.
    const pool = eligible.filter((b) => (b.kind === "zip") === zip && b.kind !== "onnx" && b.kind !== "tfjs");
    return rng.weighted(pool.map((b) => [b, drawWeight(b)] as const));
  };

  /** A mutated file as kept for replay: the file, and for exports its folder (`.d/`) with the files beside it. */
  const save = (p: string, m: Mutation) => {
    writeFileSync(p, m.bytes);
    if (!m.files && !m.links && !m.fileName) return;
    const folder = join(`${p}.d`, "model");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, m.fileName ?? `model${m.ext}`), m.bytes);
    for (const [rel, data] of Object.entries(m.files ?? {})) {
      const q = join(folder, rel);
      mkdirSync(dirname(q), { recursive: true });
      writeFileSync(q, data);
    }
    for (const [name, target] of Object.entries(m.links ?? {})) symlinkSync(target, join(folder, name));
  };

  const keep = (cls: OutcomeClass, c: Classified, iteration: number, m: Mutation, file: string, argv: string[], command: string) => {
    const key = `${cls}|${command}|${c.signature}`;
    let s = signatures.get(key);
    if (!s) {
      s = { cls, command, signature: c.signature, count: 0, example: { iteration, mutator: m.mutator, detail: m.detail, why: c.why, argv: argv.map((a) => (a === file ? "FILE" : a)) } };
      signatures.set(key, s);
      if (!ACCEPTABLE.has(cls) && findingSignatures++ < 2000) {
        const p = join(out, "signatures", `${cls}-${signatures.size}${m.ext}`);
        save(p, m);
        writeFileSync(`${p}.json`, JSON.stringify({ seed: opts.seed, iteration, command, argv: s.example.argv, mutator: m.mutator, detail: m.detail, why: c.why }, null, 2));
        s.example.reproducer = p;
      }
    }
    s.count++;
    if (ACCEPTABLE.has(cls)) return;
    const prev = report.reproducers[cls];
    if (!prev || m.bytes.length < prev.bytes) {
      const p = join(out, "reproducers", `${cls}${m.ext}`);
      save(p, m);
      writeFileSync(`${p}.json`, JSON.stringify({ seed: opts.seed, iteration, command, argv: argv.map((a) => (a === file ? "FILE" : a)), mutator: m.mutator, detail: m.detail, why: c.why }, null, 2));
      report.reproducers[cls] = { file: p, bytes: m.bytes.length, iteration, command, why: c.why };
    }
  };

  const record = (cls: OutcomeClass, c: Classified, iteration: number, m: Mutation, file: string, argv: string[], command: string, ms: number) => {
    bump(report.perCommand[command] ??= {}, cls);
    bump(report.totals, cls);
    report.runs++;
    if (!ACCEPTABLE.has(cls)) report.findings++;
    const pm = (report.perMutator[m.mutator] ??= { files: 0, ok: 0, cleanError: 0, findings: 0 });
    if (cls === "ok") pm.ok++;
    else if (cls === "clean-error") pm.cleanError++;
    else pm.findings++;
    if (ms > report.longestRun.ms) report.longestRun = { ms, argv: argv.map((a) => (a === file ? "FILE" : a)), iteration };
    keep(cls, c, iteration, m, file, argv, command);
  };

  const iterations = opts.only ?? Array.from({ length: opts.iterations }, (_, i) => i);
  let next = 0;
  const probeEvery = Math.max(1, opts.probeEvery ?? 1);

  const processFile = async (iteration: number, worker: FuzzWorker, dir: string) => {
    const rng = new Rng(`${opts.seed}:${iteration}`);
    const base = drawBase(rng);
    const m = await mutate(base, rng.fork("mutate"), { repoRoot: REPO_ROOT }, onlyMutators);
    // Exports that name files beside them get a folder of their own, their files written around them.
    const folder = m.files || m.links || m.fileName ? join(dir, `f${iteration}`) : dir;
    const file = join(folder, m.fileName ?? `f${iteration}${m.ext}`);
    const written: string[] = [];
    if (folder !== dir) {
      mkdirSync(folder, { recursive: true });
      for (const [rel, data] of Object.entries(m.files ?? {})) {
        const p = join(folder, rel);
        mkdirSync(dirname(p), { recursive: true });
        writeFileSync(p, data);
        written.push(p);
      }
      for (const [name, target] of Object.entries(m.links ?? {})) symlinkSync(target, join(folder, name));
    }
    writeFileSync(file, m.bytes);
    if (opts.saveFiles) {
      mkdirSync(opts.saveFiles, { recursive: true });
      const kept = join(opts.saveFiles, `${opts.seed}-${iteration}${m.ext}`);
      save(kept, m);
      writeFileSync(`${kept}.json`, JSON.stringify({ seed: opts.seed, iteration, base: base.path, mutator: m.mutator, detail: m.detail, mustFail: m.mustFail }, null, 2));
    }
    const twinFile = m.twin ? join(dir, `f${iteration}-twin${m.ext}`) : undefined;
    if (twinFile) writeFileSync(twinFile, m.twin!);
    report.files++;
    (report.perMutator[m.mutator] ??= { files: 0, ok: 0, cleanError: 0, findings: 0 }).files++;
    const results: { cmd: Available; argv: string[]; outcome: RunOutcome; c: Classified }[] = [];
    for (const cmd of commands) {
      // A synthesized model is not the corpus file it was drawn with: it brings its own inputs.
      const target = m.inputArgs ? { ...base, inputArgs: m.inputArgs, firstRecurrent: undefined, layerNames: [] } : base;
      const argv = fitArgv(cmd.spec.argv(file, target, rng.fork(cmd.spec.name), dir), cmd, (f) => takesValue(cmd.spec.command ?? cmd.spec.name, f));
      const outcome = await worker.run(argv, file, cmd.spec.answerCodes);
      if (outcome.type === "result") {
        const rssMb = Math.round(outcome.maxRss / 2 ** 20);
        if (rssMb > report.peakRun.rssMb) report.peakRun = { rssMb, argv: argv.map((a) => (a === file ? "FILE" : a)), iteration, mutator: `${m.mutator}: ${m.detail}` };
        report.peakWasmHeapMb = Math.max(report.peakWasmHeapMb, Math.round(outcome.wasmHeap / 2 ** 20));
      }
      const json = argv.includes("--json");
      let c = classify({ outcome, file, answerCodes: cmd.spec.answerCodes, refusalCodes: cmd.spec.refusalCodes, json, mustFail: m.mustFail, evaluates: cmd.spec.evaluates, rawInput: argv.includes("--raw-input"), nonFiniteOk: cmd.spec.nonFiniteOk, errorReport: cmd.spec.errorReport });
      if (c.cls === "ok" && twinFile && outcome.type === "result") {
        const twinArgv = argv.map((a) => (a === file ? twinFile : a));
        const t = await worker.run(twinArgv, twinFile, cmd.spec.answerCodes);
        const a = numbersOf(outcome.stdout).join(" ");
        const b = t.type === "result" ? numbersOf(t.stdout).join(" ") : `(${t.type})`;
        if (t.type !== "result" || t.exitCode !== outcome.exitCode || a !== b) {
          c = { cls: "silent-wrong", why: `numbers differ from the same model with plain names: ${a.slice(0, 120)} vs ${b.slice(0, 120)}`, signature: "twin-mismatch" };
        }
      }
      if (ACCEPTABLE.has(c.cls) && m.bounded && outcome.ms > boundedMs) {
        c = { cls: "slow", why: `${Math.round(outcome.ms)} ms on a file that claims work it does not hold (bound ${boundedMs} ms)`, signature: "slow" };
      }
      record(c.cls, c, iteration, m, file, argv, cmd.spec.name, outcome.ms);
      results.push({ cmd, argv, outcome, c });
    }
    if (report.files % probeEvery === 0) {
      const p = await worker.probe();
      if (!p.ok) {
        const c: Classified = { cls: "poisoned", why: p.detail, signature: "poisoned" };
        record("poisoned", c, iteration, m, file, results.map((r) => r.argv.join(" ")), "probe", 0);
      }
    }
    if (cliEvery > 0 && !cliSkip && iteration % cliEvery === 0) {
      for (const r of results) {
        const outcome = await runCli(r.argv, poolOpts.deadlineMs + 15000);
        if (outcome.type === "result" && r.outcome.type === "result") outcome.weights = (r.outcome as RunReport).weights;
        let c = classify({ outcome, file, answerCodes: r.cmd.spec.answerCodes, refusalCodes: r.cmd.spec.refusalCodes, json: r.argv.includes("--json"), mustFail: m.mustFail, evaluates: r.cmd.spec.evaluates, rawInput: r.argv.includes("--raw-input"), nonFiniteOk: r.cmd.spec.nonFiniteOk, errorReport: r.cmd.spec.errorReport });
        // The binary runs dist/, which others may rebuild during a long run: the exit code and the class must agree,
        // the wording of the message may differ (counted apart).
        const sameExit = outcome.type === "result" && r.outcome.type === "result" && outcome.exitCode === r.outcome.exitCode;
        if (sameExit && (outcome as RunReport).stderr !== (r.outcome as RunReport).stderr) report.cli.messageMismatches++;
        if (ACCEPTABLE.has(c.cls) && ACCEPTABLE.has(r.c.cls) && (!sameExit || c.cls !== r.c.cls)) {
          c = { cls: "divergence", why: `the CLI binary and the in-process run disagree: ${outcome.type === "result" ? `exit ${outcome.exitCode} ${outcome.stderr.trim()}` : outcome.type} vs exit ${(r.outcome as RunReport).exitCode} ${(r.outcome as RunReport).stderr.trim()}`, signature: "divergence" };
        }
        report.cli.runs++;
        bump((report.cli.perCommand[r.cmd.spec.name] ??= {}), c.cls);
        if (!ACCEPTABLE.has(c.cls)) {
          report.findings++;
          bump(report.totals, c.cls);
          keep(c.cls, c, iteration, m, file, ["(cli)", ...r.argv], r.cmd.spec.name);
        }
      }
    }
    rmSync(file, { force: true });
    if (twinFile) rmSync(twinFile, { force: true });
    for (const p of written) rmSync(p, { force: true });
    if (folder !== dir) rmSync(folder, { recursive: true, force: true });
    rmSync(join(dir, "export"), { recursive: true, force: true, maxRetries: 3 });
  };

  const progressEvery = opts.progressEvery ?? 0;
  let failed = false;
  const job = async (worker: FuzzWorker, k: number) => {
    // Each worker has its own scratch directory: commands such as export write into it.
    const dir = join(scratch, `w${k}`);
    mkdirSync(dir, { recursive: true });
    while (next < iterations.length && !failed && !opts.signal?.aborted) {
      const iteration = iterations[next++];
      await processFile(iteration, worker, dir);
      if (progressEvery > 0 && report.files % progressEvery === 0) {
        const rate = report.files / ((performance.now() - t0) / 1000);
        log(`fuzz: ${report.files}/${iterations.length} files, ${report.runs} runs, ${report.findings} findings, ${rate.toFixed(1)} files/s, ${JSON.stringify(report.totals)}`);
      }
    }
  };
  try {
    await Promise.all(
      workers.map((w, k) =>
        job(w, k).catch((err: unknown) => {
          // One job failing (a bug in the fuzzer itself) stops the others too.
          failed = true;
          throw err;
        }),
      ),
    );
  } finally {
    for (const w of workers) w.close();
    rmSync(scratch, { recursive: true, force: true });
  }
  report.interrupted = next < iterations.length && opts.signal?.aborted === true;
  report.peakRssMb = Math.round(Math.max(...workers.map((w) => w.peakRss)) / 2 ** 20);
  report.workerStarts = workers.reduce((n, w) => n + w.restarts, 0);
  report.signatures = [...signatures.values()].sort((a, b) => (ACCEPTABLE.has(a.cls) ? 1 : 0) - (ACCEPTABLE.has(b.cls) ? 1 : 0) || b.count - a.count);
  report.elapsedMs = performance.now() - t0;
  writeFileSync(join(out, "report.json"), JSON.stringify(report, null, 2));
  return report;
}

/** The closing figures, as text. */
export function formatReport(r: FuzzReport): string {
  const lines: string[] = [];
  if (r.interrupted) lines.push(`interrupted: ${r.files} of ${r.iterations} files ran`);
  lines.push(`seed ${r.seed}: ${r.files} mutated files, ${r.runs} in-process runs, ${r.cli.runs} CLI runs, ${(r.elapsedMs / 1000).toFixed(1)} s`);
  lines.push(`corpus: ${r.corpus.length} files; commands: ${r.commands.join(", ")}`);
  for (const [cmd, rec] of Object.entries(r.perCommand)) {
    const n = Object.values(rec).reduce((a, b) => a + (b ?? 0), 0);
    lines.push(`  ${cmd.padEnd(8)} ${String(n).padStart(6)} files  ${Object.entries(rec).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  }
  if (r.cli.runs > 0) {
    for (const [cmd, rec] of Object.entries(r.cli.perCommand)) lines.push(`  cli ${cmd.padEnd(8)} ${Object.entries(rec).map(([k, v]) => `${k}=${v}`).join(" ")}`);
    lines.push(`  cli runs whose message wording differed from the in-process run (same exit code): ${r.cli.messageMismatches}`);
  }
  lines.push(`outcomes: ${Object.entries(r.totals).map(([k, v]) => `${k}=${v}`).join(" ")}`);
  lines.push(`findings: ${r.findings}`);
  lines.push(`longest run: ${Math.round(r.longestRun.ms)} ms (${r.longestRun.argv.join(" ").slice(0, 160)}, iteration ${r.longestRun.iteration})`);
  lines.push(`peak worker memory: ${r.peakRssMb} MB RSS (reached in iteration ${r.peakRun.iteration}: ${r.peakRun.argv.slice(0, 2).join(" ")}, ${r.peakRun.mutator.slice(0, 100)}); HDF5 wasm heap up to ${r.peakWasmHeapMb} MB; worker starts: ${r.workerStarts}`);
  for (const s of r.signatures.filter((x) => !ACCEPTABLE.has(x.cls)).slice(0, 40)) {
    lines.push(`  [${s.cls}] ${s.command} ×${s.count}: ${s.example.why.slice(0, 200)} (iteration ${s.example.iteration}, ${s.example.mutator}: ${s.example.detail.slice(0, 100)})`);
  }
  lines.push(`reproducers and report.json: ${r.out}`);
  return lines.join("\n");
}
