/**
 * A small, independent reference for the explanation tests: one recurrent layer run
 * step by step on raw Keras weight arrays, written from Keras' source and sharing no
 * code with src/:
 *   - GRUCell.call, Keras 2.2.4 keras/layers/recurrent.py (reset_after=False):
 *       x_z = x·W_z + b_z, ...; z = σr(x_z + h·U_z); r = σr(x_r + h·U_r);
 *       hh = act(x_h + (r*h)·U_h); h = z*h + (1-z)*hh
 *   - reset_after=True (the same file, and keras/src/layers/rnn/gru.py in Keras 3):
 *       rec_g = h·U_g + rb_g; hh = act(x_h + r*rec_h)
 *   - SimpleRNNCell.call: h = act(x·W + b + h·U)
 *   - hard_sigmoid in Keras 2.2.4's TensorFlow backend: x = 0.2*x + 0.5; clip(x, 0, 1)
 *     (Keras 3: relu6(x + 3) / 6, i.e. clip(x/6 + 0.5, 0, 1)).
 * `round` is Math.fround for float32 (every product and sum rounded, as a float32 Keras
 * computes) or the identity for float64.
 */

export type Round = (x: number) => number;

export const ACTIVATIONS: Record<string, (x: number) => number> = {
  tanh: Math.tanh,
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  hard_sigmoid: (x) => Math.min(1, Math.max(0, 0.2 * x + 0.5)),
  hard_sigmoid_keras3: (x) => Math.min(1, Math.max(0, x / 6 + 0.5)),
  relu: (x) => Math.max(0, x),
};

export interface RawCell {
  kind: "gru" | "simple_rnn" | "lstm";
  units: number;
  inputDim: number;
  /** (inputDim, G·units) row-major, as Keras stores `kernel`. */
  kernel: ArrayLike<number>;
  /** (units, G·units) row-major. */
  recurrentKernel: ArrayLike<number>;
  /** (G·units), or (2, 3·units) for GRU reset_after=True. */
  bias: ArrayLike<number>;
  resetAfter?: boolean;
  activation: string;
  recurrentActivation?: string;
}

/** Column block `g` of a (rows × G·u) matrix times a row vector: out[j] = Σ_d v[d]·M[d, g·u + j]. */
function dot(v: number[], m: ArrayLike<number>, rows: number, width: number, col0: number, u: number, round: Round): number[] {
  return Array.from({ length: u }, (_, j) => {
    let acc = 0;
    for (let d = 0; d < rows; d++) acc = round(acc + round(v[d] * m[d * width + col0 + j]));
    return acc;
  });
}

/** Every intermediate of every step, by name: steps[t][name][unit]. */
export function runCell(cell: RawCell, xs: number[][], round: Round): Record<string, number[]>[] {
  const u = cell.units;
  const act = ACTIVATIONS[cell.activation];
  const ract = ACTIVATIONS[cell.recurrentActivation ?? "sigmoid"];
  const G = cell.kind === "gru" ? 3 : cell.kind === "lstm" ? 4 : 1;
  const width = G * u;
  let h = new Array<number>(u).fill(0);
  let c = new Array<number>(u).fill(0);
  const out: Record<string, number[]>[] = [];
  for (const x0 of xs) {
    const x = x0.map(round);
    const proj = (g: number) => dot(x, cell.kernel, cell.inputDim, width, g * u, u, round).map((v, j) => round(v + Number(cell.bias[g * u + j])));
    const rec = (g: number, hv: number[]) => dot(hv, cell.recurrentKernel, u, width, g * u, u, round);
    if (cell.kind === "simple_rnn") {
      const xp = proj(0);
      const r = rec(0, h);
      h = xp.map((v, j) => round(act(round(v + r[j]))));
      out.push({ x: xp, rec: r, h });
    } else if (cell.kind === "lstm") {
      const [xi, xf, xc, xo] = [0, 1, 2, 3].map(proj);
      const [ri, rf, rc, ro] = [0, 1, 2, 3].map((g) => rec(g, h));
      const i = xi.map((v, j) => round(ract(round(v + ri[j]))));
      const f = xf.map((v, j) => round(ract(round(v + rf[j]))));
      const ct = xc.map((v, j) => round(act(round(v + rc[j]))));
      const o = xo.map((v, j) => round(ract(round(v + ro[j]))));
      c = c.map((cp, j) => round(round(f[j] * cp) + round(i[j] * ct[j])));
      h = o.map((ov, j) => round(ov * round(act(c[j]))));
      out.push({ x_i: xi, x_f: xf, x_c: xc, x_o: xo, i, f, c_tilde: ct, o, c, h });
    } else {
      const [xz, xr, xh] = [0, 1, 2].map(proj);
      const rb = (g: number) => (cell.resetAfter ? Array.from({ length: u }, (_, j) => Number(cell.bias[3 * u + g * u + j])) : new Array<number>(u).fill(0));
      const recZ = rec(0, h).map((v, j) => (cell.resetAfter ? round(v + rb(0)[j]) : v));
      const recR = rec(1, h).map((v, j) => (cell.resetAfter ? round(v + rb(1)[j]) : v));
      const z = xz.map((v, j) => round(ract(round(v + recZ[j]))));
      const r = xr.map((v, j) => round(ract(round(v + recR[j]))));
      let recH: number[];
      let hh: number[];
      if (cell.resetAfter) {
        recH = rec(2, h).map((v, j) => round(v + rb(2)[j]));
        hh = xh.map((v, j) => round(act(round(v + round(r[j] * recH[j])))));
      } else {
        recH = rec(2, r.map((rv, j) => round(rv * h[j])));
        hh = xh.map((v, j) => round(act(round(v + recH[j]))));
      }
      const hPrev = h;
      h = z.map((zv, j) => round(round(zv * hPrev[j]) + round(round(1 - zv) * hh[j])));
      out.push({ x_z: xz, x_r: xr, x_h: xh, rec_z: recZ, rec_r: recR, rec_h: recH, z, r, hh, h });
    }
  }
  return out;
}
