"""One-class SVM (Schölkopf et al. 2001) with an RBF kernel on PCA features; the score is the
negated decision function."""

from __future__ import annotations

import numpy as np
from sklearn.svm import OneClassSVM

from deepad.detectors._shared.shallow import ShallowDetector

from . import SPEC, OCSVMConfig  # noqa: F401


class OCSVM(ShallowDetector):
    spec = SPEC

    def _fit_features(self, f):
        gamma = self.config.gamma or "scale"
        self.model = OneClassSVM(kernel="rbf", nu=self.config.nu, gamma=gamma).fit(f)

    def _score_features(self, f):
        if isinstance(self.model, dict):  # loaded: the RBF decision function from its support vectors
            m = self.model
            sq = (f ** 2).sum(1)[:, None] + (m["sv"] ** 2).sum(1)[None, :] - 2 * f @ m["sv"].T
            return -(np.exp(-m["gamma"] * np.maximum(sq, 0)) @ m["dual_coef"] + m["intercept"])
        return -self.model.decision_function(f)

    def _model_state(self):
        return {"sv": self.model.support_vectors_, "dual_coef": self.model.dual_coef_.ravel(),
                "intercept": float(self.model.intercept_[0]), "gamma": float(self.model._gamma)}

    def _load_model_state(self, state):
        self.model = {"sv": np.asarray(state["sv"], dtype=np.float64),
                      "dual_coef": np.asarray(state["dual_coef"], dtype=np.float64),
                      "intercept": float(state["intercept"]), "gamma": float(state["gamma"])}
