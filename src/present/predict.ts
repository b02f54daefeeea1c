/** `predict` output: each model output per sample, as text or JSON. */
import type { PredictResult } from "../eval/predict.js";
import { fixed, safe } from "./text.js";

function nested(shape: number[], data: Float64Array, digits: number): string {
  if (shape.length <= 1) return `[${Array.from(data, (v) => fixed(v, digits)).join(", ")}]`;
  const inner = shape.slice(1).reduce((a, b) => a * b, 1);
  return `[${Array.from({ length: shape[0] }, (_, r) => nested(shape.slice(1), data.subarray(r * inner, (r + 1) * inner), digits)).join(", ")}]`;
}

export function formatPrediction(result: PredictResult, digits: number): string {
  return result.outputs
    .map(({ name, value }) => `${safe(name)}: shape (${value.shape.join(", ")}) (samples first)\n${nested(value.shape, value.data, digits)}`)
    .join("\n");
}

export function predictionJson(result: PredictResult) {
  return {
    outputs: result.outputs.map(({ name, value }) => ({ name, shape: value.shape, values: Array.from(value.data) })),
  };
}
