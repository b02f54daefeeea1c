/**
 * Mutators for the ONNX and TensorFlow.js exports of the corpus (issue 14), in the terms of
 * mutators.ts: each returns a damaged copy and what a correct tool must do with it.
 *
 * ONNX (a protobuf ModelProto, decoded into a wire-format tree by proto.ts so that a change
 * re-encodes the lengths around it, or deliberately does not):
 *   onnx-truncate    cut anywhere; a cut inside a top-level field must be refused on load
 *   onnx-flips       bit and byte flips, anywhere or among the graph's structure (not raw_data)
 *   onnx-lengths     a length-delimited field's length made huge (2^31-1, 2^32-1, 2^64-1,
 *                    10^12, a negative int64) or off by a little; past the file's end: load
 *   onnx-tags        a field's number or wire type changed (unknown, reserved, invalid)
 *   onnx-dims        an initializer's dims made absurd (10^12, -1, 2^63, 2^64-1, 0, x3);
 *                    for W/R/B of a recurrent node, any change of its element count: load
 *   onnx-raw-short   W/R/B's data shorter than its dims say: load
 *   onnx-external    W/R/B moved to an external-data file: beside the model with the right
 *                    offset and length (must give the numbers of the file it came from: its
 *                    twin), or named outside the folder (a copy of the right bytes really
 *                    lies there), reached through a symbolic link out of the folder or to
 *                    /dev/zero, absolute, a device file, a huge or malformed offset/length: load
 *   onnx-loop-nest   a Loop node whose body holds a Loop whose body... 3 to 2000 levels deep;
 *                    past protobuf's nesting limit: load
 *   onnx-attrs       a recurrent node's attributes wrong: direction, hidden_size,
 *                    linear_before_reset, activations (count, unknown names, LSTM's g ≠ h)
 *   onnx-synth       a model written by test/support/onnx-writer.ts with W/R/B of the wrong
 *                    gate count or units (load), or as written (anything clean)
 *
 * TensorFlow.js (model.json + weight shards, written as a folder):
 *   tfjs-json-syntax  model.json cut, a character inserted or replaced: load when it no longer parses
 *   tfjs-json-deep    a value nested 1000 to 200000 levels deep, in place of the model config (load) or beside it
 *   tfjs-manifest     weightsManifest paths outside the folder (a copy of the shard lies
 *                     there), absolute or device paths; shapes that claim more bytes than
 *                     the shards hold, absurd or negative; unknown dtypes; quantization
 *                     without scale/min or of an unknown dtype; a weight dropped: load
 *   tfjs-shards       a shard truncated, missing or a symbolic link out of the folder (load),
 *                     bits flipped or bytes appended (anything clean)
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type { BaseFile } from "./corpus.js";
import type { MustFail, MutateContext } from "./mutators.js";
import type { Rng } from "./rng.js";
import { allFields, cloneFields, encodeMessage, first, int, msg, str, sub, tensorDims, setTensorDims, text, type PField } from "./proto.js";

export type ExportResult =
  | {
      detail: string;
      bytes: Uint8Array;
      mustFail: MustFail;
      twin?: Uint8Array;
      inputArgs?: string[];
      /** Files written beside the main one (relative to its folder; `../` for one level up). */
      files?: Record<string, Uint8Array>;
      /** Symbolic links made beside it: name → target. */
      links?: Record<string, string>;
      /** The main file's name in its folder (default f<i><ext>). */
      fileName?: string;
    }
  | undefined;

type Fn = (base: BaseFile, rng: Rng, ctx: MutateContext) => ExportResult | Promise<ExportResult>;

const RNN_OPS = new Set(["LSTM", "GRU", "RNN"]);

// ---------------------------------------------------------------------------
// ONNX helpers
// ---------------------------------------------------------------------------

function graphOf(model: PField[]): PField[] | undefined {
  const g = first(model, 7);
  return g && Array.isArray(g.value) ? g.value : undefined;
}

interface RnnNode {
  node: PField[];
  op: string;
  /** Names of W, R, B (those given). */
  weights: string[];
}

function rnnNodes(graph: PField[]): RnnNode[] {
  const out: RnnNode[] = [];
  for (const n of sub(graph, 1)) {
    const node = n.value as PField[];
    const op = text(first(node, 4));
    if (!RNN_OPS.has(op)) continue;
    const inputs = sub(node, 1).map(text);
    out.push({ node, op, weights: inputs.slice(1, 4).filter((s) => s !== "") });
  }
  return out;
}

