"""Float32 numpy reference for Keras' attention layers, written from Keras' source:

- Attention / AdditiveAttention: keras/src/layers/attention/attention.py and
  additive_attention.py (Keras 3), keras/layers/attention/base_dense_attention.py (tf.keras 2.x):
  scores from query and key over the last axis, -1e9 where the value mask or the causal mask
  hides a key, softmax over the last axis, matmul with value, zero where the query mask is 0.
  Leading axes are batch axes of matmul, so 2-D inputs (batch, dim) score the batch against itself.
- MultiHeadAttention: keras/src/layers/attention/multi_head_attention.py: EinsumDense
  projections, query scaled by 1/sqrt(key_dim), the dot-product and combine einsum equations
  of _build_attention_equation, _masked_softmax (mask expanded at -2*len(attention_axes)-1),
  softmax over the attention axes jointly (exp(x - logsumexp)), the output EinsumDense.

Protocol: one JSON request per line on stdin, one JSON reply per line on stdout (one process
serves a whole test file: starting python with numpy takes a second or two on a busy machine).
  {"layer": "attention", "score_mode", "scale", "concat_score_weight", "query", "value", "key",
   "query_mask", "value_mask", "causal"} -> {"output", "scores"}
  {"layer": "additive", "scale" (list or null), ...same...} -> {"output", "scores"}
  {"layer": "mha", "num_heads", "key_dim", "value_dim", "attention_axes", "weights": {"query/kernel": ...},
   "query", "value", "key", "query_mask", "value_mask", "attention_mask", "causal"} -> {"output", "scores"}
  {"layer": "tfk2_attention_model", "weights", "x", "batch_size"} -> {"output"}
Arrays are nested lists; masks are lists of 0/1 or null.
"""
import json
import string
import sys

import numpy as np

F = np.float32


def arr(v):
    return None if v is None else np.asarray(v, dtype=F)


def softmax_last(x):
    e = np.exp(x - np.max(x, axis=-1, keepdims=True))
    return (e / np.sum(e, axis=-1, keepdims=True)).astype(F)


def dense_attention(req, additive):
    q, v = arr(req["query"]), arr(req["value"])
    k = arr(req.get("key")) if req.get("key") is not None else v
    if additive:
        scale = arr(req.get("scale")) if req.get("scale") is not None else F(1.0)
        scores = np.sum(scale * np.tanh(q[..., :, None, :] + k[..., None, :, :]), axis=-1)
    elif req.get("score_mode", "dot") == "dot":
        scores = np.matmul(q, np.swapaxes(k, -1, -2))
        if req.get("scale") is not None:
            scores = scores * F(req["scale"])
    else:
        s = q[..., :, None, :] + k[..., None, :, :]
        if req.get("scale") is not None:
            s = F(req["scale"]) * s
        scores = F(req["concat_score_weight"]) * np.sum(np.tanh(s), axis=-1)
    scores = scores.astype(F)
    tq, tv = scores.shape[-2], scores.shape[-1]
    keep = np.ones(scores.shape, dtype=bool)
    if req.get("value_mask") is not None:
        keep &= np.asarray(req["value_mask"], dtype=bool)[:, None, :]
    if req.get("causal"):
        keep &= np.tril(np.ones((tq, tv), dtype=bool))
    scores = scores - F(1e9) * (~keep).astype(F)
    weights = softmax_last(scores)
    out = np.matmul(weights, v)
    if req.get("query_mask") is not None:
        out = out * np.asarray(req["query_mask"], dtype=F)[..., None]
    return {"output": out.tolist(), "scores": weights.tolist()}


def einsum_dense_last(x, kernel, bias, in_dims=1):
    """x (..., *in) times kernel (*in, *out) plus bias (*out)."""
    ins = kernel.shape[:in_dims]
    outs = kernel.shape[in_dims:]
    y = x.reshape(x.shape[: x.ndim - in_dims] + (int(np.prod(ins)),)) @ kernel.reshape(int(np.prod(ins)), -1)
    y = y.reshape(x.shape[: x.ndim - in_dims] + outs)
    return (y + bias if bias is not None else y).astype(F)


