"""Times a plain float32 numpy LSTM over a sequence, for bench/evaluator.mjs.

Reads {"kernel": [...], "recurrent_kernel": [...], "bias": [...], "units": u,
"input_dim": d, "x": [[...], ...], "repeats": n} as JSON on stdin and prints
{"seconds": best-of-n time of the loop, "h": final h}. The process start and the
JSON parsing are not timed: only the recurrence, as in the JavaScript timings.
"""
import json
import sys
import time

import numpy as np


def lstm(x, W, U, b, u):
    h = np.zeros(u, dtype=np.float32)
    c = np.zeros(u, dtype=np.float32)
    sig = lambda v: np.float32(1) / (np.float32(1) + np.exp(-v))
    for t in range(x.shape[0]):
        z = x[t] @ W + h @ U + b
        i, f, g, o = sig(z[:u]), sig(z[u:2 * u]), np.tanh(z[2 * u:3 * u]), sig(z[3 * u:])
        c = f * c + i * g
        h = o * np.tanh(c)
    return h


def main():
    req = json.load(sys.stdin)
    u, d = req["units"], req["input_dim"]
    W = np.array(req["kernel"], dtype=np.float32).reshape(d, 4 * u)
    U = np.array(req["recurrent_kernel"], dtype=np.float32).reshape(u, 4 * u)
    b = np.array(req["bias"], dtype=np.float32)
    x = np.array(req["x"], dtype=np.float32)
    best = float("inf")
    h = None
    for _ in range(req["repeats"]):
        t0 = time.perf_counter()
        h = lstm(x, W, U, b, u)
        best = min(best, time.perf_counter() - t0)
    print(json.dumps({"seconds": best, "h": h.tolist()}))


main()