function initializers(graph: PField[]): Map<string, PField[]> {
  const m = new Map<string, PField[]>();
  for (const t of sub(graph, 5)) {
    const fields = t.value as PField[];
    m.set(text(first(fields, 8)), fields);
  }
  return m;
}

/** The ONNX tree of a corpus file, copied for changing; undefined when the file did not decode. */
function tree(base: BaseFile): { model: PField[]; graph: PField[] } | undefined {
  if (!base.onnx) return undefined;
  const model = cloneFields(base.onnx);
  const graph = graphOf(model);
  return graph ? { model, graph } : undefined;
}

/** The W/R/B initializers of recurrent nodes (the tensors the loader must read). */
function weightTensors(graph: PField[]): { name: string; tensor: PField[] }[] {
  const init = initializers(graph);
  const names = new Set(rnnNodes(graph).flatMap((n) => n.weights));
  return [...names].filter((n) => init.has(n)).map((name) => ({ name, tensor: init.get(name)! }));
}

const product = (dims: bigint[]) => dims.reduce((a, b) => a * b, 1n);

const onnxTruncate: Fn = (base, rng) => {
  const top = base.onnx ?? [];
  const cut = rng.weighted([
    [rng.int(0, Math.min(64, base.bytes.length - 1)), 1],
    [rng.int(0, base.bytes.length - 1), 4],
    [Math.max(0, base.bytes.length - rng.int(1, 256)), 1],
  ]);
  // Top-level field boundaries: a cut there leaves a shorter valid message.
  let at = 0;
  const bounds = new Set<number>([0]);
  for (const f of top) {
    at += encodeMessage([f]).length;
    bounds.add(at);
  }
  return { detail: `truncated to ${cut} of ${base.bytes.length} bytes`, bytes: base.bytes.slice(0, cut), mustFail: bounds.has(cut) ? false : "load" };
};

const onnxFlips: Fn = (base, rng) => {
  const bytes = base.bytes.slice();
  const n = rng.pick([1, 1, 2, 4, 16]);
  // Outside the large tensors' data: the first KB and the last 4 KB hold the model's and graph's tags, nodes and attributes.
  const where = rng.pick(["anywhere", "head", "tail"] as const);
  const lo = where === "tail" ? Math.max(0, bytes.length - 4096) : 0;
  const hi = where === "head" ? Math.min(1023, bytes.length - 1) : bytes.length - 1;
  for (let i = 0; i < n; i++) {
    const p = rng.int(lo, hi);
    if (rng.chance(0.7)) bytes[p] ^= 1 << rng.int(0, 7);
    else bytes[p] = rng.pick([0, 0xff, 0x80, 0x7f, rng.int(0, 255)]);
  }
  return { detail: `${n} bit/byte change(s) ${where === "anywhere" ? "anywhere" : `in the ${where}`}`, bytes, mustFail: false };
};

const onnxLengths: Fn = (base, rng) => {
  const t = tree(base);
  if (!t) return undefined;
  const fields = allFields(t.model, "Model").filter((x) => x.f.wire === 2);
  if (fields.length === 0) return undefined;
  const { f, type } = rng.pick(fields);
  const own = BigInt(Array.isArray(f.value) ? encodeMessage(f.value).length : (f.value as Uint8Array).length);
  const [label, lie] = rng.pick<[string, bigint]>([
    ["2^31 - 1", 2n ** 31n - 1n],
    ["2^32 - 1", 2n ** 32n - 1n],
    ["2^64 - 1", 2n ** 64n - 1n],
    ["10^12", 10n ** 12n],
    ["-1 (int64)", -1n],
    ["-2^31 (int64)", -(2n ** 31n)],
    ["own + 1", own + 1n],
    ["own + 1000", own + 1000n],
    ["0", 0n],
  ]);
  f.lie = BigInt.asUintN(64, lie);
  const bytes = encodeMessage(t.model);
  // protobuf readers take lengths as uint32; one past the whole file cannot be honoured.
  const u32 = BigInt.asUintN(32, f.lie);
  return { detail: `a length-delimited field ${f.field} of ${type} claims length ${label}`, bytes, mustFail: u32 > BigInt(bytes.length) ? "load" : false };
};

