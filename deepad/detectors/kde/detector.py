"""Gaussian kernel density estimate on PCA features; the score is the negated log-density."""

from __future__ import annotations

import numpy as np
from scipy.special import logsumexp

from deepad.detectors._shared.shallow import ShallowDetector
from deepad.detectors.kde import SPEC, KDEConfig  # noqa: F401


def gaussian_kde_logpdf(query: np.ndarray, data: np.ndarray, bandwidth: float) -> np.ndarray:
    """Exact log-density of an isotropic Gaussian KDE, computed in blocks with log-sum-exp."""
    n, d = data.shape
    norm = np.log(n) + 0.5 * d * np.log(2 * np.pi * bandwidth ** 2)
    data_sq = (data ** 2).sum(1)
    out = np.empty(len(query))
    for s in range(0, len(query), 1024):
        q = query[s:s + 1024]
        sq = (q ** 2).sum(1)[:, None] + data_sq[None, :] - 2 * q @ data.T
        out[s:s + 1024] = logsumexp(-np.maximum(sq, 0) / (2 * bandwidth ** 2), axis=1) - norm
    return out


class KDE(ShallowDetector):
    spec = SPEC

    def _fit_features(self, f):
        self.data = f
        if self.config.bandwidth > 0:
            self.bandwidth = self.config.bandwidth
            return
        rng = np.random.default_rng(self.seed)
        order = rng.permutation(len(f))
        cut = max(1, len(f) // 5)
        held, fit = f[order[:cut]], f[order[cut:]]
        scale = float(np.sqrt(f.var(axis=0).sum() / f.shape[1])) or 1.0
        grid = scale * np.logspace(-1.5, 1, 16)
        lik = [gaussian_kde_logpdf(held, fit, h).mean() for h in grid]
        self.bandwidth = float(grid[int(np.argmax(lik))])

    def _score_features(self, f):
        return -gaussian_kde_logpdf(f, self.data, self.bandwidth)

    def _model_state(self):
        return {"data": self.data, "bandwidth": float(self.bandwidth)}

    def _load_model_state(self, state):
        self.data, self.bandwidth = np.asarray(state["data"]), float(state["bandwidth"])
