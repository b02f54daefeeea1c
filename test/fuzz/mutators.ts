/**
 * The mutation catalogue. Each mutator takes a pristine corpus file and returns a
 * damaged copy, a one-line description, and what a correct tool must do with it:
 *
 *   mustFail "load"  every command must refuse the file (exit 2): truncation, a broken
 *                    model config, a dataset whose data cannot be in the file, a zip whose
 *                    CRC or sizes lie, unsafe or duplicate entry names...
 *   mustFail "eval"  commands that evaluate the first recurrent layer must refuse it (a
 *                    config that contradicts the weights, an unknown class)
 *   mustFail "eval-upstream"  the same, for what breaks only the layers before the first
 *                    recurrent layer (a Lambda layer): step and explain with --raw-input
 *                    feed that layer directly, skip them, and rightly answer
 *   false            anything may happen except a non-clean outcome
 *
 * Mutations are data (the MUTATORS table); `mutate()` draws one by weight. Files built by
 * samples/keras-h5-writer.mjs ("synth-*") come with a twin, the same model with plain
 * names, whose numbers must match (names must not change what is computed).
 */
import { pathToFileURL } from "node:url";
import { join } from "node:path";
import type { BaseFile, HdfBase, JsonSpan } from "./corpus.js";
import { Rng } from "./rng.js";
import { chunkBombModel } from "./chunk-bomb.js";
import { deflatedZeros, writeZip, type WriteEntry, type ZipEntry } from "./zip.js";
import { deflateSync } from "fflate";
import { EXPORT_MUTATORS } from "./export-mutators.js";

export type MustFail = false | "load" | "eval" | "eval-upstream";

export interface Mutation {
  mutator: string;
  detail: string;
  bytes: Uint8Array;
  ext: string;
  mustFail: MustFail;
  /** A file that must give the same numbers (synthesized files with plain names). */
  twin?: Uint8Array;
  /** Inputs for step & co. when the file is not a copy of the corpus file (synthesized models). */
  inputArgs?: string[];
  /**
   * The file claims work it does not hold (a bomb): every run must end within the run's
   * bound for such files (the engine's `boundedMs`), or it is a "slow" finding.
   */
  bounded?: boolean;
  /** Files written beside the mutated one, relative to its folder (`../` for one level up): shards, external data. */
  files?: Record<string, Uint8Array>;
  /** Symbolic links made beside it: name → target (a file out of the folder, a device). */
  links?: Record<string, string>;
  /** The mutated file's name in a folder of its own (exports that name files beside them). */
  fileName?: string;
}

type Result =
  | { detail: string; bytes: Uint8Array; mustFail: MustFail; twin?: Uint8Array; inputArgs?: string[]; bounded?: boolean; files?: Record<string, Uint8Array>; links?: Record<string, string>; fileName?: string }
  | undefined;

interface Mutator {
  name: string;
  weight: number;
  applies: (base: BaseFile) => boolean;
  run: (base: BaseFile, rng: Rng, ctx: MutateContext) => Result | Promise<Result>;
}

export interface MutateContext {
  repoRoot: string;
}

/** The global a serialized function would set if anything ever evaluated it. */
export const EXECUTED_SENTINEL = "__kerasInspectFuzzExecuted";
const JS_PAYLOAD = `globalThis.${EXECUTED_SENTINEL}=1`;
const PY_PAYLOAD = "lambda x: __import__('os').system('echo executed')";

// ---------------------------------------------------------------------------
// Byte helpers
// ---------------------------------------------------------------------------

