/**
 * --position and --filter: which (position, filter) units of a ConvLSTM the step tables,
 * JSON, heatmap and HTML show. Without either, a small default: the centre position of the
 * output map with every filter, said in a line above the tables.
 */
import type { Command } from "commander";
import type { StepTrace } from "../eval/trace.js";
import { UsageError } from "../errors.js";
import { centrePosition, describeMaps, unitsOf } from "../present/feature-map.js";

export interface FeatureMapCliOptions {
  position?: string[];
  filter?: string;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), ...value.split(";").map((s) => s.trim()).filter((s) => s !== "")];

export function addFeatureMapOptions(cmd: Command): Command {
  return cmd
    .option("--position <coords>", "ConvLSTM: an output position to show, one index per spatial axis from 0 (e.g. 4,5); repeat it or separate positions with ';'; default: the centre", collect)
    .option("--filter <list>", "ConvLSTM: the filters to show (comma-separated, from 0); default: all");
}

function indexList(flag: string, text: string, limits: number[], what: string): number[] {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.length !== limits.length || parts.some((s) => !/^\d+$/.test(s))) {
    throw new UsageError(`${flag} ${text}: expected ${limits.length} index(es) from 0 (${what})`);
  }
  return parts.map((s, a) => {
    const v = Number(s);
    if (v >= limits[a]) throw new UsageError(`${flag} ${text} is out of range: ${what}`);
    return v;
  });
}

/**
 * The units --position / --filter select on a ConvLSTM trace, with a line saying what is
 * shown; undefined for other layers (where the options are refused) and when --unit or
 * --full already chose.
 */
export function featureMapSelection(t: StepTrace, opts: FeatureMapCliOptions, other: { unit?: string; full?: boolean }): { units: number[]; shown: string } | undefined {
  const m = t.featureMap;
  const asked = opts.position !== undefined || opts.filter !== undefined;
  if (!m) {
    if (asked) throw new UsageError(`--position and --filter apply to ConvLSTM layers; '${t.layer}' is ${t.className} (use --unit)`);
    return undefined;
  }
  if (asked && other.unit !== undefined) throw new UsageError("--unit and --position/--filter both choose units; use one");
  if (!asked && (other.unit !== undefined || other.full)) return undefined;
  const what = `the output map is ${describeMaps(m)}`;
  const positions = opts.position ? opts.position.map((p) => indexList("--position", p, m.outputSpatial, what)) : [centrePosition(m)];
  const filters = opts.filter ? indexList("--filter", opts.filter, opts.filter.split(",").map(() => m.filters), what) : Array.from({ length: m.filters }, (_, f) => f);
  const where = positions.map((p) => `(${p.join(", ")})`).join(", ");
  const which = opts.filter ? `filter(s) ${filters.join(", ")}` : "every filter";
  const shown = `showing position${positions.length > 1 ? "s" : ""} ${where}${opts.position ? "" : " (the centre)"}, ${which}, of ${describeMaps(m)}${asked ? "" : "; choose with --position / --filter, or --full for all"}`;
  return { units: unitsOf(m, positions, filters), shown };
}
