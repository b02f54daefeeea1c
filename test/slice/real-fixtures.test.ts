// The slice stage on real Keras files of every kind. Expected shapes follow Keras' layouts
// (keras-formats.md §A3): LSTM kernel (D, 4u) -> kernel_g (D, u), recurrent_kernel_g (u, u),
// bias_g (u); GRU 3 gates, reset_after=True bias (2, 3u) -> bias_g + recurrent_bias_g;
// ConvLSTM2D kernel (kh, kw, C, 4f) -> (kh, kw, C, f). Spot values were read from the raw
// datasets by h5dump (the command and its DATA output are kept with each spot) and mapped
// by the rule "gate k is columns [k·u, (k+1)·u)" (Keras 1: by the array's own name W_f, U_c ...;
// CuDNNLSTM with D = 1: its kernel blocks are unchanged by Keras' conversion, see cudnn.test.ts).
// Stored float32 values are compared exactly.
import { describe, expect, it } from "vitest";
import { loadModel } from "../../src/load/index.js";
import { layerReports, type CellReport, type RecurrentReport } from "../../src/slice/index.js";
import { fixturePath, noteMissing } from "../load/fixture-paths.js";
import { parseH5dumpValues } from "./h5dump.js";

interface Spot {
  file: string;
  /** The h5dump command that printed `out` (run in the fixture directory). */
  cmd: string;
  /** h5dump's DATA block, lines joined. */
  out: string;
  /** Path of the recurrent layer (or of one direction). */
  layer: string;
  /** The gate tensor the values land in, and the index of the first one; the rest follow along the last axis. */
  tensor: string;
  at: number[];
}