const onnxTags: Fn = (base, rng) => {
  const t = tree(base);
  if (!t) return undefined;
  const fields = allFields(t.model, "Model");
  const n = rng.pick([1, 1, 2]);
  const what: string[] = [];
  for (let i = 0; i < n; i++) {
    const { f, type } = rng.pick(fields);
    if (rng.chance(0.5)) {
      const to = rng.pick([rng.int(1, 20), 19000, 2 ** 29 - 1, f.field + 1, 100]);
      what.push(`field ${f.field} of ${type} renumbered ${to}`);
      f.field = to;
    } else {
      const to = rng.pick([0, 1, 2, 3, 4, 5, 6, 7].filter((w) => w !== f.wire));
      what.push(`field ${f.field} of ${type} tagged wire type ${to} (was ${f.wire})`);
      f.tagWire = to;
    }
  }
  return { detail: what.join("; "), bytes: encodeMessage(t.model), mustFail: false };
};

const onnxDims: Fn = (base, rng) => {
  const t = tree(base);
  if (!t) return undefined;
  const weights = weightTensors(t.graph);
  const all = [...initializers(t.graph)].map(([name, tensor]) => ({ name, tensor }));
  const pool = weights.length > 0 && rng.chance(0.8) ? weights : all;
  if (pool.length === 0) return undefined;
  const { name, tensor } = rng.pick(pool);
  const dims = tensorDims(tensor);
  const before = product(dims);
  const next = dims.slice();
  const k = next.length > 0 ? rng.int(0, next.length - 1) : 0;
  const [label, v] = rng.pick<[string, bigint]>([
    ["10^12", 10n ** 12n],
    ["-1", -1n],
    ["2^63 (as int64: -2^63)", 2n ** 63n],
    ["2^64 - 1 (-1)", 2n ** 64n - 1n],
    ["0", 0n],
    ["x3", (next[k] ?? 1n) * 3n],
    ["2^53 + 1", 2n ** 53n + 1n],
  ]);
  if (next.length === 0 || rng.chance(0.15)) next.push(BigInt.asIntN(64, v));
  else next[k] = BigInt.asIntN(64, v);
  setTensorDims(tensor, next);
  const read = weights.some((w) => w.name === name);
  return {
    detail: `initializer ${JSON.stringify(name)} dims [${dims.join(", ")}] → [${next.join(", ")}] (${label})`,
    bytes: encodeMessage(t.model),
    mustFail: read && product(next) !== before ? "load" : false,
  };
};

const onnxRawShort: Fn = (base, rng) => {
  const t = tree(base);
  if (!t) return undefined;
  const weights = weightTensors(t.graph);
  if (weights.length === 0) return undefined;
  const { name, tensor } = rng.pick(weights);
  const data = tensor.find((f) => (f.field === 9 || f.field === 4) && f.value instanceof Uint8Array && f.value.length > 0);
  if (!data) return undefined;
  const old = data.value as Uint8Array;
  const by = rng.pick([1, 4, Math.floor(old.length / 2), old.length]);
  data.value = old.slice(0, old.length - by);
  return { detail: `${data.field === 9 ? "raw_data" : "float_data"} of ${JSON.stringify(name)} ${by} bytes shorter than its dims say`, bytes: encodeMessage(t.model), mustFail: "load" };
};

