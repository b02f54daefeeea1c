import { scanTensor, type Tensor } from "./model.js";

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
 * Statistics of values taken in order, any number at a time (`add`), NaN and Inf counted
 * apart. The finite values are taken CHUNK at a time in the order added: within a chunk,
 * the sum and the sum of squares of their distances from the chunk's first value (the
 * shifted-data algorithm, exact enough over 1024 values that lie near each other); each
 * chunk is then merged into the running mean and sum of squared deviations by Chan, Golub
 * and LeVeque's pairwise update, which is as stable as Welford's running mean. Welford
 * divides once per value, and each division waits on the last: the 134 M values of a
 * 4096-unit LSTM's kernels took ~1 s of `weights --layer`. A chunk carries over from one
 * `add` to the next, so the result depends only on the sequence of values: a block read
 * in place, copied out first, or streamed from the file in pieces (slice/index.ts) gives
 * the same bits. `add`'s loop keeps its variables local (fields read in the loop would
 * stay off the registers) and writes them back at the end; merge runs once per chunk.
 */
export class StatsAccumulator {
  private count = 0;
  private nan = 0;
  private inf = 0;
  private min = Infinity;
  private max = -Infinity;
  /** The finite values merged so far. */
  private readonly run: Running = { n: 0, mean: 0, m2: 0 };
  /** The open chunk: how many values, the first of them, and the sums of their distances from it. */
  private k = 0;
  private shift = 0;
  private sum = 0;
  private squares = 0;

  /** Takes data[from], …, data[to - 1], in that order. */
  add(data: ArrayLike<number>, from: number, to: number): void {
    let { nan, inf, min, max, k, shift, sum, squares } = this;
    for (let i = from; i < to; i++) {
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
      merge(this.run, k, shift, sum, squares);
      k = 0;
      sum = 0;
      squares = 0;
    }
    this.nan = nan;
    this.inf = inf;
    this.min = min;
    this.max = max;
    this.k = k;
    this.shift = shift;
    this.sum = sum;
    this.squares = squares;
    this.count += Math.max(0, to - from);
  }

  /** The statistics of every value added so far (the open chunk merged into a copy: more may be added). */
  result(): TensorStats {
    const done = { ...this.run };
    // The last, partial chunk.
    if (this.k > 0) merge(done, this.k, this.shift, this.sum, this.squares);
    return {
      count: this.count,
      min: done.n ? this.min : null,
      max: done.n ? this.max : null,
      mean: done.n ? done.mean : null,
      std: done.n ? Math.sqrt(done.m2 / done.n) : null,
      nan: this.nan,
      inf: this.inf,
    };
  }
}

/** Statistics of columns [from, to) of a row-major (rows × cols) matrix, read in place, row by row (StatsAccumulator). */
export function blockStats(data: ArrayLike<number>, rows: number, cols: number, from: number, to: number): TensorStats {
  const acc = new StatsAccumulator();
  for (let r = 0; r < rows; r++) acc.add(data, r * cols + from, r * cols + to);
  return acc.result();
}

export function tensorStats(data: ArrayLike<number>): TensorStats {
  return blockStats(data, 1, data.length, 0, data.length);
}

/** A stored tensor's statistics, its values streamed from the file where they can be (Tensor.scan), so none are kept. */
export function storedTensorStats(t: Pick<Tensor, "data" | "scan">): TensorStats {
  const acc = new StatsAccumulator();
  scanTensor(t, (values) => acc.add(values, 0, values.length));
  return acc.result();
}
