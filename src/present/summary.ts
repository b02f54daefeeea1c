/**
 * `summary` as text: a header naming the file's format and writer, then the table
 * Keras 2's `model.summary()` prints (keras/utils/layer_utils.py, print_summary):
 * 65 columns for sequential models, 98 with "Connected to" for functional ones.
 */
import Table from "cli-table3";
import type { LayerSummary, ModelSummary } from "../summary.js";
import { kerasRow, safe, significant, thousands } from "./text.js";

const FORMAT_NAMES: Record<string, string> = {
  "keras-h5": "Keras HDF5 model (model.save)",
  "keras-h5-weights": "Keras HDF5 weights (save_weights, no model config)",
  "keras3-archive": "Keras 3 .keras archive",
  "keras3-weights": "Keras 3 .weights.h5 (no model config)",
};

export function formatHeader(s: ModelSummary): string[] {
  return [
    `File:          ${safe(s.file)}`,
    `Format:        ${FORMAT_NAMES[s.format] ?? s.format}`,
    `Keras version: ${s.kerasVersion ? safe(s.kerasVersion) : "not recorded"}${s.backend ? `   Backend: ${safe(s.backend)}` : ""}`,
    `Model class:   ${safe(s.modelClass)}`,
  ];
}

function label(l: LayerSummary): string {
  return `${safe(l.name)} (${safe(l.className)}${l.inferred ? ", inferred" : ""})`;
}

export function formatSummary(s: ModelSummary): string {
  const sequential = s.layers.every((l) => l.connectedTo.length <= 1);
  const width = sequential ? 65 : 98;
  const positions = sequential ? [29, 55, 65] : [32, 53, 65, 98];
  const header = sequential ? ["Layer (type)", "Output Shape", "Param #"] : ["Layer (type)", "Output Shape", "Param #", "Connected to"];
  const lines: string[] = [...formatHeader(s), "", `Model: "${safe(s.name)}"`, "_".repeat(width), kerasRow(header, positions), "=".repeat(width)];
  s.layers.forEach((l, k) => {
    const first = sequential ? [] : [l.connectedTo[0] ? safe(l.connectedTo[0]) : ""];
    lines.push(kerasRow([label(l), l.outputShape, String(l.params), ...first], positions));
    if (!sequential) for (const c of l.connectedTo.slice(1)) lines.push(kerasRow(["", "", "", safe(c)], positions));
    lines.push(k === s.layers.length - 1 ? "=".repeat(width) : "_".repeat(width));
  });
  lines.push(`Total params: ${thousands(s.totalParams)}`);
  lines.push(`Trainable params: ${thousands(s.trainableParams)}`);
  lines.push(`Non-trainable params: ${thousands(s.nonTrainableParams)}`);
  lines.push("_".repeat(width));
  for (const n of s.notes) lines.push(`note: ${safe(n)}`);
  if (s.tensors) {
    lines.push("", "Weights:");
    const table = new Table({
      head: ["tensor", "shape", "dtype", "min", "max", "mean", "std", "NaN", "Inf"],
      style: { head: [], border: [] },
    });
    for (const t of s.tensors) {
      const st = t.stats!;
      table.push([
        safe(`${t.layer}/${t.name}`),
        `(${t.shape.join(", ")}${t.shape.length === 1 ? "," : ""})`,
        t.dtype,
        significant(st.min),
        significant(st.max),
        significant(st.mean),
        significant(st.std),
        String(st.nan),
        String(st.inf),
      ]);
    }
    lines.push(table.toString());
  }
  return lines.join("\n");
}
