/**
 * `npm run fuzz -- --iterations N --seed S [--corpus DIR]...`
 *
 * Other options:
 *   --commands a,b|all      commands to run each file through (default: summary,weights,step,check,
 *                           those that exist)
 *   --jobs J                parallel workers (default 1)
 *   --deadline-ms MS        per-run time bound (default 10000)
 *   --bounded-ms MS         per-run bound on files that claim work they do not hold, e.g. zip bombs (default 2000)
 *   --rss-limit-mb MB       per-worker resident memory bound (default 2048)
 *   --cli-every N           also run the built CLI binary on every Nth file (default 50; 0 = never)
 *   --probe-every N         re-run the known-good probes after every Nth file (default 1)
 *   --only I,J,...          replay these iterations only
 *   --mutators a,b          only these mutators
 *   --out DIR               where reproducers and report.json go (default: a new temp dir)
 *   --save-files DIR        keep every mutated file there too (to replay one with --only)
 *   --stream                read every dataset on its own, and stream those a reader can (Tensor.scan)
 *                           in blocks of 1021 float32 values, instead of reading small models whole
 * Exit code: 0 when every outcome is ok or a clean error, 1 when there are findings, 130
 * when interrupted (SIGINT/SIGTERM) without findings; the report is written either way.
 */
import { join } from "node:path";
import { COMMAND_SPECS } from "./commands.js";
import { defaultCorpusDirs } from "./corpus.js";
import { formatReport, REPO_ROOT, runFuzz, type FuzzOptions } from "./engine.js";

function parse(argv: string[]): FuzzOptions {
  const opts: FuzzOptions = { iterations: 1000, seed: "1", corpus: [], cliEvery: 50, progressEvery: 100 };
  const corpus: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    const int = () => {
      const x = Number(v());
      if (!Number.isInteger(x) || x < 0) throw new Error(`${a} needs a whole number`);
      return x;
    };
    switch (a) {
      case "--iterations":
        opts.iterations = int();
        break;
      case "--seed":
        opts.seed = v();
        break;
      case "--corpus":
        corpus.push(v());
        break;
      case "--commands": {
        const x = v();
        opts.commands = x === "all" ? COMMAND_SPECS.map((s) => s.name) : x.split(",");
        break;
      }
      case "--jobs":
        opts.jobs = int();
        break;
      case "--deadline-ms":
        opts.deadlineMs = int();
        break;
      case "--bounded-ms":
        opts.boundedMs = int();
        break;
      case "--rss-limit-mb":
        opts.rssLimitMb = int();
        break;
      case "--cli-every":
        opts.cliEvery = int();
        break;
      case "--probe-every":
        opts.probeEvery = int();
        break;
      case "--only":
        opts.only = v().split(",").map(Number);
        break;
      case "--mutators":
        opts.mutators = v().split(",");
        break;
      case "--out":
        opts.out = v();
        break;
      case "--save-files":
        opts.saveFiles = v();
        break;
      case "--stream":
        opts.stream = true;
        break;
      case "--progress-every":
        opts.progressEvery = int();
        break;
      case "-h":
      case "--help":
        process.stdout.write(
          "npm run fuzz -- --iterations N --seed S [--corpus DIR]... [--commands a,b|all] [--jobs J] [--deadline-ms MS] [--bounded-ms MS]\n" +
            "  [--rss-limit-mb MB] [--cli-every N] [--probe-every N] [--only I,J] [--mutators a,b] [--out DIR] [--stream]\n",
        );
        process.exit(0);
        break;
      default:
        throw new Error(`unknown option ${a} (see --help)`);
    }
  }
  opts.corpus = corpus.length > 0 ? corpus : defaultCorpusDirs(REPO_ROOT);
  return opts;
}

// Ctrl-C (or SIGTERM) once: finish the files in flight, write the report, remove the
// scratch files. Twice: quit at once.
const stop = new AbortController();
const onSignal = (sig: NodeJS.Signals) => {
  if (stop.signal.aborted) process.exit(130);
  process.stderr.write(`fuzz: ${sig}: stopping after the files in flight (again to quit now)\n`);
  stop.abort();
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);

try {
  const opts = parse(process.argv.slice(2));
  const report = await runFuzz({ ...opts, signal: stop.signal });
  process.stdout.write(`${formatReport(report)}\n`);
  process.stdout.write(`report: ${join(report.out, "report.json")}\n`);
  process.exitCode = report.findings > 0 ? 1 : report.interrupted ? 130 : 0;
} catch (err) {
  process.stderr.write(`fuzz: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
}
