// Locating Keras weights inside exports without an RNN op (issue 14, item 2): files the test
// writes itself, where the answer is known by construction (an ONNX LSTM unrolled into MatMul
// nodes and inside a Loop body, in ONNX's gate order with B = [Wb ; Rb]; a TFLite WHILE body
// with float16, int8 per-channel and float32 constants; resource variables without a value),
// one gate changed on purpose, and the real pairs of the shared collection (skipped, saying so,
// where it is absent).
//
// Tolerances: a float32 constant must hold the Keras value bit for bit (converters copy the
// numbers); a quantized one within half its quantization step (what rounding the same weights
// to that step gives; float16: half its spacing at the value), reported in steps.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readDiffPair } from "../../src/diff/export-sides.js";
import type { LocateReport } from "../../src/diff/locate.js";
import { loadModel } from "../../src/load/index.js";
import { formatLocate } from "../../src/present/locate.js";
import { exportPath, noteMissingExports } from "../load/export-fixtures.js";
import { gruSpec, lstmDenseSpec, writeSpec } from "../check/models.js";
import { isCleanError, runCli } from "../support/cli.js";
import { onnxModel, ProtoMessage, tensorMessage, type OnnxTensor } from "../support/onnx-writer.js";
import { f32s, flatbuffer, halfBits, i32, i32s, i64s, i8, ref, str, table, tables, TFL, u32, u8, ubytes, type FbObject } from "../support/tflite-writer.js";

const dir = mkdtempSync(join(tmpdir(), "locate-"));
const U = 4;
const D = 3;

/** The Keras file (LSTM(4) on 3 features, then Dense) and its weights as loaded. */
async function kerasFile() {
  const path = join(dir, "keras.h5");
  writeFileSync(path, await writeSpec(await lstmDenseSpec({ units: U, features: D })));
  const model = await loadModel(path);
  const lstm = model.layers.find((l) => l.className === "LSTM")!;
  const w = (name: string) => Float32Array.from(lstm.weights.find((t) => t.name === name)!.data);
  return { path, kernel: w("kernel"), recurrent: w("recurrent_kernel"), bias: w("bias") };
}

/** Keras gate g (i, f, c, o = 0..3) of a (rows, 4u) matrix, transposed to (u, rows). */
function gateRows(m: Float32Array, rows: number, g: number): number[] {
  const out: number[] = [];
  for (let j = 0; j < U; j++) for (let r = 0; r < rows; r++) out.push(m[r * 4 * U + g * U + j]);
  return out;
}

/** ONNX's order i, o, f, c as Keras gate indices. */
const ONNX_ORDER = [0, 3, 1, 2];

/**
 * The LSTM's constants as tf2onnx-like graphs hold them: W [1, 4u, D] (rows per gate unit, ONNX
 * order), R [u, 4u] in Keras' own layout, B [8u] = [Wb ; Rb] with Rb ≠ 0 (the Keras bias is Wb + Rb).
 */
function onnxConstants(k: { kernel: Float32Array; recurrent: Float32Array; bias: Float32Array }, change?: (w: number[]) => void) {
  const W = ONNX_ORDER.flatMap((g) => gateRows(k.kernel, D, g));
  change?.(W);
  // Halves, so that float32(Wb + Rb) is the Keras bias exactly (checked below) and neither half is it.
  const rb = Array.from(k.bias, (b) => b / 2);
  const wb = Array.from(k.bias, (b, j) => Math.fround(b - rb[j]));
  const tensors: OnnxTensor[] = [
    { name: "lstm/W", dims: [1, 4 * U, D], values: W },
    { name: "lstm/R", dims: [U, 4 * U], values: k.recurrent },
    { name: "lstm/B", dims: [8 * U], values: [...ONNX_ORDER.flatMap((g) => wb.slice(g * U, (g + 1) * U)), ...ONNX_ORDER.flatMap((g) => rb.slice(g * U, (g + 1) * U))] },
  ];
  const sums = Array.from(k.bias, (_b, j) => Math.fround(wb[j] + rb[j]));
  return { tensors, biasIsSum: sums.every((s, j) => s === k.bias[j]) };
}

