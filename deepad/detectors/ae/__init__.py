"""Autoencoder baseline: reconstruction error as the anomaly score (see README.md)."""

from pydantic import Field

from deepad.detectors._shared.configs import DeepConfig
from deepad.detectors.spec import DetectorSpec


class AEConfig(DeepConfig):
    rep_dim: int = Field(0, ge=0, le=512, description="size of the bottleneck code; 0: by input shape, "
                         "128 for CIFAR-10-sized colour images and 32 otherwise",
                         json_schema_extra={"group": "network"})
    bias: bool = Field(True, description="bias terms and affine BatchNorm in the autoencoder",
                       json_schema_extra={"group": "network", "lesson": True})
    lr: float = Field(1e-3, gt=0, le=1, description="Adam learning rate",
                      json_schema_extra={"group": "optimisation", "lesson": True, "widget": "log"})
    epochs: int = Field(30, ge=1, le=10000, description="training epochs",
                        json_schema_extra={"group": "optimisation"})
    batch_size: int = Field(200, ge=2, le=100000, description="minibatch size",
                            json_schema_extra={"group": "optimisation"})
    weight_decay: float = Field(5e-7, ge=0, le=1, description="weight decay λ (0..1)",
                                json_schema_extra={"group": "optimisation", "widget": "number"})


SPEC = DetectorSpec(
    title="Autoencoder (reconstruction error)",
    summary="An autoencoder trained on normal data; the score is the squared reconstruction error.",
    Config=AEConfig,
    implementation=f"{__name__}.detector:AE",
    losses={"loss_rec": "reconstruction"},
    explorable={"lr": (1e-4, 1e-2)},
    presets=("ae-one-vs-all", "ae-paper"),
    order=4,
)