function writeUint(bytes: Uint8Array, at: number, size: number, value: bigint): void {
  let v = BigInt.asUintN(size * 8, value);
  for (let i = 0; i < size; i++) {
    bytes[at + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

function readUint(bytes: Uint8Array, at: number, size: number): bigint {
  let v = 0n;
  for (let i = size - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[at + i] ?? 0);
  return v;
}

const ABSURD_DIMS = [10n ** 12n, 2n ** 32n, 2n ** 31n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, 0xffffffffn];

// ---------------------------------------------------------------------------
// HDF5 mutators (on a whole .h5 file, or on the model.weights.h5 of a .keras)
// ---------------------------------------------------------------------------

type H5Result = { detail: string; bytes: Uint8Array; mustFail: MustFail } | undefined;
type H5Mutator = (h: HdfBase, base: BaseFile, rng: Rng) => H5Result;

function eofOf(h: HdfBase): number {
  return h.bytes.length;
}

const REGION_KINDS = ["superblock", "object-header", "btree", "symbol-node", "local-heap", "heap-data", "global-heap", "attribute", "dataset-data", "message", "fractal-heap"] as const;

function pickRegion(h: HdfBase, rng: Rng) {
  const kinds = REGION_KINDS.filter((k) => h.map.regions.some((r) => r.kind === k));
  if (kinds.length === 0) return undefined;
  const kind = rng.pick(kinds);
  return rng.pick(h.map.regions.filter((r) => r.kind === kind));
}

const h5Truncate: H5Mutator = (h, _b, rng) => {
  const region = pickRegion(h, rng);
  let cut: number;
  let where: string;
  if (region && rng.chance(0.75)) {
    cut = rng.int(region.start, region.end - 1);
    where = `inside ${region.kind} (${region.label})`;
  } else {
    cut = rng.weighted([
      [rng.int(0, Math.min(96, h.bytes.length - 1)), 1],
      [rng.int(0, h.bytes.length - 1), 3],
      [Math.max(0, h.bytes.length - rng.int(1, 64)), 1],
    ]);
    where = "at a random offset";
  }
  if (cut >= h.bytes.length) cut = h.bytes.length - 1;
  return { detail: `truncated to ${cut} of ${h.bytes.length} bytes, ${where}`, bytes: h.bytes.slice(0, cut), mustFail: cut < eofOf(h) ? "load" : false };
};

const h5BitFlips: H5Mutator = (h, _b, rng) => {
  const bytes = h.bytes.slice();
  const n = rng.pick([1, 1, 2, 3, 8, 32]);
  const region = rng.chance(0.6) ? pickRegion(h, rng) : undefined;
  const lo = region?.start ?? 0;
  const hi = (region?.end ?? bytes.length) - 1;
  const at: number[] = [];
  for (let i = 0; i < n; i++) {
    const p = rng.int(lo, hi);
    bytes[p] ^= 1 << rng.int(0, 7);
    at.push(p);
  }
  return { detail: `${n} bit flip(s) ${region ? `in ${region.kind} (${region.label})` : "anywhere"} at ${at.slice(0, 4).join(",")}`, bytes, mustFail: false };
};

const h5ByteSet: H5Mutator = (h, _b, rng) => {
  const bytes = h.bytes.slice();
  const n = rng.pick([1, 2, 4, 16]);
  const region = rng.chance(0.6) ? pickRegion(h, rng) : undefined;
  const lo = region?.start ?? 0;
  const hi = (region?.end ?? bytes.length) - 1;
  for (let i = 0; i < n; i++) bytes[rng.int(lo, hi)] = rng.pick([0, 0xff, 0x7f, 0x80, 1, rng.int(0, 255)]);
  return { detail: `${n} byte(s) set ${region ? `in ${region.kind} (${region.label})` : "anywhere"}`, bytes, mustFail: false };
};

const h5ZeroBlock: H5Mutator = (h, _b, rng) => {
  const bytes = h.bytes.slice();
  const region = pickRegion(h, rng);
  const len = rng.pick([4, 8, 16, 64, 256, 4096]);
  const start = region && rng.chance(0.7) ? rng.int(region.start, region.end - 1) : rng.int(0, bytes.length - 1);
  bytes.fill(0, start, Math.min(bytes.length, start + len));
  return { detail: `${len} bytes zeroed at ${start}${region ? ` (near ${region.kind} ${region.label})` : ""}`, bytes, mustFail: false };
};

const h5DupBlock: H5Mutator = (h, _b, rng) => {
  const bytes = h.bytes.slice();
  const a = pickRegion(h, rng);
  const b = pickRegion(h, rng);
  if (!a || !b || a.start === b.start) return undefined;
  const len = Math.min(rng.pick([8, 16, 64, 256, 1024]), a.end - a.start, bytes.length - b.start);
  if (len <= 0) return undefined;
  bytes.copyWithin(b.start, a.start, a.start + len);
  return { detail: `${len} bytes of ${a.kind} (${a.label}) copied over ${b.kind} (${b.label})`, bytes, mustFail: false };
};

function pickDataset(h: HdfBase, base: BaseFile, rng: Rng) {
  const read = h.map.datasets.filter((d) => base.readDatasets.has(d.path) && d.dimOffsets.length > 0);
  const any = h.map.datasets.filter((d) => d.dimOffsets.length > 0);
  const list = read.length > 0 && rng.chance(0.8) ? read : any;
  return list.length > 0 ? rng.pick(list) : undefined;
}

function elementCount(bytes: Uint8Array, dimOffsets: number[], size: number): bigint {
  return dimOffsets.reduce((n, off) => n * readUint(bytes, off, size), 1n);
}

const h5DatasetDims: H5Mutator = (h, base, rng) => {
  const d = pickDataset(h, base, rng);
  if (!d) return undefined;
  const bytes = h.bytes.slice();
  const before = elementCount(bytes, d.dimOffsets, d.lengthSize);
  const all = rng.chance(0.3);
  const targets = all ? d.dimOffsets : [rng.pick(d.dimOffsets)];
  const values: bigint[] = [];
  for (const off of targets) {
    const old = readUint(bytes, off, d.lengthSize);
    const v = rng.pick([...ABSURD_DIMS, 0n, old + 1n, old * 1000n, old > 0n ? old - 1n : 3n]);
    writeUint(bytes, off, d.lengthSize, v);
    values.push(v);
  }
  const after = elementCount(bytes, d.dimOffsets, d.lengthSize);
  const read = base.readDatasets.has(d.path);
  // More elements than were stored cannot be read from this file.
  return { detail: `dataset ${d.path} dims set to ${values.join(",")}`, bytes, mustFail: read && after > before ? "load" : false };
};

const h5DatasetRank: H5Mutator = (h, base, rng) => {
  const d = pickDataset(h, base, rng);
  if (!d) return undefined;
  const bytes = h.bytes.slice();
  const rankAt = d.dimOffsets[0] - (bytes[d.dimOffsets[0] - 8] === 1 ? 7 : 3);
  const v = rng.pick([0, 1, 2, 3, 4, 32, 255]);
  bytes[rankAt] = v;
  return { detail: `dataset ${d.path} rank byte set to ${v}`, bytes, mustFail: false };
};

const h5DatasetType: H5Mutator = (h, base, rng) => {
  const d = pickDataset(h, base, rng);
  if (!d || d.datatypeOffset === undefined) return undefined;
  const bytes = h.bytes.slice();
  const at = d.datatypeOffset;
  const what = rng.pick(["class", "size", "properties", "byte-order"]);
  let detail: string;
  if (what === "class") {
    const cls = rng.int(0, 15);
    bytes[at] = (bytes[at] & 0xf0) | cls;
    detail = `class ${cls}`;
  } else if (what === "size") {
    const size = rng.pick([0, 1, 2, 3, 8, 16, 0x7fffffff, 0xffffffff]);
    writeUint(bytes, at + 4, 4, BigInt(size));
    detail = `size ${size}`;
  } else if (what === "byte-order") {
    bytes[at + 1] ^= 1;
    detail = "byte order flipped";
  } else {
    for (let i = 8; i < 20; i++) if (rng.chance(0.3)) bytes[at + i] = rng.int(0, 255);
    detail = "properties scrambled";
  }
  return { detail: `dataset ${d.path} datatype ${detail}`, bytes, mustFail: false };
};

const h5DatasetLayout: H5Mutator = (h, base, rng) => {
  const list = h.map.datasets.filter((d) => d.layoutAddressOffset !== undefined);
  if (list.length === 0) return undefined;
  const d = rng.pick(list);
  const bytes = h.bytes.slice();
  const osz = h.map.offsetSize;
  const beyond = BigInt(h.bytes.length + rng.int(1, 1 << 20));
  const choice = rng.pick(["beyond-eof", "huge", "zero", "undefined", "size"]);
  let mustFail: MustFail = false;
  if (choice === "size" && d.layoutSizeOffset !== undefined) {
    writeUint(bytes, d.layoutSizeOffset, h.map.lengthSize, rng.pick([0n, 1n, 2n ** 40n, 2n ** 63n]));
  } else {
    const v = choice === "beyond-eof" ? beyond : choice === "huge" ? 2n ** 62n : choice === "zero" ? 0n : 2n ** 64n - 1n;
    writeUint(bytes, d.layoutAddressOffset!, osz, v);
    if ((choice === "beyond-eof" || choice === "huge") && base.readDatasets.has(d.path)) mustFail = "load";
  }
  return { detail: `dataset ${d.path} layout ${choice}`, bytes, mustFail };
};

const h5AttrDims: H5Mutator = (h, _b, rng) => {
  if (h.map.attributes.length === 0) return undefined;
  const a = rng.pick(h.map.attributes);
  const bytes = h.bytes.slice();
  if (a.dimOffsets.length > 0) {
    const v = rng.pick([...ABSURD_DIMS, 0n]);
    writeUint(bytes, rng.pick(a.dimOffsets), h.map.lengthSize, v);
    return { detail: `attribute ${a.owner}@${a.name} dim set to ${v}`, bytes, mustFail: false };
  }
  // A scalar has no dims to patch: scramble its datatype class instead.
  bytes[a.datatypeOffset] = (bytes[a.datatypeOffset] & 0xf0) | rng.int(0, 10);
  return { detail: `attribute ${a.owner}@${a.name} datatype class scrambled`, bytes, mustFail: false };
};

const h5AttrType: H5Mutator = (h, _b, rng) => {
  if (h.map.attributes.length === 0) return undefined;
  const a = rng.pick(h.map.attributes);
  const bytes = h.bytes.slice();
  const size = rng.pick([0, 1, 2, 0xffff, 0x7fffffff, 0xffffffff]);
  if (rng.chance(0.5)) writeUint(bytes, a.datatypeOffset + 4, 4, BigInt(size));
  else bytes[a.datatypeOffset] = (bytes[a.datatypeOffset] & 0xf0) | rng.int(0, 10);
  return { detail: `attribute ${a.owner}@${a.name} datatype changed`, bytes, mustFail: false };
};

/** Replaces the bytes of a JSON span in place (same length, padded with spaces). */
function replaceSpan(h: HdfBase, span: JsonSpan, text: Uint8Array): Uint8Array | undefined {
  const len = span.end - span.start;
  if (text.length > len) return undefined;
  const bytes = h.bytes.slice();
  bytes.set(text, span.start);
  bytes.fill(0x20, span.start + text.length, span.end);
  return bytes;
}

function isModelConfig(value: unknown): boolean {
  return typeof value === "object" && value !== null && "class_name" in value && "config" in value;
}

const h5JsonSyntax: H5Mutator = (h, base, rng) => {
  if (h.json.length === 0) return undefined;
  const configs = h.json.filter((s) => isModelConfig(s.value));
  const span = configs.length > 0 && rng.chance(0.85) ? rng.pick(configs) : rng.pick(h.json);
  const text = new TextDecoder().decode(h.bytes.subarray(span.start, span.end));
  const broken = breakJson(text, span.end - span.start, rng, true);
  const bytes = replaceSpan(h, span, broken.bytes);
  if (!bytes) return undefined;
  const parsedByLoader = isModelConfig(span.value) && base.kind === "hdf5";
  return { detail: `JSON at ${span.start}: ${broken.detail}`, bytes, mustFail: parsedByLoader && broken.invalid ? "load" : false };
};

const h5JsonSemantic: H5Mutator = (h, base, rng) => {
  const configs = h.json.filter((s) => isModelConfig(s.value));
  if (configs.length === 0) return undefined;
  const span = configs[0];
  for (let attempt = 0; attempt < 6; attempt++) {
    const m = mutateConfig(structuredClone(span.value), base, rng.fork(attempt), span.end - span.start);
    if (!m) continue;
    const bytes = replaceSpan(h, span, new TextEncoder().encode(JSON.stringify(m.value)));
    if (bytes) return { detail: `model_config: ${m.detail}`, bytes, mustFail: m.mustFail };
  }
  return undefined;
};

/** Same-length replacement of a layer name everywhere outside JSON (group names, weight_names...). */
const h5NameBytes: H5Mutator = (h, base, rng) => {
  const names = base.layerNames.filter((n) => n.length >= 3);
  if (names.length === 0) return undefined;
  const name = rng.pick(names);
  const needle = new TextEncoder().encode(name);
  const hits: number[] = [];
  for (let i = 0; i + needle.length <= h.bytes.length; i++) {
    let ok = true;
    for (let k = 0; k < needle.length && ok; k++) ok = h.bytes[i + k] === needle[k];
    if (ok) hits.push(i);
  }
  if (hits.length === 0) return undefined;
  const jsonHit = (p: number) => h.json.some((s) => p >= s.start && p < s.end);
  const replacement = nastyBytes(needle.length, rng);
  const everywhere = rng.chance(0.5);
  const bytes = h.bytes.slice();
  let count = 0;
  for (const p of hits) {
    if (jsonHit(p) && !replacement.jsonSafe) continue;
    if (!everywhere && !rng.chance(0.5)) continue;
    bytes.set(replacement.bytes, p);
    count++;
  }
  if (count === 0) return undefined;
  return { detail: `name '${name}' replaced by ${replacement.detail} at ${count}/${hits.length} places`, bytes, mustFail: false };
};

/** Same-length string attribute value change (keras_version, backend). */
const h5VersionAttr: H5Mutator = (h, _b, rng) => {
  const attrs = h.map.attributes.filter((a) => a.name === "keras_version" || a.name === "backend");
  if (attrs.length === 0) return undefined;
  const a = rng.pick(attrs);
  const bytes = h.bytes.slice();
  const len = a.value.end - a.value.start;
  const v = new TextEncoder().encode(rng.pick(["1.0.0", "9.9.9", "", "\u001b[2J", "3.", "-1", "x.y.z", "0000000000"]));
  for (let i = 0; i < len; i++) bytes[a.value.start + i] = i < v.length ? v[i] : 0;
  return { detail: `attribute ${a.owner}@${a.name} value replaced`, bytes, mustFail: false };
};

const H5_MUTATORS: [string, number, H5Mutator][] = [
  ["truncate", 14, h5Truncate],
  ["bit-flips", 14, h5BitFlips],
  ["byte-set", 8, h5ByteSet],
  ["zero-block", 6, h5ZeroBlock],
  ["dup-block", 5, h5DupBlock],
  ["dataset-dims", 8, h5DatasetDims],
  ["dataset-rank", 3, h5DatasetRank],
  ["dataset-dtype", 5, h5DatasetType],
  ["dataset-layout", 5, h5DatasetLayout],
  ["attr-dims", 4, h5AttrDims],
  ["attr-dtype", 4, h5AttrType],
  ["json-syntax", 6, h5JsonSyntax],
  ["json-semantic", 10, h5JsonSemantic],
  ["name-bytes", 5, h5NameBytes],
  ["version-attr", 2, h5VersionAttr],
];

// ---------------------------------------------------------------------------
// JSON damage
// ---------------------------------------------------------------------------

/**
 * `lossyUtf8`: the reader decodes invalid UTF-8 to U+FFFD instead of refusing it (h5wasm
 * does for HDF5 string attributes, as h5py does for Keras), so a stray byte inside a JSON
 * string is not an error there.
 */
function breakJson(text: string, maxLen: number, rng: Rng, lossyUtf8 = false): { bytes: Uint8Array; detail: string; invalid: boolean } {
  const b = breakJsonText(text, maxLen, rng);
  // Valid JSON that no loader may accept: nested past any sane depth, or not a model config at all.
  if (b.refused) return { bytes: b.bytes, detail: b.detail, invalid: true };
  let invalid = false;
  try {
    JSON.parse(new TextDecoder("utf-8", { fatal: !lossyUtf8 }).decode(b.bytes));
  } catch {
    invalid = true;
  }
  return { bytes: b.bytes, detail: b.detail, invalid };
}

function breakJsonText(text: string, maxLen: number, rng: Rng): { bytes: Uint8Array; detail: string; refused?: boolean } {
  const enc = (s: string) => new TextEncoder().encode(s);
  const kind = rng.pick(["cut", "char", "deep-array", "deep-object", "non-object", "bom", "raw-bytes", "unbalanced"]);
  switch (kind) {
    case "cut": {
      const k = rng.int(1, Math.max(1, text.length - 2));
      return { bytes: enc(text.slice(0, k)), detail: `cut after ${k} chars` };
    }
    case "char": {
      const i = rng.int(0, text.length - 1);
      const c = rng.pick(["{", "}", "[", "]", '"', ":", ",", "\\", "\u0000", "\u001b"]);
      return { bytes: enc(text.slice(0, i) + c + text.slice(i + 1)), detail: `char ${i} -> ${JSON.stringify(c)}` };
    }
    case "deep-array": {
      const n = Math.floor(maxLen / 2);
      return { bytes: enc("[".repeat(n) + "]".repeat(n)), detail: `${n} nested arrays`, refused: true };
    }
    case "deep-object": {
      const n = Math.floor((maxLen - 2) / 7);
      return { bytes: enc('{"a":'.repeat(n) + "1" + "}".repeat(n)), detail: `${n} nested objects`, refused: true };
    }
    case "non-object": {
      const v = rng.pick(["null", "1e999", '"model"', "[]", "{}", "true", "-0", '{"class_name":null}', '{"class_name":"Sequential","config":null}']);
      return { bytes: enc(v), detail: `replaced by ${v}`, refused: true };
    }
    case "bom":
      return { bytes: new Uint8Array([0xef, 0xbb, 0xbf, ...enc(text.slice(3))]), detail: "UTF-8 BOM over the first bytes" };
    case "raw-bytes": {
      const b = enc(text);
      const i = rng.int(0, b.length - 1);
      b[i] = rng.pick([0xff, 0xfe, 0xc0, 0x80]);
      return { bytes: b, detail: `invalid UTF-8 byte at ${i}` };
    }
    default: {
      const i = rng.int(1, text.length - 1);
      return { bytes: enc(text.slice(0, i) + "{" + text.slice(i + 1)), detail: `'{' at ${i}` };
    }
  }
}

// ---------------------------------------------------------------------------
// Model config semantics (shared by HDF5 model_config and .keras config.json)
// ---------------------------------------------------------------------------

type Obj = Record<string, unknown>;

interface LayerRef {
  entry: Obj;
  config: Obj;
  list: unknown[];
  index: number;
}

/** Every serialized layer `{class_name, config}` in a model config, with the list holding it. */
function layerEntries(root: unknown): LayerRef[] {
  const out: LayerRef[] = [];
  const visit = (v: unknown, depth: number) => {
    if (depth > 64 || typeof v !== "object" || v === null) return;
    if (Array.isArray(v)) {
      v.forEach((x, i) => {
        if (isLayerEntry(x)) out.push({ entry: x as Obj, config: (x as Obj).config as Obj, list: v, index: i });
        visit(x, depth + 1);
      });
      return;
    }
    for (const k of Object.keys(v)) {
      const x = (v as Obj)[k];
      if (k === "layer" && isLayerEntry(x)) out.push({ entry: x as Obj, config: (x as Obj).config as Obj, list: [], index: -1 });
      visit(x, depth + 1);
    }
  };
  visit(root, 0);
  return out;
}

function isLayerEntry(x: unknown): boolean {
  return typeof x === "object" && x !== null && typeof (x as Obj).class_name === "string" && typeof (x as Obj).config === "object" && (x as Obj).config !== null;
}

const RECURRENT = new Set(["LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU"]);

function firstRecurrentEntry(layers: LayerRef[]): LayerRef | undefined {
  return layers.find((l) => RECURRENT.has(l.entry.class_name as string));
}

function layerListOf(root: unknown): unknown[] | undefined {
  const r = root as Obj;
  if (Array.isArray(r?.config)) return r.config;
  const c = r?.config as Obj | undefined;
  return Array.isArray(c?.layers) ? c.layers : undefined;
}

const NASTY_NAMES = [
  "\u001b[31mred\u001b[0m",
  "bell\u0007",
  "\u001b]0;title\u0007",
  "csi\u009b2J",
  "rtl\u202eevil",
  "line\nbreak",
  "cr\rreturn",
  "../../etc/passwd",
  "/abs/path",
  "a/b",
  "",
  " ",
  "\u0000nul",
  "x".repeat(5000),
  "😀emoji",
  "名前",
  "\ud800lone",
  "__proto__",
  "constructor",
  "%s%n%x",
  "${process.exit(7)}",
];

interface ConfigMutation {
  value: unknown;
  detail: string;
  mustFail: MustFail;
}

/** Mutates a parsed model config; `room` is the byte budget (Infinity for zips). */
function mutateConfig(root: unknown, base: BaseFile, rng: Rng, room: number): ConfigMutation | undefined {
  const layers = layerEntries(root);
  const first = firstRecurrentEntry(layers);
  const op = rng.weighted<string>([
    ["units", 4],
    ["input-shape", 3],
    ["class-swap", 3],
    ["activation", 2],
    ["lambda", 3],
    ["type-chaos", 4],
    ["numbers", 3],
    ["inbound", 2],
    ["duplicate-name", 1],
    ["rename", room === Infinity ? 3 : 1],
    ["nest", room === Infinity ? 2 : 0.5],
  ]);
  switch (op) {
    case "units": {
      const withUnits = layers.filter((l) => typeof l.config.units === "number" || typeof l.config.output_dim === "number");
      const target = first && rng.chance(0.7) ? first : withUnits.length > 0 ? rng.pick(withUnits) : undefined;
      const key = typeof target?.config.units === "number" ? "units" : typeof target?.config.output_dim === "number" ? "output_dim" : undefined;
      if (!target || !key) return undefined;
      const u = target.config[key] as number;
      const v = rng.pick<unknown>([u + 1, Math.max(0, u - 1) === u ? u + 2 : u - 1, u * 2, 0, -1, -u, 1e12, 2 ** 53, 1e308, 1.5, String(u), null, true, [], {}]);
      target.config[key] = v;
      const contradicts = v !== u && base.loads;
      return { value: root, detail: `${target.entry.class_name} '${target.config.name}' ${key} ${u} -> ${JSON.stringify(v)}`, mustFail: contradicts && target === first ? "eval" : false };
    }
    case "input-shape": {
      const withShape = layers.filter((l) => Array.isArray(l.config.batch_input_shape) || Array.isArray(l.config.batch_shape));
      if (withShape.length === 0) return undefined;
      const t = rng.pick(withShape);
      const key = Array.isArray(t.config.batch_input_shape) ? "batch_input_shape" : "batch_shape";
      const shape = t.config[key] as unknown[];
      const i = rng.int(0, shape.length - 1);
      const old = shape[i];
      const v = rng.pick<unknown>([typeof old === "number" ? old + 1 : 5, 0, -1, -5, 1e12, 2 ** 53, 1.5, "x", null, [], 1e308]);
      shape[i] = v;
      if (rng.chance(0.15)) {
        // The whole shape replaced by something that is not one: the declaration is then unknown, not contradictory.
        const whole = rng.pick<unknown>(["abc", {}, 7, [[1, 2]], []]);
        t.config[key] = whole;
        return { value: root, detail: `${t.config.name} ${key} -> ${JSON.stringify(whole)}`, mustFail: false };
      }
      // The feature dimension must match the kernel the first recurrent layer stores: its own
      // declaration when it is the model's first layer, or that of an input layer feeding it
      // directly. (Behind an Embedding, the last dimension is the sequence length, and step
      // --raw-input feeds the recurrent layer itself. Behind an InputLayer, the layer's own
      // batch_input_shape, which tf.keras leaves in its config, is not used, by Keras either.)
      const featureDim = i === shape.length - 1 && i > 0;
      const feedsFirst = (t === first && t === layers[0]) || (t === layers[0] && first !== undefined && layers[1] === first && t.entry.class_name === "InputLayer");
      const sure = featureDim && typeof v === "number" && v !== old && base.loads && feedsFirst;
      return { value: root, detail: `${t.config.name} ${key}[${i}] ${JSON.stringify(old)} -> ${JSON.stringify(v)}`, mustFail: sure ? "eval" : false };
    }
    case "class-swap": {
      const t = first && rng.chance(0.7) ? first : layers.length > 0 ? rng.pick(layers) : undefined;
      if (!t) return undefined;
      const old = t.entry.class_name as string;
      const v = rng.pick(["LSTM", "GRU", "SimpleRNN", "Dense", "Lambda", "EvilLayer", "", "Bidirectional", "TimeDistributed", "Sequential", "Functional", "__proto__", "constructor", "toString"].filter((c) => c !== old));
      t.entry.class_name = v;
      const sure = t === first && base.loads && v !== old && !(old === "CuDNNLSTM" || old === "CuDNNGRU");
      return { value: root, detail: `${old} '${t.config.name}' -> class ${JSON.stringify(v)}`, mustFail: sure ? "eval" : false };
    }
    case "activation": {
      if (!first) return undefined;
      const key = rng.pick(["activation", "recurrent_activation"]);
      if (first.entry.class_name === "SimpleRNN" && key === "recurrent_activation") return undefined;
      const v = rng.pick<unknown>([
        "evil_activation",
        "__proto__",
        "constructor",
        "toString",
        { class_name: "function", config: JS_PAYLOAD, module: "builtins", registered_name: "function" },
        { class_name: "Lambda", config: { function: JS_PAYLOAD } },
        ["4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMEAAAAfABTACkBTqkAKQHaAXhyAQAAAHIBAAAA", null, null],
        "",
        7,
        null,
      ]);
      first.config[key] = v;
      const sure = base.loads && v !== null;
      return { value: root, detail: `'${first.config.name}' ${key} -> ${JSON.stringify(v).slice(0, 60)}`, mustFail: sure ? "eval" : false };
    }
    case "lambda": {
      const list = layerListOf(root);
      if (!list || !first || first.list !== list) return undefined;
      const fn = rng.pick<unknown>([
        [JS_PAYLOAD, null, null],
        ["4wEAAAAAAAAAAAAAAAEAAAACAAAAQwAAAHMEAAAAfABTACkBTqkAKQHaAXhyAQAAAHIBAAAA", null, null],
        { class_name: "__lambda__", config: { code: JS_PAYLOAD, defaults: null, closure: null } },
        PY_PAYLOAD,
      ]);
      const lambda = {
        class_name: "Lambda",
        config: { name: "lambda_fuzz", trainable: true, function: fn, function_type: "lambda", module: "__main__", output_shape: null, arguments: {} },
      };
      list.splice(first.index, 0, lambda);
      return { value: root, detail: `Lambda layer with a serialized function inserted before '${first.config.name}'`, mustFail: base.loads && layerListOf(root) === list && first.index === 0 ? "eval-upstream" : false };
    }
    case "type-chaos": {
      const nodes: { holder: Obj | unknown[]; key: string | number }[] = [];
      const visit = (v: unknown, depth: number) => {
        if (depth > 40 || typeof v !== "object" || v === null) return;
        for (const k of Object.keys(v)) {
          nodes.push({ holder: v as Obj, key: Array.isArray(v) ? Number(k) : k });
          visit((v as Obj)[k], depth + 1);
        }
      };
      visit(root, 0);
      if (nodes.length === 0) return undefined;
      const n = rng.pick(nodes);
      const v = rng.pick<unknown>([null, 0, -1, 1e308, -1e308, 2 ** 64, "", "x", [], {}, [[[]]], true, { class_name: "Sequential", config: null }, "\u001b[2J"]);
      (n.holder as Obj)[n.key as string] = v;
      return { value: root, detail: `value at key ${JSON.stringify(n.key)} -> ${JSON.stringify(v)}`, mustFail: false };
    }
    case "numbers": {
      const nums: { holder: Obj; key: string }[] = [];
      const visit = (v: unknown, depth: number) => {
        if (depth > 40 || typeof v !== "object" || v === null) return;
        for (const k of Object.keys(v)) {
          const x = (v as Obj)[k];
          if (typeof x === "number") nums.push({ holder: v as Obj, key: k });
          visit(x, depth + 1);
        }
      };
      visit(root, 0);
      if (nums.length === 0) return undefined;
      const n = rng.pick(nums);
      const v = rng.pick([1e308, -1e308, 2 ** 53 + 2, 2 ** 31, -(2 ** 31), 1e-320, -0, 0.5, 65536, 4294967296]);
      n.holder[n.key] = v;
      return { value: root, detail: `number ${n.key} -> ${v}`, mustFail: false };
    }
    case "inbound": {
      const withInbound = layers.filter((l) => Array.isArray(l.entry.inbound_nodes) && (l.entry.inbound_nodes as unknown[]).length > 0);
      if (withInbound.length === 0) return undefined;
      const t = rng.pick(withInbound);
      const self = t.config.name;
      const v = rng.pick<unknown>([
        [[[self, 0, 0, {}]]],
        [[["no_such_layer", 0, 0, {}]]],
        [[[layers[layers.length - 1].config.name, 0, 0, {}]]],
        [[[self, 1e9, 0, {}]]],
        [[[self, -1, -1, {}]]],
        [{ args: [{ class_name: "__keras_tensor__", config: { keras_history: [self, 0, 0] } }], kwargs: {} }],
        "nodes",
        [[]],
        [null],
      ]);
      t.entry.inbound_nodes = v;
      return { value: root, detail: `inbound_nodes of '${self}' -> ${JSON.stringify(v).slice(0, 80)}`, mustFail: false };
    }
    case "duplicate-name": {
      const list = layerListOf(root);
      if (!list || list.length < 2) return undefined;
      const a = list[0] as Obj;
      const b = list[list.length - 1] as Obj;
      if (!isLayerEntry(a) || !isLayerEntry(b)) return undefined;
      (b.config as Obj).name = (a.config as Obj).name;
      if (typeof b.name === "string") b.name = (a.config as Obj).name;
      return { value: root, detail: `last layer renamed to '${(a.config as Obj).name}'`, mustFail: base.loads ? "load" : false };
    }
    case "rename": {
      if (layers.length === 0) return undefined;
      const t = rng.pick(layers);
      const v = rng.pick(NASTY_NAMES);
      t.config.name = v;
      if (typeof t.entry.name === "string") t.entry.name = v;
      return { value: root, detail: `layer renamed to ${JSON.stringify(v).slice(0, 40)}`, mustFail: false };
    }
    default: {
      // nest: wrap the layer list into k nested Sequential models.
      const list = layerListOf(root);
      if (!list) return undefined;
      // Deeper nesting would overflow JSON.stringify here; the loader's depth limits are tested by json-syntax.
      const k = rng.pick([2, 8, 33, 200]);
      let inner: unknown = { class_name: "Sequential", config: { name: "nested_0", layers: list.slice() } };
      for (let i = 1; i < k; i++) inner = { class_name: "Sequential", config: { name: `nested_${i}`, layers: [inner] } };
      list.splice(0, list.length, inner);
      return { value: root, detail: `layers wrapped in ${k} nested Sequential models`, mustFail: k > 32 && base.loads ? "load" : false };
    }
  }
}

// ---------------------------------------------------------------------------
// Nasty same-length byte strings (for in-place name replacement)
// ---------------------------------------------------------------------------

function nastyBytes(len: number, rng: Rng): { bytes: Uint8Array; detail: string; jsonSafe: boolean } {
  const variants: [string, () => number[], boolean][] = [
    ["ESC sequence", () => [0x1b, 0x5b, 0x33, 0x31, 0x6d], false],
    ["BEL", () => [0x07], false],
    ["C1 CSI (UTF-8)", () => [0xc2, 0x9b], true],
    ["RTL override", () => [0xe2, 0x80, 0xae], true],
    ["invalid UTF-8", () => [0xff, 0xfe], false],
    ["NUL", () => [0x00], false],
    ["dot-dot-slash", () => [0x2e, 0x2e, 0x2f], true],
    ["slash", () => [0x2f], true],
    ["newline", () => [0x0a], false],
  ];
  const [detail, make, jsonSafe] = rng.pick(variants);
  const pattern = make();
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++) out[i] = i < pattern.length ? pattern[i] : 0x61 + (i % 26);
  // Keep the original length even when the pattern is longer.
  return { bytes: out.subarray(0, len), detail, jsonSafe };
}

// ---------------------------------------------------------------------------
// .keras (zip) mutators
// ---------------------------------------------------------------------------

const WANTED = new Set(["config.json", "metadata.json", "model.weights.h5"]);

function entriesOf(base: BaseFile): WriteEntry[] {
  return (base.zip?.entries ?? []).map((e) => ({ name: e.name, content: base.entries!.get(e.text)!, method: e.method === 8 ? 8 : 0 }));
}

function withEntry(base: BaseFile, name: string, content: Uint8Array): WriteEntry[] {
  return entriesOf(base).map((e) => (new TextDecoder().decode(e.name as Uint8Array) === name ? { ...e, content } : e));
}

function wantedEntries(base: BaseFile): ZipEntry[] {
  return (base.zip?.entries ?? []).filter((e) => WANTED.has(e.text));
}

const zipTruncate = (base: BaseFile, rng: Rng): Result => {
  const z = base.zip!;
  const places: [string, number, number][] = [
    ["end of central directory", z.eocd, base.bytes.length],
    ["central directory", z.cdStart, z.cdEnd],
    ...z.entries.map((e): [string, number, number] => [`local header of ${e.text}`, e.localOffset, e.dataStart]),
    ...z.entries.map((e): [string, number, number] => [`data of ${e.text}`, e.dataStart, e.dataEnd]),
    ["anywhere", 0, base.bytes.length],
  ];
  const [where, lo, hi] = rng.pick(places);
  const cut = Math.min(base.bytes.length - 1, rng.int(lo, Math.max(lo, hi - 1)));
  return { detail: `truncated to ${cut} of ${base.bytes.length} bytes, inside ${where}`, bytes: base.bytes.slice(0, cut), mustFail: "load" };
};

const zipFlips = (base: BaseFile, rng: Rng): Result => {
  const bytes = base.bytes.slice();
  const wanted = wantedEntries(base);
  const inData = rng.chance(0.6) && wanted.length > 0;
  const target = inData ? rng.pick(wanted) : undefined;
  const n = rng.pick([1, 1, 2, 4, 16]);
  let hitsData = false;
  for (let i = 0; i < n; i++) {
    const p = target ? rng.int(target.dataStart, target.dataEnd - 1) : rng.int(0, bytes.length - 1);
    bytes[p] ^= 1 << rng.int(0, 7);
    if (wanted.some((e) => p >= e.dataStart && p < e.dataEnd)) hitsData = true;
  }
  // Flips cancelling out (same bit twice) leave the file intact.
  const changed = bytes.some((b, i) => b !== base.bytes[i]);
  return { detail: `${n} bit flip(s) ${target ? `in the data of ${target.text}` : "anywhere"}`, bytes, mustFail: hitsData && changed ? "load" : false };
};

const CD_FIELDS: [string, number, number][] = [
  ["flags", 8, 2],
  ["method", 10, 2],
  ["crc", 16, 4],
  ["compressed size", 20, 4],
  ["size", 24, 4],
  ["name length", 28, 2],
  ["extra length", 30, 2],
  ["comment length", 32, 2],
  ["local header offset", 42, 4],
];

const zipCdField = (base: BaseFile, rng: Rng): Result => {
  const z = base.zip!;
  const bytes = base.bytes.slice();
  if (rng.chance(0.25)) {
    const [field, off, size] = rng.pick<[string, number, number]>([
      ["entry count", 10, 2],
      ["entries on disk", 8, 2],
      ["CD size", 12, 4],
      ["CD offset", 16, 4],
      ["comment length", 20, 2],
    ]);
    const v = rng.pick([0, 1, 0xffff, 0xffffffff, rng.int(0, base.bytes.length)]) % 2 ** (8 * size);
    writeUint(bytes, z.eocd + off, size, BigInt(v));
    return { detail: `EOCD ${field} -> ${v}`, bytes, mustFail: false };
  }
  const e = rng.pick(z.entries);
  const [field, off, size] = rng.pick(CD_FIELDS);
  const old = Number(readUint(bytes, e.cdOffset + off, size));
  let v = rng.pick([0, 1, old + 1, old - 1, 0xffff, 0xffffffff, rng.int(0, 2 ** (8 * size) - 1)]);
  if (field === "method") v = rng.pick([8, 1, 9, 12, 14, 93, 99, 0xffff]);
  v = ((v % 2 ** (8 * size)) + 2 ** (8 * size)) % 2 ** (8 * size);
  if (v === old) return undefined;
  writeUint(bytes, e.cdOffset + off, size, BigInt(v));
  const lying = WANTED.has(e.text) && ["crc", "compressed size", "size", "local header offset", "method"].includes(field);
  return { detail: `central directory ${field} of ${e.text}: ${old} -> ${v}`, bytes, mustFail: lying ? "load" : false };
};

let zerosDeflated: Uint8Array | undefined;

/** Inflated sizes of the lying bombs: 64 MiB, 512 MiB, 2.25 GiB (made once per size; the last takes ~6 s). */
const LYING_BOMB_SIZES = [64 * 2 ** 20, 512 * 2 ** 20, 36 * 64 * 2 ** 20];

const zipBomb = async (base: BaseFile, rng: Rng): Promise<Result> => {
  const target = rng.pick(["model.weights.h5", "config.json", "metadata.json"]);
  const variant = rng.pick(["declared-small", "declared-huge", "declared-under-cap", "honest-zeros", "method-9", "lying", "lying"]);
  zerosDeflated ??= deflateSync(new Uint8Array(48 * 1024 * 1024), { level: 9 });
  // A lying bomb: a stream of zeros 1,000-100,000 times what the headers declare.
  const lyingSize = rng.pick(LYING_BOMB_SIZES);
  const lying = variant === "lying" ? await deflatedZeros(lyingSize) : undefined;
  let detail = variant;
  const entries = entriesOf(base).map((e): WriteEntry => {
    if (new TextDecoder().decode(e.name as Uint8Array) !== target) return e;
    switch (variant) {
      case "declared-small":
        return { ...e, content: new Uint8Array(48 * 1024 * 1024), raw: zerosDeflated, method: 8, declaredSize: rng.pick([0, 1000, e.content.length]) };
      case "declared-huge":
        return { ...e, method: 8, declaredSize: rng.pick([0x7fffffff, 0xffffffff, 0x40000001]) };
      case "declared-under-cap":
        return { ...e, method: 8, declaredSize: rng.pick([900 * 1024 * 1024, 300 * 1024 * 1024, 65 * 1024 * 1024]) };
      case "honest-zeros":
        return { ...e, content: new Uint8Array(48 * 1024 * 1024), raw: zerosDeflated, method: 8 };
      case "lying": {
        // Headers that claim the real entry (its size and CRC, or a smaller size): only the stream lies.
        const declaredSize = rng.pick([e.content.length, Math.max(1, e.content.length >> 4), 1000]);
        detail = `lying: ${lying!.length} bytes inflating to ${lyingSize} declared as ${declaredSize}`;
        return { ...e, raw: lying, method: 8, declaredSize };
      }
      default:
        return { ...e, method: 8, methodField: 9 };
    }
  });
  // Every variant must be refused: sizes that lie, sizes over the cap, or 48 MB of zeros that are neither JSON nor HDF5.
  // All but honest-zeros claim work they do not hold, so their refusal must be quick too; honest-zeros is bounded by the size limits.
  return { detail: `zip bomb (${detail}) in ${target}`, bytes: writeZip(entries), mustFail: "load", bounded: variant !== "honest-zeros" };
};

const UNSAFE = ["../evil.txt", "/etc/passwd", "C:\\evil", "a/../../b", "..", "\\\\server\\share\\x", "foo/..\\..\\bar", "../model.weights.h5", "/config.json"];

const zipNames = (base: BaseFile, rng: Rng): Result => {
  const variant = rng.pick(["unsafe", "non-utf8-extra", "non-utf8-rename", "control-chars", "near-miss"]);
  const entries = entriesOf(base);
  const garbage = new TextEncoder().encode("x");
  switch (variant) {
    case "unsafe": {
      const name = rng.pick(UNSAFE);
      entries.splice(rng.int(0, entries.length), 0, { name, content: garbage });
      return { detail: `entry named ${JSON.stringify(name)} added`, bytes: writeZip(entries), mustFail: "load" };
    }
    case "non-utf8-extra": {
      const name = new Uint8Array([0x6d, 0xff, 0xfe, 0xc0, 0xaf, 0x2e, 0x68, 0x35]);
      entries.push({ name, content: garbage, flags: rng.pick([0, 0x0800]) });
      return { detail: "extra entry with a non-UTF-8 name", bytes: writeZip(entries), mustFail: false };
    }
    case "non-utf8-rename": {
      const i = rng.int(0, entries.length - 1);
      const n = new Uint8Array(entries[i].name as Uint8Array);
      n[rng.int(0, n.length - 1)] = rng.pick([0xff, 0xc0, 0x80]);
      const wasWanted = WANTED.has(new TextDecoder().decode(entries[i].name as Uint8Array)) && !new TextDecoder().decode(entries[i].name as Uint8Array).startsWith("metadata");
      entries[i] = { ...entries[i], name: n, flags: rng.pick([0, 0x0800]) };
      return { detail: "an entry name made non-UTF-8", bytes: writeZip(entries), mustFail: wasWanted ? "load" : false };
    }
    case "control-chars": {
      entries.push({ name: "\u001b[31mred\u001b[0m\u0007.txt", content: garbage });
      if (rng.chance(0.5)) entries.splice(entries.findIndex((e) => new TextDecoder().decode(e.name as Uint8Array) === "config.json"), 1);
      return { detail: "entry name with ESC/BEL (config.json maybe removed)", bytes: writeZip(entries), mustFail: false };
    }
    default: {
      const name = rng.pick(["Config.json", "config.json ", "./config.json", "config.json\u0000", "model.weights.h5/"]);
      const i = entries.findIndex((e) => new TextDecoder().decode(e.name as Uint8Array) === "config.json");
      if (i < 0) return undefined;
      entries[i] = { ...entries[i], name };
      return { detail: `config.json renamed ${JSON.stringify(name)}`, bytes: writeZip(entries), mustFail: "load" };
    }
  }
};

const zipDuplicate = (base: BaseFile, rng: Rng): Result => {
  const entries = entriesOf(base);
  const name = rng.pick(["config.json", "model.weights.h5", "metadata.json"]);
  const orig = entries.find((e) => new TextDecoder().decode(e.name as Uint8Array) === name);
  if (!orig) return undefined;
  const other = rng.chance(0.5) ? orig.content : new TextEncoder().encode(name.endsWith(".json") ? '{"class_name":"Sequential","config":{"name":"impostor","layers":[]}}' : "not hdf5");
  entries.splice(rng.chance(0.5) ? 0 : entries.length, 0, { name, content: other });
  return { detail: `second ${name} entry (${other === orig.content ? "identical" : "different"})`, bytes: writeZip(entries), mustFail: "load" };
};

const zipMissing = (base: BaseFile, rng: Rng): Result => {
  const name = rng.pick(["config.json", "model.weights.h5", "metadata.json"]);
  const entries = entriesOf(base).filter((e) => new TextDecoder().decode(e.name as Uint8Array) !== name);
  return { detail: `${name} removed`, bytes: writeZip(entries), mustFail: name === "metadata.json" ? false : "load" };
};

const zipManyEntries = (base: BaseFile, rng: Rng): Result => {
  const n = rng.pick([1000, 5000, 20000]);
  const entries = entriesOf(base);
  for (let i = 0; i < n; i++) entries.push({ name: `assets/${i}`, content: new Uint8Array(0) });
  return { detail: `${n} extra empty entries`, bytes: writeZip(entries), mustFail: false };
};

const zipZip64 = (base: BaseFile, rng: Rng): Result => {
  // A zip64 end record + locator whose entry count and CD offset are absurd.
  const plain = writeZip(entriesOf(base));
  const eocd = plain.length - 22;
  const rec = new Uint8Array(56);
  const rv = new DataView(rec.buffer);
  rv.setUint32(0, 0x06064b50, true);
  rv.setBigUint64(4, 44n, true);
  const count = rng.pick([0xffffffffn, 2n ** 40n, 100000n]);
  rv.setBigUint64(24, count, true);
  rv.setBigUint64(32, count, true);
  rv.setBigUint64(40, 46n, true);
  rv.setBigUint64(48, BigInt(rng.pick([0, 0xffffffff, eocd])), true);
  const loc = new Uint8Array(20);
  const lv = new DataView(loc.buffer);
  lv.setUint32(0, 0x07064b50, true);
  lv.setBigUint64(8, BigInt(eocd), true);
  const out = new Uint8Array(plain.length + rec.length + loc.length);
  out.set(plain.subarray(0, eocd), 0);
  out.set(rec, eocd);
  out.set(loc, eocd + rec.length);
  out.set(plain.subarray(eocd), eocd + rec.length + loc.length);
  return { detail: `zip64 end record claiming ${count} entries`, bytes: out, mustFail: false };
};

const zipConfigSyntax = (base: BaseFile, rng: Rng): Result => {
  const name = rng.chance(0.8) ? "config.json" : "metadata.json";
  const content = base.entries?.get(name);
  if (!content) return undefined;
  const text = new TextDecoder().decode(content);
  const variant = rng.pick(["break", "deep", "huge-string"]);
  let bytes: Uint8Array;
  let detail: string;
  if (variant === "break") {
    const b = breakJson(text, text.length, rng);
    bytes = b.bytes;
    detail = b.detail;
    // metadata.json only has to be JSON: '{}' or '[]' there is fine (keras_version is then unknown).
    let mustFail: MustFail = b.invalid ? "load" : false;
    if (name === "metadata.json") {
      try {
        JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
        if (!/^\[{200}|(\{"a":){100}/.test(new TextDecoder().decode(bytes))) mustFail = false;
      } catch {
        /* invalid JSON: must fail */
      }
    }
    return { detail: `${name}: ${detail}`, bytes: writeZip(withEntry(base, name, bytes)), mustFail };
  } else if (variant === "deep") {
    const n = rng.pick([250, 10000, 1000000]);
    bytes = new TextEncoder().encode(`{"class_name":"Sequential","config":{"name":"deep","layers":[${"[".repeat(n)}${"]".repeat(n)}]}}`);
    detail = `${n} nested arrays`;
  } else {
    bytes = new TextEncoder().encode(`{"class_name":"Sequential","config":{"name":"${"x".repeat(rng.pick([1 << 20, 8 << 20]))}","layers":[]}}`);
    detail = "a multi-megabyte name, no layers";
    // An empty model with a long name is still a model: anything clean goes.
    return { detail: `${name}: ${detail}`, bytes: writeZip(withEntry(base, name, bytes)), mustFail: false };
  }
  return { detail: `${name}: ${detail}`, bytes: writeZip(withEntry(base, name, bytes)), mustFail: "load" };
};

const zipConfigSemantic = (base: BaseFile, rng: Rng): Result => {
  const content = base.entries?.get("config.json");
  if (!content) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder().decode(content));
  } catch {
    return undefined;
  }
  const m = mutateConfig(value, base, rng, Infinity);
  if (!m) return undefined;
  if (rng.chance(0.2)) {
    const meta = { keras_version: rng.pick<unknown>(["1.0.0", "2.2.4", "99.0", "", 5, null, "\u001b[2J"]), date_saved: "x" };
    const entries = withEntry(base, "config.json", new TextEncoder().encode(JSON.stringify(m.value))).map((e) =>
      new TextDecoder().decode(e.name as Uint8Array) === "metadata.json" ? { ...e, content: new TextEncoder().encode(JSON.stringify(meta)) } : e,
    );
    return { detail: `config.json: ${m.detail}; metadata ${JSON.stringify(meta.keras_version)}`, bytes: writeZip(entries), mustFail: m.mustFail };
  }
  return { detail: `config.json: ${m.detail}`, bytes: writeZip(withEntry(base, "config.json", new TextEncoder().encode(JSON.stringify(m.value)))), mustFail: m.mustFail };
};

const zipInner = (base: BaseFile, rng: Rng): Result => {
  if (!base.h5) return undefined;
  const [name, , fn] = rng.weighted(H5_MUTATORS.filter(([n]) => n !== "json-syntax" && n !== "json-semantic").map((m) => [m, m[1]] as const));
  const r = fn(base.h5, base, rng);
  if (!r) return undefined;
  return { detail: `model.weights.h5 ${name}: ${r.detail}`, bytes: writeZip(withEntry(base, "model.weights.h5", r.bytes)), mustFail: r.mustFail };
};

// ---------------------------------------------------------------------------
// Synthesized files (samples/keras-h5-writer.mjs): valid HDF5, nasty content
// ---------------------------------------------------------------------------

interface Writer {
  writeKerasH5(spec: unknown): Promise<Uint8Array>;
  lstmConfig(name: string, units: number, extra?: object): Obj;
  gruConfig(name: string, units: number, extra?: object): Obj;
  simpleRnnConfig(name: string, units: number, extra?: object): Obj;
  denseConfig(name: string, units: number, extra?: object): Obj;
  sequentialConfig(name: string, layers: unknown[]): Obj;
}

let writerModule: Promise<Writer> | undefined;

export function loadWriter(repoRoot: string): Promise<Writer> {
  writerModule ??= import(pathToFileURL(join(repoRoot, "samples/keras-h5-writer.mjs")).href) as Promise<Writer>;
  return writerModule;
}

function randomWeights(n: number, rng: Rng): number[] {
  return Array.from({ length: n }, () => Math.round((rng.float() - 0.5) * 2000) / 1000);
}

/** A one-recurrent-layer Sequential model (+ optional Dense) with chosen names. */
async function synthModel(writer: Writer, rng: Rng, opts: { rnnName: string; denseName: string; extraLayers?: (layers: Obj[]) => void; weightsOverride?: (w: number[]) => number[]; configUnits?: number }) {
  const kind = rng.pick(["LSTM", "GRU", "SimpleRNN"] as const);
  const gates = kind === "LSTM" ? 4 : kind === "GRU" ? 3 : 1;
  const units = rng.int(1, 3);
  const dim = rng.int(1, 3);
  const steps = rng.int(1, 3);
  const make = kind === "LSTM" ? writer.lstmConfig : kind === "GRU" ? writer.gruConfig : writer.simpleRnnConfig;
  const rnn = make(opts.rnnName, opts.configUnits ?? units, { batch_input_shape: [null, steps, dim], dtype: "float32", return_sequences: false });
  const dense = writer.denseConfig(opts.denseName, 1);
  const layers = [rnn, dense];
  opts.extraLayers?.(layers);
  const w = (n: number) => (opts.weightsOverride ?? ((x) => x))(randomWeights(n, rng));
  const spec = {
    modelConfig: writer.sequentialConfig("sequential_1", layers),
    layers: [
      {
        name: opts.rnnName,
        weights: [
          { name: `${opts.rnnName}/kernel:0`, shape: [dim, gates * units], data: w(dim * gates * units) },
          { name: `${opts.rnnName}/recurrent_kernel:0`, shape: [units, gates * units], data: w(units * gates * units) },
          { name: `${opts.rnnName}/bias:0`, shape: [gates * units], data: w(gates * units) },
        ],
      },
      {
        name: opts.denseName,
        weights: [
          { name: `${opts.denseName}/kernel:0`, shape: [units, 1], data: w(units) },
          { name: `${opts.denseName}/bias:0`, shape: [1], data: w(1) },
        ],
      },
    ],
  };
  return { spec, kind, steps, dim, inputArgs: ["--input", JSON.stringify(Array.from({ length: steps }, (_, t) => Array.from({ length: dim }, (_, j) => Math.round(Math.sin(t + 2 * j) * 100) / 100)))] };
}

const synthNames = async (_b: BaseFile, rng: Rng, ctx: MutateContext): Promise<Result> => {
  const writer = await loadWriter(ctx.repoRoot);
  // HDF5 link names cannot hold '/' or NUL, nor be '.'; names stay short so tables print them whole.
  const storable = NASTY_NAMES.filter((n) => n.trim().length > 0 && !/[/\u0000]/.test(n) && n.length < 1000);
  const rnnName = rng.pick(storable);
  const denseName = rng.pick(storable.filter((n) => n !== rnnName));
  const state = rng.u32();
  const nasty = await synthModel(writer, new Rng(state), { rnnName, denseName });
  const plain = await synthModel(writer, new Rng(state), { rnnName: "rnn_plain", denseName: "dense_plain" });
  return {
    detail: `synthesized ${nasty.kind} named ${JSON.stringify(rnnName)} + Dense ${JSON.stringify(denseName)}`,
    bytes: await writer.writeKerasH5(nasty.spec),
    twin: await writer.writeKerasH5(plain.spec),
    mustFail: false,
    inputArgs: nasty.inputArgs,
  };
};

const synthContradiction = async (_b: BaseFile, rng: Rng, ctx: MutateContext): Promise<Result> => {
  const writer = await loadWriter(ctx.repoRoot);
  const units = rng.pick([0, 2, 5, 1000, -1]);
  const m = await synthModel(writer, rng, { rnnName: "rnn", denseName: "dense", configUnits: units });
  const stored = (m.spec.layers[0].weights[1].shape as number[])[0];
  if (stored === units) return undefined;
  return { detail: `synthesized ${m.kind} whose config says units=${units} but stores ${stored}`, bytes: await writer.writeKerasH5(m.spec), mustFail: "eval", inputArgs: m.inputArgs };
};

const synthLambda = async (_b: BaseFile, rng: Rng, ctx: MutateContext): Promise<Result> => {
  const writer = await loadWriter(ctx.repoRoot);
  const fn = rng.pick<unknown>([[JS_PAYLOAD, null, null], PY_PAYLOAD, { class_name: "__lambda__", config: { code: JS_PAYLOAD } }]);
  const m = await synthModel(writer, rng, {
    rnnName: "rnn",
    denseName: "dense",
    extraLayers: (layers) => {
      const rnnCfg = layers[0].config as Obj;
      const lambda = { class_name: "Lambda", config: { name: "lambda_1", function: fn, function_type: "lambda", module: "__main__", arguments: {}, batch_input_shape: rnnCfg.batch_input_shape } };
      delete rnnCfg.batch_input_shape;
      layers.unshift(lambda);
    },
  });
  return { detail: "synthesized model with a Lambda layer first", bytes: await writer.writeKerasH5(m.spec), mustFail: "eval-upstream", inputArgs: m.inputArgs };
};

const synthNaN = async (_b: BaseFile, rng: Rng, ctx: MutateContext): Promise<Result> => {
  const writer = await loadWriter(ctx.repoRoot);
  const bad = rng.pick([NaN, Infinity, -Infinity, 3e38]);
  const m = await synthModel(writer, rng, { rnnName: "rnn", denseName: "dense", weightsOverride: (w) => w.map((x, i) => (i === 0 ? bad : x)) });
  return { detail: `synthesized model with a ${bad} weight`, bytes: await writer.writeKerasH5(m.spec), mustFail: false, inputArgs: m.inputArgs };
};

/** Chunk sizes (inputDim, units: a kernel of inputDim × 4·units float32 values in one chunk) and inflation ratios of the HDF5 chunk bombs. */
const CHUNK_BOMB_SHAPES: [number, number][] = [
  [64, 64],
  [256, 64],
  [512, 128],
];
const CHUNK_BOMB_RATIOS = [8, 100, 1000];

/**
 * synth-chunk-bomb (issue 17): an LSTM whose kernel is one deflate chunk (64 KiB, 256 KiB or
 * 1 MiB) whose stream inflates to 8, 100 or 1000 times the chunk (test/fuzz/chunk-bomb.ts),
 * behind a version 1 B-tree chunk index (h5py's) or the version 4 layout (libver "latest").
 * Every run must end within the bound for bombs. Behind a v1 B-tree every such chunk must be
 * refused by whatever reads the kernel (each chunk is inflated first with a hard stop). Behind
 * the v4 layout a stream past the heap a read may take (4 × the chunk + 16 MiB, and what the
 * heap already holds) must be; a shorter one is read as HDF5 reads it (the chunk's first
 * bytes), so for those anything clean goes. The 1 GiB one (1 MiB × 1000) is past it in any process.
 */
const synthChunkBomb = async (_b: BaseFile, rng: Rng, ctx: MutateContext): Promise<Result> => {
  const [inputDim, units] = rng.pick(CHUNK_BOMB_SHAPES);
  const ratio = rng.pick(CHUNK_BOMB_RATIOS);
  const libver = rng.pick([undefined, "latest"]);
  const bomb = await chunkBombModel(await loadWriter(ctx.repoRoot), { inputDim, units, ratio, seed: rng.u32(), libver });
  return {
    detail: `HDF5 chunk bomb${libver ? " (version 4 layout)" : ""}: the LSTM kernel's ${bomb.chunkBytes}-byte chunk holds ${bomb.streamBytes} bytes of deflate inflating to ${bomb.inflated} (x${ratio})`,
    bytes: bomb.bytes,
    mustFail: !libver || bomb.inflated >= 512 * 2 ** 20 ? "eval" : false,
    inputArgs: bomb.inputArgs,
    bounded: true,
  };
};

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

/** The writer refuses some specs (h5wasm prints its diagnostics first); such a draw just produces no file. */
function quiet(fn: (b: BaseFile, rng: Rng, ctx: MutateContext) => Promise<Result>) {
  return async (b: BaseFile, rng: Rng, ctx: MutateContext): Promise<Result> => {
    const write = process.stderr.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      return await fn(b, rng, ctx);
    } catch {
      return undefined;
    } finally {
      process.stderr.write = write;
    }
  };
}

// ---------------------------------------------------------------------------
// TFLite mutators (a flatbuffer: uoffsets forward from where they are stored, vectors as a
// u32 count then their elements, tables reaching their vtable by an i32; src/load/tflite-schema.ts)
// ---------------------------------------------------------------------------

/** 4-aligned words that could be a uoffset: a forward distance, a multiple of 4, landing inside the file. */
function flatOffsets(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let at = 0; at + 4 <= bytes.length; at += 4) {
    const v = view.getUint32(at, true);
    if (v > 0 && v % 4 === 0 && at + v + 4 <= bytes.length) out.push(at);
  }
  return out;
}

