"""Gaussian kernel density estimate on PCA features; the score is the negated log-density. The
bandwidth, unless given, is the one of a grid with the highest 5-fold held-out likelihood on the
training normals."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from deepad.detectors._shared.shallow import ShallowDetector

from . import SPEC, KDEConfig  # noqa: F401


FOLDS = 5
BANDWIDTH_GRID = np.logspace(-1.5, 1, 26)  # multiples of the data's per-feature spread


def squared_distances(query: np.ndarray, data: np.ndarray) -> np.ndarray:
    sq = (query ** 2).sum(1)[:, None] + (data ** 2).sum(1)[None, :] - 2 * query @ data.T
    return np.maximum(sq, 0)


def cross_validated_bandwidth(f: np.ndarray, seed: int, folds: int = FOLDS) -> tuple[float, np.ndarray, np.ndarray]:
    """The bandwidth of the grid (multiples of the data's per-feature spread) whose KDE gives the
    held-out samples the highest mean log-likelihood over `folds` folds of the training data (no
    labels). Returns (bandwidth, grid, mean log-likelihoods)."""
    n, d = f.shape
    scale = float(np.sqrt(f.var(axis=0).sum() / d)) or 1.0
    grid = scale * BANDWIDTH_GRID
    if n < 2:
        return float(grid[len(grid) // 2]), grid, np.zeros(len(grid))
    folds = min(folds, n)
    parts = np.array_split(np.random.default_rng(seed).permutation(n), folds)
    total = np.zeros(len(grid))
    for k in range(folds):
        rest = np.concatenate([p for j, p in enumerate(parts) if j != k])
        sq = squared_distances(f[parts[k]], f[rest])
        for i, h in enumerate(grid):
            norm = np.log(len(rest)) + 0.5 * d * np.log(2 * np.pi * h ** 2)
            total[i] += (logsumexp(-sq / (2 * h ** 2), axis=1) - norm).sum()
    mean = total / n
    return float(grid[int(np.argmax(mean))]), grid, mean


def gaussian_kde_logpdf(query: np.ndarray, data: np.ndarray, bandwidth: float) -> np.ndarray:
    """Exact log-density of an isotropic Gaussian KDE, computed in blocks with log-sum-exp."""
    n, d = data.shape
    norm = np.log(n) + 0.5 * d * np.log(2 * np.pi * bandwidth ** 2)
    out = np.empty(len(query))
    for s in range(0, len(query), 1024):
        q = query[s:s + 1024]
        out[s:s + 1024] = logsumexp(-squared_distances(q, data) / (2 * bandwidth ** 2), axis=1) - norm
    return out


class KDE(ShallowDetector):
    spec = SPEC

    def _fit_features(self, f):
        self.data = f
        if self.config.bandwidth > 0:
            self.bandwidth = self.config.bandwidth
            return
        self.bandwidth = cross_validated_bandwidth(f, self.seed)[0]

    def _score_features(self, f):
        return -gaussian_kde_logpdf(f, self.data, self.bandwidth)

    def _model_state(self):
        return {"data": self.data, "bandwidth": float(self.bandwidth)}

    def _load_model_state(self, state):
        self.data, self.bandwidth = np.asarray(state["data"]), float(state["bandwidth"])