const SPOTS: Spot[] = [
  { file: "k1_lstm_dense_tf_full_optim.h5", cmd: "h5dump -m %.9g -d \"/model_weights/lstm_1/lstm_1_W_f:0\" -s \"0,0\" -c \"1,3\" k1_lstm_dense_tf_full_optim.h5", out: "(0,0): 0.173275739, (0,1): -0.305200607, (0,2): 0.133778334", layer: "lstm_1", tensor: "kernel_f", at: [0, 0] },
  { file: "k1_lstm_dense_tf_full_optim.h5", cmd: "h5dump -m %.9g -d \"/model_weights/lstm_1/lstm_1_W_c:0\" -s \"0,47\" -c \"1,3\" k1_lstm_dense_tf_full_optim.h5", out: "(0,47): 0.0361624099, (0,48): -0.037257161, (0,49): 0.0264443848", layer: "lstm_1", tensor: "kernel_c", at: [0, 47] },
  { file: "k1_lstm_dense_tf_full_optim.h5", cmd: "h5dump -m %.9g -d \"/model_weights/lstm_1/lstm_1_U_c:0\" -s \"2,47\" -c \"1,3\" k1_lstm_dense_tf_full_optim.h5", out: "(2,47): -0.0775684416, (2,48): 0.0440032929, (2,49): 0.21463941", layer: "lstm_1", tensor: "recurrent_kernel_c", at: [2, 47] },
  { file: "k1_lstm_dense_tf_full_optim.h5", cmd: "h5dump -m %.9g -d \"/model_weights/lstm_1/lstm_1_b_o:0\" -s \"0\" -c \"3\" k1_lstm_dense_tf_full_optim.h5", out: "(0): 1.13153696, (1): 1.13103271, (2): 1.32850516", layer: "lstm_1", tensor: "bias_o", at: [0] },
  { file: "k1_lstm_dense_tf_full_optim.h5", cmd: "h5dump -m %.9g -d \"/model_weights/lstm_1/lstm_1_b_f:0\" -s \"0\" -c \"3\" k1_lstm_dense_tf_full_optim.h5", out: "(0): 1, (1): 1, (2): 1", layer: "lstm_1", tensor: "bias_f", at: [0] },
  { file: "k1_bidir_lstm_theano_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/bidirectional_1/backward_lstm_1_U_f\" -s \"9,7\" -c \"1,3\" k1_bidir_lstm_theano_full.h5", out: "(9,7): 0.183049276, (9,8): -0.00269045448, (9,9): -0.470043868", layer: "bidirectional_1/backward_lstm_1", tensor: "recurrent_kernel_f", at: [9, 7] },
  { file: "k2_lstm_dense_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/lstm_1/lstm_1/kernel:0\" -s \"0,50\" -c \"1,4\" k2_lstm_dense_full.h5", out: "(0,50): 0.059661597, (0,51): 0.00975972414, (0,52): 0.00818885863, (0,53): 0.00497700274", layer: "lstm_1", tensor: "kernel_f", at: [0, 0] },
  { file: "k2_lstm_dense_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/lstm_1/lstm_1/recurrent_kernel:0\" -s \"2,150\" -c \"1,3\" k2_lstm_dense_full.h5", out: "(2,150): 0.0387303345, (2,151): -0.016868148, (2,152): 0.0870466232", layer: "lstm_1", tensor: "recurrent_kernel_o", at: [2, 0] },
  { file: "k2_lstm_dense_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/lstm_1/lstm_1/bias:0\" -s \"100\" -c \"3\" k2_lstm_dense_full.h5", out: "(100): 0.337911993, (101): -0.585756898, (102): 0.137975529", layer: "lstm_1", tensor: "bias_c", at: [0] },
  { file: "k2_bidir_lstm_theano_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/bidirectional_1/bidirectional_1/forward_lstm_1/kernel\" -s \"3,10\" -c \"1,3\" k2_bidir_lstm_theano_full.h5", out: "(3,10): 0.0527914166, (3,11): -0.326874405, (3,12): 0.303678989", layer: "bidirectional_1/forward_lstm_1", tensor: "kernel_f", at: [3, 0] },
  { file: "k2_bidir_lstm_theano_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/bidirectional_1/bidirectional_1/backward_lstm_1/bias\" -s \"30\" -c \"3\" k2_bidir_lstm_theano_full.h5", out: "(30): 0, (31): 0, (32): 0", layer: "bidirectional_1/backward_lstm_1", tensor: "bias_o", at: [0] },
  { file: "k2_gru_hardsigmoid_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/gru_1/gru_1/kernel:0\" -s \"0,64\" -c \"1,3\" k2_gru_hardsigmoid_full.h5", out: "(0,64): -0.135959506, (0,65): 0.0922303423, (0,66): 0.0274210759", layer: "gru_1", tensor: "kernel_r", at: [0, 0] },
  { file: "k2_gru_hardsigmoid_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/gru_1/gru_1/recurrent_kernel:0\" -s \"5,189\" -c \"1,3\" k2_gru_hardsigmoid_full.h5", out: "(5,189): 0.164797962, (5,190): 0.0254952386, (5,191): 0.0443146564", layer: "gru_1", tensor: "recurrent_kernel_h", at: [5, 61] },
  { file: "k2_gru_hardsigmoid_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/gru_1/gru_1/bias:0\" -s \"128\" -c \"3\" k2_gru_hardsigmoid_full.h5", out: "(128): 0.00989145413, (129): -0.0135900015, (130): -0.0220026299", layer: "gru_1", tensor: "bias_h", at: [0] },
  { file: "tfk2_bidir_gru_multiinput_h5ext.keras", cmd: "h5dump -m %.9g -d \"/model_weights/bidirectional/bidirectional/forward_gru/gru_cell_1/bias:0\" -s \"0,0\" -c \"1,3\" tfk2_bidir_gru_multiinput_h5ext.keras", out: "(0,0): -0.197395355, (0,1): -0.235504061, (0,2): -0.015014885", layer: "bidirectional/forward_gru", tensor: "bias_z", at: [0] },
  { file: "tfk2_bidir_gru_multiinput_h5ext.keras", cmd: "h5dump -m %.9g -d \"/model_weights/bidirectional/bidirectional/forward_gru/gru_cell_1/bias:0\" -s \"1,32\" -c \"1,3\" tfk2_bidir_gru_multiinput_h5ext.keras", out: "(1,32): -0.135516927, (1,33): -0.107547738, (1,34): 0.00209084037", layer: "bidirectional/forward_gru", tensor: "recurrent_bias_r", at: [0] },
  { file: "tfk2_bidir_gru_multiinput_h5ext.keras", cmd: "h5dump -m %.9g -d \"/model_weights/bidirectional/bidirectional/backward_gru/gru_cell_2/kernel:0\" -s \"0,64\" -c \"1,3\" tfk2_bidir_gru_multiinput_h5ext.keras", out: "(0,64): 0.171889171, (0,65): -0.184765086, (0,66): 0.21152404", layer: "bidirectional/backward_gru", tensor: "kernel_h", at: [0, 0] },
  { file: "tfk2_bidir_gru_multiinput_h5ext.keras", cmd: "h5dump -m %.9g -d \"/model_weights/bidirectional/bidirectional/backward_gru/gru_cell_2/bias:0\" -s \"1,93\" -c \"1,3\" tfk2_bidir_gru_multiinput_h5ext.keras", out: "(1,93): -0.0252876524, (1,94): -0.0231061354, (1,95): -0.0416312255", layer: "bidirectional/backward_gru", tensor: "recurrent_bias_h", at: [29] },
  { file: "tfk2_gru_stateful_initstate_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/gru_1/gru_1/kernel:0\" -s \"0,0\" -c \"1,1\" tfk2_gru_stateful_initstate_full.h5", out: "(0,0): 1", layer: "gru_1", tensor: "kernel_z", at: [0, 0] },
  { file: "tfk2_gru_stateful_initstate_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/gru_1/gru_1/recurrent_kernel:0\" -s \"0,2\" -c \"1,1\" tfk2_gru_stateful_initstate_full.h5", out: "(0,2): -1.10000002", layer: "gru_1", tensor: "recurrent_kernel_h", at: [0, 0] },
  { file: "k2_simplernn_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/simple_rnn_1/simple_rnn_1/kernel:0\" -s \"0,0\" -c \"1,3\" k2_simplernn_full.h5", out: "(0,0): 0.028107252, (0,1): 0.0273858346, (0,2): -0.0274684113", layer: "simple_rnn_1", tensor: "kernel", at: [0, 0] },
  { file: "k2_simplernn_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/simple_rnn_1/simple_rnn_1/recurrent_kernel:0\" -s \"49,47\" -c \"1,3\" k2_simplernn_full.h5", out: "(49,47): -0.0575502366, (49,48): -0.1650365, (49,49): 0.232290223", layer: "simple_rnn_1", tensor: "recurrent_kernel", at: [49, 47] },
  { file: "k2_simplernn_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/simple_rnn_1/simple_rnn_1/bias:0\" -s \"0\" -c \"3\" k2_simplernn_full.h5", out: "(0): 0.00600598752, (1): 0.0113644842, (2): -0.00594891468", layer: "simple_rnn_1", tensor: "bias", at: [0] },
  { file: "k1_simplernn_theano_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/simplernn_1/simplernn_1_U\" -s \"5,3\" -c \"1,3\" k1_simplernn_theano_full.h5", out: "(5,3): 0.475153983, (5,4): -0.0819245353, (5,5): 0.1917945", layer: "simplernn_1", tensor: "recurrent_kernel", at: [5, 3] },
  { file: "k1_simplernn_theano_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/simplernn_1/simplernn_1_b\" -s \"0\" -c \"3\" k1_simplernn_theano_full.h5", out: "(0): 0, (1): 0, (2): 0", layer: "simplernn_1", tensor: "bias", at: [0] },
  { file: "k2_cudnnlstm_functional_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/cu_dnnlstm_1/cu_dnnlstm_1/kernel:0\" -s \"0,63\" -c \"1,3\" k2_cudnnlstm_functional_full.h5", out: "(0,63): 0.0268266946, (0,64): 0.058379598, (0,65): 0.00981594995", layer: "cu_dnnlstm_1", tensor: "kernel_f", at: [0, 0] },
  { file: "tfk2_convlstm2d_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/conv_lst_m2d_2/conv_lst_m2d_2/kernel:0\" -s \"1,2,3,4\" -c \"1,1,1,4\" tfk2_convlstm2d_full.h5", out: "(1,2,3,4): -0.0115338117, (1,2,3,5): 0.00310714543, (1,2,3,6): 0.0685233474, (1,2,3,7): 0.0257026106", layer: "conv_lst_m2d_2", tensor: "kernel_f", at: [1, 2, 3, 0] },
  { file: "tfk2_convlstm2d_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/conv_lst_m2d_2/conv_lst_m2d_2/recurrent_kernel:0\" -s \"2,0,1,12\" -c \"1,1,1,4\" tfk2_convlstm2d_full.h5", out: "(2,0,1,12): -0.13157782, (2,0,1,13): -0.0342289433, (2,0,1,14): -0.0310396403, (2,0,1,15): 0.118539199", layer: "conv_lst_m2d_2", tensor: "recurrent_kernel_o", at: [2, 0, 1, 0] },
  { file: "tfk2_convlstm2d_full.h5", cmd: "h5dump -m %.9g -d \"/model_weights/conv_lst_m2d_2/conv_lst_m2d_2/bias:0\" -s \"4\" -c \"4\" tfk2_convlstm2d_full.h5", out: "(4): 1, (5): 1, (6): 1, (7): 1", layer: "conv_lst_m2d_2", tensor: "bias_f", at: [0] },
  { file: "k3_lstm_legacy.h5", cmd: "h5dump -m %.9g -d \"/model_weights/lstm/sequential/lstm/lstm_cell/kernel\" -s \"0,140\" -c \"1,3\" k3_lstm_legacy.h5", out: "(0,140): 0.106131859, (0,141): 0.129691824, (0,142): -0.20712854", layer: "lstm", tensor: "kernel_c", at: [0, 0] },
  { file: "k3_lstm_legacy.h5", cmd: "h5dump -m %.9g -d \"/model_weights/lstm/sequential/lstm/lstm_cell/bias\" -s \"70\" -c \"3\" k3_lstm_legacy.h5", out: "(70): 0.872030377, (71): 0.967573225, (72): 0.790822923", layer: "lstm", tensor: "bias_f", at: [0] },
  { file: "k3_lstm_legacy.h5", cmd: "h5dump -m %.9g -d \"/model_weights/lstm_1/sequential/lstm_1/lstm_cell/recurrent_kernel\" -s \"69,277\" -c \"1,3\" k3_lstm_legacy.h5", out: "(69,277): 0.125773937, (69,278): 0.10181883, (69,279): 0.0102750678", layer: "lstm_1", tensor: "recurrent_kernel_o", at: [69, 67] },
  { file: "k3_gru_legacy.h5", cmd: "h5dump -m %.9g -d \"/model_weights/gru/sequential_2/gru/gru_cell/bias\" -s \"1,128\" -c \"1,3\" k3_gru_legacy.h5", out: "(1,128): -0.0640334412, (1,129): -0.0816269293, (1,130): 0.107547976", layer: "gru", tensor: "recurrent_bias_h", at: [0] },
  { file: "k3_gru_legacy.h5", cmd: "h5dump -m %.9g -d \"/model_weights/gru/sequential_2/gru/gru_cell/kernel\" -s \"0,0\" -c \"1,2\" k3_gru_legacy.h5", out: "(0,0): 0.0291819181, (0,1): -0.0178631581", layer: "gru", tensor: "kernel_z", at: [0, 0] },
  { file: "k3_gru.keras", cmd: "unzip -p k3_gru.keras model.weights.h5 > w.h5 && h5dump -m %.9g -d \"/layers/gru/cell/vars/0\" -s \"8,64\" -c \"1,2\" w.h5", out: "(8,64): 0.0941198394, (8,65): 0.155315489", layer: "gru", tensor: "kernel_r", at: [8, 0] },
  { file: "k3_gru.keras", cmd: "unzip -p k3_gru.keras model.weights.h5 > w.h5 && h5dump -m %.9g -d \"/layers/gru/cell/vars/2\" -s \"0,190\" -c \"1,2\" w.h5", out: "(0,190): 0.0152175874, (0,191): -0.00501386309", layer: "gru", tensor: "bias_h", at: [62] },
];