const onnxExternal: Fn = (base, rng) => {
  const t = tree(base);
  if (!t) return undefined;
  const weights = weightTensors(t.graph).filter(({ tensor }) => tensor.some((f) => f.field === 9 && f.value instanceof Uint8Array && f.value.length > 0));
  if (weights.length === 0) return undefined;
  const { name, tensor } = rng.pick(weights);
  const k = tensor.findIndex((f) => f.field === 9);
  const data = tensor[k].value as Uint8Array;
  tensor.splice(k, 1);
  const pad = rng.pick([0, 0, 16, 4096, 3]);
  const stored = new Uint8Array(pad + data.length);
  stored.set(data, pad);
  const [label, location, offset, length, files, ok, links] = rng.pick<[string, string, string, string, Record<string, Uint8Array>, boolean, Record<string, string>?]>([
    ["beside the model", "weights.data", String(pad), String(data.length), { "weights.data": stored }, true],
    ["in a symbolic link to a copy one folder up", "weights.data", String(pad), String(data.length), { "../outside.data": stored }, false, { "weights.data": "../outside.data" }],
    ["in a symbolic link to /dev/zero", "weights.data", "0", String(data.length), {}, false, { "weights.data": "/dev/zero" }],
    ["in a subfolder that is a symbolic link out of the folder", "sub/outside.data", String(pad), String(data.length), { "../outside.data": stored }, false, { sub: ".." }],
    ["beside the model, no offset or length given", "weights.data", "", "", { "weights.data": data }, true],
    ["one folder up (a copy lies there)", "../outside.data", String(pad), String(data.length), { "../outside.data": stored }, false],
    ["through a subfolder and up twice", "sub/../../outside.data", String(pad), String(data.length), { "../outside.data": stored, "sub/keep": new Uint8Array(1) }, false],
    ["at an absolute path", "/etc/hostname", "0", String(data.length), {}, false],
    ["at a device file", "/dev/zero", "0", String(data.length), {}, false],
    ["at the model's folder itself", ".", "0", String(data.length), {}, false],
    ["at a huge offset", "weights.data", "999999999999999", String(data.length), { "weights.data": stored }, false],
    ["at offset 2^53", "weights.data", String(2 ** 53), String(data.length), { "weights.data": stored }, false],
    ["with a negative offset", "weights.data", "-4", String(data.length), { "weights.data": stored }, false],
    ["with a hex offset", "weights.data", "0x10", String(data.length), { "weights.data": stored }, false],
    ["with a length that lies", "weights.data", String(pad), String(data.length * 2), { "weights.data": stored }, false],
    ["past the file's end", "weights.data", String(pad + 8), String(data.length), { "weights.data": stored }, false],
    ["in a file that is not there", "missing.data", "0", String(data.length), {}, false],
    ["with a name holding escapes", "w\u001b[2J\u202e.data", "0", String(data.length), {}, false],
  ]);
  const entries: PField[] = [msg(13, "Entry", [str(1, "location"), str(2, location)])];
  if (offset !== "") entries.push(msg(13, "Entry", [str(1, "offset"), str(2, offset)]));
  if (length !== "") entries.push(msg(13, "Entry", [str(1, "length"), str(2, length)]));
  tensor.push(...entries, int(14, 1));
  return {
    detail: `${JSON.stringify(name)} stored externally ${label} (location ${JSON.stringify(location)}, offset ${offset || "-"}, length ${length || "-"})`,
    bytes: encodeMessage(t.model),
    mustFail: ok ? false : "load",
    // The numbers must not change for moving a tensor beside the model.
    twin: ok ? base.bytes : undefined,
    files,
    links,
    fileName: "model.onnx",
  };
};

/** A Loop node whose body graph holds a Loop node whose body... `depth` bodies deep, built from the inside out. */
function nestedLoop(depth: number): Uint8Array {
  const enc = (fields: PField[]) => encodeMessage(fields);
  let body = enc([str(2, "body0")]);
  for (let d = 1; d < depth; d++) {
    const attr = enc([str(1, "body"), { field: 6, wire: 2, value: body }, int(20, 5)]);
    const node = enc([str(1, "M"), str(1, "cond"), str(2, "out"), str(4, "Loop"), { field: 5, wire: 2, value: attr }]);
    body = enc([{ field: 1, wire: 2, value: node }, str(2, `body${d}`)]);
  }
  const attr = enc([str(1, "body"), { field: 6, wire: 2, value: body }, int(20, 5)]);
  return enc([str(1, "M"), str(1, "cond"), str(2, "loop_out"), str(3, "nested_loop"), str(4, "Loop"), { field: 5, wire: 2, value: attr }]);
}

const onnxLoopNest: Fn = (base, rng) => {
  const t = tree(base);
  if (!t) return undefined;
  const depth = rng.pick([3, 20, 40, 200, 2000]);
  t.graph.unshift({ field: 1, wire: 2, value: nestedLoop(depth) });
  // Model → graph → (node → attribute → graph) per level: 3 messages a level.
  const levels = 2 + 3 * depth;
  return { detail: `a Loop node with bodies nested ${depth} deep (${levels} message levels)`, bytes: encodeMessage(t.model), mustFail: levels > 110 ? "load" : false };
};

function setAttr(node: PField[], name: string, value: PField[]): void {
  const i = sub(node, 5).findIndex((a) => text(first(a.value as PField[], 1)) === name);
  const attr = msg(5, "Attribute", [str(1, name), ...value]);
  const all = node.filter((f) => f.field === 5);
  if (i >= 0) node[node.indexOf(all[i])] = attr;
  else node.push(attr);
}

function intAttr(node: PField[], name: string): bigint | undefined {
  const a = sub(node, 5).find((x) => text(first(x.value as PField[], 1)) === name);
  const i = a ? first(a.value as PField[], 3) : undefined;
  return i ? BigInt.asIntN(64, i.value as bigint) : undefined;
}

