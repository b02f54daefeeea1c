/**
 * Reading a layer's dtype policy from the three forms configs give it (dtype-policy.ts):
 * expectations from Keras' own parsing of policy names (Keras 3
 * keras/src/dtype_policies/dtype_policy.py DTypePolicy._parse_name; tf.keras 2
 * keras/mixed_precision/policy.py Policy._parse_name): "mixed_float16" computes in float16
 * with float32 variables, "mixed_bfloat16" in bfloat16, any float name is both dtypes.
 */
import { describe, expect, it } from "vitest";
import { layerPolicy, policyFromName, precisionOf } from "../src/dtype-policy.js";
import type { Layer } from "../src/model.js";

const layer = (dtype: unknown, className = "LSTM"): Layer => ({ className, name: "l", config: { dtype }, weights: [], children: [], inbound: [] });

describe("dtype policies", () => {
  it("reads a dtype string, tf.keras' Policy and Keras 3's DTypePolicy", () => {
    expect(layerPolicy(layer("float32"))).toEqual({ name: "float32", policy: { name: "float32", computeDtype: "float32", variableDtype: "float32" } });
    expect(layerPolicy(layer({ class_name: "Policy", config: { name: "mixed_float16" } }))?.policy).toEqual({ name: "mixed_float16", computeDtype: "float16", variableDtype: "float32" });
    expect(layerPolicy(layer({ module: "keras", class_name: "DTypePolicy", config: { name: "mixed_bfloat16" }, registered_name: null }))?.policy).toEqual({
      name: "mixed_bfloat16",
      computeDtype: "bfloat16",
      variableDtype: "float32",
    });
    expect(layerPolicy(layer({ class_name: "FloatDTypePolicy", config: { name: "bfloat16" } }))?.policy?.variableDtype).toBe("bfloat16");
    expect(layerPolicy(layer(undefined))).toBeUndefined();
  });

  it("a quantized policy is named but not taken for a float one", () => {
    expect(policyFromName("int8_from_mixed_bfloat16")).toBeUndefined();
    expect(layerPolicy(layer({ class_name: "QuantizedDTypePolicy", config: { name: "int8_from_float32" } }))).toEqual({ name: "int8_from_float32", policy: undefined });
  });

  it("says nothing for float32 models, and ignores an InputLayer's dtype", () => {
    expect(precisionOf([layer("float32"), layer({ class_name: "Policy", config: { name: "float32" } })], "float32")).toBeUndefined();
    const p = precisionOf([layer("float32", "InputLayer"), layer({ class_name: "Policy", config: { name: "mixed_float16" } })], "float64");
    expect(p).toMatchObject({ policies: ["mixed_float16"], computeDtypes: ["float16"], variableDtypes: ["float32"], evaluatedIn: "float64" });
    expect(p!.note).toContain("keras-inspect computes in float64, not in float16 as Keras does");
  });
});
