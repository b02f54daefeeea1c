/**
 * Self-tests of the two independent references (tfjs.ts, numpy.ts) before
 * anything else is checked against them:
 *  (a) the seed example, numbers given by the user;
 *  (b) Keras 3's own golden outputs (keras/src/layers/rnn/{lstm,gru,simple_rnn,
 *      bidirectional}_test.py, listed in keras-formats.md §C), reproduced by
 *      numpy and, where tfjs has the feature, by tfjs;
 *  (c) tfjs and numpy agreeing on seeded random configurations.
 *
 * Tolerances: Keras' golden assertions use atol = rtol = 1e-5 (lstm_test.py);
 * we use the same. The seed example's values are printed with 6 decimals, so
 * they are compared at 1e-6. tfjs vs numpy: both float32, different op order,
 * so they differ by a few ulp; 1e-5 absolute leaves ample room and still
 * catches any formula error (those show up at 1e-2 and above).
 */
import { afterAll, describe, expect, it } from "vitest";

import { closeNumpy, noteNumpySkipped, numpyAvailable, runNumpy, type NumpyRequest, type NumpyTrace } from "./numpy.js";
import type { BidirectionalSpec, RnnKind, RnnSpec } from "./rnn-spec.js";
import { runTfjs, tfjsLimitations, tfjsSupportsActivation, TfjsUnsupportedError, type TfjsOptions } from "./tfjs.js";

const HAVE_NUMPY = numpyAvailable();
noteNumpySkipped();
afterAll(() => closeNumpy());

// ------------------------------------------------------------------ helpers

type Nested = number | Nested[];

function flat(v: Nested): number[] {
  return Array.isArray(v) ? v.flatMap(flat) : [v];
}

function shapeOf(v: Nested): number[] {
  return Array.isArray(v) ? [v.length, ...(v.length ? shapeOf(v[0]) : [])] : [];
}

/** |a - e| <= atol + rtol * |e| everywhere, with equal shapes (numpy.allclose). */
function expectClose(actual: unknown, expected: Nested, atol: number, rtol = 0, what = "value"): void {
  expect(shapeOf(actual as Nested), `${what}: shape`).toEqual(shapeOf(expected));
  const a = flat(actual as Nested);
  const e = flat(expected);
  let worst = 0;
  let at = -1;
  for (let k = 0; k < e.length; k++) {
    const excess = Math.abs(a[k] - e[k]) - (atol + rtol * Math.abs(e[k]));
    if (!(excess <= 0) && (at < 0 || excess > worst)) {
      worst = excess;
      at = k;
    }
  }
  if (at >= 0) {
    expect.fail(`${what}: element ${at} is ${a[at]}, expected ${e[at]} (atol ${atol}, rtol ${rtol})`);
  }
}

function arange(b: number, t: number, d: number): number[][][] {
  return Array.from({ length: b }, (_, i) =>
    Array.from({ length: t }, (_, j) => Array.from({ length: d }, (_, k) => (i * t + j) * d + k)),
  );
}

function arange2(r: number, c: number, scale = 1): number[][] {
  return Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => (i * c + j) * scale));
}

/** Each golden row holds one value repeated across units. */
function rows(values: number[], units: number): number[][] {
  return values.map((v) => Array(units).fill(v));
}

const G: Record<RnnKind, number> = { lstm: 4, gru: 3, simple_rnn: 1 };

/**
 * The Keras tests' layer: kernel Constant(0.01), recurrent Constant(0.02),
 * bias Constant(0.03); LSTM's unit_forget_bias replaces the f slice with 1.
 */
function kerasTestLayer(
  kind: RnnKind,
  units: number,
  inputDim: number,
  extra: Partial<RnnSpec> & { unitForgetBias?: boolean; k?: number; r?: number; b?: number } = {},
): RnnSpec {
  const { unitForgetBias = true, k = 0.01, r = 0.02, b = 0.03, ...rest } = extra;
  const g = G[kind] * units;
  const resetAfter = kind === "gru" ? (rest.resetAfter ?? true) : undefined;
  const useBias = rest.useBias ?? true;
  let bias: Float32Array | undefined;
  if (useBias) {
    bias = new Float32Array(resetAfter ? 2 * g : g).fill(b);
    if (kind === "lstm" && unitForgetBias) bias.fill(1, units, 2 * units);
  }
  return {
    kind,
    units,
    inputDim,
    activation: "tanh",
    recurrentActivation: kind === "simple_rnn" ? undefined : "sigmoid",
    useBias,
    resetAfter,
    kernel: new Float32Array(inputDim * g).fill(k),
    recurrentKernel: new Float32Array(units * g).fill(r),
    bias,
    ...rest,
  };
}