/** 4-aligned words holding a small count or dimension (vector lengths, shapes, indices). */
function flatSmallInts(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: number[] = [];
  for (let at = 8; at + 4 <= bytes.length; at += 4) {
    const v = view.getInt32(at, true);
    if (v >= 1 && v <= 4096) out.push(at);
  }
  return out;
}

const setWord = (bytes: Uint8Array, at: number, v: number) => new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(at, v >>> 0, true);

const tfliteTruncate = (base: BaseFile, rng: Rng): Result => {
  const cut = rng.weighted([
    [rng.int(0, Math.min(64, base.bytes.length - 1)), 1],
    [rng.int(0, base.bytes.length - 1), 4],
    [Math.max(0, base.bytes.length - rng.int(1, 256)), 1],
  ]);
  // A cut in trailing padding may leave every read byte in place: anything but a crash is fine.
  return { detail: `truncated to ${cut} of ${base.bytes.length} bytes`, bytes: base.bytes.slice(0, cut), mustFail: cut < 8 ? "load" : false };
};

const tfliteFlips = (base: BaseFile, rng: Rng): Result => {
  const bytes = base.bytes.slice();
  const n = rng.pick([1, 1, 2, 4, 16, 64]);
  // The tables sit around the buffers' data; flip anywhere, or among the first KB (root, vtables).
  const head = rng.chance(0.4);
  for (let i = 0; i < n; i++) bytes[head ? rng.int(0, Math.min(1023, bytes.length - 1)) : rng.int(0, bytes.length - 1)] ^= 1 << rng.int(0, 7);
  return { detail: `${n} bit flip(s) ${head ? "in the first KB" : "anywhere"}`, bytes, mustFail: false };
};