const onnxAttrs: Fn = (base, rng) => {
  const t = tree(base);
  if (!t) return undefined;
  const nodes = rnnNodes(t.graph);
  if (nodes.length === 0) return undefined;
  const { node, op } = rng.pick(nodes);
  const hidden = intAttr(node, "hidden_size");
  const dirAttr = sub(node, 5).find((x) => text(first(x.value as PField[], 1)) === "direction");
  const dirs = dirAttr && text(first(dirAttr.value as PField[], 4)) === "bidirectional" ? 2 : 1;
  const perDir = op === "LSTM" ? 3 : op === "GRU" ? 2 : 1;
  const texts = (names: string[]) => [...names.map((s) => str(9, s)), int(20, 8)];
  const choice = rng.pick(["direction", "hidden", "lbr", "act-count", "act-unknown", "act-lstm-gh", "act-ok"] as const);
  let detail: string;
  let mustFail: MustFail = "load";
  switch (choice) {
    case "direction": {
      const d = rng.pick(["sideways", "", "Forward", "bidirectional", "reverse\u0000", "\u001b[31mreverse"]);
      setAttr(node, "direction", [str(4, d), int(20, 3)]);
      detail = `direction ${JSON.stringify(d)}`;
      // 'bidirectional' over one direction's W/R/B: shapes that cannot hold two; 'reverse' over two the same.
      if (d === "bidirectional" && dirs === 2) mustFail = false;
      break;
    }
    case "hidden": {
      const h = rng.pick([0n, -1n, 10n ** 12n, 2n ** 63n, (hidden ?? 4n) + 1n, (hidden ?? 4n) * 2n]);
      setAttr(node, "hidden_size", [int(3, h), int(20, 2)]);
      detail = `hidden_size ${BigInt.asIntN(64, h)} (was ${hidden ?? "absent"})`;
      break;
    }
    case "lbr": {
      if (op !== "GRU") return undefined;
      const v = rng.pick([2n, -1n, 2n ** 40n]);
      setAttr(node, "linear_before_reset", [int(3, v), int(20, 2)]);
      detail = `linear_before_reset ${BigInt.asIntN(64, v)}`;
      // Non-zero is "on" in ONNX's reference implementation; the file stays a valid model either way.
      mustFail = false;
      break;
    }
    case "act-count": {
      const n = rng.pick([1, perDir + 1, 7]);
      setAttr(node, "activations", texts(Array.from({ length: n }, () => "Sigmoid")));
      detail = `${n} activations (a direction takes ${perDir})`;
      mustFail = n === perDir * dirs ? false : "load";
      break;
    }
    case "act-unknown": {
      const bad = rng.pick(["Softmax", "__proto__", "constructor", "\u001b[2J", "ScaledTanh", "Gelu"]);
      setAttr(node, "activations", texts(Array.from({ length: perDir }, (_, i) => (i === 0 ? bad : "Tanh"))));
      detail = `activation ${JSON.stringify(bad)}`;
      break;
    }
    case "act-lstm-gh": {
      if (op !== "LSTM") return undefined;
      setAttr(node, "activations", texts(["Sigmoid", "Tanh", "Relu"]));
      detail = "LSTM activations Sigmoid, Tanh, Relu (g ≠ h)";
      break;
    }
    default: {
      const names = op === "LSTM" ? ["HardSigmoid", "Tanh", "Tanh"] : op === "GRU" ? ["Sigmoid", "Relu"] : ["Relu"];
      setAttr(node, "activations", texts(Array.from({ length: dirs }, () => names).flat()));
      detail = `activations ${names.join(", ")} (Keras has them all)`;
      mustFail = false;
    }
  }
  return { detail: `${op} node: ${detail}`, bytes: encodeMessage(t.model), mustFail };
};

type OnnxWriter = typeof import("../support/onnx-writer.js");
let writerModule: Promise<OnnxWriter> | undefined;
const loadOnnxWriter = (root: string) => (writerModule ??= import(pathToFileURL(join(root, "test/support/onnx-writer.ts")).href) as Promise<OnnxWriter>);

function rawInputArgs(steps: number, width: number): string[] {
  const rows = Array.from({ length: steps }, (_, t) => Array.from({ length: width }, (_, k) => Math.round(((((t * 7 + k * 3) % 11) - 5) / 10) * 100) / 100));
  return ["--raw-input", "--input", JSON.stringify(rows)];
}

