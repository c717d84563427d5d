"""Gaussian KDE on PCA features (see README.md)."""

from pydantic import Field

from deepad.detectors._shared.configs import SHALLOW_PREPROCESS, ShallowConfig
from deepad.detectors.spec import DetectorSpec


class KDEConfig(ShallowConfig):
    bandwidth: float = Field(0.0, ge=0, description="Gaussian bandwidth h (0: chosen by 5-fold likelihood "
                             "on the training normals, no labels)")


SPEC = DetectorSpec(
    title="Gaussian KDE",
    summary="Kernel density of the normal data; low density is anomalous.",
    Config=KDEConfig,
    implementation=f"{__name__}.detector:KDE",
    preprocess=SHALLOW_PREPROCESS,
    order=9,
)
