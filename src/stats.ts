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

export function tensorStats(data: ArrayLike<number>): TensorStats {
  let nan = 0;
  let inf = 0;
  let n = 0;
  let min = Infinity;
  let max = -Infinity;
  let mean = 0;
  let m2 = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isNaN(v)) {
      nan++;
      continue;
    }
    if (!Number.isFinite(v)) {
      inf++;
      continue;
    }
    n++;
    if (v < min) min = v;
    if (v > max) max = v;
    // Welford's running mean and variance: stable for large tensors.
    const d = v - mean;
    mean += d / n;
    m2 += d * (v - mean);
  }
  return {
    count: data.length,
    min: n ? min : null,
    max: n ? max : null,
    mean: n ? mean : null,
    std: n ? Math.sqrt(m2 / n) : null,
    nan,
    inf,
  };
}
