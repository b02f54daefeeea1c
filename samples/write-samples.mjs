#!/usr/bin/env node
// Writes the bundled sample models into samples/ (run: npm run samples).
// Every file is written in the layout Keras 2.2.4's model.save() produces
// (see keras-h5-writer.mjs). Random weights come from a fixed-seed generator,
// so the files are the same on every run.
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { denseConfig, gruConfig, lstmConfig, sequentialConfig, writeKerasH5 } from "./keras-h5-writer.mjs";

const here = dirname(fileURLToPath(import.meta.url));

/** mulberry32: a small deterministic PRNG, uniform in [lo, hi). */
function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return (n, lo = -0.5, hi = 0.5) => Array.from({ length: n }, () => lo + (hi - lo) * next());
}

/** LSTM bias as Keras initializes it with unit_forget_bias: zeros, ones in the f block. */
function lstmBias(units) {
  return Array.from({ length: 4 * units }, (_, j) => (j >= units && j < 2 * units ? 1 : 0));
}

const weight = (layer, name, shape, data) => ({ name: `${layer}/${name}:0`, shape, data });

const samples = {
  // The reference example: 2 features, 1 unit, tanh/sigmoid, one time step.
  "seed-lstm.h5": {
    modelConfig: sequentialConfig("sequential_1", [
      lstmConfig("lstm_1", 1, { batch_input_shape: [null, 1, 2], dtype: "float32", recurrent_activation: "sigmoid" }),
    ]),
    layers: [
      {
        name: "lstm_1",
        weights: [
          weight("lstm_1", "kernel", [2, 4], [-0.7879, -0.7968972, 0.9924617, -0.6057646, -0.14056396, -0.34560132, 0.9574034, 0.7960496]),
          weight("lstm_1", "recurrent_kernel", [1, 4], [-0.0660542, -0.32508007, -0.8477706, 0.41381747]),
          weight("lstm_1", "bias", [4], [0, 1, 0, 0]),
        ],
      },
    ],
  },
};

// Stacked LSTM + Dense: 3 features, 5 steps; Keras 2.2's default hard_sigmoid gates.
{
  const r = random(20240501);
  samples["stacked-lstm-dense.h5"] = {
    modelConfig: sequentialConfig("sequential_2", [
      lstmConfig("lstm_2", 8, { batch_input_shape: [null, 5, 3], dtype: "float32", return_sequences: true }),
      lstmConfig("lstm_3", 4),
      denseConfig("dense_1", 1),
    ]),
    layers: [
      {
        name: "lstm_2",
        weights: [
          weight("lstm_2", "kernel", [3, 32], r(96)),
          weight("lstm_2", "recurrent_kernel", [8, 32], r(256)),
          weight("lstm_2", "bias", [32], lstmBias(8)),
        ],
      },
      {
        name: "lstm_3",
        weights: [
          weight("lstm_3", "kernel", [8, 16], r(128)),
          weight("lstm_3", "recurrent_kernel", [4, 16], r(64)),
          weight("lstm_3", "bias", [16], lstmBias(4)),
        ],
      },
      { name: "dense_1", weights: [weight("dense_1", "kernel", [4, 1], r(4)), weight("dense_1", "bias", [1], r(1))] },
    ],
  };
}

// GRU (reset_after=False, hard_sigmoid: Keras 2.2's defaults) + Dense.
{
  const r = random(20240502);
  samples["gru.h5"] = {
    modelConfig: sequentialConfig("sequential_3", [
      gruConfig("gru_1", 4, { batch_input_shape: [null, null, 2], dtype: "float32" }),
      denseConfig("dense_2", 2, { activation: "softmax" }),
    ]),
    layers: [
      {
        name: "gru_1",
        weights: [
          weight("gru_1", "kernel", [2, 12], r(24)),
          weight("gru_1", "recurrent_kernel", [4, 12], r(48)),
          weight("gru_1", "bias", [12], r(12, -0.1, 0.1)),
        ],
      },
      { name: "dense_2", weights: [weight("dense_2", "kernel", [4, 2], r(8)), weight("dense_2", "bias", [2], r(2))] },
    ],
  };
}

// Bidirectional LSTM (concat) returning sequences, then a Dense on every step.
{
  const r = random(20240503);
  const inner = lstmConfig("lstm_4", 3, { return_sequences: true, recurrent_activation: "sigmoid" });
  const direction = (prefix) => [
    weight("bidirectional_1", `${prefix}_lstm_4/kernel`, [2, 12], r(24)),
    weight("bidirectional_1", `${prefix}_lstm_4/recurrent_kernel`, [3, 12], r(36)),
    weight("bidirectional_1", `${prefix}_lstm_4/bias`, [12], lstmBias(3)),
  ];
  samples["bidirectional-lstm.h5"] = {
    modelConfig: sequentialConfig("sequential_4", [
      {
        class_name: "Bidirectional",
        config: { name: "bidirectional_1", trainable: true, batch_input_shape: [null, 4, 2], dtype: "float32", layer: inner, merge_mode: "concat" },
      },
      denseConfig("dense_3", 1),
    ]),
    layers: [
      { name: "bidirectional_1", weights: [...direction("forward"), ...direction("backward")] },
      { name: "dense_3", weights: [weight("dense_3", "kernel", [6, 1], r(6)), weight("dense_3", "bias", [1], r(1))] },
    ],
  };
}

for (const [file, spec] of Object.entries(samples)) {
  const bytes = await writeKerasH5(spec);
  writeFileSync(join(here, file), bytes);
  console.log(`wrote samples/${file} (${bytes.length} bytes)`);
}
