/**
 * `summary` as text: a header naming the file's format and writer, then the table
 * Keras 2's `model.summary()` prints (keras/utils/layer_utils.py, print_summary):
 * 65 columns for sequential models, 98 with "Connected to" for functional ones. In a
 * narrower width the table is what `model.summary(line_length=width)` prints: Keras
 * places the columns at the same fractions of the line.
 */
import type { LayerSummary, ModelSummary } from "../summary.js";
import { FORMAT_DESCRIPTIONS, type FormatName } from "../model.js";
import { wrapLine } from "./notation.js";
import { tableLines } from "./table.js";
import { kerasRow, safe, significant, thousands } from "./text.js";


export function formatHeader(s: ModelSummary, width = Infinity): string[] {
  return [
    `File:          ${safe(s.file)}`,
    `Format:        ${FORMAT_DESCRIPTIONS[s.format as FormatName] ?? s.format}`,
    `Keras version: ${s.kerasVersion ? safe(s.kerasVersion) : "not recorded"}${s.backend ? `   Backend: ${safe(s.backend)}` : ""}`,
    `Model class:   ${safe(s.modelClass)}`,
  ].flatMap((line) => wrapLine(line, width, 15));
}

function label(l: LayerSummary): string {
  return `${safe(l.name)} (${safe(l.className)}${l.inferred ? ", inferred" : ""})`;
}

/** Keras' line lengths and column positions (fractions of the line) for sequential and functional models. */
const LAYOUT = {
  sequential: { length: 65, fractions: [0.45, 0.85, 1] },
  functional: { length: 98, fractions: [0.33, 0.55, 0.67, 1] },
};

/** The text of `summary`, line by line, fitted to `width` columns. */
export function* summaryLines(s: ModelSummary, width = Infinity): Generator<string> {
  const sequential = s.layers.every((l) => l.connectedTo.length <= 1);
  const layout = sequential ? LAYOUT.sequential : LAYOUT.functional;
  const length = Math.min(layout.length, width);
  const positions = layout.fractions.map((f) => Math.floor(length * f));
  const header = sequential ? ["Layer (type)", "Output Shape", "Param #"] : ["Layer (type)", "Output Shape", "Param #", "Connected to"];
  yield* formatHeader(s, width);
  yield "";
  yield* wrapLine(`Model: "${safe(s.name)}"`, width);
  yield "_".repeat(length);
  yield kerasRow(header, positions);
  yield "=".repeat(length);
  for (const [k, l] of s.layers.entries()) {
    const first = sequential ? [] : [l.connectedTo[0] ? safe(l.connectedTo[0]) : ""];
    yield kerasRow([label(l), l.outputShape, String(l.params), ...first], positions);
    if (!sequential) for (const c of l.connectedTo.slice(1)) yield kerasRow(["", "", "", safe(c)], positions);
    yield k === s.layers.length - 1 ? "=".repeat(length) : "_".repeat(length);
  }
  yield `Total params: ${thousands(s.totalParams)}`;
  yield `Trainable params: ${thousands(s.trainableParams)}`;
  yield `Non-trainable params: ${thousands(s.nonTrainableParams)}`;
  yield "_".repeat(length);
  for (const n of s.notes) yield* wrapLine(`note: ${safe(n)}`, width);
  if (s.tensors) {
    yield "";
    yield "Weights:";
    const rows = s.tensors.map((t) => {
      const st = t.stats!;
      return [
        safe(`${t.layer}/${t.name}`),
        `(${t.shape.join(", ")}${t.shape.length === 1 ? "," : ""})`,
        t.dtype,
        significant(st.min),
        significant(st.max),
        significant(st.mean),
        significant(st.std),
        String(st.nan),
        String(st.inf),
      ];
    });
    yield* tableLines({ head: ["tensor", "shape", "dtype", "min", "max", "mean", "std", "NaN", "Inf"], rows, rules: true }, width);
  }
}
