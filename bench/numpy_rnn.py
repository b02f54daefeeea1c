"""Times float32 numpy LSTM / GRU(reset_after=True) forward passes, for bench/evaluator.mjs.

Reads JSON on stdin: {"cases": [{"kind": "lstm"|"gru", "units": u, "features": d,
"steps": t, "repeats": n, "kernel": path, "recurrent_kernel": path, "bias": path,
"x": path}]}, each path a raw little-endian float32 file in Keras' layout. Prints JSON:
{"numpy": version, "blas": description, "results": [{"times_ms": [...], "h": last h}]}.

Each case: one warm-up, then n timed runs. A run is the whole forward pass over the
sequence: the input projection of all steps at once (X @ W + b), then per step h @ U and
the gate math, every hidden state written to a (t, u) output. Loading the files is not timed.
"""
import json
import sys
import time

import numpy as np

from blas_info import blas_info

ONE = np.float32(1)


def sigmoid(v):
    return ONE / (ONE + np.exp(-v))


def lstm(x, W, U, b, u):
    xp = x @ W + b  # (t, 4u)
    h = np.zeros(u, dtype=np.float32)
    c = np.zeros(u, dtype=np.float32)
    out = np.empty((x.shape[0], u), dtype=np.float32)
    for t in range(x.shape[0]):
        z = xp[t] + h @ U
        i, f, g, o = sigmoid(z[:u]), sigmoid(z[u:2 * u]), np.tanh(z[2 * u:3 * u]), sigmoid(z[3 * u:])
        c = f * c + i * g
        h = o * np.tanh(c)
        out[t] = h
    return out


def gru(x, W, U, b, u):
    """reset_after=True: b is (2, 3u), row 0 the input bias, row 1 the recurrent bias."""
    xp = x @ W + b[0]  # (t, 3u)
    h = np.zeros(u, dtype=np.float32)
    out = np.empty((x.shape[0], u), dtype=np.float32)
    for t in range(x.shape[0]):
        rec = h @ U + b[1]
        z = sigmoid(xp[t, :u] + rec[:u])
        r = sigmoid(xp[t, u:2 * u] + rec[u:2 * u])
        hh = np.tanh(xp[t, 2 * u:] + r * rec[2 * u:])
        h = z * h + (ONE - z) * hh
        out[t] = h
    return out


def load(path, shape):
    return np.fromfile(path, dtype="<f4").reshape(shape)


def run_case(c):
    u, d, t = c["units"], c["features"], c["steps"]
    g = 4 if c["kind"] == "lstm" else 3
    W = load(c["kernel"], (d, g * u))
    U = load(c["recurrent_kernel"], (u, g * u))
    b = load(c["bias"], (g * u,) if c["kind"] == "lstm" else (2, g * u))
    x = load(c["x"], (t, d))
    f = lstm if c["kind"] == "lstm" else gru
    f(x, W, U, b, u)  # warm-up
    times = []
    for _ in range(c["repeats"]):
        t0 = time.perf_counter()
        out = f(x, W, U, b, u)
        times.append((time.perf_counter() - t0) * 1000)
    return {"times_ms": times, "h": out[-1].astype(np.float64).tolist()}


def main():
    req = json.load(sys.stdin)
    results = [run_case(c) for c in req["cases"]]
    print(json.dumps({"numpy": np.__version__, "python": sys.version.split()[0], "blas": blas_info(np), "results": results}))


if __name__ == "__main__":
    main()