interface RefResult {
  output: unknown;
  states?: number[][][];
}
type Ref = "tfjs" | "numpy";

async function runRef(ref: Ref, spec: RnnSpec | BidirectionalSpec, x: number[][][], opts: TfjsOptions = {}): Promise<RefResult> {
  if (ref === "tfjs") return runTfjs(spec, x, opts);
  const { initialState, mask, hardSigmoid } = opts;
  return runNumpy({ spec, x, initialState, mask, hardSigmoid });
}

function withReturnState(spec: RnnSpec | BidirectionalSpec): RnnSpec | BidirectionalSpec {
  if ("forward" in spec) {
    return { ...spec, forward: { ...spec.forward, returnState: true }, backward: { ...spec.backward, returnState: true } };
  }
  return { ...spec, returnState: true };
}

// ------------------------------------------------------------------ (a) seed example

describe("seed example: LSTM(1) on 2 features, input [1, 10]", () => {
  const seed: RnnSpec = {
    kind: "lstm",
    units: 1,
    inputDim: 2,
    activation: "tanh",
    recurrentActivation: "sigmoid",
    useBias: true,
    // row-major (2, 4): gates i, f, c, o
    kernel: new Float32Array([-0.7879, -0.7968972, 0.9924617, -0.6057646, -0.14056396, -0.34560132, 0.9574034, 0.7960496]),
    recurrentKernel: new Float32Array([-0.0660542, -0.32508007, -0.8477706, 0.41381747]),
    bias: new Float32Array([0, 1, 0, 0]),
  };
  const x = [[[1, 10]]];

  it("tfjs gives h = 0.0999329 (1e-6: value printed with 6 decimals)", async () => {
    const r = await runTfjs(seed, x);
    expectClose(r.output, [[0.0999329]], 1e-6);
  });

  it.skipIf(!HAVE_NUMPY)("numpy gives h and every intermediate (1e-6)", async () => {
    const r = await runNumpy({ spec: seed, x });
    expectClose(r.output, [[0.0999329]], 1e-6, 0, "h");
    const tr = r.trace as NumpyTrace;
    expect(tr.timeIndex).toEqual([0]);
    const want: Record<string, number> = {
      x_i: -2.19354,
      x_f: -3.25291,
      x_c: 10.566496,
      x_o: 7.354731,
      i: 0.100332,
      f: 0.037222,
      c: 0.100332,
      o: 0.999361,
      h: 0.0999329,
    };
    for (const [name, v] of Object.entries(want)) expectClose(tr.steps[name], [[[v]]], 1e-6, 0, name);
    // final states are [h, c]
    expectClose(r.states, [[[0.0999329]], [[0.100332]]], 1e-6, 0, "states");
  });
});

// ------------------------------------------------------------------ (b) Keras 3 golden values

interface Golden {
  name: string;
  spec: RnnSpec | BidirectionalSpec;
  x: number[][][];
  opts?: TfjsOptions;
  /** Run twice, the second call starting from the first call's final states (stateful=True). */
  stateful?: boolean;
  /** What to compare: the output, or [output, ...states] for return_state cases. */
  withStates?: boolean;
  expected: Nested;
}

const X72 = arange(3, 6, 4);
const X24a = arange(2, 4, 3);
const X24b = arange(2, 3, 4);
const H0 = arange2(2, 2);
const MASK_LSTM = [
  [true, true, true, false],
  [true, true, false, false],
];
const MASK_LSTM_BACK = [
  [false, true, true, true],
  [false, false, true, true],
];
const MASK_GAP = [
  [true, true, false, true],
  [true, false, false, true],
];

const lstm3 = (e: Parameters<typeof kerasTestLayer>[3] = {}) => kerasTestLayer("lstm", 3, 4, e);
const lstm2 = (e: Parameters<typeof kerasTestLayer>[3] = {}) => kerasTestLayer("lstm", 2, 3, e);
const gru3 = (e: Parameters<typeof kerasTestLayer>[3] = {}) => kerasTestLayer("gru", 3, 4, e);
const gru2 = (e: Parameters<typeof kerasTestLayer>[3] = {}) => kerasTestLayer("gru", 2, 3, e);

