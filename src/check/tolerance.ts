/**
 * Comparing numbers computed by two implementations: the rule numpy.allclose uses,
 * |actual − expected| ≤ atol + rtol·|expected|, with the defaults below.
 *
 * Default atol = rtol = 1e-5, because:
 * - Keras' own golden-value tests for its recurrent layers compare with
 *   atol = rtol = 1e-5 (keras/src/layers/rnn/lstm_test.py, test_correctness:
 *   assertAllClose(..., atol=1e-5, rtol=1e-5, tpu_atol=1e-3, tpu_rtol=1e-3));
 * - keras-inspect computes in float32 as Keras does, but sums in its own order:
 *   Keras (BLAS/Eigen matmuls, fused kernels) and we round the same products in a
 *   different order, which moves results by a few float32 ulps (≈ 1e-7 relative per
 *   operation; float32 against float64 on small models: ≈ 5e-8 to 1e-7), far below 1e-5;
 * - a real change of a weight moves outputs by much more than 1e-5.
 * Outputs produced on a GPU may need a looser tolerance: TensorFloat-32 matmuls
 * (Ampere and newer, on by default in TensorFlow ≥ 2.4) keep 10 mantissa bits and
 * move results by ≈ 1e-3 (Keras' tests allow 1e-3 on TPUs for the same reason);
 * compare those with --atol 1e-3 --rtol 1e-3.
 */
export const DEFAULT_ATOL = 1e-5;
export const DEFAULT_RTOL = 1e-5;

export interface Tolerance {
  atol: number;
  rtol: number;
}

/** Both NaN counts as equal (the same non-number); NaN against a number, or Inf of another sign, does not. */
export function withinTolerance(actual: number, expected: number, tol: Tolerance): boolean {
  if (Number.isNaN(actual) || Number.isNaN(expected)) return Number.isNaN(actual) && Number.isNaN(expected);
  if (!Number.isFinite(actual) || !Number.isFinite(expected)) return actual === expected;
  return Math.abs(actual - expected) <= tol.atol + tol.rtol * Math.abs(expected);
}

export interface Mismatch {
  /** Flat (row-major) index of the element. */
  index: number;
  actual: number;
  expected: number;
  absDiff: number;
  /** How far over the allowed difference: |Δ| / (atol + rtol·|expected|); Infinity for NaN/Inf mismatches. */
  excess: number;
}

export interface Comparison {
  count: number;
  /** Elements outside the tolerance. */
  mismatches: number;
  /** Largest |Δ| over finite pairs (0 when none). */
  maxAbsDiff: number;
  /** The element furthest outside the tolerance (by `excess`), or the largest |Δ| when all are within. */
  worst: Mismatch | null;
}

/** Compares two equally long arrays element by element. */
export function compareArrays(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance): Comparison {
  let mismatches = 0;
  let maxAbsDiff = 0;
  let worst: Mismatch | null = null;
  for (let k = 0; k < expected.length; k++) {
    const a = actual[k];
    const e = expected[k];
    const ok = withinTolerance(a, e, tol);
    const absDiff = Number.isFinite(a) && Number.isFinite(e) ? Math.abs(a - e) : ok ? 0 : Infinity;
    if (Number.isFinite(absDiff) && absDiff > maxAbsDiff) maxAbsDiff = absDiff;
    const allowed = tol.atol + tol.rtol * (Number.isFinite(e) ? Math.abs(e) : 0);
    const excess = ok ? (allowed > 0 ? absDiff / allowed : 0) : allowed > 0 ? absDiff / allowed : Infinity;
    if (!ok) mismatches++;
    if (worst === null || excess > worst.excess || (excess === worst.excess && absDiff > worst.absDiff)) {
      worst = { index: k, actual: a, expected: e, absDiff, excess };
    }
  }
  return { count: expected.length, mismatches, maxAbsDiff, worst };
}

/** Row-major flat index -> [i, j, ...] for a shape. */
export function unravel(index: number, shape: number[]): number[] {
  const out = new Array<number>(shape.length).fill(0);
  let rest = index;
  for (let k = shape.length - 1; k >= 0; k--) {
    out[k] = shape[k] > 0 ? rest % shape[k] : 0;
    rest = shape[k] > 0 ? Math.floor(rest / shape[k]) : 0;
  }
  return out;
}

/** A tolerance as the user would write it: 1e-5 rather than 0.00001. */
export function formatTolerance(v: number): string {
  return v > 0 && v < 1e-2 ? v.toExponential() : String(v);
}

/** "atol 1e-5, rtol 1e-5" */
export function toleranceText(tol: Tolerance): string {
  return `atol ${formatTolerance(tol.atol)}, rtol ${formatTolerance(tol.rtol)}`;
}
