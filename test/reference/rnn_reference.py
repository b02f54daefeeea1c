#!/usr/bin/env python3
"""Independent float32 numpy reference for Keras recurrent layers.

Written from the cell equations in keras-formats.md §A3 (weights), §A4
(activations) and §A5 (go_backwards, masking, initial state, Bidirectional).
It shares no code with keras-inspect (TypeScript) nor with tfjs; tests compare
those against this.

Protocol: one JSON request on stdin, one JSON answer on stdout.

Request
  {
    "layer": LAYER                        # exactly one of "layer" / "bidirectional"
    "bidirectional": {"forward": LAYER, "backward": LAYER,
                      "merge_mode": "concat"|"sum"|"mul"|"ave"|null,
                      "return_sequences": bool (default: forward's)},
    "x": [[[...]]]                        # (B, T, D)
    "initial_state": [(B, u), ...]        # LSTM [h, c], GRU/SimpleRNN [h];
                                          # Bidirectional: forward states, then backward
    "mask": [[bool]]                      # (B, T), true = real step
    "hard_sigmoid": "keras2"|"keras3"     # required when any activation is hard_sigmoid
    "masked_output": "previous_output"|"previous_state"
        # output at a masked step when zero_output_for_mask is off:
        # previous_output (default): the last emitted output, 0 before the first
        #   one (Keras 3 TF/JAX backends, tf.keras 2.x backend.rnn);
        # previous_state: the carried h (states[0]) (Keras 2.2.4 TF while-loop,
        #   Keras 3 numpy backend, tfjs-layers).
    "bidirectional_zero_output_for_mask": bool
        # default true: Bidirectional forces zero_output_for_mask =
        # return_sequences on both directions (tf.keras 2.x and Keras 3).
  }
  LAYER = {"kind": "lstm"|"gru"|"simple_rnn", "units", "input_dim",
           "activation", "recurrent_activation", "use_bias", "reset_after",
           "go_backwards", "return_sequences", "zero_output_for_mask",
           "kernel": flat (D*G*u), "recurrent_kernel": flat (u*G*u),
           "bias": flat (G*u, or 2*3*u for GRU reset_after) or null}

Answer
  {"output": (B,u) | (B,T,u) | [y, y_rev] for merge_mode null,
   "states": [(B,u), ...] final states (forward then backward),
   "trace": TRACE | {"forward": TRACE, "backward": TRACE}}
  TRACE = {"time_index": [t for each processed step, in processing order],
           "<name>": (steps, B, u) for each intermediate, "output": (steps, B, u)}
  Intermediates (implementation-1 names, computed before masking):
    LSTM      x_i x_f x_c x_o (= x.W_g + b_g), i f c o h   (c is the NEW cell state)
    GRU       x_z x_r x_h (= x.W_g + b_g, input bias for reset_after), z r hh h
    SimpleRNN x (= x.W + b), h
  "output" is what the layer emits at that step after the mask rule.

Errors: a one-line message on stderr, exit status 2.

With --serve it answers many requests: one JSON request per stdin line, one
line {"ok": ANSWER} or {"error": MESSAGE} per request on stdout (numpy's
import costs ~0.4 s, so the tests keep one process).
"""

import json
import math
import sys

import numpy as np

F32 = np.float32

# Keras 2.0.6+ / Keras 3 constants (keras-formats.md §A4).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


class RequestError(Exception):
    pass


# ---------------------------------------------------------------- activations

def _f32(a):
    return np.asarray(a, dtype=F32)


def _logistic(v):
    # Exponentiate only non-positive numbers so float32 never overflows.
    e = np.exp(-np.abs(v))
    return _f32(np.where(v >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))


def _softplus(v):
    return _f32(np.logaddexp(v, F32(0)))


def _erf(v):
    return _f32(np.vectorize(math.erf, otypes=[np.float64])(v.astype(np.float64)))


def _elu(v):
    return _f32(np.where(v > 0, v, np.expm1(np.minimum(v, 0))))


