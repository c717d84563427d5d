"""Isolation Forest (Liu et al. 2008) on PCA features: random trees isolate points, anomalies
need fewer splits; the score is scikit-learn's negated `score_samples`."""

from __future__ import annotations

from sklearn.ensemble import IsolationForest

from deepad.detectors._shared.shallow import ShallowDetector
from deepad.detectors.iforest import SPEC, IForestConfig  # noqa: F401


class IForest(ShallowDetector):
    spec = SPEC

    def _fit_features(self, f):
        self.model = IsolationForest(n_estimators=self.config.n_estimators, random_state=self.seed).fit(f)

    def _score_features(self, f):
        return -self.model.score_samples(f)
