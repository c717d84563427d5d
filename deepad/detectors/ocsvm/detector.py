"""One-class SVM (Schölkopf et al. 2001) with an RBF kernel on PCA features; the score is the
negated decision function."""

from __future__ import annotations

from sklearn.svm import OneClassSVM

from deepad.detectors._shared.shallow import ShallowDetector
from deepad.detectors.ocsvm import SPEC, OCSVMConfig  # noqa: F401


class OCSVM(ShallowDetector):
    spec = SPEC

    def _fit_features(self, f):
        gamma = self.config.gamma or "scale"
        self.model = OneClassSVM(kernel="rbf", nu=self.config.nu, gamma=gamma).fit(f)

    def _score_features(self, f):
        return -self.model.decision_function(f)
