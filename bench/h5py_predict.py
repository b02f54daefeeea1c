"""predict for a one-LSTM Sequential Keras HDF5 model, with h5py and float32 numpy.

    python3 h5py_predict.py MODEL.h5 X.npy Y.npy   writes the LSTM's outputs for X to Y
    python3 h5py_predict.py --info                 prints {"numpy", "h5py", "blas"} as JSON

The whole-process peer of `keras-inspect predict MODEL.h5 --input-file X.npy --output Y.npy`
in bench/evaluator.mjs (measurement B). Reads the model config from the file's
model_config attribute and the layer's kernel, recurrent_kernel and bias from
/model_weights/<layer>/<layer>/; per sample, the input projection of all steps at once,
then the loop (sigmoid gates, tanh activation: the configs the bench writes).
"""
import json
import sys

import h5py
import numpy as np

# The same float32 LSTM the numpy column of the bench times.
from numpy_rnn import lstm


def main():
    if sys.argv[1:] == ["--info"]:
        from blas_info import blas_info

        print(json.dumps({"numpy": np.__version__, "h5py": h5py.__version__, "python": sys.version.split()[0], "blas": blas_info(np)}))
        return
    model_path, x_path, y_path = sys.argv[1:4]
    with h5py.File(model_path, "r") as f:
        config = json.loads(f.attrs["model_config"])
        layers = config["config"]["layers"] if isinstance(config["config"], dict) else config["config"]
        layer = next(l for l in layers if l["class_name"] == "LSTM")
        cfg = layer["config"]
        assert cfg.get("activation") == "tanh" and cfg.get("recurrent_activation") == "sigmoid", "bench models use tanh/sigmoid"
        g = f["model_weights"][cfg["name"]][cfg["name"]]
        W = np.asarray(g["kernel:0"], dtype=np.float32)
        U = np.asarray(g["recurrent_kernel:0"], dtype=np.float32)
        b = np.asarray(g["bias:0"], dtype=np.float32)
    u = cfg["units"]
    x = np.load(x_path).astype(np.float32, copy=False)
    outs = [lstm(sample, W, U, b, u) for sample in x]
    y = np.stack(outs) if cfg.get("return_sequences") else np.stack([o[-1] for o in outs])
    np.save(y_path, y)


if __name__ == "__main__":
    main()
