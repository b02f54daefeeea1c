/**
 * `check EXPORT --reference KERAS` where EXPORT has no RNN op (an ONNX graph unrolled or
 * looped, a TFLite WHILE loop): the export cannot be read as a model, so the reference
 * check locates the Keras model's weights among its constants (src/diff/locate.ts), gate
 * block by gate block, as `diff KERAS EXPORT` does. It passes when every block is found
 * exact or within its quantization step; a block different, not found, or not stored in the
 * export fails it. The checks that need the model itself are skipped, saying why; one that
 * the user asked for (an expected output, a golden file, a contract) is refused with the
 * export's own one-line reason, as evaluating such a graph is.
 */
import { type BlockResult, type LocateReport, locateWeights } from "../diff/locate.js";
import { loadExportConstants, NoRecurrentOpError } from "../load/export-constants.js";
import type { Model } from "../model.js";
import { type Check, type CheckReport, firstProblems, makeReport } from "./types.js";

const sci = (v: number) => (Number.isFinite(v) ? v.toExponential(2) : String(v));
const val = (v: number) => (Number.isFinite(v) ? String(Number(v.toPrecision(7))) : String(v));

function blockProblem(layer: string, b: BlockResult): string | undefined {
  const at = b.place ? ` at '${b.place.constant}' ${b.place.slice}${b.place.transposed ? " (transposed)" : ""}` : "";
  switch (b.verdict) {
    case "different": {
      const worst = b.worst ? ` at [${b.worst.index.join(", ")}] (reference ${val(b.worst.keras)}, here ${val(b.worst.export)})` : "";
      return `${layer} ${b.name}: different${at}, max |Δ| ${sci(b.maxAbsDiff ?? Infinity)}${b.maxSteps !== undefined ? ` (${b.maxSteps.toPrecision(3)} step)` : ""}${worst}`;
    }
    case "not-found":
      return `${layer} ${b.name}: not found among the export's constants`;
    case "not-stored":
      return `${layer} ${b.name}: not stored in this export${b.variables?.length ? ` (resource variable '${b.variables[0]}' has no value)` : ""}`;
    default:
      return undefined;
  }
}

/** The reference check of a located export. */
export function locatedReferenceCheck(r: LocateReport, label: string, partial = false): Check {
  const problems = r.layers.flatMap((l) => l.blocks.map((b) => blockProblem(`${l.path} (${l.className})`, b)).filter((p): p is string => p !== undefined));
  const c = r.counts;
  const warned = r.warnings.length ? `; warning: ${r.warnings.join("; ")}` : "";
  const data = { reference: label, located: true, partial, verdict: r.verdict, counts: c, warnings: r.warnings, layers: r.layers };
  if (r.verdict === "equal") {
    const q = c.quantized > 0 ? `, ${c.quantized} within their quantization step` : "";
    return { id: "reference", name: "reference", status: "pass", detail: `${c.layers} layer(s) of ${label} located gate by gate in this export's constants: ${c.exact} block(s) exact${q}${warned}`, data };
  }
  const none = c.layers === 0 ? (partial ? `none of the recurrent layers of ${label} is in this export (--reference-partial)` : `no recurrent layer of ${label} to locate`) : firstProblems(problems);
  return { id: "reference", name: "reference", status: "fail", detail: `${c.different + c.notFound + c.notStored} of ${c.blocks} gate block(s) of ${label} not found as they are in this export: ${none}${warned}`, problems, data };
}

/**
 * The report of `file` when it is an export without RNN ops and only a reference check (and
 * the checks every file gets) was asked for; undefined otherwise (the caller rethrows `error`).
 */
export async function locatedReferenceReport(
  error: unknown,
  file: string,
  /** The reference model, loaded only when the export is located (`model` starts the load). */
  reference: { model: () => Promise<Model>; label: string; exact?: boolean; partial?: boolean } | undefined,
  needsModel: boolean,
): Promise<CheckReport | undefined> {
  if (!(error instanceof NoRecurrentOpError) || !reference || needsModel) return undefined;
  const exported = await loadExportConstants(file, error);
  const report = locateWeights(await reference.model(), exported, "B", { exact: reference.exact, partial: reference.partial });
  const skipped: Check = { id: "structure", name: "structure", status: "skip", detail: `not run, nor the dtypes, finite and plausible checks: the export is not read as a model (${error.problem})` };
  return makeReport(file, error.format, null, [skipped, locatedReferenceCheck(report, reference.label, reference.partial === true)]);
}
