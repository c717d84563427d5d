"""Isolation Forest (Liu et al. 2008) on PCA features: random trees isolate points, anomalies
need fewer splits; the score is scikit-learn's negated `score_samples`."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import IsolationForest

from deepad.detectors._shared.shallow import ShallowDetector

from . import SPEC, IForestConfig  # noqa: F401


class IForest(ShallowDetector):
    spec = SPEC

    def _fit_features(self, f):
        self.train_features = f
        self.model = IsolationForest(n_estimators=self.config.n_estimators, random_state=self.seed).fit(f)

    def _score_features(self, f):
        return -self.model.score_samples(f)

    # saved as the features it was grown on: loading grows the same trees again (same seed)
    def _model_state(self):
        return {"features": self.train_features}

    def _load_model_state(self, state):
        self._fit_features(np.asarray(state["features"]))
