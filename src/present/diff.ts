/**
 * `diff` output: the two files, warnings, one line per layer (= equal, ≈ within
 * quantization, ≠ different, − only in A, + only in B) with an indented line per changed
 * tensor and, for recurrent layers, the gates that changed; then the verdict.
 */
import type { DiffReport, GateDiff, LayerDiff, QuantizationFit, TensorDiff } from "../diff/index.js";
import { wrapLine } from "./notation.js";
import { safe } from "./text.js";

const fmtShape = (s: number[] | null) => (s ? `[${s.join(", ")}]` : "-");
const sci = (v: number | null) => (v === null ? "-" : Number.isFinite(v) ? (v === 0 ? "0" : v.toExponential(2)) : String(v));
const val = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(7))) : String(v));

/**
 * Two values that differ, each with as many significant digits (7 and up) as it takes to
 * show that they do: a change of 1.9e-9 in -0.01826077 printed as "-0.01826077 → -0.01826077".
 */
function changedPair(a: number, b: number): string {
  if (Number.isFinite(a) && Number.isFinite(b) && a !== b) {
    for (let p = 7; p <= 17; p++) {
      const x = String(Number(a.toPrecision(p)));
      const y = String(Number(b.toPrecision(p)));
      if (x !== y) return `${x} → ${y}`;
    }
  }
  return `${val(a)} → ${val(b)}`;
}

function layerName(l: LayerDiff): string {
  const a = l.pathA ?? "";
  const b = l.pathB ?? "";
  const cls = l.classA && l.classB && l.classA !== l.classB ? `${l.classA} → ${l.classB}` : (l.classA ?? l.classB ?? "");
  const name = l.pathA && l.pathB && a !== b ? `${a} ↔ ${b}` : a || b;
  return `${safe(name)} (${safe(cls)})`;
}

/** |Δ| in quantization steps: "0.43 step". */
export const fmtSteps = (v: number) => `${Number.isFinite(v) ? (v < 10 ? v.toFixed(2) : v.toPrecision(3)) : String(v)} step`;

/** What the quantized side holds: "B quantized" / "B float16". */
const quantizedSide = (q: QuantizationFit) => `${q.side} ${q.scheme === "float16" ? "float16" : "quantized"}`;

/** One gate of a layer that is not equal: "f (max |Δ| = 2.00 step at kernel_f[1, 2])", the unit last in the brackets. */
function gateText(g: GateDiff): string {
  if (!Number.isFinite(g.maxAbsDiff)) return `${g.gate} (NaN or Inf differs at ${g.worst})`;
  if (g.maxSteps !== null) return `${g.gate} (max |Δ| = ${fmtSteps(g.maxSteps)}${g.status === "different" ? ` at ${g.worst}` : ""})`;
  return `${g.gate} (max |Δ| ${sci(g.maxAbsDiff)} at ${g.worst}, relative to the gate's largest |value| ${sci(g.relativeDiff)})`;
}

function tensorLine(t: TensorDiff): string {
  switch (t.status) {
    case "only-a":
      return `${safe(t.name)} ${fmtShape(t.shapeA)}: only in A`;
    case "only-b":
      return `${safe(t.name)} ${fmtShape(t.shapeB)}: only in B`;
    case "shape":
      return `${safe(t.name)}: shape ${fmtShape(t.shapeA)} → ${fmtShape(t.shapeB)}`;
    default: {
      const w = t.worst;
      const where = w ? ` at [${w.index.join(", ")}]${w.gate !== undefined ? ` (gate ${w.gate}, unit ${w.unit})` : ""}: ${changedPair(w.a, w.b)}` : "";
      // A NaN or Inf against a number has no finite |Δ|: show the values instead.
      const size = t.maxAbsDiff !== null && !Number.isFinite(t.maxAbsDiff) ? "NaN or Inf differs" : `max |Δ| ${sci(t.maxAbsDiff)}`;
      // Relative to the whole tensor here, to one gate's block in the layer line: say which, they differ for one element.
      const rel = t.relativeDiff !== null && Number.isFinite(t.relativeDiff) ? `, relative to the tensor's largest |value| ${sci(t.relativeDiff)}` : "";
      const q = t.quantization;
      if (q) {
        const verdict = t.status === "within-quantization" ? "within quantization" : q.beyond > 0 ? `${q.beyond} value(s) beyond half a step` : "within half a step, but --exact asks for values within atol";
        return `${safe(t.name)}: ${verdict}: max |Δ| = ${fmtSteps(q.maxSteps)} (${quantizedSide(q)}); ${size}${where}, ${t.changed} of ${t.count} value(s) changed`;
      }
      return `${safe(t.name)}: ${size}${where}${rel}, ${t.changed} of ${t.count} value(s) changed`;
    }
  }
}

