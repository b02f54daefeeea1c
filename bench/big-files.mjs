// Big files, whole process (issue 12): `keras-inspect summary` and `weights --layer` of a
// 537 MB model (one LSTM, 4096 units over 4096 features, Keras 2 layout, written with
// samples/keras-h5-writer.mjs), and `summary` of a file larger than 4 GB (the bundled
// sample behind 4 GiB of sparse zeros, so that every address HDF5 reads lies past 2^32),
// beside an h5py script printing the same model's layers (bench/h5py_summary.py), the
// start-up alone (`summary` of the 1 KB sample), and the refusal of a lying zip bomb
// (test/fixtures/fuzz/zip-bomb-lying-2400mb.keras, issue 17) and of an HDF5 chunk bomb
// (test/fixtures/fuzz/h5-chunk-bomb-1gb.h5). Wall seconds and peak RSS as
// whole-process.mjs measures them (/usr/bin/time), after `npm run build`.
//
// bigFiles(dir) returns rows { what, wall (s: median, min, max), rssMiB, target, met } for
// bench/evaluator.mjs to print; `node bench/big-files.mjs` prints them alone.
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { lstmConfig, sequentialConfig, writeKerasH5 } from "../samples/keras-h5-writer.mjs";
import { cell, fmt, root } from "./measure.mjs";
import { findPython, pythonEnv } from "./peers.mjs";
import { runRepeated } from "./whole-process.mjs";

const SAMPLE = join(root, "samples", "seed-lstm.h5");
const UNITS = 4096;
const FEATURES = 4096;
const MIB = 2 ** 20;

/** Deterministic small weights (a hash of the index), so the file is the same at every run. */
function weights(length, seed) {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = ((((i * 2654435761) ^ seed) >>> 0) % 2001 - 1000) / 20000;
  return out;
}

/** The 537 MB model: kernel (4096, 16384) and recurrent_kernel (4096, 16384) of 256 MiB each, bias (16384). */
export async function writeBigModel(path) {
  const layer = lstmConfig("lstm_1", UNITS, { batch_input_shape: [null, null, FEATURES], dtype: "float32", recurrent_activation: "sigmoid" });
  const weight = (name, shape, seed) => ({ name: `lstm_1/${name}:0`, shape, data: weights(shape.reduce((a, b) => a * b, 1), seed) });
  const bytes = await writeKerasH5({
    modelConfig: sequentialConfig("sequential_1", [layer]),
    layers: [{ name: "lstm_1", weights: [weight("kernel", [FEATURES, 4 * UNITS], 1), weight("recurrent_kernel", [UNITS, 4 * UNITS], 2), weight("bias", [4 * UNITS], 3)] }],
  });
  writeFileSync(path, bytes);
  return bytes.length;
}

/** The chunk bomb's model honest: LSTM(128) over 512 features, its 1 MiB kernel one chunk at deflate level 0 (as test/fuzz/chunk-bomb.ts writes it). */
export async function writeChunkedModel() {
  const layer = lstmConfig("lstm_1", 128, { batch_input_shape: [null, null, 512], dtype: "float32" });
  return writeKerasH5({
    modelConfig: sequentialConfig("sequential_1", [layer]),
    layers: [
      {
        name: "lstm_1",
        weights: [
          { name: "lstm_1/kernel:0", shape: [512, 512], data: weights(512 * 512, 1), chunks: [512, 512], gzip: 0 },
          { name: "lstm_1/recurrent_kernel:0", shape: [128, 512], data: weights(128 * 512, 2) },
          { name: "lstm_1/bias:0", shape: [512], data: weights(512, 3) },
        ],
      },
    ],
  });
}

/**
 * The bundled sample behind 4 GiB of zeros made with ftruncate, not written. The HDF5
 * library finds the superblock at 2^32 and takes what precedes it as a user block.
 * Returns a reason instead when the filesystem does not keep the zeros sparse.
 */
export function writeSparseBigFile(path) {
  const sample = readFileSync(SAMPLE);
  const fd = openSync(path, "w");
  try {
    ftruncateSync(fd, 2 ** 32 + sample.length);
    writeSync(fd, sample, 0, sample.length, 2 ** 32);
    const onDisk = fstatSync(fd).blocks * 512;
    if (onDisk > 2 ** 30) return { why: `the filesystem stored the zeros (${onDisk} bytes on disk): no sparse files there` };
    return { size: 2 ** 32 + sample.length };
  } catch (err) {
    return { why: `cannot make a sparse ${2 ** 32 + sample.length}-byte file (${err.code ?? err.message})` };
  } finally {
    closeSync(fd);
  }
}

