/**
 * The PyTorch state dict equivalent to a Keras recurrent layer, for torch.nn.LSTM,
 * torch.nn.GRU and torch.nn.RNN (num_layers=1). From the PyTorch documentation
 * (torch.nn.LSTM / GRU / RNN, "Variables" and the cell equations):
 *
 *   LSTM  i = σ(W_ii x + b_ii + W_hi h + b_hi)   f = σ(W_if x + b_if + W_hf h + b_hf)
 *         g = tanh(W_ig x + b_ig + W_hg h + b_hg) o = σ(W_io x + b_io + W_ho h + b_ho)
 *         c' = f ⊙ c + i ⊙ g                      h' = o ⊙ tanh(c')
 *         weight_ih_l0 = [W_ii; W_if; W_ig; W_io] (4u × D), weight_hh_l0 (4u × u), bias_ih_l0, bias_hh_l0 (4u)
 *   GRU   r = σ(W_ir x + b_ir + W_hr h + b_hr)   z = σ(W_iz x + b_iz + W_hz h + b_hz)
 *         n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))   h' = (1 − z) ⊙ n + z ⊙ h
 *         weight_ih_l0 = [W_ir; W_iz; W_in] (3u × D), ...
 *   RNN   h' = tanh(x W_ihᵀ + b_ih + h W_hhᵀ + b_hh)   (or relu)
 *   The reverse direction of a bidirectional module uses the same names with the
 *   suffix `_reverse`.
 *
 * Keras computes x·W with W (D × G·u), so PyTorch's W_i* is the transpose of Keras'
 * gate block: weight_ih_l0[k·u + j, d] = kernel_g[d, j] for the k-th gate in PyTorch's
 * order. LSTM gates i, f, c, o are PyTorch's i, f, g, o. GRU: PyTorch's r, z, n are
 * Keras' r, z, h, and PyTorch's equations are exactly Keras' GRU with reset_after=True
 * (b_i* = input bias row, b_h* = recurrent bias row). Keras' reset_after=False applies
 * r to h before the product ((r ⊙ h)·U_h), which no PyTorch GRU computes.
 */
import { UnsupportedError } from "../errors.js";
import type { CellReport, GateTensor, RecurrentReport } from "../slice/index.js";

export interface StateTensor {
  name: string;
  shape: number[];
  data: Float64Array;
}

export interface TorchModule {
  module: "LSTM" | "GRU" | "RNN";
  input_size: number;
  hidden_size: number;
  num_layers: 1;
  bias: true;
  batch_first: true;
  bidirectional: boolean;
  nonlinearity?: "tanh" | "relu";
}

export interface TorchExport {
  tensors: StateTensor[];
  module: TorchModule;
  /** The Python expression that builds a module this state dict loads into. */
  constructor: string;
  notes: string[];
}

/** Keras gate letters in PyTorch's row order. */
const TORCH_ORDER: Record<string, string[]> = { lstm: ["i", "f", "c", "o"], gru: ["r", "z", "h"], simple_rnn: [""] };

function block(cell: CellReport, role: string, gate: string): GateTensor | undefined {
  return cell.tensors.find((t) => t.name === (gate ? `${role}_${gate}` : role));
}

function requireBlock(cell: CellReport, role: string, gate: string): GateTensor {
  const t = block(cell, role, gate);
  if (!t) throw new UnsupportedError(`layer '${cell.path}': its ${gate ? `${role}_${gate}` : role} tensor is missing (was a --gate filter applied?)`);
  return t;
}

/** [W_g1ᵀ; W_g2ᵀ; ...] for the given role, gates in PyTorch order. */
function stackTransposed(cell: CellReport, role: "kernel" | "recurrent_kernel", order: string[]): StateTensor {
  const u = cell.units;
  const cols = role === "kernel" ? cell.inputDim : u;
  const data = new Float64Array(order.length * u * cols);
  order.forEach((g, k) => {
    const block = requireBlock(cell, role, g).data; // (cols × u) row-major; read once (a report's blocks are copied on read)
    for (let j = 0; j < u; j++) for (let d = 0; d < cols; d++) data[(k * u + j) * cols + d] = block[d * u + j];
  });
  return { name: role === "kernel" ? "weight_ih_l0" : "weight_hh_l0", shape: [order.length * u, cols], data };
}

function stackBias(cell: CellReport, role: "bias" | "recurrent_bias", order: string[], name: string): StateTensor {
  const u = cell.units;
  const data = new Float64Array(order.length * u);
  order.forEach((g, k) => {
    const t = block(cell, role, g);
    if (t) data.set(t.data, k * u);
  });
  return { name, shape: [order.length * u], data };
}

