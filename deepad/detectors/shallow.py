"""Shallow baselines the papers compare against: Isolation Forest, OC-SVM and a Gaussian KDE, each
on PCA features of the flattened input (as Ruff et al. do). Fitted on the samples not labelled
anomalous; `embed` returns the PCA features they decide in."""

from __future__ import annotations

import pickle
import time

import numpy as np
from pydantic import Field
from scipy.special import logsumexp
from sklearn.decomposition import PCA
from sklearn.ensemble import IsolationForest
from sklearn.svm import OneClassSVM

from deepad import metrics
from deepad.data.setups import Part
from deepad.detectors.base import Detector, DetectorConfig
from deepad.detectors.registry import register


class ShallowConfig(DetectorConfig):
    pca_components: int = Field(32, ge=0, le=4096,
                                description="PCA features fed to the model (0: the raw input)")


class ShallowDetector(Detector):
    deep = False

    def _features(self, x: np.ndarray) -> np.ndarray:
        flat = np.asarray(x, dtype=np.float64).reshape(len(x), -1)
        return self.pca.transform(flat) if self.pca is not None else flat

    def fit(self, train: Part, val: Part | None = None, on_epoch=None, should_stop=None):
        self._check_stop(should_stop)
        t0 = time.perf_counter()
        flat = np.asarray(train.x[train.semi != -1], dtype=np.float64).reshape(-1, int(np.prod(train.x.shape[1:])))
        n_comp = min(self.config.pca_components, flat.shape[1], len(flat))
        self.pca = PCA(n_comp, random_state=self.seed).fit(flat) if self.config.pca_components else None
        feats = self._features(flat)
        self._fit_features(feats)
        self.fitted = True
        self._threshold = float(np.percentile(self._score_features(feats), 95))
        rec = {"phase": "train", "epoch": 1, "seconds": time.perf_counter() - t0}
        if val is not None and len(np.unique(val.target)) == 2:
            rec["val_auc"] = metrics.auc(val.target, self.score(val.x))
        if on_epoch:
            on_epoch(rec, None)
        return self

    def score(self, x: np.ndarray) -> np.ndarray:
        return self._score_features(self._features(x))

    def embed(self, x: np.ndarray) -> np.ndarray:
        return self._features(x).astype(np.float32)

    def state(self) -> dict:
        return {"pickle": pickle.dumps({k: v for k, v in self.__dict__.items()
                                        if k in ("pca", "model", "data", "bandwidth")})}

    def load_state(self, state: dict) -> None:
        self.__dict__.update(pickle.loads(state["pickle"]))


class IForestConfig(ShallowConfig):
    n_estimators: int = Field(100, ge=1, le=5000, description="number of trees")


@register
class IForest(ShallowDetector):
    name = "iforest"
    title = "Isolation Forest"
    summary = "Random trees isolate points; anomalies need fewer splits."
    Config = IForestConfig

    def _fit_features(self, f):
        self.model = IsolationForest(n_estimators=self.config.n_estimators, random_state=self.seed).fit(f)

    def _score_features(self, f):
        return -self.model.score_samples(f)


class OCSVMConfig(ShallowConfig):
    nu: float = Field(0.1, gt=0, le=1, description="ν: upper bound on the share of training outliers",
                      json_schema_extra={"widget": "slider", "step": 0.01})
    gamma: float = Field(0.0, ge=0, description="RBF kernel width (0: scikit-learn's 'scale')")


@register
class OCSVM(ShallowDetector):
    name = "ocsvm"
    title = "One-class SVM"
    summary = "A kernel boundary around the normal data (Schölkopf et al.)."
    Config = OCSVMConfig

    def _fit_features(self, f):
        gamma = self.config.gamma or "scale"
        self.model = OneClassSVM(kernel="rbf", nu=self.config.nu, gamma=gamma).fit(f)

    def _score_features(self, f):
        return -self.model.decision_function(f)


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


class KDEConfig(ShallowConfig):
    bandwidth: float = Field(0.0, ge=0, description="Gaussian bandwidth (0: chosen by held-out likelihood)")


@register
class KDE(ShallowDetector):
    name = "kde"
    title = "Gaussian KDE"
    summary = "Kernel density of the normal data; low density is anomalous."
    Config = KDEConfig

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
