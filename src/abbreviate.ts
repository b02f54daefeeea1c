/**
 * Which entries of a long array text output shows, as numpy decides: an array of more
 * than 1,000 values (numpy's threshold) shows the first and last 3 entries (numpy's
 * edgeitems) of each longer axis. The printers (present/) lay them out; the slicer
 * (slice/index.ts) keeps those rows of a tensor it streams from the file, so that an
 * abbreviated print reads nothing more.
 */

/** numpy's print threshold: arrays with more values than this are abbreviated. */
export const THRESHOLD = 1000;
/** Entries kept at each end of an abbreviated axis (numpy's edgeitems). */
export const EDGE_ITEMS = 3;

/** Whether an array of `size` values is abbreviated (never when `full`). */
export function abbreviates(size: number, full: boolean): boolean {
  return !full && size > THRESHOLD;
}

/** The indices of an axis of length n to print; null stands for the elided middle. */
export function axisIndices(n: number, abbreviate: boolean): (number | null)[] {
  if (!abbreviate || n <= 2 * EDGE_ITEMS) return Array.from({ length: n }, (_, i) => i);
  return [...Array.from({ length: EDGE_ITEMS }, (_, i) => i), null, ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i)];
}
