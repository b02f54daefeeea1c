/**
 * Weight values read by the loader equal what `h5dump` prints, for each format family.
 * Each case keeps the h5dump command that produced its numbers. `-m %.9g` prints
 * float32 values with enough digits to identify them exactly, so the check is
 * exact equality with Math.fround(printed value) (tolerance 0: reading must not
 * change a single bit).
 *
 * For archives, the weights file was extracted once with
 *   unzip -p <archive> model.weights.h5 > /tmp/<name>.weights.h5
 * and h5dump run on that.
 */
import { describe, expect, it } from "vitest";
import { loadModel } from "../../src/load/index.js";
import { walkLayers, type Tensor } from "../../src/model.js";
import { fixturePath, noteMissing } from "./fixture-paths.js";

interface Spot {
  family: string;
  file: string;
  /** The command whose output the values are copied from. */
  command: string;
  /** Tensor.path of the tensor. */
  tensorPath: string;
  /** Tensor.name the loader must give it. */
  tensorName: string;
  /** Row-major start index of the first printed value, and the printed values. */
  start: number[];
  values: number[];
}

const SPOTS: Spot[] = [
  {
    family: "Keras 1.2.2, TensorFlow backend (per-gate W_i with :0)",
    file: "k1_lstm_dense_tf_full_optim.h5",
    command: `h5dump -m %.9g -w 0 -d "/model_weights/lstm_1/lstm_1_W_i:0" -s 0,0 -c 1,5 k1_lstm_dense_tf_full_optim.h5`,
    tensorPath: "/model_weights/lstm_1/lstm_1_W_i:0",
    tensorName: "W_i",
    start: [0, 0],
    values: [-0.0142693892, 0.128867418, 0.0163860228, -0.0135134645, -0.110569648],
  },
  {
    family: "Keras 1.2.2, Theano backend (no :0)",
    file: "k1_lstm_theano_full.h5",
    command: `h5dump -m %.9g -w 0 -d "/model_weights/lstm_1/lstm_1_U_c" -s 1,0 -c 1,6 k1_lstm_theano_full.h5`,
    tensorPath: "/model_weights/lstm_1/lstm_1_U_c",
    tensorName: "U_c",
    start: [1, 0],
    values: [-0.475646526, 0.366383731, -0.208710775, 0.667166591, -0.0920104161, -0.487139046],
  },
  {
    family: "Keras 1 weights-only (root layer_names, no keras_version)",
    file: "k1_lstm_dense_theano_weights.h5",
    command: `h5dump -m %.9g -w 0 -d "/dense_1/dense_1_W" -s 0,0 -c 3,1 k1_lstm_dense_theano_weights.h5`,
    tensorPath: "/dense_1/dense_1_W",
    tensorName: "W",
    start: [0, 0],
    values: [-1.55035579, -1.47706842, -1.06369936],
  },
  {
    family: "Keras 2.0.6 standalone",
    file: "k2_lstm_dense_full.h5",
    command: `h5dump -m %.9g -w 0 -d "/model_weights/lstm_1/lstm_1/bias:0" -s 48 -c 4 k2_lstm_dense_full.h5`,
    tensorPath: "/model_weights/lstm_1/lstm_1/bias:0",
    tensorName: "bias",
    start: [48],
    values: [0.536215067, 0.289945453, 1, 1],
  },
  {
    family: "Keras 2.0.6 weights-only",
    file: "k2_lstm_dense_weights.h5",
    command: `h5dump -m %.9g -w 0 -d "/lstm_1/lstm_1/recurrent_kernel:0" -s 49,196 -c 1,4 k2_lstm_dense_weights.h5`,
    tensorPath: "/lstm_1/lstm_1/recurrent_kernel:0",
    tensorName: "recurrent_kernel",
    start: [49, 196],
    values: [0.113322347, -0.153050154, -0.072271578, 0.0921930969],
  },
  {
    family: "Keras 2.2.4 CuDNNLSTM (bias 8u)",
    file: "k2_cudnnlstm_functional_full.h5",
    command: `h5dump -m %.9g -w 0 -d "/model_weights/cu_dnnlstm_1/cu_dnnlstm_1/bias:0" -s 500 -c 4 k2_cudnnlstm_functional_full.h5`,
    tensorPath: "/model_weights/cu_dnnlstm_1/cu_dnnlstm_1/bias:0",
    tensorName: "bias",
    start: [500],
    values: [-0.364312023, -0.575061679, 0.712135553, -0.410332054],
  },
  {
    family: "tf.keras 2.2.4-tf Bidirectional (backward child)",
    file: "tfk2_bidir_simplernn_full.h5",
    command: `h5dump -m %.9g -w 0 -d "/model_weights/bidirectional_5/bidirectional_5/backward_simple_rnn_7/kernel:0" -s 3,0 -c 1,6 tfk2_bidir_simplernn_full.h5`,
    tensorPath: "/model_weights/bidirectional_5/bidirectional_5/backward_simple_rnn_7/kernel:0",
    tensorName: "kernel",
    start: [3, 0],
    values: [0.234631658, 0.764674306, 0.690676808, -0.624573469, 0.216579378, 0.127866626],
  },
  {
    family: "tf.keras 2.2.4-tf GRU without bias",
    file: "tfk2_gru_stateful_initstate_full.h5",
    command: `h5dump -m %.9g -w 0 -d "/model_weights/gru_1/gru_1/recurrent_kernel:0" tfk2_gru_stateful_initstate_full.h5`,
    tensorPath: "/model_weights/gru_1/gru_1/recurrent_kernel:0",
    tensorName: "recurrent_kernel",
    start: [0, 0],
    values: [-0.5, 2, -1.10000002],
  },
  {
    family: "Keras 3.6 legacy .h5 (w.path weight names)",
    file: "k3_lstm_legacy.h5",
    command: `h5dump -m %.9g -w 0 -d "/model_weights/lstm/sequential/lstm/lstm_cell/kernel" -s 0,276 -c 1,4 k3_lstm_legacy.h5`,
    tensorPath: "/model_weights/lstm/sequential/lstm/lstm_cell/kernel",
    tensorName: "kernel",
    start: [0, 276],
    values: [0.0825166553, 0.0133223999, -0.108185947, 0.047807537],
  },
  {
    family: "Keras 3.9 legacy .h5 MultiHeadAttention (sub-path names)",
    file: "k3_transformer_legacy.h5",
    command: `h5dump -m %.9g -w 0 -d "/model_weights/multi_head_attention/multi_head_attention/key/kernel" k3_transformer_legacy.h5`,
    tensorPath: "/model_weights/multi_head_attention/multi_head_attention/key/kernel",
    tensorName: "key/kernel",
    start: [0, 0, 0],
    values: [0.944993138, 0.672871232, -0.783539057, 0.946958184],
  },
  {
    family: "tf.keras 2.13 .keras archive (_layer_checkpoint_dependencies, gru_2 = second GRU)",
    file: "tfk2_gru_stacked_v3.keras",
    command: `h5dump -m %.9g -w 0 -d /_layer_checkpoint_dependencies/gru_2/cell/vars/2 -s 1,148 -c 1,2 /tmp/tfk2_gru_stacked_v3.weights.h5`,
    tensorPath: "model.weights.h5:/_layer_checkpoint_dependencies/gru_2/cell/vars/2",
    tensorName: "bias",
    start: [1, 148],
    values: [-0.117267407, -0.0806229189],
  },
  {
    family: "tf.keras 2.13 .keras archive, Bidirectional backward_layer",
    file: "tfk2_bidir_gru_multiinput_v3.keras",
    command: `h5dump -m %.9g -w 0 -d /_layer_checkpoint_dependencies/bidirectional/backward_layer/cell/vars/0 -s 0,0 -c 1,3 /tmp/tfk2_bidir_gru_multiinput_v3.weights.h5`,
    tensorPath: "model.weights.h5:/_layer_checkpoint_dependencies/bidirectional/backward_layer/cell/vars/0",
    tensorName: "kernel",
    start: [0, 0],
    values: [5.59726516e-7, -3.67982778e-7, -2.55228372e-7],
  },
  {
    family: "tf.keras 2.13 .keras archive, LayerNormalization in gap-numbered group",
    file: "tfk2_bidir_gru_multiinput_v3.keras",
    command: `h5dump -m %.9g -w 0 -d /_layer_checkpoint_dependencies/layer_normalization_2/vars/0 /tmp/tfk2_bidir_gru_multiinput_v3.weights.h5`,
    tensorPath: "model.weights.h5:/_layer_checkpoint_dependencies/layer_normalization_2/vars/0",
    tensorName: "gamma",
    start: [0],
    values: [1.448493, 1.39644599, 1.26688015, 1.54967427, 1.16198158],
  },
  {
    family: "Keras 3.12 .keras archive (GRU reset_after bias (2, 3u))",
    file: "k3_gru.keras",
    command: `h5dump -m %.9g -w 0 -d /layers/gru/cell/vars/2 -s 1,0 -c 1,3 /tmp/k3_gru.weights.h5`,
    tensorPath: "model.weights.h5:/layers/gru/cell/vars/2",
    tensorName: "bias",
    start: [1, 0],
    values: [-0.117428549, -0.017759515, -0.0677869096],
  },
  {
    family: "Keras 3 bare .weights.h5",
    file: "k3_lstm.weights.h5",
    command: `h5dump -m %.9g -w 0 -d /layers/lstm/cell/vars/1 -s 63,252 -c 1,4 k3_lstm.weights.h5`,
    tensorPath: "/layers/lstm/cell/vars/1",
    tensorName: "recurrent_kernel",
    start: [63, 252],
    values: [0.000323594606, -0.0127543779, 0.0760457665, -0.0438514426],
  },
];

function findTensor(tensors: Tensor[], path: string): Tensor {
  const t = tensors.find((x) => x.path === path);
  if (!t) throw new Error(`no tensor at ${path}; have ${tensors.map((x) => x.path).join(", ")}`);
  return t;
}

function flatIndex(shape: number[], index: number[]): number {
  return index.reduce((acc, i, d) => acc * shape[d] + i, 0);
}

describe("weight values equal h5dump's (exact float32)", () => {
  noteMissing("values", SPOTS.map((s) => s.file));
  for (const spot of SPOTS) {
    const path = fixturePath(spot.file);
    it.skipIf(path === undefined)(`${spot.family}: ${spot.file}`, async () => {
      const model = await loadModel(path!);
      const tensors = [...walkLayers(model.layers)].flatMap(({ layer }) => layer.weights);
      const t = findTensor(tensors, spot.tensorPath);
      expect(t.name).toBe(spot.tensorName);
      expect(t.dtype).toBe("float32");
      const at = flatIndex(t.shape, spot.start);
      const got = Array.from(t.data.subarray(at, at + spot.values.length));
      expect(got).toEqual(spot.values.map(Math.fround));
    });
  }
});
