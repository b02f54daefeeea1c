#!/usr/bin/env python3
"""PyTorch's documented recurrent equations in float32 numpy, fed an exported state dict.

Written from the PyTorch documentation (torch.nn.LSTM, torch.nn.GRU, torch.nn.RNN pages,
https://pytorch.org/docs/stable/generated/torch.nn.LSTM.html and GRU.html, RNN.html), not
from keras-inspect:

  LSTM  i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)     f = sigmoid(W_if x + b_if + W_hf h + b_hf)
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)        o = sigmoid(W_io x + b_io + W_ho h + b_ho)
        c' = f * c + i * g                              h' = o * tanh(c')
        weight_ih_l0 = (W_ii | W_if | W_ig | W_io), shape (4*hidden_size, input_size)
  GRU   r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)     z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))  h' = (1 - z) * n + z * h
        weight_ih_l0 = (W_ir | W_iz | W_in), shape (3*hidden_size, input_size)
  RNN   h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh)   (relu with nonlinearity='relu')
  bidirectional=True: the same parameters with the suffix _reverse, run over the sequence
  from its end; output[:, t, H:] is the reverse direction's h after reading x[T-1..t], and
  h_n[1] its final h.

Request (stdin JSON): {"dir": export directory, "x": [B][T][D]}. The module comes from
<dir>/manifest.json ("pytorch": {"module", "bidirectional", "nonlinearity"}); every tensor
is read with numpy.load from <dir>/<name>.npy and must be float32.
A request {"requests": [...]} is answered with a list (one Python start for many exports).
Answer: {"directions": [{"output": [B][T][H] (time order), "h_n": [B][H]}, ...],
         "tensors": {name: {"dtype", "shape"}}}
"""
import json
import os
import sys

import numpy as np

F32 = np.float32


def sigmoid(v):
    return (F32(1) / (F32(1) + np.exp(-v))).astype(F32)


def load(d, name, tensors):
    a = np.load(os.path.join(d, name + ".npy"))
    tensors[name] = {"dtype": str(a.dtype), "shape": list(a.shape)}
    if a.dtype != np.float32:
        raise ValueError("%s is %s, expected float32" % (name, a.dtype))
    return a


def run(module, nonlinearity, p, x):
    """One direction over x (B, T, D) in the given time order; returns (B, T, H) outputs."""
    w_ih, w_hh, b_ih, b_hh = p
    hidden = w_hh.shape[1]
    batch, steps, _ = x.shape
    h = np.zeros((batch, hidden), dtype=F32)
    c = np.zeros((batch, hidden), dtype=F32)
    out = []
    for t in range(steps):
        gi = (x[:, t, :] @ w_ih.T + b_ih).astype(F32)
        gh = (h @ w_hh.T + b_hh).astype(F32)
        if module == "LSTM":
            i, f, g, o = np.split(gi + gh, 4, axis=1)
            i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
            c = (f * c + i * g).astype(F32)
            h = (o * np.tanh(c)).astype(F32)
        elif module == "GRU":
            i_r, i_z, i_n = np.split(gi, 3, axis=1)
            h_r, h_z, h_n = np.split(gh, 3, axis=1)
            r = sigmoid(i_r + h_r)
            z = sigmoid(i_z + h_z)
            n = np.tanh(i_n + r * h_n)
            h = ((F32(1) - z) * n + z * h).astype(F32)
        else:
            pre = gi + gh
            h = (np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, F32(0))).astype(F32)
        out.append(h)
    return np.stack(out, axis=1)


def answer(req):
    d = req["dir"]
    with open(os.path.join(d, "manifest.json")) as fh:
        spec = json.load(fh)["pytorch"]
    x = np.array(req["x"], dtype=F32)
    tensors = {}
    names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    forward = [load(d, n, tensors) for n in names]
    directions = []
    out = run(spec["module"], spec.get("nonlinearity", "tanh"), forward, x)
    directions.append({"output": out.tolist(), "h_n": out[:, -1, :].tolist()})
    if spec["bidirectional"]:
        reverse = [load(d, n + "_reverse", tensors) for n in names]
        out_rev = run(spec["module"], spec.get("nonlinearity", "tanh"), reverse, x[:, ::-1, :])
        directions.append({"output": out_rev[:, ::-1, :].tolist(), "h_n": out_rev[:, -1, :].tolist()})
    return {"directions": directions, "tensors": tensors}


if __name__ == "__main__":
    request = json.load(sys.stdin)
    if "requests" in request:
        json.dump([answer(r) for r in request["requests"]], sys.stdout)
    else:
        json.dump(answer(request), sys.stdout)
