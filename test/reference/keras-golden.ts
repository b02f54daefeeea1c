/**
 * Keras 3's own golden outputs for LSTM, GRU, SimpleRNN and Bidirectional
 * (keras/src/layers/rnn/{lstm,gru,simple_rnn,bidirectional}_test.py, listed in
 * keras-formats.md §C), as RnnSpec cases, plus the seeded PRNG the random
 * reference tests draw from. Shared by the reference self-tests
 * (reference.test.ts) and the evaluator's tests (test/eval/), so the numbers
 * exist once.
 *
 * Keras asserts these with atol = rtol = 1e-5.
 */
import type { BidirectionalSpec, RnnKind, RnnSpec } from "./rnn-spec.js";
import type { TfjsOptions } from "./tfjs.js";

export type Nested = number | Nested[];

export function arange(b: number, t: number, d: number): number[][][] {
  return Array.from({ length: b }, (_, i) =>
    Array.from({ length: t }, (_, j) => Array.from({ length: d }, (_, k) => (i * t + j) * d + k)),
  );
}

export function arange2(r: number, c: number, scale = 1): number[][] {
  return Array.from({ length: r }, (_, i) => Array.from({ length: c }, (_, j) => (i * c + j) * scale));
}

/** Each golden row holds one value repeated across units. */
export function rows(values: number[], units: number): number[][] {
  return values.map((v) => Array(units).fill(v));
}

export const G: Record<RnnKind, number> = { lstm: 4, gru: 3, simple_rnn: 1 };

/**
 * The Keras tests' layer: kernel Constant(0.01), recurrent Constant(0.02),
 * bias Constant(0.03); LSTM's unit_forget_bias replaces the f slice with 1.
 */
export function kerasTestLayer(
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

export interface Golden {
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

export const X72 = arange(3, 6, 4);
export const X24a = arange(2, 4, 3);
export const X24b = arange(2, 3, 4);
export const H0 = arange2(2, 2);
export const MASK_LSTM = [
  [true, true, true, false],
  [true, true, false, false],
];
export const MASK_LSTM_BACK = [
  [false, true, true, true],
  [false, false, true, true],
];
export const MASK_GAP = [
  [true, true, false, true],
  [true, false, false, true],
];

const lstm3 = (e: Parameters<typeof kerasTestLayer>[3] = {}) => kerasTestLayer("lstm", 3, 4, e);
const lstm2 = (e: Parameters<typeof kerasTestLayer>[3] = {}) => kerasTestLayer("lstm", 2, 3, e);
const gru3 = (e: Parameters<typeof kerasTestLayer>[3] = {}) => kerasTestLayer("gru", 3, 4, e);
const gru2 = (e: Parameters<typeof kerasTestLayer>[3] = {}) => kerasTestLayer("gru", 2, 3, e);

export const GOLDEN: Golden[] = [
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

// ------------------------------------------------------------------ seeded random draws

/** mulberry32: small seeded PRNG so every run draws the same configurations. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Draw {
  constructor(private readonly next: () => number) {}
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  bool(p = 0.5): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
  floats(n: number, lo: number, hi: number): Float32Array {
    return Float32Array.from({ length: n }, () => this.uniform(lo, hi));
  }
  tensor(b: number, t: number, d: number, lo: number, hi: number): number[][][] {
    return Array.from({ length: b }, () => Array.from({ length: t }, () => Array.from({ length: d }, () => Math.fround(this.uniform(lo, hi)))));
  }
  states(n: number, b: number, u: number): number[][][] {
    return Array.from({ length: n }, () => Array.from({ length: b }, () => Array.from({ length: u }, () => Math.fround(this.uniform(-1, 1)))));
  }
}
