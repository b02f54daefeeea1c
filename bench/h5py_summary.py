"""The layers of a Keras HDF5 model with h5py: start-up's peer of `keras-inspect summary` (bench/startup.mjs).

    python3 h5py_summary.py MODEL.h5   prints each layer's name, class and weight shapes
"""
import json
import sys

import h5py

with h5py.File(sys.argv[1], "r") as f:
    config = json.loads(f.attrs["model_config"])
    layers = config["config"]["layers"] if isinstance(config["config"], dict) else config["config"]
    weights = f["model_weights"]
    for layer in layers:
        name = layer["config"]["name"]
        shapes = []
        if name in weights:
            weights[name].visititems(lambda _, obj: shapes.append(obj.shape) if isinstance(obj, h5py.Dataset) else None)
        print(name, layer["class_name"], shapes)