const tfliteOffsets = (base: BaseFile, rng: Rng): Result => {
  const candidates = flatOffsets(base.bytes);
  if (candidates.length === 0) return undefined;
  const bytes = base.bytes.slice();
  const n = rng.pick([1, 1, 2, 3]);
  const what: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = rng.pick(candidates);
    const [label, v] = rng.pick<[string, number]>([
      ["0 (the field points at itself: a cycle)", 0],
      ["0xffffffff", 0xffffffff],
      ["0x7fffffff", 0x7fffffff],
      ["just past the end", bytes.length - at],
      ["straddling the end", bytes.length - at - 2],
      ["misaligned by 1", (new DataView(bytes.buffer).getUint32(at, true) + 1) >>> 0],
      ["at another offset's target (a table of the wrong type, or a shared one)", rng.pick(candidates) - at],
      ["back to the root", bytes.length > at ? -at : 0],
    ]);
    setWord(bytes, at, v);
    what.push(`word at ${at} → ${label}`);
  }
  return { detail: `offset(s) changed: ${what.join("; ")}`, bytes, mustFail: false };
};

const tfliteLengths = (base: BaseFile, rng: Rng): Result => {
  const candidates = flatSmallInts(base.bytes);
  if (candidates.length === 0) return undefined;
  const bytes = base.bytes.slice();
  const n = rng.pick([1, 1, 2, 4]);
  const what: string[] = [];
  for (let i = 0; i < n; i++) {
    const at = rng.pick(candidates);
    const old = new DataView(bytes.buffer).getInt32(at, true);
    const [label, v] = rng.pick<[string, number]>([
      ["2^31 - 1", 0x7fffffff],
      ["2^32 - 1 (-1)", 0xffffffff],
      ["1e9", 1e9],
      ["0", 0],
      ["x1000", old * 1000],
      ["2^30 + 1", 2 ** 30 + 1],
      ["-2^31", 0x80000000],
      ["+1", old + 1],
    ]);
    setWord(bytes, at, v);
    what.push(`${old} at ${at} → ${label}`);
  }
  return { detail: `count/shape/index word(s) changed: ${what.join("; ")}`, bytes, mustFail: false };
};

