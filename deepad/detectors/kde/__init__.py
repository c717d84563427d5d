"""Gaussian KDE on PCA features (see README.md)."""

from pydantic import Field

from deepad.detectors._shared.configs import ShallowConfig
from deepad.detectors.spec import DetectorSpec


class KDEConfig(ShallowConfig):
    bandwidth: float = Field(0.0, ge=0, description="Gaussian bandwidth (0: chosen by held-out likelihood)")


SPEC = DetectorSpec(
    name="kde",
    title="Gaussian KDE",
    summary="Kernel density of the normal data; low density is anomalous.",
    Config=KDEConfig,
    implementation=f"{__name__}.detector:KDE",
    order=9,
)
