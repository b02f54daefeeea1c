#!/usr/bin/env python3
"""Independent numpy references for the stored layouts keras-inspect converts.

Reads one JSON request on stdin, writes one JSON answer on stdout. Written from the
Keras sources named below (formulas only), sharing nothing with src/.

op "cudnn_to_keras": what Keras 2.2.4 does when it loads CuDNNLSTM / CuDNNGRU weights
  into LSTM / GRU(reset_after=True): keras/engine/saving.py, _convert_rnn_weights,
  from_cudnn=True:
    kernel:           each gate block k (np.hsplit into n_gates) -> k.T.reshape(k.shape, order='F')
    recurrent_kernel: each gate block k -> k.T
    bias, LSTM:       np.sum(np.split(bias, 2), axis=0)      (input + recurrent halves, float32)
    bias, GRU:        bias.reshape((2, -1))                  (row 0 input, row 1 recurrent)
  request: {"op", "kind": "lstm"|"gru", "kernel": [[...]], "recurrent_kernel": [[...]], "bias": [...]}

op "keras1_to_keras2": Keras 2.0.0's loader for a Keras 1 LSTM's 12 arrays
  (keras/engine/topology.py, preprocess_weights_for_loading; the same code is in
  keras/engine/saving.py of Keras 2.2.4): weights are [W_i, U_i, b_i, W_c, U_c, b_c,
  W_f, U_f, b_f, W_o, U_o, b_o] ("old: i, c, f, o"), and
    kernel = concatenate([w[0], w[6], w[3], w[9]], axis=-1)   ("new: i, f, c, o")
    recurrent_kernel = concatenate([w[1], w[7], w[4], w[10]], axis=-1)
    bias = concatenate([w[2], w[8], w[5], w[11]], axis=-1)
  request: {"op", "weights": [12 arrays in the stored order]}

op "keras1_lstm": the Keras 1.2.2 LSTM forward pass on the per-gate arrays, by name
  (keras/layers/recurrent.py, LSTM.preprocess_input / LSTM.step, consume_less='cpu'):
    x_i = x.W_i + b_i   (likewise f, c, o)
    i = inner_activation(x_i + h.U_i)    f = inner_activation(x_f + h.U_f)
    c = f * c_prev + i * activation(x_c + h.U_c)
    o = inner_activation(x_o + h.U_o)    h = o * activation(c)
  hard_sigmoid is Keras 1's clip(0.2 x + 0.5, 0, 1) (keras/backend/*_backend.py).
  request: {"op", "W": {g: [[...]]}, "U": {...}, "b": {...}, "x": [B][T][D],
            "activation": "tanh", "inner_activation": "hard_sigmoid"|"sigmoid"}
  answer: {"h": [B][T][u]}

op "batch": {"op": "batch", "requests": [...]} answers a list, one per request (one
  Python start instead of several).
"""
import json
import sys

import numpy as np

F32 = np.float32


def act(name):
    if name == "tanh":
        return np.tanh
    if name == "sigmoid":
        return lambda v: (1.0 / (1.0 + np.exp(-v))).astype(F32)
    if name == "hard_sigmoid":
        return lambda v: np.clip(F32(0.2) * v + F32(0.5), F32(0), F32(1)).astype(F32)
    if name == "linear":
        return lambda v: v
    raise ValueError("activation %s" % name)


def cudnn_to_keras(req):
    n_gates = 4 if req["kind"] == "lstm" else 3
    kernel = np.array(req["kernel"], dtype=F32)
    recurrent = np.array(req["recurrent_kernel"], dtype=F32)
    bias = np.array(req["bias"], dtype=F32)
    k = np.hstack([blk.T.reshape(blk.shape, order="F") for blk in np.hsplit(kernel, n_gates)])
    r = np.hstack([blk.T for blk in np.hsplit(recurrent, n_gates)])
    if req["kind"] == "lstm":
        b = np.sum(np.split(bias, 2, axis=0), axis=0).astype(F32)
    else:
        b = bias.reshape((2, -1))
    return {"kernel": k.tolist(), "recurrent_kernel": r.tolist(), "bias": b.tolist()}


def keras1_to_keras2(req):
    w = [np.array(a, dtype=F32) for a in req["weights"]]
    return {
        "kernel": np.concatenate([w[0], w[6], w[3], w[9]], axis=-1).tolist(),
        "recurrent_kernel": np.concatenate([w[1], w[7], w[4], w[10]], axis=-1).tolist(),
        "bias": np.concatenate([w[2], w[8], w[5], w[11]], axis=-1).tolist(),
    }


def keras1_lstm(req):
    W = {g: np.array(v, dtype=F32) for g, v in req["W"].items()}
    U = {g: np.array(v, dtype=F32) for g, v in req["U"].items()}
    b = {g: np.array(v, dtype=F32) for g, v in req["b"].items()}
    x = np.array(req["x"], dtype=F32)
    activation = act(req["activation"])
    inner = act(req["inner_activation"])
    batch, steps, _ = x.shape
    units = U["i"].shape[0]
    h = np.zeros((batch, units), dtype=F32)
    c = np.zeros((batch, units), dtype=F32)
    out = []
    for t in range(steps):
        xt = x[:, t, :]
        x_i = xt @ W["i"] + b["i"]
        x_f = xt @ W["f"] + b["f"]
        x_c = xt @ W["c"] + b["c"]
        x_o = xt @ W["o"] + b["o"]
        i = inner(x_i + h @ U["i"])
        f = inner(x_f + h @ U["f"])
        c = (f * c + i * activation(x_c + h @ U["c"])).astype(F32)
        o = inner(x_o + h @ U["o"])
        h = (o * activation(c)).astype(F32)
        out.append(h)
    return {"h": np.stack(out, axis=1).tolist()}


OPS = {"cudnn_to_keras": cudnn_to_keras, "keras1_to_keras2": keras1_to_keras2, "keras1_lstm": keras1_lstm}


def answer(request):
    if request["op"] == "batch":
        return [answer(r) for r in request["requests"]]
    return OPS[request["op"]](request)


if __name__ == "__main__":
    json.dump(answer(json.load(sys.stdin)), sys.stdout)