const GOLDEN: Golden[] = [
  // lstm_test.py
  { name: "LSTM(3)", spec: lstm3(), x: X72, expected: rows([0.6288687, 0.86899155, 0.9460773], 3) },
  { name: "LSTM(3) go_backwards", spec: lstm3({ goBackwards: true }), x: X72, expected: rows([0.35622165, 0.74789524, 0.8872726], 3) },
  { name: "LSTM(3) unit_forget_bias=False", spec: lstm3({ unitForgetBias: false }), x: X72, expected: rows([0.57019705, 0.8661914, 0.9459622], 3) },
  { name: "LSTM(3) use_bias=False", spec: lstm3({ useBias: false }), x: X72, expected: rows([0.54986924, 0.86226785, 0.9443936], 3) },
  {
    name: "LSTM(4) stateful, second call",
    spec: kerasTestLayer("lstm", 4, 4),
    x: X24b,
    stateful: true,
    expected: rows([0.3124785, 0.6863672], 4),
  },
  {
    name: "LSTM(2) initial_state",
    spec: lstm2(),
    x: X24a,
    opts: { initialState: [H0, H0] },
    expected: [
      [0.20574439, 0.3558822],
      [0.64930826, 0.66276],
    ],
  },
  {
    name: "LSTM(2) initial_state go_backwards",
    spec: lstm2({ goBackwards: true }),
    x: X24a,
    opts: { initialState: [H0, H0] },
    expected: [
      [0.13281618, 0.2790356],
      [0.5839337, 0.5992567],
    ],
  },
  { name: "LSTM(2) mask", spec: lstm2(), x: X24a, opts: { mask: MASK_LSTM }, expected: rows([0.11755939, 0.28556206], 2) },
  {
    name: "LSTM(2) mask return_sequences",
    spec: lstm2({ returnSequences: true }),
    x: X24a,
    opts: { mask: MASK_LSTM },
    expected: [rows([0.0158891, 0.05552048, 0.11755939, 0.11755939], 2), rows([0.14185596, 0.28556206, 0.28556206, 0.28556206], 2)],
  },
  {
    name: "LSTM(2) mask return_sequences zero_output_for_mask",
    spec: lstm2({ returnSequences: true, zeroOutputForMask: true }),
    x: X24a,
    opts: { mask: MASK_LSTM },
    expected: [rows([0.0158891, 0.05552048, 0.11755939, 0], 2), rows([0.14185596, 0.28556206, 0, 0], 2)],
  },
  {
    name: "LSTM(2) go_backwards with mask",
    spec: lstm2({ goBackwards: true }),
    x: X24a,
    opts: { mask: MASK_LSTM_BACK },
    expected: rows([0.15341201, 0.3844719], 2),
  },
  // gru_test.py (Keras 3 GRU default: reset_after=True)
  { name: "GRU(3) reset_after=True", spec: gru3(), x: X72, expected: rows([0.5217289, 0.6371659, 0.39384964], 3) },
  { name: "GRU(3) go_backwards", spec: gru3({ goBackwards: true }), x: X72, expected: rows([0.24406259, 0.611516, 0.3928808], 3) },
  { name: "GRU(3) reset_after=False", spec: gru3({ resetAfter: false }), x: X72, expected: rows([0.51447755, 0.6426879, 0.40208298], 3) },
  { name: "GRU(3) use_bias=False", spec: gru3({ useBias: false }), x: X72, expected: rows([0.49988455, 0.64701194, 0.4103359], 3) },
  { name: "GRU(4) stateful, second call", spec: kerasTestLayer("gru", 4, 4), x: X24b, stateful: true, expected: rows([0.29542392, 0.5885018], 4) },
  {
    name: "GRU(2) initial_state",
    spec: gru2(),
    x: X24a,
    opts: { initialState: [H0] },
    expected: [
      [0.23774096, 0.33508456],
      [0.83659905, 1.0227708],
    ],
  },
  {
    name: "GRU(2) initial_state go_backwards",
    spec: gru2({ goBackwards: true }),
    x: X24a,
    opts: { initialState: [H0] },
    expected: [
      [0.13486053, 0.23261218],
      [0.78257304, 0.9691353],
    ],
  },
  { name: "GRU(2) mask", spec: gru2(), x: X24a, opts: { mask: MASK_GAP }, expected: rows([0.19393763, 0.30818558], 2) },
  {
    name: "GRU(2) mask return_sequences",
    spec: gru2({ returnSequences: true }),
    x: X24a,
    opts: { mask: MASK_GAP },
    expected: [rows([0.03606692, 0.09497581, 0.09497581, 0.19393763], 2), rows([0.16051409, 0.16051409, 0.16051409, 0.30818558], 2)],
  },
  {
    name: "GRU(2) mask return_sequences zero_output_for_mask",
    spec: gru2({ returnSequences: true, zeroOutputForMask: true }),
    x: X24a,
    opts: { mask: MASK_GAP },
    expected: [rows([0.03606692, 0.09497581, 0, 0.19393763], 2), rows([0.16051409, 0, 0, 0.30818558], 2)],
  },
  { name: "GRU(2) mask go_backwards", spec: gru2({ goBackwards: true }), x: X24a, opts: { mask: MASK_GAP }, expected: rows([0.11669192, 0.28380975], 2) },
  // simple_rnn_test.py
  { name: "SimpleRNN(4)", spec: kerasTestLayer("simple_rnn", 4, 4), x: X24b, expected: rows([0.405432, 0.73605347], 4) },
  {
    name: "SimpleRNN(4) go_backwards",
    spec: kerasTestLayer("simple_rnn", 4, 4, { goBackwards: true }),
    x: X24b,
    expected: rows([0.11144729, 0.5528889], 4),
  },
  {
    name: "SimpleRNN(4) stateful, second call",
    spec: kerasTestLayer("simple_rnn", 4, 4),
    x: X24b,
    stateful: true,
    expected: rows([0.40559256, 0.7361247], 4),
  },
  {
    name: "SimpleRNN(4) initial_state",
    spec: kerasTestLayer("simple_rnn", 4, 3),
    x: X24a,
    opts: { initialState: [arange2(2, 4)] },
    expected: rows([0.33621645, 0.6262637], 4),
  },
  {
    name: "SimpleRNN(4) initial_state go_backwards",
    spec: kerasTestLayer("simple_rnn", 4, 3, { goBackwards: true }),
    x: X24a,
    opts: { initialState: [arange2(2, 4)] },
    expected: rows([0.07344437, 0.43043602], 4),
  },
  { name: "SimpleRNN(4) mask", spec: kerasTestLayer("simple_rnn", 4, 3), x: X24a, opts: { mask: MASK_GAP }, expected: rows([0.32951632, 0.61799484], 4) },
  {
    name: "SimpleRNN(2) mask return_sequences",
    spec: kerasTestLayer("simple_rnn", 2, 3, { returnSequences: true }),
    x: X24a,
    opts: { mask: MASK_GAP },
    expected: [rows([0.0599281, 0.15122814, 0.15122814, 0.32394567], 2), rows([0.3969304, 0.3969304, 0.3969304, 0.608085], 2)],
  },
  {
    name: "SimpleRNN(2) mask return_sequences zero_output_for_mask",
    spec: kerasTestLayer("simple_rnn", 2, 3, { returnSequences: true, zeroOutputForMask: true }),
    x: X24a,
    opts: { mask: MASK_GAP },
    expected: [rows([0.0599281, 0.15122814, 0, 0.32394567], 2), rows([0.3969304, 0, 0, 0.608085], 2)],
  },
  {
    name: "SimpleRNN(4) mask go_backwards",
    spec: kerasTestLayer("simple_rnn", 4, 3, { goBackwards: true }),
    x: X24a,
    opts: { mask: MASK_GAP },
    expected: rows([0.07376196, 0.43645123], 4),
  },
  // bidirectional_test.py
  ...(() => {
    const fw = kerasTestLayer("simple_rnn", 2, 4);
    const bw = { ...fw, goBackwards: true };
    const out: Golden[] = [
      {
        name: "Bidirectional(SimpleRNN(2)) concat",
        spec: { forward: fw, backward: bw, mergeMode: "concat" },
        x: X24b,
        expected: [
          [0.39687276, 0.39687276, 0.10004295, 0.10004295],
          [0.7237238, 0.7237238, 0.53391594, 0.53391594],
        ],
      },
      {
        name: "Bidirectional(SimpleRNN(2)) ave",
        spec: { forward: fw, backward: bw, mergeMode: "ave" },
        x: X24b,
        expected: rows([0.24845785, 0.6288199], 2),
      },
      {
        name: "Bidirectional(SimpleRNN(2)) merge_mode None",
        spec: { forward: fw, backward: bw, mergeMode: null },
        x: X24b,
        expected: [rows([0.39687276, 0.7237238], 2), rows([0.10004295, 0.53391594], 2)],
      },
      {
        name: "Bidirectional(SimpleRNN(2)) mul, own backward weights",
        spec: { forward: fw, backward: kerasTestLayer("simple_rnn", 2, 4, { k: 0.03, r: 0.02, b: 0.01, goBackwards: true }), mergeMode: "mul" },
        x: X24b,
        expected: rows([0.08374989, 0.6740834], 2),
      },
    ];
    return out;
  })(),
  {
    name: "Bidirectional(GRU(2), return_sequences) sum",
    spec: { forward: kerasTestLayer("gru", 2, 4, { returnSequences: true }), backward: kerasTestLayer("gru", 2, 4, { returnSequences: true, goBackwards: true }), mergeMode: "sum" },
    x: X24b,
    expected: [rows([0.20937867, 0.34462988, 0.40290534], 2), rows([0.59829646, 0.6734641, 0.6479671], 2)],
  },
  {
    name: "Bidirectional(LSTM(2)) stateful, second call",
    spec: { forward: lstm2(), backward: lstm2({ goBackwards: true }), mergeMode: "concat" },
    x: X24a,
    stateful: true,
    expected: [
      [0.26234663, 0.26234663, 0.16959146, 0.16959146],
      [0.6137073, 0.6137073, 0.5381646, 0.5381646],
    ],
  },
  {
    name: "Bidirectional(LSTM(2)) initial_state",
    spec: { forward: lstm2(), backward: lstm2({ goBackwards: true }), mergeMode: "concat" },
    x: X24a,
    opts: { initialState: [1, 2, 3, 4].map((s) => arange2(2, 2, s)) },
    expected: [
      [0.20794602, 0.4577124, 0.14046375, 0.48191673],
      [0.6682636, 0.6711909, 0.60943645, 0.60950446],
    ],
  },
  {
    name: "Bidirectional(GRU(2)) mask",
    spec: { forward: gru2(), backward: gru2({ goBackwards: true }), mergeMode: "concat" },
    x: X24a,
    opts: { mask: MASK_GAP },
    expected: [
      [0.19393763, 0.19393763, 0.11669192, 0.11669192],
      [0.30818558, 0.30818558, 0.28380975, 0.28380975],
    ],
  },
  {
    name: "Bidirectional(LSTM(2), return_state): output, h1, c1, h2, c2",
    spec: { forward: lstm2({ returnState: true }), backward: lstm2({ returnState: true, goBackwards: true }), mergeMode: "concat" },
    x: X24a,
    withStates: true,
    expected: [
      [
        [0.1990008, 0.1990008, 0.12659755, 0.12659755],
        [0.52335435, 0.52335435, 0.44717982, 0.44717982],
      ],
      rows([0.1990008, 0.52335435], 2),
      rows([0.35567185, 1.0492687], 2),
      rows([0.12659755, 0.44717982], 2),
      rows([0.2501858, 0.941473], 2),
    ],
  },
];

