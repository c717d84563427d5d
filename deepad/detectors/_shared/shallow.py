"""What the shallow baselines (Isolation Forest, OC-SVM, Gaussian KDE) share: each decides on the
flattened input (images in [0, 1]) or on its PCA fitted on the training samples not labelled
anomalous, keeping the fewest components that explain `pca_variance` (0.95) of their variance;
`embed` returns those features. A subclass fits and scores its model on the features. These are
the features and defaults the libraries' own users feed them (scikit-learn's OneClassSVM on pixels,
IsolationForest and a KDE on PCA(0.95)); `bench/baselines.py` measures each beside scikit-learn's
defaults on the same split."""

from __future__ import annotations

import time

import numpy as np
from sklearn.decomposition import PCA

from deepad import metrics
from deepad.data.parts import Part
from deepad.detectors._shared.configs import ShallowConfig
from deepad.detectors.base import Detector


class ShallowDetector(Detector):
    Config = ShallowConfig

    def _features(self, x: np.ndarray) -> np.ndarray:
        flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        return self.pca.transform(flat) if self.pca is not None else flat

    def fit(self, train: Part, val: Part | None = None, on_epoch=None, should_stop=None):
        self._check_stop(should_stop)
        t0 = time.perf_counter()
        flat = np.asarray(train.x[train.known_label != -1], dtype=np.float64).reshape(-1, int(np.prod(train.x.shape[1:])))
        self.pca = self._fit_pca(flat) if self.config.features == "pca" else None
        feats = self._features(flat)
        self._fit_features(feats)
        self._threshold = float(np.percentile(self._score_features(feats), 95))
        rec = {"phase": "train", "epoch": 1, "seconds": time.perf_counter() - t0}
        if val is not None and len(np.unique(val.target)) == 2:
            rec["val_auc"] = metrics.auc(val.target, self.score(val.x))
        if on_epoch:
            on_epoch(rec, None)
        return self

    def _fit_pca(self, flat: np.ndarray) -> PCA:
        """PCA of the training normals: `pca_components` of them, or (0) the fewest that explain
        `pca_variance` of the variance."""
        cap = min(flat.shape[1], len(flat))
        if self.config.pca_components:
            return PCA(min(self.config.pca_components, cap), random_state=self.seed).fit(flat)
        if self.config.pca_variance >= 1 or cap < 2:
            return PCA(cap, svd_solver="full").fit(flat)
        return PCA(self.config.pca_variance, svd_solver="full").fit(flat)

    def score(self, x: np.ndarray) -> np.ndarray:
        return self._score_features(self._features(x))

    def embed(self, x: np.ndarray) -> np.ndarray:
        return self._features(x).astype(np.float32)

    def state(self) -> dict:
        """Arrays and numbers only (never a pickle): the PCA basis and what the model needs to
        score again (`_model_state`)."""
        pca = None if self.pca is None else {"mean": self.pca.mean_, "components": self.pca.components_}
        return {"pca": pca, "model": self._model_state()}

    def load_state(self, state: dict) -> None:
        p = state["pca"]
        self.pca = None if p is None else PCABasis(np.asarray(p["mean"]), np.asarray(p["components"]))
        self._load_model_state(state["model"])


class PCABasis:
    """A fitted PCA's `transform` from its mean and components (no whitening, as fitted here)."""

    def __init__(self, mean: np.ndarray, components: np.ndarray):
        self.mean_, self.components_ = mean, components

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.mean_) @ self.components_.T
