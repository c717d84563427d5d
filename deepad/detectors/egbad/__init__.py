"""EGBAD (Zenati et al. 2018): BiGAN anomaly detection (see README.md)."""

from pydantic import Field

from deepad.detectors._shared.configs import BIGAN_EXPLORABLE, BIGAN_LOSSES, BIGAN_PREPROCESS, BiGANConfig
from deepad.detectors.spec import DetectorSpec


class EGBADConfig(BiGANConfig):
    epochs: int = Field(30, ge=1, le=10000, description="training epochs (scaled down from the papers' "
                        "full-MNIST runs for MNIST-5k)",
                        json_schema_extra={"group": "optimisation"})


SPEC = DetectorSpec(
    title="EGBAD (BiGAN)",
    summary=("A BiGAN trained on the training data; the score mixes the L1 reconstruction error "
             "x vs G(E(x)) with a feature-matching distance in the discriminator."),
    Config=EGBADConfig,
    implementation=f"{__name__}.detector:EGBAD",
    losses=BIGAN_LOSSES,
    explorable=BIGAN_EXPLORABLE,
    preprocess=BIGAN_PREPROCESS,
    presets=("egbad-clean", "egbad-polluted", "egbad-fashion-clean", "egbad-fashion-pollution"),
    order=5,
)
