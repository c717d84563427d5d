"""One-class SVM on PCA features (see README.md)."""

from pydantic import Field

from deepad.detectors._shared.configs import ShallowConfig
from deepad.detectors.spec import DetectorSpec


class OCSVMConfig(ShallowConfig):
    nu: float = Field(0.1, gt=0, le=1, description="ν: upper bound on the share of training outliers",
                      json_schema_extra={"widget": "slider", "step": 0.01})
    gamma: float = Field(0.0, ge=0, description="RBF kernel width (0: scikit-learn's 'scale')")


SPEC = DetectorSpec(
    name="ocsvm",
    title="One-class SVM",
    summary="A kernel boundary around the normal data (Schölkopf et al.).",
    Config=OCSVMConfig,
    implementation=f"{__name__}.detector:OCSVM",
    explorable={"nu": (0.05, 0.2)},
    order=8,
)