/** Rows { what, wall, rssMiB, target, met }; `dir` receives the generated files (about 540 MB on disk). */
export async function bigFiles(dir, { repeats = 3 } = {}) {
  const node = process.execPath;
  const bin = join(root, "bin", "keras-inspect.js");
  const rows = [];
  const run = (what, kind, exe, args, target, env = process.env, expected = 0) => {
    const m = runRepeated(kind, exe, args, env, dir, repeats, expected);
    const rssMiB = m.rss.median;
    const met = target ? m.wall.median <= target.s && (target.rssMiB === undefined || rssMiB <= target.rssMiB) : null;
    const targetText = target ? `≤ ${target.s} s${target.rssMiB === undefined ? "" : `, ≤ ${target.rssMiB} MiB`}` : "";
    rows.push({ what, wall: { median: m.wall.median, min: m.wall.min, max: m.wall.max }, rssMiB, target: targetText, met });
  };

  const model = join(dir, "lstm-4096x4096.h5");
  const modelBytes = await writeBigModel(model);
  const modelMB = Math.round(modelBytes / 1e6);
  const kernelMiB = (FEATURES * 4 * UNITS * 4) / MIB;

  run("summary, 1 KB sample (start-up alone)", "node", node, [bin, "summary", SAMPLE]);
  // Issue 17: 2.3 MB of deflate inflating to 2.4 GB behind headers that declare 54 KB; refused (exit 2) within the start-up.
  const bomb = join(root, "test", "fixtures", "fuzz", "zip-bomb-lying-2400mb.keras");
  for (const command of ["summary", "weights", "check"]) {
    run(`${command}, the lying 2.4 GB zip bomb (refused, exit 2)`, "node", node, [bin, command, bomb], { s: 0.5 }, process.env, 2);
  }
  // Issue 17, HDF5: an LSTM kernel stored as one 1 MiB deflate chunk whose stream inflates to 1 GiB. `summary`
  // reads no values (it answers); the commands that read the kernel refuse it once the library's heap would pass
  // 4 × the chunk + 16 MiB.
  const chunkBomb = join(root, "test", "fixtures", "fuzz", "h5-chunk-bomb-1gb.h5");
  for (const args of [["summary", "--weights"], ["weights"], ["check"]]) {
    run(`${args.join(" ")}, HDF5 chunk bomb: 1 MiB chunk inflating to 1 GiB (refused, exit 2)`, "node", node, [bin, ...args, chunkBomb], { s: 0.5 }, process.env, 2);
  }
  // Beside it, the same model honest (the kernel one 1 MiB deflate chunk): the HDF5 library's start-up and read, which the refusal needs too.
  const chunked = join(dir, "lstm-512x128-chunked.h5");
  writeFileSync(chunked, await writeChunkedModel());
  run("summary --weights, the same LSTM honest (kernel one 1 MiB deflate chunk)", "node", node, [bin, "summary", "--weights", chunked]);
  rmSync(chunked, { force: true });
  run(`summary, ${modelMB} MB model`, "node", node, [bin, "summary", model], { s: 0.3, rssMiB: 150 });
  run(
    `weights --layer lstm_1, ${modelMB} MB model (kernel and recurrent_kernel, ${kernelMiB} MiB each)`,
    "node",
    node,
    [bin, "weights", model, "--layer", "lstm_1"],
    { s: 2, rssMiB: 2.5 * kernelMiB },
  );
  // No target in the issue: the kernels are streamed (statistics, median/MAD sample, max |w|), several passes each.
  run(`summary --weights, ${modelMB} MB model`, "node", node, [bin, "summary", "--weights", model]);
  run(`check, ${modelMB} MB model (finite, plausible: every value)`, "node", node, [bin, "check", model]);
  const python = findPython(["h5py"]);
  if (python) {
    run(`${python} h5py_summary.py, ${modelMB} MB model`, "python", python, [join(root, "bench", "h5py_summary.py"), model], undefined, pythonEnv().env);
  } else {
    rows.push({ what: "h5py_summary.py: not run (no python3 with h5py; on Debian: apt-get install -y python3-h5py)", wall: null, rssMiB: null, target: "", met: null });
  }
  rmSync(model, { force: true });

  const big = join(dir, "behind-4-gib.h5");
  const sparse = writeSparseBigFile(big);
  if (sparse.size) {
    run(`summary, ${(sparse.size / 1e9).toFixed(2)} GB file (sample behind 4 GiB of sparse zeros)`, "node", node, [bin, "summary", big], { s: 0.5 });
  } else {
    rows.push({ what: `summary of a > 4 GB file: not run (${sparse.why})`, wall: null, rssMiB: null, target: "≤ 0.5 s", met: null });
  }
  rmSync(big, { force: true });
  return rows;
}

export const bigFilesTable = (rows) =>
  rows.map((r) => ({
    command: r.what,
    "wall s": r.wall ? cell(r.wall) : "",
    "peak RSS MiB": r.rssMiB === null ? "" : fmt(r.rssMiB),
    target: r.target,
    met: r.met === null ? "" : r.met ? "yes" : "no",
  }));

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = mkdtempSync(join(os.tmpdir(), "keras-inspect-big-files-"));
  try {
    console.table(bigFilesTable(await bigFiles(dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
