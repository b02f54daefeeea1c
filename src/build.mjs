// The build steps after tsc (run by `npm run build`), both for the CLI's start-up, which
// every call pays. Measured on a 2-core machine, `summary` of a 16-parameter model:
//
// 1. h5wasm ships its 3.5 MB WebAssembly binary as a string literal inside hdf5_util.js;
//    parsing and decoding that literal took ~130 ms of each start. We write the bytes to
//    dist/vendor/h5wasm/hdf5_util.wasm and a copy of the glue whose findWasmBinary reads
//    that file. Nothing else in the glue changes: the same code runs on the same binary,
//    with the same in-memory filesystem (no host file access). The bytes are the ones
//    h5wasm itself hands to WebAssembly.instantiate, captured as it starts, so no parser of
//    ours reads its source; the build fails if the glue's shape ever changes.
// 2. esbuild bundles dist/cli/main.js and the predict and check workers into dist/bundle/ (shared
//    code in one chunk): ~100 modules of ours and our dependencies become 3 files, ~90 ms
//    less. h5wasm stays outside the bundle as the vendored copy of step 1. The bundle
//    sits at the same depth as dist/cli/ and dist/eval/, so the `new URL(…, import.meta.url)`
//    paths of the sources (package.json, the worker, the vendored h5wasm) hold in both.
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const h5wasmDir = join(root, "node_modules", "h5wasm");
export const h5wasmEsm = join(h5wasmDir, "dist", "esm");
/** Where the split copy of h5wasm goes; the bundle imports it as ../vendor/h5wasm/hdf5_hl.js. */
export const vendoredH5wasm = join(dist, "vendor", "h5wasm");

/** The bytes h5wasm gives WebAssembly.instantiate when it starts (a fresh instance, even in a process that has one). */
export async function capturedWasm() {
  const original = WebAssembly.instantiate;
  let bytes;
  WebAssembly.instantiate = function (source, imports) {
    if (!bytes && (source instanceof ArrayBuffer || ArrayBuffer.isView(source))) {
      bytes = Buffer.from(source instanceof ArrayBuffer ? new Uint8Array(source) : new Uint8Array(source.buffer, source.byteOffset, source.byteLength));
    }
    return original.call(this, source, imports);
  };
  try {
    const h5wasm = (await import(`${pathToFileURL(join(h5wasmEsm, "hdf5_hl.js")).href}?capture=${Date.now()}`)).default;
    await h5wasm.ready;
  } finally {
    WebAssembly.instantiate = original;
  }
  if (!bytes) throw new Error("h5wasm did not pass its binary to WebAssembly.instantiate; update src/build.mjs for this h5wasm version");
  return bytes;
}

/** The glue with findWasmBinary's embedded literal replaced by a read of hdf5_util.wasm beside it. */
export function splitGlue(glue) {
  const head = "function findWasmBinary(){return binaryDecode('";
  const start = glue.indexOf(head);
  if (start < 0 || glue.indexOf(head, start + 1) >= 0) throw new Error("h5wasm's hdf5_util.js has no single embedded binary; update src/build.mjs for this h5wasm version");
  // The literal ends at the first quote not escaped by a backslash.
  let end = start + head.length;
  while (glue[end] !== "'") end += glue[end] === "\\" ? 2 : 1;
  if (glue.slice(end, end + 3) !== "')}") throw new Error("unexpected end of h5wasm's embedded binary; update src/build.mjs");
  return [
    "// h5wasm's hdf5_util.js with its binary moved to hdf5_util.wasm (keras-inspect's src/build.mjs).",
    'import { readFileSync as __readWasm } from "node:fs";',
    glue.slice(0, start),
    'function findWasmBinary(){return __readWasm(new URL("./hdf5_util.wasm", import.meta.url))}',
    glue.slice(end + 3),
  ].join("\n");
}

async function vendorH5wasm() {
  const out = vendoredH5wasm;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const glue = readFileSync(join(h5wasmEsm, "hdf5_util.js"), "latin1");
  writeFileSync(join(out, "hdf5_util.js"), splitGlue(glue), "latin1");
  writeFileSync(join(out, "hdf5_util.wasm"), await capturedWasm());
  copyFileSync(join(h5wasmEsm, "hdf5_hl.js"), join(out, "hdf5_hl.js"));
  copyFileSync(join(h5wasmDir, "LICENSE.txt"), join(out, "LICENSE.txt"));
  const { version } = JSON.parse(readFileSync(join(h5wasmDir, "package.json"), "utf8"));
  writeFileSync(join(out, "package.json"), `${JSON.stringify({ name: "h5wasm", version, type: "module", private: true }, null, 2)}\n`);
}

async function bundle() {
  const out = join(dist, "bundle");
  rmSync(out, { recursive: true, force: true });
  await build({
    entryPoints: { main: join(dist, "cli", "main.js"), "predict-worker": join(dist, "eval", "predict-worker.js"), "check-worker": join(dist, "cli", "check-worker.js") },
    outdir: out,
    entryNames: "[name]",
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    // commander and cli-table3 are CommonJS and require Node's modules.
    banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
    plugins: [
      {
        name: "vendored-h5wasm",
        setup(b) {
          b.onResolve({ filter: /^h5wasm$/ }, () => ({ path: "../vendor/h5wasm/hdf5_hl.js", external: true }));
        },
      },
    ],
    logLevel: "warning",
  });
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  await vendorH5wasm();
  await bundle();
}
