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

/** Finite values summed together before they are merged into the running statistics. */
const CHUNK = 1024;

/** The running count, mean and sum of squared deviations of the values merged so far. */
interface Running {
  n: number;
  mean: number;
  m2: number;
}

/** Merges a chunk of k values (their sum and sum of squares of distances from `shift`) into `acc` (Chan, Golub and LeVeque). */
function merge(acc: Running, k: number, shift: number, sum: number, squares: number): void {
  const chunkMean = shift + sum / k;
  const total = acc.n + k;
  const delta = chunkMean - acc.mean;
  acc.mean += (delta * k) / total;
  acc.m2 += Math.max(0, squares - (sum * sum) / k) + ((delta * delta * acc.n) / total) * k;
  acc.n = total;
}

/**
 * Statistics of columns [from, to) of a row-major (rows × cols) matrix, read in place,
 * row by row, NaN and Inf counted apart. The finite values are taken CHUNK at a time in the
 * order read: within a chunk, the sum and the sum of squares of their distances from the
 * chunk's first value (the shifted-data algorithm, exact enough over 1024 values that lie
 * near each other); each chunk is then merged into the running mean and sum of squared
 * deviations by Chan, Golub and LeVeque's pairwise update, which is as stable as Welford's
 * running mean. Welford divides once per value, and each division waits on the last: the
 * 134 M values of a 4096-unit LSTM's kernels took ~1 s of `weights --layer`. The loop's
 * own variables stay local (a closure over them would keep them off the registers);
 * merge runs once per chunk. tensorStats is the one-row case: the chunks depend only on
 * the sequence of values, so a block's statistics are the same bits whether it was copied
 * out first or read where it lies.
 */
export function blockStats(data: ArrayLike<number>, rows: number, cols: number, from: number, to: number): TensorStats {
  let nan = 0;
  let inf = 0;
  let min = Infinity;
  let max = -Infinity;
  const acc: Running = { n: 0, mean: 0, m2: 0 };
  // The chunk: how many values, the first of them, and the sums of their distances from it.
  let k = 0;
  let shift = 0;
  let sum = 0;
  let squares = 0;
  for (let r = 0; r < rows; r++) {
    const end = r * cols + to;
    for (let i = r * cols + from; i < end; i++) {
      const v = data[i];
      if (v - v !== 0) {
        // NaN, or ±Infinity (whose difference with itself is NaN).
        if (v !== v) nan++;
        else inf++;
        continue;
      }
      if (v < min) min = v;
      if (v > max) max = v;
      if (k === 0) shift = v;
      const d = v - shift;
      sum += d;
      squares += d * d;
      if (++k < CHUNK) continue;
      merge(acc, k, shift, sum, squares);
      k = 0;
      sum = 0;
      squares = 0;
    }
  }
  // The last, partial chunk.
  if (k > 0) merge(acc, k, shift, sum, squares);
  const { n, mean, m2 } = acc;
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
