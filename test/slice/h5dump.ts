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
  for (const line of body.split("\n")) {
    const values = line.replace(/^\s*\([\d,\s]+\):/, "");
    for (const v of values.split(",")) {
      const s = v.replace(/\([\d,\s]+\):/, "").trim();
      if (s !== "") out.push(Number(s));
    }
  }
  return out;
}

export interface Dumped {
  shape: number[];
  data: number[];
}

/** The whole dataset `path` of `file`, row-major, with its shape. */
export function h5dumpDataset(file: string, path: string): Dumped {
  const r = spawnSync("h5dump", ["-m", "%.9g", "-d", path, file], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0) throw new Error(`h5dump -d ${path} ${file} failed: ${r.stderr}`);
  const dims = /DATASPACE\s+SIMPLE \{ \( ([\d, ]+) \)/.exec(r.stdout)?.[1];
  if (!dims) throw new Error(`h5dump: no DATASPACE in the output for ${path}`);
  const shape = dims.split(",").map((d) => Number(d.trim()));
  const data = parseH5dumpValues(r.stdout);
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) throw new Error(`h5dump: ${data.length} values for shape [${shape}] of ${path}`);
  return { shape, data };
}