def _softmax(v):
    shifted = v - np.max(v, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return _f32(e / np.sum(e, axis=-1, keepdims=True))


def _hard_sigmoid_keras2(v):
    # Keras 1/2, tf.keras, Theano, CNTK, tfjs: clip(0.2 x + 0.5, 0, 1)
    return _f32(np.clip(F32(0.2) * v + F32(0.5), 0, 1))


def _hard_sigmoid_keras3(v):
    # Keras 3, every backend: clip(x / 6 + 0.5, 0, 1)
    return _f32(np.clip(v / F32(6) + F32(0.5), 0, 1))


_ACTIVATIONS = {
    "linear": lambda v: v,
    "tanh": lambda v: _f32(np.tanh(v)),
    "sigmoid": _logistic,
    "relu": lambda v: _f32(np.maximum(v, 0)),
    "relu6": lambda v: _f32(np.clip(v, 0, 6)),
    "leaky_relu": lambda v: _f32(np.where(v >= 0, v, F32(0.2) * v)),
    "elu": _elu,
    "selu": lambda v: _f32(SELU_SCALE * np.where(v > 0, v, SELU_ALPHA * np.expm1(np.minimum(v, 0)))),
    "softplus": _softplus,
    "softsign": lambda v: _f32(v / (1 + np.abs(v))),
    "swish": lambda v: _f32(v * _logistic(v)),
    "silu": lambda v: _f32(v * _logistic(v)),
    # Keras resolves the name "gelu" to approximate=False: 0.5 x (1 + erf(x / sqrt 2)).
    "gelu": lambda v: _f32(0.5 * v * (1 + _erf(v / F32(math.sqrt(2))))),
    "exponential": lambda v: _f32(np.exp(v)),
    "mish": lambda v: _f32(v * np.tanh(_softplus(v))),
    # Keras 3 only: x * relu6(x + 3) / 6.
    "hard_silu": lambda v: _f32(v * _hard_sigmoid_keras3(v)),
    "hard_swish": lambda v: _f32(v * _hard_sigmoid_keras3(v)),
    "softmax": _softmax,
}


def activation(name, hard_sigmoid):
    if name is None:
        return _ACTIVATIONS["linear"]
    if name == "hard_sigmoid":
        if hard_sigmoid == "keras2":
            return _hard_sigmoid_keras2
        if hard_sigmoid == "keras3":
            return _hard_sigmoid_keras3
        raise RequestError(
            'activation hard_sigmoid needs "hard_sigmoid": "keras2" (0.2x+0.5) or "keras3" (x/6+0.5)')
    if name not in _ACTIVATIONS:
        raise RequestError(f"unknown activation {name!r}; known: {', '.join(sorted(_ACTIVATIONS))}, hard_sigmoid")
    return _ACTIVATIONS[name]


# ---------------------------------------------------------------- cells

def _gate_blocks(matrix, units, count):
    return [matrix[:, k * units:(k + 1) * units] for k in range(count)]


class Cell:
    """One recurrent cell. step(x_t (B,D), states) -> (output, new_states, intermediates)."""

    gates = 1
    n_states = 1

    def __init__(self, layer, hard_sigmoid):
        self.kind = layer["kind"]
        self.units = u = int(layer["units"])
        self.input_dim = d = int(layer["input_dim"])
        g = self.gates * u
        self.kernel = _reshape(layer, "kernel", (d, g))
        self.recurrent_kernel = _reshape(layer, "recurrent_kernel", (u, g))
        self.use_bias = bool(layer.get("use_bias", True))
        self.act = activation(layer.get("activation", "tanh"), hard_sigmoid)
        self.rec_act = None
        if self.gates > 1:
            self.rec_act = activation(layer.get("recurrent_activation", "sigmoid"), hard_sigmoid)
        self.W = _gate_blocks(self.kernel, u, self.gates)
        self.U = _gate_blocks(self.recurrent_kernel, u, self.gates)

    def input_part(self, x, k, bias_row):
        """x . W_k (+ b_k)."""
        out = x @ self.W[k]
        if bias_row is not None:
            out = out + bias_row[k * self.units:(k + 1) * self.units]
        return _f32(out)

    def zero_states(self, batch):
        return [np.zeros((batch, self.units), dtype=F32) for _ in range(self.n_states)]


class LSTMCell(Cell):
    gates = 4
    n_states = 2

    def __init__(self, layer, hard_sigmoid):
        super().__init__(layer, hard_sigmoid)
        self.bias = _reshape(layer, "bias", (4 * self.units,)) if self.use_bias else None

    def step(self, x, states):
        h_prev, c_prev = states
        x_i, x_f, x_c, x_o = (self.input_part(x, k, self.bias) for k in range(4))
        U_i, U_f, U_c, U_o = self.U
        i = self.rec_act(x_i + h_prev @ U_i)
        f = self.rec_act(x_f + h_prev @ U_f)
        c = _f32(f * c_prev + i * self.act(x_c + h_prev @ U_c))
        o = self.rec_act(x_o + h_prev @ U_o)
        h = _f32(o * self.act(c))
        inter = {"x_i": x_i, "x_f": x_f, "x_c": x_c, "x_o": x_o,
                 "i": i, "f": f, "c": c, "o": o, "h": h}
        return h, [h, c], inter


class GRUCell(Cell):
    gates = 3

    def __init__(self, layer, hard_sigmoid):
        super().__init__(layer, hard_sigmoid)
        u = self.units
        self.reset_after = bool(layer.get("reset_after", False))
        self.bias_in = self.bias_rec = None
        if self.use_bias:
            if self.reset_after:
                both = _reshape(layer, "bias", (2, 3 * u))
                self.bias_in, self.bias_rec = both[0], both[1]
            else:
                self.bias_in = _reshape(layer, "bias", (3 * u,))

    def step(self, x, states):
        (h_prev,) = states
        u = self.units
        x_z, x_r, x_h = (self.input_part(x, k, self.bias_in) for k in range(3))
        U_z, U_r, U_h = self.U
        if self.reset_after:
            # recurrent parts carry their own bias; r multiplies (h.U_h + b_rec_h)
            rec = [h_prev @ U for U in self.U]
            if self.bias_rec is not None:
                rec = [rec[k] + self.bias_rec[k * u:(k + 1) * u] for k in range(3)]
            z = self.rec_act(x_z + rec[0])
            r = self.rec_act(x_r + rec[1])
            hh = self.act(x_h + r * rec[2])
        else:
            # r multiplies h before the recurrent product
            z = self.rec_act(x_z + h_prev @ U_z)
            r = self.rec_act(x_r + h_prev @ U_r)
            hh = self.act(x_h + (r * h_prev) @ U_h)
        h = _f32(z * h_prev + (1 - z) * hh)
        inter = {"x_z": x_z, "x_r": x_r, "x_h": x_h, "z": z, "r": r, "hh": _f32(hh), "h": h}
        return h, [h], inter


class SimpleRNNCell(Cell):
    gates = 1

    def __init__(self, layer, hard_sigmoid):
        super().__init__(layer, hard_sigmoid)
        self.bias = _reshape(layer, "bias", (self.units,)) if self.use_bias else None

    def step(self, x, states):
        (h_prev,) = states
        xw = self.input_part(x, 0, self.bias)
        h = self.act(xw + h_prev @ self.U[0])
        return h, [h], {"x": xw, "h": h}


_CELLS = {"lstm": LSTMCell, "gru": GRUCell, "simple_rnn": SimpleRNNCell}


def _reshape(layer, key, shape):
    values = layer.get(key)
    if values is None:
        raise RequestError(f"{layer.get('kind')}: {key} is missing")
    arr = np.asarray(values, dtype=F32).reshape(-1)
    if arr.size != int(np.prod(shape)):
        raise RequestError(f"{layer.get('kind')}: {key} has {arr.size} values, expected {shape}")
    return arr.reshape(shape)


# ---------------------------------------------------------------- time loop

def run_layer(layer, x, initial_state, mask, hard_sigmoid, masked_output, zero_output_for_mask=None):
    kind = layer.get("kind")
    if kind not in _CELLS:
        raise RequestError(f"unknown layer kind {kind!r}")
    cell = _CELLS[kind](layer, hard_sigmoid)
    batch, steps, dim = x.shape
    if dim != cell.input_dim:
        raise RequestError(f"x has {dim} features, layer expects {cell.input_dim}")
    if zero_output_for_mask is None:
        zero_output_for_mask = bool(layer.get("zero_output_for_mask", False))

    if initial_state is None:
        states = cell.zero_states(batch)
    else:
        if len(initial_state) != cell.n_states:
            raise RequestError(f"{kind} takes {cell.n_states} initial state(s), got {len(initial_state)}")
        states = [np.asarray(s, dtype=F32).reshape(batch, cell.units) for s in initial_state]

    go_backwards = bool(layer.get("go_backwards", False))
    order = list(range(steps - 1, -1, -1)) if go_backwards else list(range(steps))

    trace = {"time_index": order}
    per_step = {}
    emitted = []
    last_emitted = np.zeros((batch, cell.units), dtype=F32)
    for t in order:
        out, new_states, inter = cell.step(x[:, t, :], states)
        if mask is not None:
            keep = mask[:, t][:, None]
            if zero_output_for_mask:
                fallback = np.zeros_like(out)
            elif masked_output == "previous_output":
                fallback = last_emitted
            else:
                fallback = states[0]
            out = np.where(keep, out, fallback).astype(F32)
            new_states = [np.where(keep, ns, s).astype(F32) for ns, s in zip(new_states, states)]
        states = new_states
        last_emitted = out
        emitted.append(out)
        for name, value in inter.items():
            per_step.setdefault(name, []).append(value)
        per_step.setdefault("output", []).append(out)
    for name, values in per_step.items():
        trace[name] = np.stack(values)

    sequence = np.stack(emitted, axis=1)  # processing order, as Keras returns it
    last = emitted[-1]
    return {"sequence": sequence, "last": last, "states": states, "trace": trace}


def run_bidirectional(bi, x, initial_state, mask, hard_sigmoid, masked_output, force_zero):
    fw = dict(bi["forward"])
    bw = dict(bi["backward"])
    fw_back = bool(fw.get("go_backwards", False))
    if bw.get("go_backwards") is None:
        bw["go_backwards"] = not fw_back
    return_sequences = bi.get("return_sequences")
    if return_sequences is None:
        return_sequences = bool(fw.get("return_sequences", False))
    zero_fw = zero_bw = None
    if force_zero:
        zero_fw = zero_bw = return_sequences

    fw_init = bw_init = None
    if initial_state is not None:
        if len(initial_state) % 2:
            raise RequestError("Bidirectional initial_state must hold forward states then backward states")
        half = len(initial_state) // 2
        fw_init, bw_init = initial_state[:half], initial_state[half:]

    a = run_layer(fw, x, fw_init, mask, hard_sigmoid, masked_output, zero_fw)
    b = run_layer(bw, x, bw_init, mask, hard_sigmoid, masked_output, zero_bw)
    if return_sequences:
        y, y_rev = a["sequence"], np.flip(b["sequence"], axis=1)
    else:
        y, y_rev = a["last"], b["last"]

    mode = bi.get("merge_mode", "concat")
    if mode == "concat":
        output = np.concatenate([y, y_rev], axis=-1)
    elif mode == "sum":
        output = y + y_rev
    elif mode == "mul":
        output = y * y_rev
    elif mode == "ave":
        output = (y + y_rev) / F32(2)
    elif mode is None:
        output = [y, y_rev]
    else:
        raise RequestError(f"unknown merge_mode {mode!r}")
    return output, a["states"] + b["states"], {"forward": a["trace"], "backward": b["trace"]}


# ---------------------------------------------------------------- JSON I/O

def _plain(value):
    if isinstance(value, np.ndarray):
        return value.astype(np.float64).tolist() if value.dtype != bool else value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def handle(request):
    if "x" not in request:
        raise RequestError('request needs "x" (B, T, D)')
    x = np.asarray(request["x"], dtype=F32)
    if x.ndim != 3:
        raise RequestError(f"x must be (B, T, D), got shape {x.shape}")
    mask = request.get("mask")
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != x.shape[:2]:
            raise RequestError(f"mask must be (B, T) = {x.shape[:2]}, got {mask.shape}")
    hard_sigmoid = request.get("hard_sigmoid")
    masked_output = request.get("masked_output", "previous_output")
    if masked_output not in ("previous_output", "previous_state"):
        raise RequestError(f"unknown masked_output {masked_output!r}")
    initial_state = request.get("initial_state")

    if "bidirectional" in request:
        force_zero = bool(request.get("bidirectional_zero_output_for_mask", True))
        output, states, trace = run_bidirectional(
            request["bidirectional"], x, initial_state, mask, hard_sigmoid, masked_output, force_zero)
    elif "layer" in request:
        layer = request["layer"]
        r = run_layer(layer, x, initial_state, mask, hard_sigmoid, masked_output)
        output = r["sequence"] if layer.get("return_sequences") else r["last"]
        states, trace = r["states"], r["trace"]
    else:
        raise RequestError('request needs "layer" or "bidirectional"')
    return {"output": _plain(output), "states": _plain(states), "trace": _plain(trace)}


_REQUEST_ERRORS = (RequestError, ValueError, KeyError, TypeError, IndexError)


def serve():
    """One JSON request per stdin line -> one line {"ok": ANSWER} or {"error": MESSAGE}."""
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            reply = {"ok": handle(json.loads(line))}
        except _REQUEST_ERRORS as err:
            reply = {"error": str(err)}
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()


def main():
    if "--serve" in sys.argv[1:]:
        serve()
        return
    try:
        request = json.load(sys.stdin)
        answer = handle(request)
    except _REQUEST_ERRORS as err:
        sys.stderr.write(f"rnn_reference.py: {err}\n")
        sys.exit(2)
    json.dump(answer, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