const onnxSynth: Fn = async (_base, rng, ctx) => {
  const w = await loadOnnxWriter(ctx.repoRoot);
  const op = rng.pick(["LSTM", "GRU", "RNN"] as const);
  const G = op === "LSTM" ? 4 : op === "GRU" ? 3 : 1;
  const u = rng.int(1, 6);
  const input = rng.int(1, 5);
  const dirs = rng.pick([1, 1, 2]);
  const fault = rng.pick(["none", "none", "W-gates", "R-gates", "R-units", "B-length", "W-dirs"] as const);
  const wg = fault === "W-gates" ? G + rng.pick([-1, 1, 2]) : G;
  const rg = fault === "R-gates" ? G + 1 : G;
  const ru = fault === "R-units" ? u + 1 : u;
  const bl = fault === "B-length" ? 2 * G * u + rng.pick([-1, 1, G * u]) : 2 * G * u;
  const wd = fault === "W-dirs" ? 3 - dirs : dirs;
  if (wg <= 0) return undefined;
  const vals = (n: number) => Float32Array.from({ length: n }, () => Math.round((rng.float() - 0.5) * 100) / 100);
  const attributes: import("../support/onnx-writer.js").OnnxAttribute[] = [{ name: "hidden_size", int: u }];
  if (dirs === 2) attributes.push({ name: "direction", text: "bidirectional" });
  if (op === "GRU") attributes.push({ name: "linear_before_reset", int: rng.pick([0, 1]) });
  const bytes = w.onnxModel({
    nodes: [{ op, name: "rnn", inputs: ["X", "W", "R", "B"], outputs: ["Y", "Y_h"], attributes }],
    initializers: [
      { name: "W", dims: [wd, wg * u, input], values: vals(wd * wg * u * input) },
      { name: "R", dims: [dirs, rg * u, ru], values: vals(dirs * rg * u * ru) },
      { name: "B", dims: [dirs, bl], values: vals(dirs * Math.max(0, bl)) },
    ],
    inputs: [{ name: "X", dims: ["steps", "batch", input] }],
    outputs: [{ name: "Y" }, { name: "Y_h" }],
  });
  return {
    detail: `written ${op} (${dirs} direction(s), ${u} units, input ${input})${fault === "none" ? "" : `, ${fault}: W [${wd}, ${wg * u}, ${input}], R [${dirs}, ${rg * u}, ${ru}], B [${dirs}, ${bl}]`}`,
    bytes,
    mustFail: fault === "none" ? false : "load",
    inputArgs: rawInputArgs(3, input),
  };
};

// ---------------------------------------------------------------------------
// TensorFlow.js
// ---------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const enc = (s: string) => new TextEncoder().encode(s);

function tfjsJson(base: BaseFile): Obj | undefined {
  if (!base.tfjs) return undefined;
  return structuredClone(base.tfjs.json) as Obj;
}

function shards(base: BaseFile): Record<string, Uint8Array> {
  return Object.fromEntries(base.tfjs?.files ?? []);
}

