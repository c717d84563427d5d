"""One-class SVM on the raw (preprocessed) input or PCA features (see README.md)."""

from typing import Literal

from pydantic import Field

from deepad.detectors._shared.configs import SHALLOW_PREPROCESS, ShallowConfig
from deepad.detectors.spec import DetectorSpec


class OCSVMConfig(ShallowConfig):
    features: Literal["pca", "raw"] = Field(
        "raw", description="what the model sees: the raw flattened input (scikit-learn's users feed "
                           "the pixels) or its PCA fitted on the training normals",
        json_schema_extra={"group": "network"})
    nu: float = Field(0.1, gt=0, le=1, description="ν: upper bound on the share of training outliers",
                      json_schema_extra={"group": "objective", "lesson": True, "widget": "slider", "step": 0.01})
    gamma: float = Field(0.0, ge=0, description="RBF kernel coefficient γ in exp(−γ‖x − x′‖²) (0: scikit-learn's "
                         "'scale', 1 / (features × variance of the training data), chosen without labels)")


SPEC = DetectorSpec(
    title="One-class SVM",
    summary="A kernel boundary around the normal data (Schölkopf et al.).",
    Config=OCSVMConfig,
    implementation=f"{__name__}.detector:OCSVM",
    explorable={"nu": (0.05, 0.2)},
    preprocess=SHALLOW_PREPROCESS,
    order=8,
)
