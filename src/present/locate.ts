/**
 * `diff KERAS EXPORT` on an export without RNN ops (src/diff/locate.ts): the two files, the
 * export's notes and the warnings, then one line per recurrent layer (= every block found
 * exact, ≈ some within quantization, as diff marks them; ≠ a block different or not found;
 * ∅ not stored) and one
 * indented line per Keras weight and export constant: where its gate blocks lie (tensor,
 * graph, the ops reading it, as stored or transposed, which slice) and each gate's verdict.
 */
import type { BlockResult, LocateReport, Place } from "../diff/locate.js";
import { fmtSteps } from "./diff.js";
import { wrapLine } from "./notation.js";
import { safe } from "./text.js";

const sci = (v: number) => (Number.isFinite(v) ? (v === 0 ? "0" : v.toExponential(2)) : String(v));
const val = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(7))) : String(v));
const shape = (s: number[]) => `[${s.join(", ")}]`;

/** A constant in words: its name, shape and type, where it lies and who reads it. */
function constantText(p: Place): string {
  const users = p.users.length > 0 ? `; read by ${p.users.slice(0, 3).map(safe).join(", ")}${p.users.length > 3 ? ", …" : ""}` : "";
  return `'${safe(p.constant)}' ${shape(p.shape)} ${safe(p.storage ?? p.dtype)} (${safe(p.graph)}${users})`;
}

function blockVerdict(b: BlockResult): string {
  const worst = b.worst ? ` at [${b.worst.index.join(", ")}] (Keras ${val(b.worst.keras)}, export ${val(b.worst.export)})` : "";
  const steps = b.maxSteps !== undefined ? `, ${b.maxSteps.toPrecision(3)} step` : "";
  switch (b.verdict) {
    case "exact":
      return "exact";
    case "quantized":
      return `within quantization (max |Δ| ${sci(b.maxAbsDiff ?? 0)}${steps})`;
    case "different":
      return `DIFFERENT (max |Δ| ${sci(b.maxAbsDiff ?? Infinity)}${steps}${worst})`;
    case "not-stored":
      return "not stored";
    default:
      return "not found";
  }
}

const gateLabel = (b: BlockResult) => b.gate || b.name;

/** One line per (weight, constant, layout): the gates it holds and their verdicts. */
function weightLines(blocks: BlockResult[]): string[] {
  const lines: string[] = [];
  const weights = [...new Set(blocks.map((b) => b.weight))];
  for (const weight of weights) {
    const mine = blocks.filter((b) => b.weight === weight);
    const size = `${weight} ${mine[0].rows === 1 ? `(${mine[0].units} per gate)` : `(${mine[0].rows}, ${mine[0].units} per gate)`}`;
    const groups = new Map<string, BlockResult[]>();
    for (const b of mine) {
      const key = b.place ? `${b.place.constant}\u0000${b.place.graph}\u0000${b.place.transposed}\u0000${b.place.summed ?? false}` : `\u0001${b.verdict}`;
      groups.set(key, [...(groups.get(key) ?? []), b]);
    }
    for (const group of groups.values()) {
      const p = group[0].place;
      if (!p) {
        const b = group[0];
        const gates = group.map(gateLabel).join(", ");
        if (b.verdict === "not-stored") {
          const vars = [...new Set(group.flatMap((x) => x.variables ?? []))];
          lines.push(`    ${size}: ${gates} not stored in this export${vars.length > 0 ? ` (resource variable${vars.length > 1 ? "s" : ""} ${vars.slice(0, 3).map((v) => `'${safe(v)}'`).join(", ")}${vars.length > 3 ? ", …" : ""} read but given no value in the file)` : ""}`);
        } else lines.push(`    ${size}: ${gates} not found (no constant of a layout that could hold a ${mine[0].rows === 1 ? `${mine[0].units}-value` : `${mine[0].rows} × ${mine[0].units}`} block)`);
        continue;
      }
      const layout = p.summed ? "summed halves (input bias + recurrent bias)" : p.transposed ? "transposed" : "as stored";
      const gates = group.map((b) => {
        const also = b.also && b.also.length > 0 ? `; also in ${b.also.map((a) => `'${safe(a.constant)}' ${a.slice}`).join(", ")}` : "";
        const uniform = b.uniform ? "; every value equal, so the place is not telling" : "";
        const sum = b.sumOf ? ` (stored as ${b.sumOf})` : "";
        return `${gateLabel(b)} ${b.place!.slice} ${blockVerdict(b)}${sum}${also}${uniform}`;
      });
      lines.push(`    ${size} in ${constantText(p)}, ${layout}: ${gates.join(", ")}`);
    }
  }
  return lines;
}

