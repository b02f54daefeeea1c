/**
 * Keras' dtype policy of a layer, read from its config, and what keras-inspect does with it.
 *
 * A policy names two dtypes (Keras 3 keras/src/dtype_policies/dtype_policy.py,
 * DTypePolicy._parse_name; tf.keras 2 keras/mixed_precision/policy.py, Policy):
 * - `mixed_float16`: variables float32, computation float16;
 * - `mixed_bfloat16`: variables float32, computation bfloat16;
 * - any other float name (`float16`, `bfloat16`, `float32`, `float64`): both that dtype.
 *
 * The config records it as:
 * - a string: `"dtype": "float32"` (Keras 2, and Keras 3 layers without a policy object);
 * - a Keras 2 policy object: `{"class_name": "Policy", "config": {"name": "mixed_float16"}}`
 *   (tf.keras 2.4+; `PolicyV1` in tf.keras' experimental API, with a loss_scale beside);
 * - a Keras 3 object: `{"module": "keras", "class_name": "DTypePolicy", "config": {"name": ...}}`
 *   (`FloatDTypePolicy` in Keras 3.0-3.5). Quantized policies (`int8_from_float32`, ...)
 *   store integer variables, which keras-inspect does not evaluate.
 *
 * keras-inspect evaluates in float32 (or float64 with --dtype float64) whatever the policy:
 * weights stored as float16 or bfloat16 are widened to float32 exactly (half.ts), and every
 * product and sum is rounded to float32, not to the policy's 16-bit compute dtype. Under a
 * 16-bit compute dtype Keras rounds each intermediate to 16 bits, so its outputs differ
 * from these by that rounding (about 1e-3 relative for float16, 1e-2 for bfloat16); the
 * output says so rather than imitate 16-bit arithmetic it does not do.
 */
import type { EvalDType } from "./eval/trace.js";
import type { Layer, Model } from "./model.js";
import { walkLayers } from "./model.js";

export interface DTypePolicy {
  /** The policy's name as the config gives it (`mixed_float16`, `float32`, ...). */
  name: string;
  /** The dtype Keras computes in. */
  computeDtype: string;
  /** The dtype Keras stores variables in. */
  variableDtype: string;
}

const FLOAT_NAMES = new Set(["float16", "bfloat16", "float32", "float64", "half", "float", "double"]);
const CANONICAL: Record<string, string> = { half: "float16", float: "float32", double: "float64" };

/** A policy from its name; undefined for names that are not float policies (quantized ones). */
export function policyFromName(name: string): DTypePolicy | undefined {
  if (name === "mixed_float16") return { name, computeDtype: "float16", variableDtype: "float32" };
  if (name === "mixed_bfloat16") return { name, computeDtype: "bfloat16", variableDtype: "float32" };
  if (FLOAT_NAMES.has(name)) {
    const dtype = CANONICAL[name] ?? name;
    return { name, computeDtype: dtype, variableDtype: dtype };
  }
  return undefined;
}

/** The name a config's `dtype` entry gives, whichever of the three forms it takes; undefined when absent. */
export function policyName(dtype: unknown): string | undefined {
  if (typeof dtype === "string") return dtype;
  if (dtype && typeof dtype === "object" && !Array.isArray(dtype)) {
    const config = (dtype as { config?: unknown }).config;
    if (config && typeof config === "object" && typeof (config as { name?: unknown }).name === "string") return (config as { name: string }).name;
  }
  return undefined;
}

/** A layer's policy from its config; undefined when the config names none (Keras' default is float32). */
export function layerPolicy(layer: Pick<Layer, "config">): { name: string; policy?: DTypePolicy } | undefined {
  const name = policyName(layer.config.dtype);
  if (name === undefined) return undefined;
  return { name, policy: policyFromName(name) };
}

/** True when the layer, or a layer inside it, stores its variables as bfloat16 by its policy. */
export function storesBfloat16(layer: Layer): boolean {
  for (const { layer: l } of walkLayers([layer])) if (layerPolicy(l)?.policy?.variableDtype === "bfloat16") return true;
  return false;
}

/** What a model's policies and stored dtypes mean for evaluation: undefined when everything is float32 (nothing to say). */
export interface Precision {
  /** The distinct policy names of the model's layers. */
  policies: string[];
  computeDtypes: string[];
  variableDtypes: string[];
  /** The distinct dtypes its weights are stored in. */
  storedDtypes: string[];
  /** What keras-inspect computed in. */
  evaluatedIn: EvalDType;
  /** The note, one line, as text output shows it. */
  note: string;
}

const uniq = (xs: string[]) => [...new Set(xs)];

/** The precision note for the layers given (a whole model, or one layer and its children). */
export function precisionOf(layers: Layer[], evaluatedIn: EvalDType): Precision | undefined {
  const names: string[] = [];
  const policies: DTypePolicy[] = [];
  const stored: string[] = [];
  for (const { layer } of walkLayers(layers)) {
    // An InputLayer's dtype is its tensor's, not a policy (Keras 3 writes "float32" under any policy).
    const p = layer.className === "InputLayer" ? undefined : layerPolicy(layer);
    if (p) {
      names.push(p.name);
      if (p.policy) policies.push(p.policy);
    }
    for (const t of layer.weights) stored.push(t.dtype);
  }
  const computeDtypes = uniq(policies.map((p) => p.computeDtype));
  const variableDtypes = uniq(policies.map((p) => p.variableDtype));
  const storedDtypes = uniq(stored);
  const half = (d: string) => d === "float16" || d === "bfloat16";
  const narrowCompute = computeDtypes.filter(half);
  const narrowStored = storedDtypes.filter(half);
  if (narrowCompute.length === 0 && narrowStored.length === 0) return undefined;
  const policyNames = uniq(names);
  const parts: string[] = [];
  parts.push(`dtype policy ${policyNames.join(", ") || "(none recorded)"}: Keras computes in ${computeDtypes.join(", ") || "float32"} with ${variableDtypes.join(", ") || "float32"} variables`);
  if (narrowStored.length > 0) parts.push(`the ${narrowStored.join(" and ")} weights are widened exactly to ${evaluatedIn}`);
  let computes = `keras-inspect computes in ${evaluatedIn}`;
  if (narrowCompute.length > 0) {
    computes += `, not in ${narrowCompute.join(" or ")} as Keras does, so Keras' own outputs differ from these by ${narrowCompute.join("/")} rounding (about ${narrowCompute.includes("bfloat16") ? "1e-2" : "1e-3"} relative)`;
  }
  parts.push(computes);
  return { policies: policyNames, computeDtypes, variableDtypes, storedDtypes, evaluatedIn, note: parts.join("; ") };
}

/** A model's precision note (see precisionOf). */
export function modelPrecision(model: Model, evaluatedIn: EvalDType): Precision | undefined {
  return precisionOf(model.layers, evaluatedIn);
}

/** The JSON form of a precision note (its text goes with the other notes): each list has the model's distinct values. */
export interface PrecisionJson {
  policies: string[];
  computeDtype: string[];
  variableDtype: string[];
  storedDtype: string[];
  evaluatedIn: EvalDType;
}

export function precisionJson(p: Precision): PrecisionJson {
  return { policies: p.policies, computeDtype: p.computeDtypes, variableDtype: p.variableDtypes, storedDtype: p.storedDtypes, evaluatedIn: p.evaluatedIn };
}