type Shapes = Record<string, number[]>;

function lstmShapes(d: number, u: number, bias = true, gates = ["i", "f", "c", "o"]): Shapes {
  const s: Shapes = {};
  for (const g of gates) s[`kernel_${g}`] = [d, u];
  for (const g of gates) s[`recurrent_kernel_${g}`] = [u, u];
  if (bias) for (const g of gates) s[`bias_${g}`] = [u];
  return s;
}
function gruShapes(d: number, u: number, resetAfter: boolean, bias = true): Shapes {
  const s = lstmShapes(d, u, bias, ["z", "r", "h"]);
  if (resetAfter && bias) for (const g of ["z", "r", "h"]) s[`recurrent_bias_${g}`] = [u];
  return s;
}
const rnnShapes = (d: number, u: number): Shapes => ({ kernel: [d, u], recurrent_kernel: [u, u], bias: [u] });

interface Expected {
  file: string;
  /** Path of the report (layer) and, for a Bidirectional, of each direction. */
  layer: string;
  cells: { path: string; className: string; direction: "forward" | "backward"; units: number; inputDim: number; resetAfter: boolean | null; shapes: Shapes; note?: RegExp }[];
  mergeMode?: string | null;
}

const fwd = (path: string, className: string, units: number, inputDim: number, shapes: Shapes, extra: Partial<Expected["cells"][0]> = {}) => ({
  path, className, direction: "forward" as const, units, inputDim, resetAfter: null, shapes, ...extra,
});

