"""Pure preprocessing: parameters are fitted on training data only, then applied anywhere.

- "gcn": per-sample global contrast normalisation (L1), then min-max scaling with the training
  data's extremes (Ruff et al.'s MNIST / CIFAR-10 preprocessing).
- "unit": images as they are, in [0, 1].
- "standardize": per-feature zero mean, unit variance from the training data.
- "minmax": per-feature scaling to [0, 1] from the training data.
"""

from __future__ import annotations

import numpy as np


def _gcn(x: np.ndarray) -> np.ndarray:
    flat = x.reshape(len(x), -1)
    flat = flat - flat.mean(axis=1, keepdims=True)
    scale = np.abs(flat).mean(axis=1, keepdims=True)
    return (flat / np.maximum(scale, 1e-8)).reshape(x.shape)


def fit_preprocess(x_train: np.ndarray, method: str) -> dict:
    if method == "gcn":
        g = _gcn(x_train)
        return {"method": method, "min": float(g.min()), "max": float(g.max())}
    if method == "unit":
        return {"method": method}
    if method == "standardize":
        mean, std = x_train.mean(axis=0), x_train.std(axis=0)
        return {"method": method, "mean": mean.tolist(), "std": np.where(std > 1e-8, std, 1.0).tolist()}
    if method == "minmax":
        lo, hi = x_train.min(axis=0), x_train.max(axis=0)
        return {"method": method, "min": lo.tolist(), "range": np.where(hi - lo > 1e-8, hi - lo, 1.0).tolist()}
    raise ValueError(f"unknown preprocessing {method!r}")


def apply_preprocess(x: np.ndarray, params: dict) -> np.ndarray:
    m = params["method"]
    if m == "gcn":
        out = (_gcn(x) - params["min"]) / (params["max"] - params["min"])
    elif m == "unit":
        out = x
    elif m == "standardize":
        out = (x - np.asarray(params["mean"], np.float32)) / np.asarray(params["std"], np.float32)
    else:
        out = (x - np.asarray(params["min"], np.float32)) / np.asarray(params["range"], np.float32)
    return np.ascontiguousarray(out, dtype=np.float32)