const isTflite = (b: BaseFile) => b.kind === "tflite";

const isH5 = (b: BaseFile) => b.kind === "hdf5" && b.h5 !== undefined;
const isZip = (b: BaseFile) => b.kind === "zip" && b.zip !== undefined && b.entries !== undefined;
const h5 = (fn: H5Mutator) => (b: BaseFile, rng: Rng) => fn(b.h5!, b, rng);

export const MUTATORS: Mutator[] = [
  ...H5_MUTATORS.map(([name, weight, fn]): Mutator => ({ name: `h5-${name}`, weight, applies: isH5, run: h5(fn) })),
  { name: "zip-truncate", weight: 10, applies: isZip, run: zipTruncate },
  { name: "zip-flips", weight: 10, applies: isZip, run: zipFlips },
  { name: "zip-cd-field", weight: 10, applies: isZip, run: zipCdField },
  { name: "zip-bomb", weight: 5, applies: isZip, run: zipBomb },
  { name: "zip-names", weight: 6, applies: isZip, run: zipNames },
  { name: "zip-duplicate", weight: 4, applies: isZip, run: zipDuplicate },
  { name: "zip-missing", weight: 2, applies: isZip, run: zipMissing },
  { name: "zip-many-entries", weight: 1, applies: isZip, run: zipManyEntries },
  { name: "zip-zip64", weight: 2, applies: isZip, run: zipZip64 },
  { name: "zip-config-syntax", weight: 6, applies: isZip, run: zipConfigSyntax },
  { name: "zip-config-semantic", weight: 14, applies: isZip, run: zipConfigSemantic },
  { name: "zip-inner-h5", weight: 30, applies: isZip, run: zipInner },
  { name: "synth-names", weight: 6, applies: isH5, run: quiet(synthNames) },
  { name: "synth-contradiction", weight: 2, applies: isH5, run: quiet(synthContradiction) },
  { name: "synth-lambda", weight: 2, applies: isH5, run: quiet(synthLambda) },
  { name: "synth-nan", weight: 1, applies: isH5, run: quiet(synthNaN) },
  { name: "synth-chunk-bomb", weight: 2, applies: isH5, run: quiet(synthChunkBomb) },
  { name: "tflite-truncate", weight: 4, applies: isTflite, run: tfliteTruncate },
  { name: "tflite-flips", weight: 8, applies: isTflite, run: tfliteFlips },
  { name: "tflite-offsets", weight: 10, applies: isTflite, run: tfliteOffsets },
  { name: "tflite-lengths", weight: 10, applies: isTflite, run: tfliteLengths },
  ...EXPORT_MUTATORS,
];

