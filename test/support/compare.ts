/**
 * Numeric comparison for the evaluator's tests: numpy.allclose-style checks
 * (|actual - expected| <= atol + rtol·|expected|) that fail naming the worst
 * element, and record the largest absolute and relative errors seen per
 * comparison kind, so a test file can print what it measured.
 */
import { expect } from "vitest";

export type Nested = number | Nested[];

export function flat(v: unknown): number[] {
  if (Array.isArray(v)) return v.flatMap(flat);
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number>);
  return [v as number];
}

export function shapeOf(v: Nested): number[] {
  return Array.isArray(v) ? [v.length, ...(v.length ? shapeOf(v[0]) : [])] : [];
}

export interface ErrorStats {
  /** Largest |actual - expected|. */
  maxAbs: number;
  /** Largest |actual - expected| / |expected| over |expected| >= 1e-3. */
  maxRel: number;
  values: number;
  comparisons: number;
}

export class ErrorLog {
  readonly byKind = new Map<string, ErrorStats>();

  record(kind: string, actual: ArrayLike<number>, expected: ArrayLike<number>): void {
    const s = this.byKind.get(kind) ?? { maxAbs: 0, maxRel: 0, values: 0, comparisons: 0 };
    for (let k = 0; k < expected.length; k++) {
      const d = Math.abs(actual[k] - expected[k]);
      if (d > s.maxAbs) s.maxAbs = d;
      if (Math.abs(expected[k]) >= 1e-3 && d / Math.abs(expected[k]) > s.maxRel) s.maxRel = d / Math.abs(expected[k]);
    }
    s.values += expected.length;
    s.comparisons += 1;
    this.byKind.set(kind, s);
  }

  /** One line per comparison kind. */
  summary(title: string): string {
    const lines = [...this.byKind].map(
      ([k, s]) => `  ${k}: ${s.comparisons} comparisons, ${s.values} values, max abs error ${s.maxAbs.toExponential(2)}, max rel error ${s.maxRel.toExponential(2)}`,
    );
    return `${title}\n${lines.join("\n")}`;
  }
}

/**
 * Expects equal lengths and |a - e| <= atol + rtol·|e| everywhere (NaN never passes),
 * records the errors under `kind` in `log`.
 */
export function expectAllClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol: { atol: number; rtol?: number },
  what: string,
  log?: { log: ErrorLog; kind: string },
): void {
  expect(actual.length, `${what}: number of values`).toBe(expected.length);
  const rtol = tol.rtol ?? 0;
  let worst = -1;
  let worstExcess = 0;
  for (let k = 0; k < expected.length; k++) {
    const excess = Math.abs(actual[k] - expected[k]) - (tol.atol + rtol * Math.abs(expected[k]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = k;
      worstExcess = excess;
    }
  }
  log?.log.record(log.kind, actual, expected);
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (atol ${tol.atol}, rtol ${rtol}; ${expected.length} values)`);
  }
}