/** Two steps of the cell unrolled: the nodes only need to read the constants. */
function unrolledNodes() {
  return [0, 1].flatMap((t) => [
    { op: "MatMul", name: `step${t}/x`, inputs: [`x${t}`, "lstm/W_T"], outputs: [`xw${t}`] },
    { op: "MatMul", name: `step${t}/h`, inputs: [`h${t}`, "lstm/R"], outputs: [`hr${t}`] },
    { op: "Add", name: `step${t}/b`, inputs: [`xw${t}`, "lstm/B"], outputs: [`z${t}`] },
    { op: "Sigmoid", inputs: [`z${t}`], outputs: [`s${t}`] },
    { op: "Tanh", inputs: [`s${t}`], outputs: [`h${t + 1}`] },
  ]).concat([{ op: "Transpose", name: "lstm/W_T", inputs: ["lstm/W"], outputs: ["lstm/W_T"] }]);
}

async function writeUnrolled(name: string, change?: (w: number[]) => void) {
  const k = await kerasFile();
  const { tensors, biasIsSum } = onnxConstants(k, change);
  const path = join(dir, name);
  writeFileSync(path, onnxModel({ nodes: unrolledNodes(), initializers: tensors, inputs: [{ name: "x0", dims: [1, D] }], outputs: [{ name: "h2" }] }));
  return { keras: k.path, path, biasIsSum };
}

/** A Loop node whose body graph holds the constants as its initializers (tf2onnx's while loops). */
async function writeLoop(name: string) {
  const k = await kerasFile();
  const { tensors } = onnxConstants(k);
  const body = new ProtoMessage();
  for (const n of unrolledNodes().slice(0, 5)) {
    const node = new ProtoMessage();
    for (const i of n.inputs) node.string(1, i);
    for (const o of n.outputs) node.string(2, o);
    if (n.name) node.string(3, n.name);
    node.string(4, n.op);
    body.message(1, node);
  }
  body.string(2, "lstm_while_body");
  for (const t of tensors) body.message(5, tensorMessage(t));
  const loop = new ProtoMessage().string(1, "trip").string(1, "cond").string(1, "h0").string(2, "h_final").string(3, "lstm/while_loop").string(4, "Loop");
  loop.message(5, new ProtoMessage().string(1, "body").message(6, body).int(20, 5));
  const graph = new ProtoMessage().message(1, loop).string(2, "main");
  const bytes = new ProtoMessage().int(1, 7).string(2, "test").message(7, graph).message(8, new ProtoMessage().string(1, "").int(2, 13)).encode();
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { keras: k.path, path };
}

async function locate(keras: string, exp: string, options = {}): Promise<LocateReport> {
  const pair = await readDiffPair(keras, exp, options);
  if (!("located" in pair)) throw new Error("not located");
  return pair.located;
}

const block = (r: LocateReport, name: string) => r.layers[0].blocks.find((b) => b.name === name)!;

