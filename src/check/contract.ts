/**
 * Pipeline contracts: `--require-layer CLASS[:UNITS]` (the exported model contains
 * such a layer) and `--keras-version RANGE` (the file was written by a Keras version
 * in the range).
 *
 * Ranges use npm's semver syntax for the parts that make sense for Keras versions:
 *   2.2.4  =2.2.4   exactly that version        2.2  2.2.x  any 2.2 release    2  2.x  3.*  any release of that major
 *   >=2.3  >2.3  <3  <=2.2.5                    comparisons; a partial version in `>X.Y` means above all X.Y releases
 *   ^2.3   ~2.2.4                               same major / same minor as npm defines them
 *   ">=2.3 <3"  (space = and)                   "2.2.x || >=3.1"  (|| = or)
 * The writer's suffix is ignored for the comparison: tf.keras writes "2.2.4-tf", read as 2.2.4.
 */
import { UsageError } from "../errors.js";
import { type Layer, type Model, walkLayers } from "../model.js";
import type { Check } from "./types.js";

export interface LayerRequirement {
  className: string;
  units?: number;
  /** As the user wrote it, for messages. */
  text: string;
}

export function parseLayerRequirement(text: string): LayerRequirement {
  const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::(.*))?$/.exec(text.trim());
  if (!m) throw new UsageError(`--require-layer '${text}' is not CLASS or CLASS:UNITS (e.g. LSTM or LSTM:64)`);
  if (m[2] === undefined) return { className: m[1], text };
  if (!/^\d+$/.test(m[2]) || Number(m[2]) <= 0) throw new UsageError(`--require-layer '${text}': units must be a positive whole number, got '${m[2]}'`);
  return { className: m[1], units: Number(m[2]), text };
}

function unitsOf(layer: Layer): number | undefined {
  const u = layer.config.units ?? layer.config.filters;
  return typeof u === "number" ? u : undefined;
}

export function requireLayerCheck(model: Model, req: LayerRequirement): Check {
  const id = `require-layer:${req.className}${req.units !== undefined ? `:${req.units}` : ""}`;
  const name = `require ${req.className}${req.units !== undefined ? `:${req.units}` : ""}`;
  // Class names are matched without regard to case: 'lstm:64' asks for what 'LSTM:64' asks for.
  const wanted = req.className.toLowerCase();
  const ofClass = [...walkLayers(model.layers)].filter(({ layer }) => layer.className.toLowerCase() === wanted);
  const describe = ({ layer, path }: { layer: Layer; path: string }) => `${path}${unitsOf(layer) !== undefined ? ` (${unitsOf(layer)} units)` : ""}`;
  const match = ofClass.filter(({ layer }) => req.units === undefined || unitsOf(layer) === req.units);
  const data = { className: req.className, units: req.units ?? null, found: match.map((e) => e.path) };
  if (match.length > 0) {
    return { id, name, status: "pass", detail: `found ${match.map(describe).join(", ")}`, data };
  }
  if (ofClass.length > 0) {
    return { id, name, status: "fail", detail: `no ${req.className} layer has ${req.units} units; ${req.className} layers: ${ofClass.map(describe).join(", ")}`, data };
  }
  const classes = [...new Set([...walkLayers(model.layers)].map(({ layer }) => layer.className))];
  return { id, name, status: "fail", detail: `no ${req.className} layer; the model's layer classes: ${classes.join(", ") || "none"}`, data };
}

// ---- version ranges ----

type Version = [number, number, number];
interface Comparator {
  op: ">=" | "<" | "=" | ">" | "<=";
  v: Version;
}

/** The numeric part of a Keras version string ("2.2.4-tf" -> [2, 2, 4]); undefined when it has none. */
export function parseVersion(text: string): Version | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

function cmp(a: Version, b: Version): number {
  for (let k = 0; k < 3; k++) if (a[k] !== b[k]) return a[k] < b[k] ? -1 : 1;
  return 0;
}

function satisfies(v: Version, c: Comparator): boolean {
  const d = cmp(v, c.v);
  switch (c.op) {
    case ">=":
      return d >= 0;
    case ">":
      return d > 0;
    case "<":
      return d < 0;
    case "<=":
      return d <= 0;
    case "=":
      return d === 0;
  }
}