const EXPECTED: Expected[] = [
  // Keras 1: 12 per-gate arrays, assembled, and the user told.
  { file: "k1_lstm_theano_full.h5", layer: "lstm_1", cells: [fwd("lstm_1", "LSTM", 6, 1, lstmShapes(1, 6), { note: /Keras 1 stored this LSTM as 12 per-gate arrays/ })] },
  { file: "k1_lstm_dense_tf_full_optim.h5", layer: "lstm_1", cells: [fwd("lstm_1", "LSTM", 50, 1, lstmShapes(1, 50), { note: /assembled/ })] },
  { file: "k1_embedding_lstm_tf_full.h5", layer: "lstm_1", cells: [fwd("lstm_1", "LSTM", 6, 5, lstmShapes(5, 6), { note: /assembled/ })] },
  {
    file: "k1_bidir_lstm_theano_full.h5", layer: "bidirectional_1", mergeMode: "concat",
    cells: [
      fwd("bidirectional_1/forward_lstm_1", "LSTM", 10, 10, lstmShapes(10, 10), { note: /assembled/ }),
      { ...fwd("bidirectional_1/backward_lstm_1", "LSTM", 10, 10, lstmShapes(10, 10), { note: /assembled/ }), direction: "backward" },
    ],
  },
  { file: "k1_simplernn_theano_full.h5", layer: "simplernn_1", cells: [fwd("simplernn_1", "SimpleRNN", 6, 1, rnnShapes(1, 6), { note: /Keras 1 names W, U, b/ })] },
  // Keras 2 / tf.keras LSTM, GRU (both variants), SimpleRNN.
  { file: "k2_lstm_dense_full.h5", layer: "lstm_1", cells: [fwd("lstm_1", "LSTM", 50, 1, lstmShapes(1, 50))] },
  { file: "k2_lstm_dense_weights.h5", layer: "lstm_1", cells: [fwd("lstm_1", "LSTM", 50, 1, lstmShapes(1, 50), { note: /inferred/ })] },
  { file: "k2_gru_hardsigmoid_full.h5", layer: "gru_1", cells: [fwd("gru_1", "GRU", 64, 1, gruShapes(1, 64, false), { resetAfter: false })] },
  { file: "k2_embedding_gru_full.h5", layer: "gru_2", cells: [fwd("gru_2", "GRU", 50, 50, gruShapes(50, 50, false), { resetAfter: false })] },
  { file: "tfk2_gru_full.h5", layer: "gru", cells: [fwd("gru", "GRU", 80, 20, gruShapes(20, 80, true), { resetAfter: true })] },
  { file: "tfk2_gru_stateful_initstate_full.h5", layer: "gru_1", cells: [fwd("gru_1", "GRU", 1, 1, gruShapes(1, 1, true, false), { resetAfter: true })] },
  {
    file: "tfk2_bidir_gru_multiinput_h5ext.keras", layer: "bidirectional", mergeMode: "concat",
    cells: [
      fwd("bidirectional/forward_gru", "GRU", 32, 1, gruShapes(1, 32, true), { resetAfter: true }),
      { ...fwd("bidirectional/backward_gru", "GRU", 32, 1, gruShapes(1, 32, true), { resetAfter: true }), direction: "backward" },
    ],
  },
  { file: "k2_simplernn_full.h5", layer: "simple_rnn_1", cells: [fwd("simple_rnn_1", "SimpleRNN", 50, 1, rnnShapes(1, 50))] },
  {
    file: "tfk2_bidir_simplernn_full.h5", layer: "bidirectional_5", mergeMode: "concat",
    cells: [
      fwd("bidirectional_5/forward_simple_rnn_7", "SimpleRNN", 6, 4, rnnShapes(4, 6)),
      { ...fwd("bidirectional_5/backward_simple_rnn_7", "SimpleRNN", 6, 4, rnnShapes(4, 6)), direction: "backward" },
    ],
  },
  {
    file: "k2_bidir_lstm_theano_full.h5", layer: "bidirectional_1", mergeMode: "concat",
    cells: [
      fwd("bidirectional_1/forward_lstm_1", "LSTM", 10, 10, lstmShapes(10, 10)),
      { ...fwd("bidirectional_1/backward_lstm_1", "LSTM", 10, 10, lstmShapes(10, 10)), direction: "backward" },
    ],
  },
  // CuDNNLSTM: bias 8u converted to one 4u bias; the view says so.
  { file: "k2_cudnnlstm_functional_full.h5", layer: "cu_dnnlstm_1", cells: [fwd("cu_dnnlstm_1", "CuDNNLSTM", 63, 1, lstmShapes(1, 63), { note: /CuDNNLSTM weights converted to LSTM/ })] },
  { file: "k2_cudnnlstm_functional_full.h5", layer: "cu_dnnlstm_2", cells: [fwd("cu_dnnlstm_2", "CuDNNLSTM", 63, 63, lstmShapes(63, 63), { note: /converted/ })] },
  // ConvLSTM2D: (3, 3, 4, 16) kernels cut along the last axis into 4 filters per gate.
  {
    file: "tfk2_convlstm2d_full.h5", layer: "conv_lst_m2d_2",
    cells: [fwd("conv_lst_m2d_2", "ConvLSTM2D", 4, 4, {
      kernel_i: [3, 3, 4, 4], kernel_f: [3, 3, 4, 4], kernel_c: [3, 3, 4, 4], kernel_o: [3, 3, 4, 4],
      recurrent_kernel_i: [3, 3, 4, 4], recurrent_kernel_f: [3, 3, 4, 4], recurrent_kernel_c: [3, 3, 4, 4], recurrent_kernel_o: [3, 3, 4, 4],
      bias_i: [4], bias_f: [4], bias_c: [4], bias_o: [4],
    })],
  },
  // Keras 3: legacy .h5, .keras archives and .weights.h5.
  { file: "k3_lstm_legacy.h5", layer: "lstm_1", cells: [fwd("lstm_1", "LSTM", 70, 70, lstmShapes(70, 70))] },
  { file: "k3_lstm_stacked.keras", layer: "lstm", cells: [fwd("lstm", "LSTM", 50, 1, lstmShapes(1, 50))] },
  { file: "k3_lstm.weights.h5", layer: "lstm", cells: [fwd("lstm", "LSTM", 64, 2, lstmShapes(2, 64), { note: /inferred/ })] },
  { file: "k3_gru_legacy.h5", layer: "gru", cells: [fwd("gru", "GRU", 64, 1, gruShapes(1, 64, true), { resetAfter: true })] },
  { file: "k3_gru.keras", layer: "gru", cells: [fwd("gru", "GRU", 64, 9, gruShapes(9, 64, true), { resetAfter: true })] },
  { file: "k3_simplernn.keras", layer: "simple_rnn", cells: [fwd("simple_rnn", "SimpleRNN", 50, 1, rnnShapes(1, 50))] },
  {
    file: "k3_conv1d_bidir_lstm.keras", layer: "bidirectional_16", mergeMode: "concat",
    cells: [
      fwd("bidirectional_16/forward_lstm_20", "LSTM", 64, 64, lstmShapes(64, 64)),
      { ...fwd("bidirectional_16/backward_lstm_20", "LSTM", 64, 64, lstmShapes(64, 64)), direction: "backward" },
    ],
  },
];