describe("an ONNX LSTM unrolled into MatMul nodes, written by the test", () => {
  it("finds every gate block: W transposed in ONNX's order, R as stored, the bias as Wb + Rb", async () => {
    const f = await writeUnrolled("unrolled.onnx");
    expect(f.biasIsSum).toBe(true);
    const r = await locate(f.keras, f.path);
    expect(r.verdict).toBe("equal");
    expect(r.exportSide).toBe("B");
    expect(r.layers.map((l) => [l.path, l.status])).toEqual([["lstm_1", "equal"]]);
    expect(r.warnings).toEqual(["only recurrent layers are located; not compared: dense_1"]);
    // Keras gate g sits at ONNX block ONNX_ORDER.indexOf(g) of W's rows.
    ["i", "f", "c", "o"].forEach((g, k) => {
      const slot = ONNX_ORDER.indexOf(k);
      const kb = block(r, `kernel_${g}`);
      expect([kb.verdict, kb.place?.constant, kb.place?.transposed, kb.place?.slice]).toEqual(["exact", "lstm/W", true, `[${slot * U}:${(slot + 1) * U}, :]`]);
      expect(kb.place?.users).toEqual(["Transpose 'lstm/W_T'"]);
      const rk = block(r, `recurrent_kernel_${g}`);
      expect([rk.verdict, rk.place?.constant, rk.place?.transposed, rk.place?.slice]).toEqual(["exact", "lstm/R", false, `[:, ${k * U}:${(k + 1) * U}]`]);
      const b = block(r, `bias_${g}`);
      expect([b.verdict, b.place?.constant, b.place?.summed, b.place?.slice]).toEqual(["exact", "lstm/B", true, `[${slot * U}:${(slot + 1) * U}] + [${4 * U + slot * U}:${4 * U + (slot + 1) * U}]`]);
    });
  });

  it("names the one gate changed on purpose, where it should be and by how much", async () => {
    // kernel_f[2, 1] (row 2 of the Keras block, unit 1) is W row (f's ONNX block 2)·u + 1, column 2.
    const f = await writeUnrolled("changed.onnx", (w) => (w[(2 * U + 1) * D + 2] += 0.5));
    const r = await locate(f.keras, f.path);
    expect(r.verdict).toBe("different");
    expect(r.counts).toMatchObject({ blocks: 12, exact: 11, different: 1 });
    const kf = block(r, "kernel_f");
    expect(kf.verdict).toBe("different");
    expect([kf.place?.constant, kf.place?.slice, kf.place?.transposed]).toEqual(["lstm/W", `[${2 * U}:${3 * U}, :]`, true]);
    expect(kf.worst?.index).toEqual([2, 1]);
    expect(kf.maxAbsDiff).toBeCloseTo(0.5, 5);
    const text = formatLocate(r);
    expect(text).toMatch(/≠ lstm_1 \(LSTM\): 1 of 12 gate block\(s\) different or not found \(kernel_f\)/);
    expect(text).toMatch(/f \[8:12, :\] DIFFERENT \(max \|Δ\| 5\.00e-1 at \[2, 1\]/);
    expect(text.split("\n").at(-1)).toBe("DIFFERENT: 1 gate block(s) different, 0 not found, of 12 in 1 layer(s)");
  });

  it("finds the constants of a Loop body, naming the body", async () => {
    const f = await writeLoop("loop.onnx");
    const r = await locate(f.keras, f.path);
    expect(r.verdict).toBe("equal");
    expect(r.notes[0]).toMatch(/in 2 graph\(s\) \(Loop ×1, whose bodies were searched too\)/);
    expect(block(r, "recurrent_kernel_c").place?.graph).toBe("Loop body of 'lstm/while_loop'");
  });

  it("int8 behind DequantizeLinear (a scale per row) and float16 constants: within half a step", async () => {
    const k = await kerasFile();
    const W = ONNX_ORDER.flatMap((g) => gateRows(k.kernel, D, g));
    // Symmetric int8 per row of W [4u, D], as quantizers write weights: scale = max|row| / 127.
    const scales = Array.from({ length: 4 * U }, (_, r) => Math.fround(Math.max(...W.slice(r * D, (r + 1) * D).map(Math.abs)) / 127));
    const q = Int8Array.from(W, (x, i) => Math.round(x / scales[Math.floor(i / D)]));
    const half = new Uint8Array(2 * k.recurrent.length);
    k.recurrent.forEach((x, i) => new DataView(half.buffer).setUint16(2 * i, halfBits(x), true));
    const path = join(dir, "qdq.onnx");
    writeFileSync(
      path,
      onnxModel({
        nodes: [
          { op: "DequantizeLinear", name: "W_dq", inputs: ["W_q", "W_scale", "W_zero"], outputs: ["W"], attributes: [{ name: "axis", int: 0 }] },
          { op: "MatMul", name: "xW", inputs: ["x", "W"], outputs: ["xw"] },
          { op: "MatMul", name: "hR", inputs: ["h", "R16"], outputs: ["hr"] },
          { op: "Add", name: "b", inputs: ["xw", "B"], outputs: ["z"] },
        ],
        initializers: [
          { name: "W_q", dims: [4 * U, D], raw: new Uint8Array(q.buffer), dataType: 3 },
          { name: "W_scale", dims: [4 * U], values: scales },
          { name: "W_zero", dims: [4 * U], raw: new Uint8Array(4 * U), dataType: 3 },
          { name: "R16", dims: [U, 4 * U], raw: half, dataType: 10 },
          { name: "B", dims: [4 * U], values: k.bias },
        ],
        inputs: [{ name: "x", dims: [1, D] }],
        outputs: [{ name: "z" }],
      }),
    );
    const r = await locate(k.path, path);
    expect(r.verdict).toBe("equal");
    for (const g of ["i", "f", "c", "o"]) {
      const kb = block(r, `kernel_${g}`);
      expect([kb.place?.constant, kb.place?.storage, kb.place?.users]).toEqual(["W_q", "int8 per channel (axis 0) behind DequantizeLinear", ["DequantizeLinear 'W_dq'"]]);
      const rk = block(r, `recurrent_kernel_${g}`);
      expect([rk.place?.constant, rk.place?.storage]).toEqual(["R16", "float16"]);
      for (const x of [kb, rk]) expect(x.maxSteps ?? 0).toBeLessThanOrEqual(0.5 + 1e-5);
      expect(block(r, `bias_${g}`).verdict).toBe("exact");
    }
    expect(r.counts.quantized).toBeGreaterThan(0);
  });

  it("diff exits 0 on a located export, 1 on a changed gate, and --json says where", async () => {
    const ok = await writeUnrolled("cli-ok.onnx");
    const same = runCli(["diff", ok.keras, ok.path]);
    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(/^= lstm_1 \(LSTM\): every gate block found, exact$/m);
    const bad = await writeUnrolled("cli-bad.onnx", (w) => (w[0] += 1));
    const changed = runCli(["diff", bad.keras, bad.path, "--json"]);
    expect(changed.status).toBe(1);
    const doc = JSON.parse(changed.stdout);
    expect(doc.kind).toBe("located");
    expect(doc.verdict).toBe("different");
    expect(doc.layers[0].blocks.find((b: { name: string }) => b.name === "kernel_i").verdict).toBe("different");
    // check EXPORT --reference KERAS: the same verdicts as a check; the export alone stays refused.
    expect(runCli(["check", ok.path, "--reference", ok.keras]).status).toBe(0);
    const failed = runCli(["check", bad.path, "--reference", bad.keras]);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toMatch(/lstm_1 \(LSTM\) kernel_i: different at 'lstm\/W' \[0:4, :\] \(transposed\)/);
    // A candidate that fails for another reason does not start loading the reference (whose failure nothing would catch).
    const missing = runCli(["check", join(dir, "absent.onnx"), "--reference", join(dir, "absent.h5")]);
    expect([missing.status, isCleanError(missing)]).toEqual([2, true]);
    expect(missing.stderr).toMatch(/absent\.onnx: no such file/);
    const alone = runCli(["summary", ok.path]);
    expect(alone.status).toBe(2);
    expect(isCleanError(alone)).toBe(true);
    expect(runCli(["diff", ok.path, bad.path]).stderr).toMatch(/neither .* has an RNN op to read as a layer/);
  });
});

describe("a GRU(reset_after=True) whose export folds its two biases into one", () => {
  it("finds each gate's input + recurrent bias as their float32 sum, and says so", async () => {
    const path = join(dir, "gru.h5");
    writeFileSync(path, await writeSpec(await gruSpec({ units: 3, features: 2, resetAfter: true })));
    const gru = (await loadModel(path)).layers.find((l) => l.className === "GRU")!;
    const w = (name: string) => Float32Array.from(gru.weights.find((t) => t.name === name)!.data);
    const [kernel, recurrent, bias] = [w("kernel"), w("recurrent_kernel"), w("bias")];
    const summed = Array.from({ length: 9 }, (_, j) => Math.fround(bias[j] + bias[9 + j]));
    const exp = join(dir, "gru-folded.onnx");
    writeFileSync(
      exp,
      onnxModel({
        nodes: [{ op: "MatMul", name: "xW", inputs: ["x", "kernel"], outputs: ["xw"] }, { op: "Add", name: "b", inputs: ["xw", "bias_sum"], outputs: ["z"] }, { op: "MatMul", name: "hR", inputs: ["h", "recurrent"], outputs: ["hr"] }],
        initializers: [
          { name: "kernel", dims: [2, 9], values: kernel },
          { name: "recurrent", dims: [3, 9], values: recurrent },
          { name: "bias_sum", dims: [9], values: summed },
        ],
        inputs: [{ name: "x", dims: [1, 2] }],
        outputs: [{ name: "z" }],
      }),
    );
    const r = await locate(path, exp);
    expect(r.verdict).toBe("equal");
    ["z", "r", "h"].forEach((g, k) => {
      for (const name of [`bias_${g}`, `recurrent_bias_${g}`]) {
        const b = block(r, name);
        expect([b.verdict, b.place?.constant, b.place?.slice, b.sumOf]).toEqual(["exact", "bias_sum", `[${3 * k}:${3 * k + 3}]`, `bias_${g} + recurrent_bias_${g}`]);
      }
    });
    expect(formatLocate(r)).toMatch(/z \[0:3\] exact \(stored as bias_z \+ recurrent_bias_z\)/);
  });
});

// ---------------------------------------------------------------------------
// TFLite
// ---------------------------------------------------------------------------

/**
 * A Keras 3-style export: a WHILE op in the main subgraph, its body holding the kernel as
 * float16 [4u, D] (behind a DEQUANTIZE op), the recurrent kernel int8 per channel [4u, u]
 * (scale max|row|/127, as the converter's dynamic-range quantization) and the bias float32,
 * each read by the body's ops. With `variables`, no constants at all: VAR_HANDLE ops whose
 * variables nothing assigns.
 */
function whileTflite(k: { kernel: Float32Array; recurrent: Float32Array; bias: Float32Array }, variables = false) {
  const buffers: FbObject[] = [table([])];
  const addBuffer = (b: Uint8Array) => (buffers.push(table([ref(ubytes(b))])), buffers.length - 1);
  const body: FbObject[] = [];
  const bodyOps: FbObject[] = [];
  const tensor = (list: FbObject[], name: string, shape: number[], type: number, buffer = 0, q?: { scale: number[]; dim: number }) => {
    const qt = q ? table([undefined, undefined, ref(f32s(q.scale)), ref(i64s(q.scale.map(() => 0))), undefined, undefined, i32(q.dim)]) : undefined;
    list.push(table([ref(i32s(shape)), i8(type), u32(buffer), ref(str(name)), qt ? ref(qt) : undefined]));
    return list.length - 1;
  };
  const W = [0, 1, 2, 3].flatMap((g) => gateRows(k.kernel, D, g));
  const R = [0, 1, 2, 3].flatMap((g) => gateRows(k.recurrent, U, g));
  const half = new Uint8Array(2 * W.length);
  W.forEach((x, i) => new DataView(half.buffer).setUint16(2 * i, halfBits(x), true));
  const scales = Array.from({ length: 4 * U }, (_, row) => Math.fround(Math.max(...R.slice(row * U, (row + 1) * U).map(Math.abs)) / 127));
  const q = Int8Array.from(R, (x, i) => Math.round(x / scales[Math.floor(i / U)]));
  const x = tensor(body, "while/x", [1, D], TFL.FLOAT32);
  const h = tensor(body, "while/h", [1, U], TFL.FLOAT32);
  const w16 = tensor(body, "while/lstm_cell/MatMul_fp16", [4 * U, D], TFL.FLOAT16, addBuffer(half));
  const w32 = tensor(body, "while/lstm_cell/MatMul", [4 * U, D], TFL.FLOAT32);
  const rq = tensor(body, "tfl.pseudo_qconst", [4 * U, U], TFL.INT8, addBuffer(new Uint8Array(q.buffer)), { scale: scales, dim: 0 });
  const b = tensor(body, "while/lstm_cell/BiasAdd", [4 * U], TFL.FLOAT32, addBuffer(new Uint8Array(Float32Array.from(k.bias).buffer)));
  const out = tensor(body, "while/z", [1, 4 * U], TFL.FLOAT32);
  bodyOps.push(table([u32(0), ref(i32s([w16])), ref(i32s([w32]))]));
  bodyOps.push(table([u32(1), ref(i32s([x, w32, b])), ref(i32s([out]))]));
  bodyOps.push(table([u32(1), ref(i32s([h, rq, -1])), ref(i32s([out]))]));
  const main: FbObject[] = [];
  const mainOps: FbObject[] = [];
  const mx = tensor(main, "serving_default_x:0", [1, 5, D], TFL.FLOAT32);
  const my = tensor(main, "StatefulPartitionedCall:0", [1, U], TFL.FLOAT32);
  if (variables) {
    for (const role of ["kernel", "recurrent_kernel", "bias"]) {
      const handle = tensor(main, `sequential/lstm/lstm_cell/${role}`, [], 20);
      const read = tensor(main, `read_${role}`, [1], TFL.FLOAT32);
      mainOps.push(table([u32(3), ref(i32s([])), ref(i32s([handle])), u8(111), ref(table([ref(str("")), ref(str(`sequential/lstm/lstm_cell/${role}`))]))]));
      mainOps.push(table([u32(4), ref(i32s([handle])), ref(i32s([read]))]));
    }
  }
  mainOps.push(table([u32(2), ref(i32s([mx])), ref(i32s([my]))]));
  const opcodes = [TFL.DEQUANTIZE, 9 /* FULLY_CONNECTED */, TFL.WHILE, TFL.VAR_HANDLE, TFL.READ_VARIABLE].map((c) => table([i8(Math.min(c, 127)), undefined, i32(1), i32(c)]));
  const subgraphs = [
    table([ref(tables(main)), ref(i32s([mx])), ref(i32s([my])), ref(tables(mainOps)), ref(str("main"))]),
    ...(variables ? [] : [table([ref(tables(body)), ref(i32s([x, h])), ref(i32s([out])), ref(tables(bodyOps)), ref(str("sequential/lstm/while_body"))])]),
  ];
  const model = table([u32(3), ref(tables(opcodes)), ref(tables(subgraphs)), ref(str("written by a keras-inspect test")), ref(tables(buffers))]);
  return flatbuffer(model);
}

describe("a TFLite WHILE body written by the test", () => {
  it("float16 kernel and int8 recurrent kernel within half a step, float32 bias exact", async () => {
    const k = await kerasFile();
    const path = join(dir, "while.tflite");
    writeFileSync(path, whileTflite(k));
    const r = await locate(k.path, path);
    expect(r.verdict).toBe("equal");
    for (const g of ["i", "f", "c", "o"]) {
      const kb = block(r, `kernel_${g}`);
      expect([kb.place?.constant, kb.place?.dtype, kb.place?.transposed, kb.place?.graph]).toEqual(["while/lstm_cell/MatMul_fp16", "float16", true, "subgraph 1 'sequential/lstm/while_body'"]);
      expect(kb.place?.users).toEqual(["DEQUANTIZE op 0"]);
      for (const name of [`kernel_${g}`, `recurrent_kernel_${g}`]) {
        const x = block(r, name);
        expect(x.verdict === "quantized" || x.verdict === "exact").toBe(true);
        expect(x.maxSteps ?? 0).toBeLessThanOrEqual(0.5 + 1e-5);
      }
      expect(block(r, `recurrent_kernel_${g}`).place?.dtype).toBe("int8");
      expect(block(r, `bias_${g}`).verdict).toBe("exact");
    }
    expect(r.counts.quantized).toBeGreaterThan(0);
  });

  it("resource variables without a value: 'not stored in this export', naming them", async () => {
    const k = await kerasFile();
    const path = join(dir, "noweights.tflite");
    writeFileSync(path, whileTflite(k, true));
    const r = await locate(k.path, path);
    expect(r.verdict).toBe("not-stored");
    expect(r.layers[0].blocks.every((b) => b.verdict === "not-stored")).toBe(true);
    expect(block(r, "recurrent_kernel_o").variables).toEqual(["sequential/lstm/lstm_cell/recurrent_kernel"]);
    const cli = runCli(["diff", k.path, path]);
    expect(cli.status).toBe(1);
    expect(cli.stdout).toMatch(/∅ lstm_1 \(LSTM\): not stored in this export/);
    expect(cli.stdout).toMatch(/NOT STORED: the export holds no values for 12 of 12 gate block\(s\)/);
  });
});

describe("hostile constants", () => {
  it("a TFLite file whose tensors share one int8 buffer over and over is refused in one line, not allocated", async () => {
    const k = await kerasFile();
    const big = new Uint8Array(1 << 18); // 256 KiB, read as 1 MiB of float32 per tensor
    const tensors = Array.from({ length: 64 }, (_, t) =>
      table([ref(i32s([512, 512])), i8(TFL.INT8), u32(1), ref(str(`shared_${t}`)), ref(table([undefined, undefined, ref(f32s([0.01])), ref(i64s([0])), undefined, undefined, i32(0)]))]),
    );
    const op = table([u32(0), ref(i32s(Array.from({ length: 64 }, (_, t) => t))), ref(i32s([]))]);
    const graph = table([ref(tables(tensors)), ref(i32s([])), ref(i32s([])), ref(tables([op])), ref(str("main"))]);
    const model = table([u32(3), ref(tables([table([i8(TFL.WHILE), undefined, i32(1), i32(TFL.WHILE)])])), ref(tables([graph])), ref(str("shared buffer")), ref(tables([table([]), table([ref(ubytes(big))])]))]);
    const path = join(dir, "shared.tflite");
    writeFileSync(path, flatbuffer(model));
    await expect(readDiffPair(k.path, path)).rejects.toThrow(/its constants share buffers over and over \(over \d+ bytes of values from a \d+-byte file\)/);
  });
});

// ---------------------------------------------------------------------------
// Real pairs
// ---------------------------------------------------------------------------

const REAL: { folder: string; keras: string; exp: string; partial?: boolean; layers: string[]; quantized?: string[] }[] = [
  { folder: "onnx_gru_loop_waterforecast_keras3_pair", keras: "gru_model.keras", exp: "gru_model.onnx", layers: ["gru_3", "gru_4", "gru_5"] },
  { folder: "dtln_keras_onnx_tflite_pair", keras: "model.h5", exp: "model_2.onnx", partial: true, layers: ["lstm_2", "lstm_3"] },
  { folder: "dtln_keras_onnx_tflite_pair", keras: "model.h5", exp: "model_1.tflite", partial: true, layers: ["lstm", "lstm_1"] },
  { folder: "dtln_keras_onnx_tflite_pair", keras: "model.h5", exp: "model_quant_1.tflite", partial: true, layers: ["lstm", "lstm_1"], quantized: ["kernel", "recurrent_kernel"] },
  { folder: "tflite_lstm_whileflex_hybridquant_pair", keras: "lstm_model.h5", exp: "lstm_model.tflite", layers: ["lstm_3"], quantized: ["recurrent_kernel"] },
  { folder: "onnx_tflite_lstm_airquality_keras3_triple", keras: "lstm_model.keras", exp: "lstm_model.tflite", layers: ["lstm", "lstm_1"] },
  // No Keras file: the fused ONNX export's layers (read as Keras layers) located in the float16 TFLite export of the same model.
  { folder: "onnx_tflite_fp16_lstm_earthpulse_no_keras", keras: "lstm_model.onnx", exp: "lstm_model_quantized.tflite", layers: ["LSTM__44", "LSTM__65"], quantized: ["kernel", "recurrent_kernel", "bias"] },
];
noteMissingExports("locate", [
  ...REAL.flatMap((p): [string, string][] => [[p.folder, p.keras], [p.folder, p.exp]]),
  ["tflite_lstm_flood_NOWEIGHTS_pair", "model.h5"],
  ["tflite_lstm_flood_NOWEIGHTS_pair", "lstm_model.tflite"],
  ["onnx_lstm_interesting_keras3_pair", "model.keras"],
]);

describe("real exports without an RNN op, against their Keras files", () => {
  for (const p of REAL) {
    const keras = exportPath(p.folder, p.keras);
    const exp = exportPath(p.folder, p.exp);
    it.skipIf(!keras || !exp)(`${p.folder}/${p.exp}: every gate block of ${p.layers.join(", ")} found${p.quantized ? ` (${p.quantized.join(", ")} within half a step)` : " bit for bit"}`, async () => {
      const r = await locate(keras!, exp!, { partial: p.partial });
      expect(r.verdict).toBe("equal");
      expect(r.layers.map((l) => l.path)).toEqual(p.layers);
      for (const b of r.layers.flatMap((l) => l.blocks)) {
        if (p.quantized?.includes(b.weight)) {
          expect(b.verdict).toBe("quantized");
          expect(b.maxSteps!).toBeLessThanOrEqual(0.5 + 1e-5);
        } else expect(b.verdict).toBe("exact");
      }
    });
  }

  const dtlnKeras = exportPath("dtln_keras_onnx_tflite_pair", "model.h5");
  const dtlnOnnx = exportPath("dtln_keras_onnx_tflite_pair", "model_2.onnx");
  it.skipIf(!dtlnKeras || !dtlnOnnx)("without --partial, the DTLN stage that holds lstm_2 and lstm_3 only is 'different' for lstm and lstm_1", async () => {
    const r = await locate(dtlnKeras!, dtlnOnnx!);
    expect(r.verdict).toBe("different");
    expect(r.layers.map((l) => [l.path, l.status])).toEqual([["lstm", "different"], ["lstm_1", "different"], ["lstm_2", "equal"], ["lstm_3", "equal"]]);
  });

  const floodKeras = exportPath("tflite_lstm_flood_NOWEIGHTS_pair", "model.h5");
  const floodTflite = exportPath("tflite_lstm_flood_NOWEIGHTS_pair", "lstm_model.tflite");
  it.skipIf(!floodKeras || !floodTflite)("the flood export's LSTM weights are not stored (resource variables without an initializer)", async () => {
    const r = await locate(floodKeras!, floodTflite!);
    expect(r.verdict).toBe("not-stored");
    expect(block(r, "kernel_i").variables).toEqual(["sequential_4/lstm_4/lstm_cell/kernel"]);
  });

  const other = exportPath("onnx_lstm_interesting_keras3_pair", "model.keras");
  const airTflite = exportPath("onnx_tflite_lstm_airquality_keras3_triple", "lstm_model.tflite");
  it.skipIf(!other || !airTflite)("another model's export (two LSTMs of other weights) is 'different' at every gate", async () => {
    const r = await locate(other!, airTflite!);
    expect(r.verdict).toBe("different");
    expect(r.counts.exact + r.counts.quantized).toBe(0);
    expect(r.layers.flatMap((l) => l.blocks).every((b) => b.verdict === "different")).toBe(true);
  });
});