/** One comparator token -> the comparators it means (a partial version is a range). */
function parseComparator(token: string, range: string): Comparator[] {
  const bad = (): never => {
    throw new UsageError(`--keras-version '${range}': cannot read '${token}' (use e.g. '>=2.3 <3', '2.2.x', '^3.1' or '3.6.0')`);
  };
  const m = /^(>=|<=|>|<|=|\^|~)?v?(\d+|[xX*])(?:\.(\d+|[xX*]))?(?:\.(\d+|[xX*]))?(?:[-+][0-9A-Za-z.-]*)?$/.exec(token);
  if (!m) return bad();
  if (token === "*" || /^[xX]$/.test(token)) return [];
  const op = m[1] ?? "";
  const wild = (s: string | undefined) => s === undefined || /^[xX*]$/.test(s);
  const parts = [m[2], m[3], m[4]];
  // Number of leading numeric parts; everything after a wildcard is a wildcard.
  let n = 0;
  while (n < 3 && !wild(parts[n])) n++;
  if (parts.slice(n).some((p) => !wild(p))) return bad();
  const nums = parts.slice(0, n).map(Number);
  const at = (k: number) => nums[k] ?? 0;
  const low: Version = [at(0), at(1), at(2)];
  // The first version above the partial one: 2 -> 3.0.0, 2.3 -> 2.4.0.
  const next = (k: number): Version => (k === 0 ? [at(0) + 1, 0, 0] : k === 1 ? [at(0), at(1) + 1, 0] : [at(0), at(1), at(2) + 1]);
  if (n === 0) return [];
  switch (op) {
    case "":
    case "=":
      return n === 3 ? [{ op: "=", v: low }] : [{ op: ">=", v: low }, { op: "<", v: next(n - 1) }];
    case ">=":
      return [{ op: ">=", v: low }];
    case ">":
      return n === 3 ? [{ op: ">", v: low }] : [{ op: ">=", v: next(n - 1) }];
    case "<":
      return [{ op: "<", v: low }];
    case "<=":
      return n === 3 ? [{ op: "<=", v: low }] : [{ op: "<", v: next(n - 1) }];
    case "~":
      return [{ op: ">=", v: low }, { op: "<", v: n === 1 ? next(0) : next(1) }];
    case "^": {
      // The upper bound bumps the first non-zero part (npm semver).
      const k = at(0) !== 0 || n === 1 ? 0 : at(1) !== 0 || n === 2 ? 1 : 2;
      return [{ op: ">=", v: low }, { op: "<", v: next(k) }];
    }
  }
  return bad();
}

export interface VersionRange {
  text: string;
  alternatives: Comparator[][];
}

export function parseVersionRange(text: string): VersionRange {
  if (text.trim() === "") throw new UsageError("--keras-version needs a range, e.g. '>=2.3 <3' or '3.x'");
  const alternatives = text.split("||").map((alt) => {
    const tokens = alt
      .trim()
      // ">= 2.3" -> ">=2.3"
      .replace(/(>=|<=|>|<|=|\^|~)\s+/g, "$1")
      .split(/\s+/)
      .filter((t) => t !== "");
    if (tokens.length === 0) throw new UsageError(`--keras-version '${text}': empty alternative around '||'`);
    return tokens.flatMap((t) => parseComparator(t, text));
  });
  return { text, alternatives };
}

export function versionInRange(version: string, range: VersionRange): boolean {
  const v = parseVersion(version);
  if (!v) return false;
  return range.alternatives.some((alt) => alt.every((c) => satisfies(v, c)));
}

export function kerasVersionCheck(model: Model, range: VersionRange): Check {
  const base = { id: "keras-version", name: "keras version" };
  const data = { range: range.text, kerasVersion: model.kerasVersion ?? null };
  if (!model.kerasVersion) {
    return {
      ...base,
      status: "fail",
      detail: `the file does not record which Keras version wrote it (its layout is Keras ${model.kerasMajor}'s), so '${range.text}' cannot be verified`,
      data,
    };
  }
  if (!parseVersion(model.kerasVersion)) {
    return { ...base, status: "fail", detail: `the file's keras_version '${model.kerasVersion}' is not a version number`, data };
  }
  const ok = versionInRange(model.kerasVersion, range);
  return {
    ...base,
    status: ok ? "pass" : "fail",
    detail: ok ? `written by Keras ${model.kerasVersion}, within '${range.text}'` : `written by Keras ${model.kerasVersion}, outside '${range.text}'`,
    data,
  };
}