function cellOf(reports: RecurrentReport[], path: string): CellReport {
  for (const r of reports) for (const c of r.cells) if (c.path === path) return c;
  throw new Error(`no cell ${path} among ${reports.flatMap((r) => r.cells.map((c) => c.path)).join(", ")}`);
}

function flatIndex(shape: number[], at: number[]): number {
  return at.reduce((acc, i, k) => acc * shape[k] + i, 0);
}

describe("real fixtures: shapes by gate", () => {
  noteMissing("slice real fixtures", [...new Set(EXPECTED.map((e) => e.file))]);
  for (const e of EXPECTED) {
    const path = fixturePath(e.file);
    it.skipIf(!path)(`${e.file}: ${e.layer}`, async () => {
      const model = await loadModel(path!);
      const [report] = layerReports(model, e.layer) as RecurrentReport[];
      expect(report.type).toBe("recurrent");
      if (e.mergeMode !== undefined) expect(report.mergeMode).toBe(e.mergeMode);
      expect(report.cells.map((c) => c.path)).toEqual(e.cells.map((c) => c.path));
      e.cells.forEach((want, k) => {
        const got = report.cells[k];
        expect({ className: got.className, direction: got.direction, units: got.units, inputDim: got.inputDim, resetAfter: got.resetAfter }).toEqual({
          className: want.className,
          direction: want.direction,
          units: want.units,
          inputDim: want.inputDim,
          resetAfter: want.resetAfter,
        });
        expect(Object.fromEntries(got.tensors.map((t) => [t.name, t.shape]))).toEqual(want.shapes);
        for (const t of got.tensors) expect(t.data.length, t.name).toBe(t.shape.reduce((a, b) => a * b, 1));
        if (want.note) expect(got.notes.join("\n")).toMatch(want.note);
      });
    });
  }
});

