// How each functional call passed its arguments, as the config loader reads them from the
// two ways Keras writes inbound nodes (src/load/config.ts normalizeCalls). The node texts are
// those of real files: k3_transformer_legacy.h5 (Keras 3.9.2) and tfk2_attention_full.h5
// (tf.keras 2.11), plus the tf.keras form of mha(q, v) (Node.serialize puts every argument
// after the first into the kwargs of the 4th element, tensors as [layer, node, tensor]).
import { describe, expect, it } from "vitest";

import { normalizeCalls, normalizeInbound } from "../../src/load/config.js";

const tensor = (layer: string) => ({ class_name: "__keras_tensor__", config: { shape: [null, 4, 1], dtype: "float32", keras_history: [layer, 0, 0] } });

describe("call arguments from inbound nodes", () => {
  it("Keras 3: args and kwargs as written, each __keras_tensor__ as a reference", () => {
    const nodes = [{ args: [tensor("layer_normalization"), tensor("layer_normalization")], kwargs: { query_mask: null, value_mask: null, use_causal_mask: true } }];
    expect(normalizeCalls(nodes, "f", "mha")).toEqual([
      {
        args: [{ kerasTensor: { layer: "layer_normalization", node: 0, tensor: 0 } }, { kerasTensor: { layer: "layer_normalization", node: 0, tensor: 0 } }],
        kwargs: { query_mask: null, value_mask: null, use_causal_mask: true },
      },
    ]);
  });

  it("Keras 3: Attention()([q, v], mask=[m, None]) keeps the list structure and the tensor in kwargs", () => {
    const nodes = [{ args: [[tensor("q"), tensor("v")]], kwargs: { mask: [tensor("m"), null] } }];
    const [call] = normalizeCalls(nodes, "f", "attention");
    expect(call.args).toEqual([[{ kerasTensor: { layer: "q", node: 0, tensor: 0 } }, { kerasTensor: { layer: "v", node: 0, tensor: 0 } }]]);
    expect(call.kwargs).toEqual({ mask: [{ kerasTensor: { layer: "m", node: 0, tensor: 0 } }, null] });
  });

  it("tf.keras 2: the entries are the first argument (a list of several), the 4th element the rest", () => {
    const attention = [[["dense", 0, 0, { use_causal_mask: true }], ["dense", 0, 0, { use_causal_mask: true }]]];
    expect(normalizeCalls(attention, "f", "attention")).toEqual([
      { args: [[{ kerasTensor: { layer: "dense", node: 0, tensor: 0 } }, { kerasTensor: { layer: "dense", node: 0, tensor: 0 } }]], kwargs: { use_causal_mask: true } },
    ]);
    const mha = [[["x", 0, 0, { value: ["y", 1, 0], attention_mask: ["m", 0, 2] }]]];
    expect(normalizeCalls(mha, "f", "mha")).toEqual([
      {
        args: [{ kerasTensor: { layer: "x", node: 0, tensor: 0 } }],
        kwargs: { value: { kerasTensor: { layer: "y", node: 1, tensor: 0 } }, attention_mask: { kerasTensor: { layer: "m", node: 0, tensor: 2 } } },
      },
    ]);
    // The positional tensors normalizeInbound lists are unchanged: kwargs tensors are not positional inputs.
    expect(normalizeInbound(mha, "f", "mha")).toEqual([[{ layer: "x", node: 0, tensor: 0 }]]);
  });

  it("a kwargs key named __proto__ stays data", () => {
    const [call] = normalizeCalls([[["x", 0, 0, JSON.parse('{"__proto__": {"polluted": true}}')]]], "f", "l");
    expect(Object.getPrototypeOf(call.kwargs)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