/** The report, fitted to `width` columns (default: no limit). */
export function formatLocate(r: LocateReport, width = Infinity): string {
  const keras = `${safe(r.keras.file)} (${r.keras.format}, ${r.keras.kerasVersion ? `Keras ${safe(r.keras.kerasVersion)}` : "Keras version not recorded"})`;
  const exp = `${safe(r.export.file)} (${r.export.format}, no RNN op: Keras weights located among its constants)`;
  const lines = r.exportSide === "B" ? [`A: ${keras}`, `B: ${exp}`] : [`A: ${exp}`, `B: ${keras}`];
  for (const n of r.notes) lines.push(`note: ${safe(n)}`);
  for (const w of r.warnings) lines.push(`warning: ${safe(w)}`);
  for (const l of r.layers) {
    const bad = l.blocks.filter((b) => b.verdict === "different" || b.verdict === "not-found").length;
    const quantized = l.blocks.filter((b) => b.verdict === "quantized").length;
    const head =
      l.status === "equal"
        ? `${quantized > 0 ? "≈" : "="} ${safe(l.path)} (${safe(l.className)}): every gate block found, ${quantized > 0 ? `${l.blocks.length - quantized} exact, ${quantized} within quantization` : "exact"}`
        : l.status === "not-stored"
          ? `∅ ${safe(l.path)} (${safe(l.className)}): not stored in this export`
          : `≠ ${safe(l.path)} (${safe(l.className)}): ${bad} of ${l.blocks.length} gate block(s) different or not found (${[...new Set(l.blocks.filter((b) => b.verdict === "different" || b.verdict === "not-found").map((b) => b.name))].join(", ")})`;
    lines.push(head, ...weightLines(l.blocks));
  }
  const c = r.counts;
  const maxSteps = Math.max(0, ...r.layers.flatMap((l) => l.blocks.map((b) => (b.verdict === "quantized" ? (b.maxSteps ?? 0) : 0))));
  lines.push(
    r.verdict === "equal"
      ? c.quantized > 0
        ? `WITHIN QUANTIZATION: ${c.layers} layer(s), ${c.blocks} gate block(s) found: ${c.quantized} within half a quantization step (max |Δ| = ${fmtSteps(maxSteps)}), the others exact`
        : `EQUAL: ${c.layers} layer(s), ${c.blocks} gate block(s) found, exact`
      : r.verdict === "not-stored"
        ? `NOT STORED: the export holds no values for ${c.notStored} of ${c.blocks} gate block(s) (${c.exact + c.quantized} found)`
        : c.layers === 0
          ? "DIFFERENT: no recurrent layer to locate"
          : `DIFFERENT: ${c.different} gate block(s) different, ${c.notFound} not found${c.notStored > 0 ? `, ${c.notStored} not stored` : ""}, of ${c.blocks} in ${c.layers} layer(s)`,
  );
  return lines.flatMap((line) => wrapLine(line, width, 2)).join("\n");
}

/** The `diff --json` document of a located export. */
export function locateJson(r: LocateReport) {
  return { kind: "located", ...r };
}
