"""Isolation Forest on PCA features (see README.md)."""

from pydantic import Field

from deepad.detectors._shared.configs import SHALLOW_PREPROCESS, ShallowConfig
from deepad.detectors.spec import DetectorSpec


class IForestConfig(ShallowConfig):
    n_estimators: int = Field(100, ge=1, le=5000, description="number of trees")


SPEC = DetectorSpec(
    title="Isolation Forest",
    summary="Random trees isolate points; anomalies need fewer splits.",
    Config=IForestConfig,
    implementation=f"{__name__}.detector:IForest",
    smoke={"n_estimators": 20},
    preprocess=SHALLOW_PREPROCESS,
    order=7,
)
