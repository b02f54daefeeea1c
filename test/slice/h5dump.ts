/**
 * Reads datasets with the HDF5 tools' own `h5dump` (no h5wasm, no keras-inspect code),
 * as the independent reader of the raw values tests compare against.
 *
 *   h5dump -m %.9g -d <dataset> <file>
 *
 * `%.9g` prints 9 significant digits, enough to give back every float32 exactly.
 */
import { spawnSync } from "node:child_process";

let available: boolean | undefined;

export function h5dumpAvailable(): boolean {
  available ??= spawnSync("h5dump", ["--version"], { stdio: "ignore" }).status === 0;
  return available;
}

/** Parses the values of an h5dump DATA block: "(0,1): 0.5, (0,2): -1" -> [0.5, -1]. */
export function parseH5dumpValues(text: string): number[] {
  const body = /DATA \{([\s\S]*?)\n\s*\}/.exec(text)?.[1] ?? text;
  const out: number[] = [];
  // Drop every "(i,j):" index, then the values are comma separated.
  for (const v of body.replace(/\([\d,\s]+\):/g, ",").split(",")) {
    const s = v.trim();
    if (s !== "") out.push(Number(s));
  }
  return out;
}

export interface Dumped {
  shape: number[];
  data: number[];
}

/** Several whole datasets of `file` with one h5dump run, row-major, with their shapes, in the order asked. */
export function h5dumpDatasets(file: string, paths: string[]): Dumped[] {
  const args = ["-m", "%.9g", ...paths.flatMap((p) => ["-d", p]), file];
  const r = spawnSync("h5dump", args, { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`h5dump ${args.join(" ")} failed: ${r.stderr}`);
  const blocks = r.stdout.split(/\n\s*DATASET "/).slice(1);
  if (blocks.length !== paths.length) throw new Error(`h5dump printed ${blocks.length} datasets for ${paths.length} asked`);
  return blocks.map((block, k) => {
    const name = block.slice(0, block.indexOf('"'));
    if (name !== paths[k]) throw new Error(`h5dump printed ${name} where ${paths[k]} was expected`);
    const dims = /DATASPACE\s+SIMPLE \{ \( ([\d, ]+) \)/.exec(block)?.[1];
    if (!dims) throw new Error(`h5dump: no DATASPACE in the output for ${paths[k]}`);
    const shape = dims.split(",").map((d) => Number(d.trim()));
    const data = parseH5dumpValues(block);
    const size = shape.reduce((a, b) => a * b, 1);
    if (data.length !== size) throw new Error(`h5dump: ${data.length} values for shape [${shape}] of ${paths[k]}`);
    return { shape, data };
  });
}

/** The whole dataset `path` of `file`. */
export function h5dumpDataset(file: string, path: string): Dumped {
  return h5dumpDatasets(file, [path])[0];
}