async function goldenValue(ref: Ref, g: Golden): Promise<Nested> {
  let opts = g.opts ?? {};
  if (g.stateful) {
    const first = await runRef(ref, withReturnState(g.spec), g.x, opts);
    opts = { ...opts, initialState: first.states };
  }
  const spec = g.stateful ? withReturnState(g.spec) : g.spec;
  const r = await runRef(ref, spec, g.x, opts);
  if (g.withStates) return [r.output as Nested, ...(r.states as Nested[])];
  return r.output as Nested;
}

describe("Keras 3 golden values (atol = rtol = 1e-5, as in Keras' tests)", () => {
  describe.skipIf(!HAVE_NUMPY)("numpy", () => {
    for (const g of GOLDEN) {
      it(g.name, async () => {
        expectClose(await goldenValue("numpy", g), g.expected, 1e-5, 1e-5, g.name);
      });
    }
  });

  describe("tfjs", () => {
    for (const g of GOLDEN) {
      const limits = tfjsLimitations(g.spec, g.opts ?? {});
      if (limits.length === 0) {
        it(g.name, async () => {
          expectClose(await goldenValue("tfjs", g), g.expected, 1e-5, 1e-5, g.name);
        });
      } else {
        it(`${g.name}: tfjs refuses (${limits.join("; ")})`, async () => {
          await expect(runTfjs(g.spec, g.x, g.opts)).rejects.toBeInstanceOf(TfjsUnsupportedError);
        });
      }
    }
  });

  it("tfjs covers the cases it should (guards against silently skipping everything)", () => {
    const refused = GOLDEN.filter((g) => tfjsLimitations(g.spec, g.opts ?? {}).length > 0).map((g) => g.name);
    // reset_after=True GRUs (tfjs has none) and zero_output_for_mask (tfjs has none)
    expect(refused.every((n) => n.includes("GRU") || n.includes("zero_output_for_mask"))).toBe(true);
    expect(GOLDEN.length - refused.length).toBeGreaterThanOrEqual(25);
  });
});
