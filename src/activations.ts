/**
 * Keras activation functions by name, with the constants of the Keras version
 * that wrote the file (see keras-formats.md §A4).
 *
 * The one that differs between versions is `hard_sigmoid`:
 *   Keras 1, Keras 2, tf.keras, Theano, CNTK:   clip(0.2·x + 0.5, 0, 1)
 *   Keras 3 (every backend):                    clip(x/6 + 0.5, 0, 1)
 * Keras 3 resolves the name "hard_sigmoid" in an old config to its new function,
 * so we choose by the writer's major version, and the user can override it.
 */
import { UnsupportedError } from "./errors.js";
import { lookup } from "./lookup.js";

export type HardSigmoidVariant = "keras2" | "keras3";
export type Activation = (x: number) => number;

export interface ActivationDefinition {
  /** The name as Keras spells it. */
  name: string;
  fn: Activation;
  /** The formula, for explanations: uses `x`. */
  formula: string;
}

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

const sigmoid: Activation = (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
const softplus: Activation = (x) => (x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x)));

/**
 * erf with ~1e-15 relative accuracy: Maclaurin series for |x| < 2.5, a continued
 * fraction for erfc beyond. JavaScript has no Math.erf.
 */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // erfc(x) = exp(-x²)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))) (Lentz's algorithm)
  const tiny = 1e-300;
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const a = n / 2;
    d = ax + a * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = ax + a / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}

const tables: Partial<Record<HardSigmoidVariant, Record<string, Omit<ActivationDefinition, "name">>>> = {};

/**
 * The table for a hard_sigmoid variant, made once: every evaluation then calls the same
 * function objects, which V8 inlines into the cells (a new closure per layer would undo that).
 */
function table(hardSigmoid: HardSigmoidVariant): Record<string, Omit<ActivationDefinition, "name">> {
  return (tables[hardSigmoid] ??= makeTable(hardSigmoid));
}

function makeTable(hardSigmoid: HardSigmoidVariant): Record<string, Omit<ActivationDefinition, "name">> {
  const hard =
    hardSigmoid === "keras3"
      ? { fn: (x: number) => Math.min(1, Math.max(0, x / 6 + 0.5)), formula: "clip(x/6 + 0.5, 0, 1)" }
      : { fn: (x: number) => Math.min(1, Math.max(0, 0.2 * x + 0.5)), formula: "clip(0.2·x + 0.5, 0, 1)" };
  return {
    tanh: { fn: Math.tanh, formula: "tanh(x)" },
    sigmoid: { fn: sigmoid, formula: "1 / (1 + e^(-x))" },
    hard_sigmoid: hard,
    linear: { fn: (x) => x, formula: "x" },
    relu: { fn: (x) => (x > 0 ? x : 0), formula: "max(x, 0)" },
    relu6: { fn: (x) => Math.min(6, Math.max(0, x)), formula: "min(max(x, 0), 6)" },
    elu: { fn: (x) => (x > 0 ? x : Math.expm1(x)), formula: "x > 0 ? x : e^x - 1" },
    selu: {
      fn: (x) => SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)),
      formula: `${SELU_SCALE} · (x > 0 ? x : ${SELU_ALPHA}·(e^x - 1))`,
    },
    softsign: { fn: (x) => x / (1 + Math.abs(x)), formula: "x / (1 + |x|)" },
    softplus: { fn: softplus, formula: "log(1 + e^x)" },
    swish: { fn: (x) => x * sigmoid(x), formula: "x · sigmoid(x)" },
    silu: { fn: (x) => x * sigmoid(x), formula: "x · sigmoid(x)" },
    gelu: { fn: (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)), formula: "0.5·x·(1 + erf(x/√2))" },
    exponential: { fn: Math.exp, formula: "e^x" },
    leaky_relu: { fn: (x) => (x > 0 ? x : 0.2 * x), formula: "x > 0 ? x : 0.2·x" },
    mish: { fn: (x) => x * Math.tanh(softplus(x)), formula: "x · tanh(log(1 + e^x))" },
    log_sigmoid: { fn: (x) => -softplus(-x), formula: "-log(1 + e^(-x))" },
    hard_silu: { fn: (x) => x * hard.fn(x), formula: `x · ${hard.formula}` },
    hard_swish: { fn: (x) => x * hard.fn(x), formula: `x · ${hard.formula}` },
  };
}

const ALIASES: Record<string, string> = { hardSigmoid: "hard_sigmoid", hard_tanh: "hard_tanh" };

/** Names the elementwise table knows (softmax is handled by the layers that use it, on a whole vector). */
export function knownActivations(): string[] {
  return Object.keys(table("keras2"));
}

/**
 * The activation a config names. Accepts the plain string Keras writes, or Keras 3's
 * serialized form `{class_name: "function", config: "tanh"}`.
 */
export function activationName(value: unknown, fallback: string): string {
  if (value === undefined || value === null) return fallback;
  if (typeof value === "string") return lookup(ALIASES, value) ?? value;
  if (typeof value === "object") {
    const v = value as { config?: unknown; class_name?: unknown };
    if (typeof v.config === "string") return lookup(ALIASES, v.config) ?? v.config;
    // tf.keras lets a layer object serve as an activation (activation=LeakyReLU(0.1)).
    const cfg = (v.config ?? {}) as Record<string, unknown>;
    const num = (x: unknown, d: number) => (typeof x === "number" && Number.isFinite(x) ? x : d);
    if (v.class_name === "LeakyReLU") return `leaky_relu(alpha=${num(cfg.alpha ?? cfg.negative_slope, 0.3)})`;
    if (v.class_name === "ELU") return `elu(alpha=${num(cfg.alpha, 1)})`;
    if (v.class_name === "ReLU" && cfg.max_value == null && !cfg.negative_slope && !cfg.threshold) return "relu";
    if (v.class_name === "Activation" && typeof cfg.activation === "string") return lookup(ALIASES, cfg.activation) ?? cfg.activation;
    if (typeof v.class_name === "string" && v.class_name !== "function") return v.class_name;
  }
  throw new UnsupportedError(`activation ${JSON.stringify(value).slice(0, 80)} is not a built-in Keras activation`);
}

/** Activations with a parameter, written as Keras layers serialize them: leaky_relu(alpha=0.3), elu(alpha=1). */
function parametrized(name: string): Omit<ActivationDefinition, "name"> | undefined {
  const m = /^(leaky_relu|elu)\(alpha=(-?[\d.]+(?:e-?\d+)?)\)$/.exec(name);
  if (!m) return undefined;
  const a = Number(m[2]);
  return m[1] === "leaky_relu"
    ? { fn: (x) => (x > 0 ? x : a * x), formula: `x > 0 ? x : ${a}·x` }
    : { fn: (x) => (x > 0 ? x : a * Math.expm1(x)), formula: `x > 0 ? x : ${a}·(e^x - 1)` };
}

export function getActivation(name: string, hardSigmoid: HardSigmoidVariant, where: string): ActivationDefinition {
  const def = lookup(table(hardSigmoid), name) ?? parametrized(name);
  if (!def) {
    throw new UnsupportedError(
      `${where}: activation '${name}' is not supported; supported: ${knownActivations().join(", ")}`,
    );
  }
  return { name, ...def };
}

/** Which hard_sigmoid the file's writer used: Keras 3 files use x/6 + 0.5, every earlier writer 0.2·x + 0.5. */
export function hardSigmoidFor(kerasMajor: number): HardSigmoidVariant {
  return kerasMajor >= 3 ? "keras3" : "keras2";
}