/** The report, one line per layer and changed tensor, each fitted to `width` columns (default: no limit). */
export function formatDiff(r: DiffReport, width = Infinity): string {
  const file = (label: string, f: DiffReport["a"]) => `${label}: ${safe(f.file)} (${f.format}, ${f.kerasVersion ? `Keras ${safe(f.kerasVersion)}` : "Keras version not recorded"})`;
  const lines = [file("A", r.a), file("B", r.b), ...r.warnings.map((w) => `warning: ${safe(w)}`)];
  for (const l of r.layers) {
    if (l.status === "only-a") {
      lines.push(`− ${layerName(l)}: only in A`);
      continue;
    }
    if (l.status === "only-b") {
      lines.push(`+ ${layerName(l)}: only in B`);
      continue;
    }
    if (l.status === "equal") {
      lines.push(`= ${layerName(l)}: ${l.tensors.map((t) => safe(t.name)).join(", ")} equal${r.atol > 0 ? ` within ${r.atol}` : ""}`);
    } else if (l.status === "within-quantization") {
      const within = l.gates.filter((g) => g.status === "within-quantization");
      const gates = within.length ? `: gates ${within.map(gateText).join(", ")}` : "";
      lines.push(`≈ ${layerName(l)}: within quantization${gates}`);
      for (const t of l.tensors) if (t.status !== "equal") lines.push(`    ${tensorLine(t)}`);
    } else {
      const changed = l.gates.filter((g) => g.status === "different");
      const within = l.gates.filter((g) => g.status === "within-quantization");
      const gates = `${changed.length ? `; gates changed: ${changed.map(gateText).join(", ")}` : ""}${within.length ? `; within quantization: ${within.map(gateText).join(", ")}` : ""}`;
      lines.push(`≠ ${layerName(l)}${gates}`);
      for (const c of l.configChanges) lines.push(`    config ${safe(c)}`);
      for (const t of l.tensors) if (t.status !== "equal") lines.push(`    ${tensorLine(t)}`);
    }
    for (const n of l.notes) lines.push(`    note: ${safe(n)}`);
  }
  const { layers, different, tensors, differentTensors, withinQuantization, withinQuantizationTensors } = r.counts;
  const steps = Math.max(0, ...r.layers.flatMap((l) => l.tensors.filter((t) => t.status === "within-quantization").map((t) => t.quantization!.maxSteps)));
  lines.push(
    r.verdict === "equal"
      ? `EQUAL: ${layers} layer(s), ${tensors} tensor(s) ${r.atol > 0 ? `within atol ${r.atol}` : "identical"}`
      : r.verdict === "within-quantization"
        ? `WITHIN QUANTIZATION: ${layers} layer(s), ${tensors} tensor(s): ${withinQuantizationTensors} tensor(s) of ${withinQuantization} layer(s) within half a quantization step (max |Δ| = ${fmtSteps(steps)})${withinQuantizationTensors < tensors ? `, the others ${r.atol > 0 ? `within atol ${r.atol}` : "identical"}` : ""}`
        : `DIFFERENT: ${different} of ${layers} layer(s) differ (${differentTensors} of ${tensors} tensor(s))`,
  );
  return lines.flatMap((line) => wrapLine(line, width, 2)).join("\n");
}

/** The `diff --json` document. */
export function diffJson(r: DiffReport) {
  return r;
}
