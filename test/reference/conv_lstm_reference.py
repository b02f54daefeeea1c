"""ConvLSTM1D/2D/3D in float32 numpy, written from Keras' source, as an independent reference.

Sources (keras-team/keras):
- keras/src/layers/rnn/conv_lstm.py, ConvLSTMCell.call / input_conv / recurrent_conv:
    x_g = conv(x, kernel_g, strides, padding, dilation_rate) + bias_g
    h_g = conv(h, recurrent_kernel_g, strides=1, padding="same")     (no dilation)
    i = ra(x_i + h_i); f = ra(x_f + h_f); c = f * c_prev + i * a(x_c + h_c)
    o = ra(x_o + h_o); h = o * a(c)
  kernel (*kernel_size, channels, 4 * filters), split in 4 on the last axis (i, f, c, o).
- keras/src/ops/operation_utils.py compute_conv_output_shape and TensorFlow's "SAME"
  padding: out = ceil(n / s), total padding max((out - 1) * s + (k - 1) * d + 1 - n, 0),
  the smaller half before; "valid": out = floor((n - (k - 1) * d - 1) / s) + 1.
- keras/src/backend/*/rnn.py: go_backwards processes t = T-1 .. 0 and returns the
  sequence in processing order; initial state zeros unless given; at a masked step the
  states keep their values and the output is the previous output (zeros before the
  first), keras/src/backend/tensorflow/rnn.py (masking_fn, compute_masked_output).

Protocol: one JSON object on stdin, one on stdout (or a list of them, answered in order).
  in:  {"rank", "filters", "kernel_size", "strides", "dilation_rate", "padding",
        "data_format", "activation", "recurrent_activation" (sigmoid | hard_sigmoid_keras2 |
        hard_sigmoid_keras3 | tanh), "go_backwards", "kernel", "recurrent_kernel",
        "bias" (or null), "x" (nested, in data_format), "initial_state" ([h, c] or null),
        "mask" ((B, T) booleans in input time order, or null)}
  out: {"sequence": (B, T, ...) in data_format, "h": ..., "c": ...}
Nothing here comes from keras-inspect.
"""
import json
import sys

import numpy as np

F32 = np.float32


def activation(name):
    if name == "tanh":
        return np.tanh
    if name == "sigmoid":
        return lambda x: (F32(1) / (F32(1) + np.exp(-x))).astype(F32)
    if name == "hard_sigmoid_keras2":
        return lambda x: np.clip(F32(0.2) * x + F32(0.5), F32(0), F32(1)).astype(F32)
    if name == "hard_sigmoid_keras3":
        return lambda x: np.clip(x / F32(6) + F32(0.5), F32(0), F32(1)).astype(F32)
    raise ValueError(name)


def conv(x, w, strides, dilation, padding):
    """x (B, *spatial, C) channels last, w (*k, C, F): cross-correlation as tf.nn.convolution."""
    rank = w.ndim - 2
    ks = w.shape[:rank]
    spatial = x.shape[1:1 + rank]
    pads, outs = [], []
    for n, k, s, d in zip(spatial, ks, strides, dilation):
        eff = (k - 1) * d + 1
        if padding == "same":
            out = -(-n // s)
            total = max((out - 1) * s + eff - n, 0)
            pads.append((total // 2, total - total // 2))
        else:
            out = (n - eff) // s + 1
            pads.append((0, 0))
        outs.append(out)
    xp = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    y = np.zeros((x.shape[0], *outs, w.shape[-1]), dtype=F32)
    for tap in np.ndindex(*ks):
        # The input positions this kernel tap reads for every output position.
        index = tuple(
            slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in zip(tap, dilation, outs, strides)
        )
        window = xp[(slice(None),) + index]
        y = (y + np.tensordot(window, w[tap], axes=([rank + 1], [0]))).astype(F32)
    return y


def run(req):
    rank = req["rank"]
    first = req["data_format"] == "channels_first"
    x = np.asarray(req["x"], dtype=F32)
    if first:  # (B, T, C, *spatial) -> (B, T, *spatial, C)
        x = np.moveaxis(x, 2, -1)
    kernel = np.asarray(req["kernel"], dtype=F32)
    rkernel = np.asarray(req["recurrent_kernel"], dtype=F32)
    bias = None if req["bias"] is None else np.asarray(req["bias"], dtype=F32)
    ks = np.split(kernel, 4, axis=rank + 1)
    rks = np.split(rkernel, 4, axis=rank + 1)
    bs = np.split(bias, 4) if bias is not None else [None] * 4
    a = activation(req["activation"])
    ra = activation(req["recurrent_activation"])
    strides, dilation = req["strides"], req["dilation_rate"]
    ones = [1] * rank

    B, T = x.shape[:2]
    probe = conv(x[:, 0], ks[0], strides, dilation, req["padding"])
    state_shape = probe.shape
    if req.get("initial_state"):
        h, c = (np.asarray(s, dtype=F32) for s in req["initial_state"])
        if first:
            h, c = np.moveaxis(h, 1, -1), np.moveaxis(c, 1, -1)
    else:
        h = np.zeros(state_shape, dtype=F32)
        c = np.zeros(state_shape, dtype=F32)
    order = range(T - 1, -1, -1) if req["go_backwards"] else range(T)
    mask = np.asarray(req["mask"], dtype=bool) if req.get("mask") is not None else np.ones((B, T), dtype=bool)
    outputs = []
    previous = np.zeros(state_shape, dtype=F32)
    for t in order:
        h_prev, c_prev = h, c
        xt = x[:, t]
        xg, hg = [], []
        for g in range(4):
            v = conv(xt, ks[g], strides, dilation, req["padding"])
            if bs[g] is not None:
                v = (v + bs[g]).astype(F32)
            xg.append(v)
            hg.append(conv(h, rks[g], ones, ones, "same"))
        i = ra((xg[0] + hg[0]).astype(F32))
        fg = ra((xg[1] + hg[1]).astype(F32))
        c = (fg * c + i * a((xg[2] + hg[2]).astype(F32))).astype(F32)
        o = ra((xg[3] + hg[3]).astype(F32))
        h = (o * a(c)).astype(F32)
        keep = mask[:, t].reshape((B,) + (1,) * (rank + 1))
        h = np.where(keep, h, h_prev)
        c = np.where(keep, c, c_prev)
        previous = np.where(keep, h, previous)
        outputs.append(previous)
    seq = np.stack(outputs, axis=1)
    if first:
        seq = np.moveaxis(seq, -1, 2)
        h, c = np.moveaxis(h, -1, 1), np.moveaxis(c, -1, 1)
    return {"sequence": seq.tolist(), "h": h.tolist(), "c": c.tolist()}


if __name__ == "__main__":
    request = json.load(sys.stdin)
    # One request, or a list of them answered in order.
    json.dump([run(r) for r in request] if isinstance(request, list) else run(request), sys.stdout)
