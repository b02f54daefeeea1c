#!/usr/bin/env python3
"""Reads .npy files with numpy.load, as a user would. Request (stdin JSON): {"files": [paths]}.
Answer: {path: {"dtype": str, "shape": [...], "values": flat list}}."""
import json
import sys

import numpy as np

req = json.load(sys.stdin)
out = {}
for path in req["files"]:
    a = np.load(path)
    out[path] = {"dtype": str(a.dtype), "shape": list(a.shape), "values": a.ravel().tolist()}
json.dump(out, sys.stdout)
