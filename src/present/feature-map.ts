/**
 * What a ConvLSTM trace's units are: one (position, filter) of the output feature maps,
 * unit = position·filters + filter with positions row-major (the trace is channels last
 * whatever the layer's data_format). Printers label units with these; the step and
 * explain commands turn --position / --filter into units with them.
 */
import type { FeatureMapShape } from "../eval/trace.js";

/** A unit's output position (one coordinate per spatial axis) and filter. */
export function unitPosition(m: FeatureMapShape, unit: number): { position: number[]; filter: number } {
  const position = new Array<number>(m.outputSpatial.length);
  let rest = Math.floor(unit / m.filters);
  for (let a = m.outputSpatial.length - 1; a >= 0; a--) {
    position[a] = rest % m.outputSpatial[a];
    rest = Math.floor(rest / m.outputSpatial[a]);
  }
  return { position, filter: unit % m.filters };
}

/** The unit of an output position and filter. */
export function unitAt(m: FeatureMapShape, position: readonly number[], filter: number): number {
  let pos = 0;
  for (let a = 0; a < m.outputSpatial.length; a++) pos = pos * m.outputSpatial[a] + position[a];
  return pos * m.filters + filter;
}

/** "(4, 5) f2": how tables name a ConvLSTM unit. */
export function unitLabel(m: FeatureMapShape | undefined, unit: number): string {
  if (!m) return String(unit);
  const { position, filter } = unitPosition(m, unit);
  return `(${position.join(", ")}) f${filter}`;
}

/** The position a step table shows when none is asked for: the centre of the output map. */
export function centrePosition(m: FeatureMapShape): number[] {
  return m.outputSpatial.map((n) => Math.floor((n - 1) / 2));
}

/** "10 × 10 positions × 4 filters": the shape of a ConvLSTM's state, in words. */
export function describeMaps(m: FeatureMapShape): string {
  return `${m.outputSpatial.join(" × ")} position(s) × ${m.filters} filter(s)`;
}

/** Units of every given position with every given filter, position by position. */
export function unitsOf(m: FeatureMapShape, positions: readonly number[][], filters: readonly number[]): number[] {
  return positions.flatMap((p) => filters.map((f) => unitAt(m, p, f)));
}