def mha(req):
    w = {k: arr(v) for k, v in req["weights"].items()}
    q, v = arr(req["query"]), arr(req["value"])
    k = arr(req.get("key")) if req.get("key") is not None else v
    h, kd = req["num_heads"], req["key_dim"]
    rank = q.ndim + 1  # rank of the projected tensors
    Q = einsum_dense_last(q, w["query/kernel"], w.get("query/bias"))
    K = einsum_dense_last(k, w["key/kernel"], w.get("key/bias"))
    V = einsum_dense_last(v, w["value/kernel"], w.get("value/bias"))
    axes = req.get("attention_axes")
    if axes is None:
        axes = tuple(range(1, rank - 2))
    else:
        axes = tuple(a if a >= 0 else (rank - 1) + a for a in ([axes] if isinstance(axes, int) else axes))
    # _build_attention_equation: batch dims are all but the attention axes and the last one.
    letters = string.ascii_lowercase
    source = letters[:rank]
    target = list(source)
    for a in axes:
        target[a] = letters[rank + a]
    target = "".join(target)
    batch = [i for i in range(rank) if i not in axes and i != rank - 1]
    product = "".join([source[i] for i in batch] + [source[i] for i in axes] + [target[i] for i in axes])
    dot_eq = f"{target},{source}->{product}"
    combine_eq = f"{product},{target}->{source}"
    Q = (Q * F(1.0 / np.sqrt(float(kd)))).astype(F)
    scores = np.einsum(dot_eq, K, Q).astype(F)
    mask = None
    if req.get("query_mask") is not None:
        mask = np.asarray(req["query_mask"], dtype=bool)[:, :, None]
    if req.get("value_mask") is not None:
        m = np.asarray(req["value_mask"], dtype=bool)[:, None, :]
        mask = m if mask is None else mask & m
    if req.get("causal"):
        t, s = q.shape[1], v.shape[1]
        m = np.tril(np.ones((1, t, s), dtype=bool))
        mask = m if mask is None else mask & m
    if req.get("attention_mask") is not None:
        m = np.asarray(req["attention_mask"], dtype=bool)
        mask = m if mask is None else m & mask
    if mask is not None:
        while mask.ndim < scores.ndim:
            mask = np.expand_dims(mask, axis=-len(axes) * 2 - 1)
        scores = (scores + (1.0 - mask.astype(F)) * F(-1e9)).astype(F)
    norm = tuple(range(scores.ndim - len(axes), scores.ndim))
    mx = np.max(scores, axis=norm, keepdims=True)
    e = np.exp(scores - mx)
    probs = (e / np.sum(e, axis=norm, keepdims=True)).astype(F)
    context = np.einsum(combine_eq, probs, V).astype(F)
    out = einsum_dense_last(context, w["attention_output/kernel"], w.get("attention_output/bias"), in_dims=2)
    return {"output": out.tolist(), "scores": probs.tolist()}


def tfk2_attention_model(req):
    """tfk2_attention_full.h5: Dense relu -> Attention([d, d]) on (batch, 32) -> concat -> Dense relu -> Dense relu,
    predicted batch_size samples at a time as model.predict does."""
    w = {k: arr(v) for k, v in req["weights"].items()}
    x = arr(req["x"])
    relu = lambda t: np.maximum(t, F(0))
    outs = []
    for start in range(0, x.shape[0], req["batch_size"]):
        xb = x[start : start + req["batch_size"]]
        d = relu(xb @ w["dense/kernel"] + w["dense/bias"]).astype(F)
        scores = d @ d.T  # matmul(q, k, transpose_b=True) on 2-D tensors: the batch against itself
        a = softmax_last(scores.astype(F)) @ d
        c = np.concatenate([d, a.astype(F)], axis=-1)
        h = relu(c @ w["dense_1/kernel"] + w["dense_1/bias"]).astype(F)
        outs.append(relu(h @ w["outputs/kernel"] + w["outputs/bias"]).astype(F))
    return {"output": np.concatenate(outs).tolist()}


def answer(req):
    kind = req["layer"]
    if kind == "attention":
        reply = dense_attention(req, additive=False)
    elif kind == "additive":
        reply = dense_attention(req, additive=True)
    elif kind == "mha":
        reply = mha(req)
    elif kind == "tfk2_attention_model":
        reply = tfk2_attention_model(req)
    else:
        raise SystemExit(f"unknown layer {kind}")
    return reply


def main():
    for line in sys.stdin:
        if line.strip():
            sys.stdout.write(json.dumps(answer(json.loads(line))) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