/** Can any of the (selected) mutators work on this corpus file? */
export function mutable(base: BaseFile, only?: Set<string>): boolean {
  return MUTATORS.some((m) => m.applies(base) && (!only || only.has(m.name)));
}

/** Draws mutators by weight until one produces a file (some do not apply to every file). */
export async function mutate(base: BaseFile, rng: Rng, ctx: MutateContext, only?: Set<string>): Promise<Mutation> {
  const usable = MUTATORS.filter((m) => m.applies(base) && (!only || only.has(m.name)));
  if (usable.length === 0) throw new Error(`no mutator applies to ${base.name}`);
  for (let attempt = 0; attempt < 50; attempt++) {
    const m = rng.weighted(usable.map((x) => [x, x.weight] as const));
    let r: Result;
    try {
      r = await m.run(base, rng.fork(`${m.name}:${attempt}`), ctx);
    } catch {
      // A mutator that cannot build its file (too deep to serialize, say) just draws again.
      r = undefined;
    }
    if (r) {
      const ext = m.name.startsWith("synth-") ? ".h5" : base.ext;
      return { mutator: m.name, detail: r.detail, bytes: r.bytes, ext, mustFail: r.mustFail, twin: r.twin, inputArgs: r.inputArgs, bounded: r.bounded, files: r.files, links: r.links, fileName: r.fileName };
    }
  }
  // Always possible: flip a bit (a TensorFlow.js model.json keeps its shards beside it).
  const bytes = base.bytes.slice();
  bytes[rng.int(0, bytes.length - 1)] ^= 1;
  const files = base.tfjs ? Object.fromEntries(base.tfjs.files) : undefined;
  return { mutator: "fallback-flip", detail: "1 bit flip", bytes, ext: base.ext, mustFail: false, files, fileName: files ? "model.json" : undefined };
}

