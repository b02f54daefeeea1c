/** Descriptive statistics of a tensor's values, NaN and Inf counted apart. */
export interface TensorStats {
  count: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  nan: number;
  inf: number;
}

/**
 * Statistics of columns [from, to) of a row-major (rows × cols) matrix, read in place,
 * row by row: Welford's running mean and variance (stable for large tensors), NaN and Inf
 * counted apart. tensorStats is the one-row case, so a block's statistics are the same
 * bits whether it was copied out first or read where it lies.
 */
export function blockStats(data: ArrayLike<number>, rows: number, cols: number, from: number, to: number): TensorStats {
  let nan = 0;
  let inf = 0;
  let n = 0;
  let min = Infinity;
  let max = -Infinity;
  let mean = 0;
  let m2 = 0;
  for (let r = 0; r < rows; r++) {
    const end = r * cols + to;
    for (let i = r * cols + from; i < end; i++) {
      const v = data[i];
      if (v !== v) {
        nan++;
        continue;
      }
      if (v === Infinity || v === -Infinity) {
        inf++;
        continue;
      }
      n++;
      if (v < min) min = v;
      if (v > max) max = v;
      const d = v - mean;
      mean += d / n;
      m2 += d * (v - mean);
    }
  }
  return {
    count: rows * (to - from),
    min: n ? min : null,
    max: n ? max : null,
    mean: n ? mean : null,
    std: n ? Math.sqrt(m2 / n) : null,
    nan,
    inf,
  };
}

export function tensorStats(data: ArrayLike<number>): TensorStats {
  return blockStats(data, 1, data.length, 0, data.length);
}
