// The project's reference example (DEVELOPERS.md): an LSTM with 2 features and 1 unit,
// tanh / sigmoid, zero initial state, one step of input [1, 10]. The table is the seed
// notebook's, printed there with 6 decimals (h with 7), and computed in float64.
export const SEED_KERNEL = [
  [-0.7879, -0.7968972, 0.9924617, -0.6057646],
  [-0.14056396, -0.34560132, 0.9574034, 0.7960496],
];
export const SEED_RECURRENT_KERNEL = [[-0.0660542, -0.32508007, -0.8477706, 0.41381747]];
export const SEED_BIAS = [0, 1, 0, 0];
export const SEED_INPUT = [1, 10];

export const SEED_TABLE: Readonly<Record<string, number>> = {
  x_i: -2.19354,
  x_f: -3.25291,
  x_c: 10.566496,
  x_o: 7.354731,
  i: 0.100332,
  f: 0.037222,
  c: 0.100332,
  o: 0.999361,
  h: 0.0999329,
};