describe("real fixtures: values read by h5dump land in the right gate", () => {
  noteMissing("slice spots", [...new Set(SPOTS.map((s) => s.file))]);
  for (const s of SPOTS) {
    const path = fixturePath(s.file);
    it.skipIf(!path)(`${s.file}: ${s.layer} ${s.tensor}[${s.at.join(", ")}...]`, async () => {
      const model = await loadModel(path!);
      const cell = cellOf(layerReports(model).filter((r): r is RecurrentReport => r.type === "recurrent"), s.layer);
      const t = cell.tensors.find((x) => x.name === s.tensor);
      expect(t, s.tensor).toBeDefined();
      const expected = parseH5dumpValues(s.out);
      const start = flatIndex(t!.shape, s.at);
      expect(Array.from(t!.data.subarray(start, start + expected.length))).toEqual(expected.map(Math.fround));
    });
  }
});

describe("real fixtures: layers inside wrappers and nested models are found by path", () => {
  const cases: [string, string[]][] = [
    // TimeDistributed(Dense) after an LSTM (Keras 2.2.4 functional model).
    ["k2_lstm_multiinput_tddense_full.h5", ["dense_1", "dense_2", "lstm_1", "dense_3", "dense_4", "dense_5", "lstm_2", "time_distributed_1/dense_6"]],
    // Two Models nested in a Model (Keras 2.2.4).
    ["k2_nested_model_gan_full.h5", ["model_2/generator_1st_layer", "model_2/generator_2nd_layer", "model_2/generator_out_layer", "model_1/discri_1st_layer", "model_1/discri_2nd_layer", "model_1/discri_outlayer"]],
  ];
  noteMissing("slice nested", cases.map((c) => c[0]));
  for (const [file, paths] of cases) {
    const path = fixturePath(file);
    it.skipIf(!path)(file, async () => {
      const model = await loadModel(path!);
      expect(layerReports(model).map((r) => r.path)).toEqual(paths);
      const last = paths[paths.length - 1];
      expect(layerReports(model, last).map((r) => [r.path, r.type])).toEqual([[last, "plain"]]);
    });
  }
});