const tfjsSyntax: Fn = (base, rng) => {
  if (!base.tfjs) return undefined;
  const textOf = new TextDecoder().decode(base.bytes);
  let out: string;
  let what: string;
  const at = rng.int(0, textOf.length - 1);
  switch (rng.pick(["cut", "insert", "replace", "quote"] as const)) {
    case "cut":
      out = textOf.slice(0, at);
      what = `cut at ${at} of ${textOf.length} characters`;
      break;
    case "insert": {
      const c = rng.pick(["{", "[", ",", "\"", "\\", "\u0000", "}", "\u001b"]);
      out = textOf.slice(0, at) + c + textOf.slice(at);
      what = `${JSON.stringify(c)} inserted at ${at}`;
      break;
    }
    case "replace": {
      const c = rng.pick(["x", "0", ":", "]", "}", "\uD800"]);
      out = textOf.slice(0, at) + c + textOf.slice(at + 1);
      what = `character ${at} replaced by ${JSON.stringify(c)}`;
      break;
    }
    default:
      out = textOf.replace(/"/, "'");
      what = "first quote made a single quote";
  }
  let parses = true;
  try {
    JSON.parse(out);
  } catch {
    parses = false;
  }
  return { detail: `model.json ${what}`, bytes: enc(out), mustFail: parses ? false : "load", files: shards(base), fileName: "model.json" };
};

const tfjsDeep: Fn = (base, rng) => {
  const json = tfjsJson(base);
  if (!json) return undefined;
  const depth = rng.pick([1000, 10000, 200000]);
  const kind = rng.pick(["[", "{\"a\":"] as const);
  const close = kind === "[" ? "]" : "}";
  const deep = `${kind.repeat(depth)}1${close.repeat(depth)}`;
  const instead = rng.chance(0.6);
  const marker = "\"__DEEP__\"";
  const topology = json.modelTopology as Obj;
  if (!instead) json.extra = "__DEEP__";
  else if (topology.model_config !== undefined) topology.model_config = "__DEEP__";
  else topology.config = "__DEEP__";
  const out = JSON.stringify(json).replace(marker, deep);
  return {
    detail: `a value nested ${depth} deep (${kind}) ${instead ? "in place of the model config" : "beside the model"}`,
    bytes: enc(out),
    mustFail: instead ? "load" : false,
    files: shards(base),
    fileName: "model.json",
  };
};

interface ManifestEntry {
  name: string;
  shape: unknown;
  dtype: unknown;
  quantization?: unknown;
}

const tfjsManifest: Fn = (base, rng) => {
  const json = tfjsJson(base);
  if (!json || !Array.isArray(json.weightsManifest) || json.weightsManifest.length === 0) return undefined;
  const groups = json.weightsManifest as { paths: string[]; weights: ManifestEntry[] }[];
  const files = shards(base);
  const g = rng.pick(groups);
  if (!Array.isArray(g.paths) || !Array.isArray(g.weights) || g.weights.length === 0) return undefined;
  const e = rng.pick(g.weights);
  let detail: string;
  let mustFail: MustFail = "load";
  switch (rng.pick(["path", "path", "shape", "shape", "dtype", "quant", "drop"] as const)) {
    case "path": {
      const k = rng.int(0, g.paths.length - 1);
      const old = g.paths[k];
      const [label, p] = rng.pick<[string, string]>([
        ["one folder up (a copy lies there)", `../${old}`],
        ["through a subfolder and up twice", `sub/../../${old}`],
        ["absolute", "/etc/hostname"],
        ["a device file", "/dev/zero"],
        ["the folder itself", "."],
        ["empty", ""],
        ["with escapes", "w\u001b[2J\u202e.bin"],
        ["a URL", `https://example.invalid/${old}`],
      ]);
      g.paths[k] = p;
      if (p.startsWith("../") || p.startsWith("sub/")) files[`../${old}`] = files[old] ?? new Uint8Array(0);
      if (p.startsWith("sub/")) files["sub/keep"] = new Uint8Array(1);
      detail = `shard path ${JSON.stringify(old)} → ${label} ${JSON.stringify(p)}`;
      break;
    }
    case "shape": {
      const shape = Array.isArray(e.shape) ? (e.shape as number[]).slice() : [];
      const k = shape.length > 0 ? rng.int(0, shape.length - 1) : 0;
      const [label, v] = rng.pick<[string, unknown]>([
        ["x2", (shape[k] ?? 1) * 2],
        ["+1", (shape[k] ?? 0) + 1],
        ["10^12", 1e12],
        ["-1", -1],
        ["2^53", 2 ** 53],
        ["1.5", 1.5],
        ["\"3\"", "3"],
        ["null", null],
      ]);
      shape[k] = v as number;
      e.shape = shape;
      detail = `weight ${JSON.stringify(e.name)} shape → [${shape.join(", ")}] (${label})`;
      // A shape one smaller may still fit the shards; more bytes than they hold, or not a count, cannot be read.
      break;
    }
    case "dtype": {
      const d = rng.pick(["complex64", "string", "float64", "__proto__", "FLOAT32", "", 1, undefined]);
      if (d === undefined) delete e.dtype;
      else e.dtype = d;
      detail = `weight ${JSON.stringify(e.name)} dtype ${JSON.stringify(d)}`;
      break;
    }
    case "quant": {
      const [label, q] = rng.pick<[string, unknown]>([
        ["uint8 without scale", { dtype: "uint8", min: 0 }],
        ["uint16 without min", { dtype: "uint16", scale: 0.1 }],
        ["uint8 with a string scale", { dtype: "uint8", scale: "0.1", min: 0 }],
        ["uint8 with an infinite scale", { dtype: "uint8", scale: 1e400, min: 0 }],
        ["int4", { dtype: "int4", scale: 0.1, min: 0 }],
        ["not an object", "uint8"],
        ["float16 on an int32 weight", { dtype: "float16" }],
      ]);
      e.quantization = q;
      if (label === "float16 on an int32 weight") e.dtype = "int32";
      detail = `weight ${JSON.stringify(e.name)} quantization ${label}`;
      break;
    }
    default: {
      g.weights.splice(g.weights.indexOf(e), 1);
      detail = `weight ${JSON.stringify(e.name)} dropped from the manifest`;
      // The bytes after it shift onto the next weights, a valid manifest of another model. A layer
      // lacking a tensor is shown as it is stored (as from an HDF5 file); evaluating it must be refused.
      const owner = base.firstRecurrent;
      mustFail = owner && e.name.startsWith(`${owner}/`) ? "eval" : false;
    }
  }
  return { detail, bytes: enc(JSON.stringify(json)), mustFail, files, fileName: "model.json" };
};

const tfjsShards: Fn = (base, rng) => {
  if (!base.tfjs || base.tfjs.files.size === 0) return undefined;
  const files = shards(base);
  const name = rng.pick([...base.tfjs.files.keys()]);
  const data = files[name];
  let detail: string;
  let mustFail: MustFail;
  switch (rng.pick(["truncate", "truncate", "missing", "flips", "append", "link"] as const)) {
    case "link": {
      // The shard replaced by a symbolic link: to a copy of it one folder up, or to a device.
      const target = rng.pick(["../", "/dev/zero"]);
      delete files[name];
      if (target === "../") files[`../${name}`] = data;
      return { detail: `shard ${JSON.stringify(name)} a symbolic link to ${target === "../" ? "a copy one folder up" : target}`, bytes: base.bytes, mustFail: "load", files, links: { [name]: target === "../" ? `../${name}` : target }, fileName: "model.json" };
    }
    case "truncate": {
      const cut = rng.pick([0, rng.int(0, Math.max(0, data.length - 1)), Math.max(0, data.length - 1)]);
      files[name] = data.slice(0, cut);
      detail = `shard ${JSON.stringify(name)} truncated to ${cut} of ${data.length} bytes`;
      mustFail = cut < data.length ? "load" : false;
      break;
    }
    case "missing":
      delete files[name];
      detail = `shard ${JSON.stringify(name)} missing`;
      mustFail = "load";
      break;
    case "flips": {
      const copy = data.slice();
      const n = rng.pick([1, 4, 64]);
      for (let i = 0; i < n && copy.length > 0; i++) copy[rng.int(0, copy.length - 1)] ^= 1 << rng.int(0, 7);
      files[name] = copy;
      detail = `${n} bit flip(s) in shard ${JSON.stringify(name)}`;
      mustFail = false;
      break;
    }
    default: {
      const extra = rng.pick([1, 4, 4096]);
      const copy = new Uint8Array(data.length + extra);
      copy.set(data);
      files[name] = copy;
      detail = `${extra} byte(s) appended to shard ${JSON.stringify(name)}`;
      mustFail = false;
    }
  }
  return { detail, bytes: base.bytes, mustFail, files, fileName: "model.json" };
};

const isOnnx = (b: BaseFile) => b.kind === "onnx";
const isOnnxTree = (b: BaseFile) => b.kind === "onnx" && b.onnx !== undefined;
const isTfjs = (b: BaseFile) => b.kind === "tfjs" && b.tfjs !== undefined;

export const EXPORT_MUTATORS: { name: string; weight: number; applies: (b: BaseFile) => boolean; run: Fn }[] = [
  { name: "onnx-truncate", weight: 4, applies: isOnnx, run: onnxTruncate },
  { name: "onnx-flips", weight: 6, applies: isOnnx, run: onnxFlips },
  { name: "onnx-lengths", weight: 8, applies: isOnnxTree, run: onnxLengths },
  { name: "onnx-tags", weight: 6, applies: isOnnxTree, run: onnxTags },
  { name: "onnx-dims", weight: 8, applies: isOnnxTree, run: onnxDims },
  { name: "onnx-raw-short", weight: 4, applies: isOnnxTree, run: onnxRawShort },
  { name: "onnx-external", weight: 6, applies: isOnnxTree, run: onnxExternal },
  { name: "onnx-loop-nest", weight: 2, applies: isOnnxTree, run: onnxLoopNest },
  { name: "onnx-attrs", weight: 6, applies: isOnnxTree, run: onnxAttrs },
  { name: "onnx-synth", weight: 4, applies: isOnnx, run: onnxSynth },
  { name: "tfjs-json-syntax", weight: 4, applies: isTfjs, run: tfjsSyntax },
  { name: "tfjs-json-deep", weight: 2, applies: isTfjs, run: tfjsDeep },
  { name: "tfjs-manifest", weight: 10, applies: isTfjs, run: tfjsManifest },
  { name: "tfjs-shards", weight: 6, applies: isTfjs, run: tfjsShards },
];