function checkActivations(cell: CellReport, allowMismatch: boolean): { notes: string[]; nonlinearity?: "tanh" | "relu" } {
  const act = cell.activations.activation;
  const rec = cell.activations.recurrent_activation;
  if (cell.kind === "simple_rnn") {
    if (act === "tanh" || act === "relu") return { notes: [], nonlinearity: act };
    if (!allowMismatch) {
      throw new UnsupportedError(
        `layer '${cell.path}' uses activation ${act}; torch.nn.RNN only applies tanh or relu, so the exported module would compute a different function (use --layout keras, or --allow-activation-mismatch to export the weights anyway)`,
      );
    }
    return { notes: [`Keras applies activation ${act}; torch.nn.RNN(nonlinearity='tanh') applies tanh, so the outputs differ`], nonlinearity: "tanh" };
  }
  const module = cell.kind === "lstm" ? "torch.nn.LSTM" : "torch.nn.GRU";
  const wrong = [
    ...(act !== "tanh" ? [`activation ${act}`] : []),
    ...(rec !== "sigmoid" ? [`recurrent_activation ${rec}`] : []),
  ];
  if (wrong.length === 0) return { notes: [] };
  if (!allowMismatch) {
    throw new UnsupportedError(
      `layer '${cell.path}' uses ${wrong.join(" and ")}; ${module} always applies sigmoid gates and tanh, so the exported module would compute a different function (use --layout keras, or --allow-activation-mismatch to export the weights anyway)`,
    );
  }
  return { notes: [`Keras applies ${wrong.join(" and ")}; ${module} applies sigmoid and tanh, so its outputs differ from Keras'`] };
}

function cellState(cell: CellReport, suffix: string): StateTensor[] {
  const order = TORCH_ORDER[cell.kind];
  return [
    stackTransposed(cell, "kernel", order),
    stackTransposed(cell, "recurrent_kernel", order),
    stackBias(cell, "bias", order, "bias_ih_l0"),
    stackBias(cell, "recurrent_bias", order, "bias_hh_l0"),
  ].map((t) => ({ ...t, name: `${t.name}${suffix}` }));
}

/** The state dict of the nn.LSTM / nn.GRU / nn.RNN equivalent to a recurrent report. */
export function torchStateDict(report: RecurrentReport, allowActivationMismatch = false): TorchExport {
  const cells = report.cells;
  const first = cells[0];
  if (first.kind === "conv_lstm") {
    throw new UnsupportedError(`layer '${report.path}' is ${first.className}; PyTorch has no ConvLSTM module, so there is no state dict to write (use --layout keras)`);
  }
  if (first.kind === "gru" && first.resetAfter === false) {
    throw new UnsupportedError(
      `layer '${first.path}' is a GRU with reset_after=False: Keras applies the reset gate before the recurrent product ((r ⊙ h)·U_h) but torch.nn.GRU after it (r ⊙ (W_hn h + b_hn)), so no PyTorch GRU computes the same function (use --layout keras)`,
    );
  }
  if (cells.length === 2) {
    const [f, b] = cells;
    if (f.kind !== b.kind || f.units !== b.units || f.inputDim !== b.inputDim || f.resetAfter !== b.resetAfter) {
      throw new UnsupportedError(`layer '${report.path}': its forward and backward layers differ in kind or size, which a bidirectional PyTorch module cannot hold`);
    }
  }
  const checks = cells.map((c) => checkActivations(c, allowActivationMismatch));
  const notes = [...new Set(checks.flatMap((c) => c.notes))];
  const bidirectional = cells.length === 2;
  const tensors = cells.flatMap((c) => cellState(c, c.direction === "backward" && bidirectional ? "_reverse" : ""));

  if (!first.useBias) notes.push("the Keras layer has no bias (use_bias=False): bias_ih_l0 and bias_hh_l0 are zeros");
  else if (first.kind !== "gru") notes.push("Keras has one bias per gate: it is bias_ih_l0; bias_hh_l0 is zeros");
  if (cells.length === 1 && cells[0].direction === "backward") {
    notes.push("this is the backward direction of a Bidirectional: feed the sequence reversed (x.flip(1)) to reproduce it with a one-directional module");
  } else if (!bidirectional && first.goBackwards) {
    notes.push("the Keras layer has go_backwards=True: feed the sequence reversed (x.flip(1)); the outputs then come in processing order, as Keras returns them");
  }
  if (bidirectional) {
    const mode = report.mergeMode;
    notes.push(
      "PyTorch's reverse direction, like Keras' backward layer, reads the sequence from the end; its final state h_n[1] is Keras' backward final state, while output[:, -1, hidden_size:] is its output after one step",
    );
    if (mode !== "concat") {
      notes.push(
        `Keras merges the two directions with merge_mode ${mode === null ? "None (a list)" : mode}; PyTorch concatenates them: split output[..., :hidden_size] and output[..., hidden_size:] and combine them yourself`,
      );
    }
  }
  const module: TorchModule = {
    module: first.kind === "lstm" ? "LSTM" : first.kind === "gru" ? "GRU" : "RNN",
    input_size: first.inputDim,
    hidden_size: first.units,
    num_layers: 1,
    bias: true,
    batch_first: true,
    bidirectional,
    ...(first.kind === "simple_rnn" ? { nonlinearity: checks[0].nonlinearity ?? "tanh" } : {}),
  };
  const args = [
    `input_size=${module.input_size}`,
    `hidden_size=${module.hidden_size}`,
    "batch_first=True",
    ...(bidirectional ? ["bidirectional=True"] : []),
    ...(module.nonlinearity && module.nonlinearity !== "tanh" ? [`nonlinearity='${module.nonlinearity}'`] : []),
  ];
  return { tensors, module, constructor: `torch.nn.${module.module}(${args.join(", ")})`, notes };
}
