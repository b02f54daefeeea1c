/**
 * The two sides of `diff` (and the candidate of `check --reference`): each file is read as a
 * model, or, when it is an export without RNN ops (NoRecurrentOpError), as its constants, so
 * that the Keras model's weights are located among them (locate.ts) instead of refused.
 */
import { UsageError } from "../errors.js";
import { loadModel } from "../load/index.js";
import { type ExportConstants, loadExportConstants, NoRecurrentOpError } from "../load/export-constants.js";
import type { Model } from "../model.js";
import { type LocateOptions, type LocateReport, locateWeights } from "./locate.js";

export type DiffSide = { model: Model } | { exported: ExportConstants };

/** Reads `path` as a model, or as the constants of an export without RNN ops. */
export async function loadDiffSide(path: string): Promise<DiffSide> {
  try {
    return { model: await loadModel(path) };
  } catch (e) {
    if (e instanceof NoRecurrentOpError) return { exported: await loadExportConstants(path, e) };
    throw e;
  }
}

/** Locates the model side's weights in the export side; undefined when both sides are models. */
export function locateSides(a: DiffSide, b: DiffSide, options: LocateOptions = {}): LocateReport | undefined {
  if ("model" in a && "model" in b) return undefined;
  if ("exported" in a && "exported" in b) {
    throw new UsageError(`neither ${a.exported.source} nor ${b.exported.source} has an RNN op to read as a layer: give the Keras model as one side, and diff locates its weights among the export's constants`);
  }
  return "model" in a ? locateWeights(a.model, (b as { exported: ExportConstants }).exported, "B", options) : locateWeights((b as { model: Model }).model, a.exported, "A", options);
}

/** Both files of `diff`: two models, or the report of one model's weights located in the other, an export without RNN ops. */
export async function readDiffPair(a: string, b: string, options: LocateOptions = {}): Promise<{ models: [Model, Model] } | { located: LocateReport }> {
  const [sa, sb] = [await loadDiffSide(a), await loadDiffSide(b)];
  const located = locateSides(sa, sb, options);
  if (located) return { located };
  return { models: [(sa as { model: Model }).model, (sb as { model: Model }).model] };
}
