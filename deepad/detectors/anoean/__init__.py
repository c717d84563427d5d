"""AnoEAN (Gherbi et al.): an encoder trained adversarially against a latent
discriminator (see README.md)."""

from typing import Literal

from pydantic import Field

from deepad.detectors._shared.configs import DeepConfig
from deepad.detectors.spec import LABELLED_ANOMALIES, DetectorSpec


class AnoEANConfig(DeepConfig):
    rep_dim: int = Field(16, ge=1, le=512, description="d: dimension of the decision (latent) space",
                         json_schema_extra={"group": "network"})
    bias: bool = Field(True, description="bias terms and affine BatchNorm in the encoder",
                       json_schema_extra={"group": "network", "lesson": True})
    d_steps: int = Field(1, ge=1, le=20, description="n_D: discriminator steps per encoder step",
                         json_schema_extra={"group": "optimisation"})
    lr: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of E and D",
                      json_schema_extra={"group": "optimisation", "lesson": True, "widget": "log"})
    beta1: float = Field(0.5, ge=0, lt=1, description="Adam β1 (0.5 as in the paper)",
                         json_schema_extra={"group": "optimisation", "widget": "slider", "step": 0.05})
    epochs: int = Field(30, ge=1, le=10000, description="training epochs (passes over the normal samples)",
                        json_schema_extra={"group": "optimisation"})
    batch_size: int = Field(200, ge=4, le=100000, description="m = m_n + m_a samples per iteration",
                            json_schema_extra={"group": "optimisation"})
    gaussian_fit: Literal["validation", "training"] = Field(
        "validation", description="codes the normal Gaussian is fitted on: held-out validation normals "
                                  "(Gherbi et al.) or the training samples not labelled anomalous")
    ridge: float = Field(1e-3, gt=0, le=1, description="added to Σ's diagonal, relative to its mean "
                         "variance, before the Mahalanobis score", json_schema_extra={"widget": "log"})


SPEC = DetectorSpec(
    title="AnoEAN",
    summary=("An encoder learns, against a discriminator, to map normal data onto N(0, I) and "
             "labelled anomalies away from it; the score is a Mahalanobis distance."),
    Config=AnoEANConfig,
    implementation=f"{__name__}.detector:AnoEAN",
    losses={"loss_d": "discriminator", "loss_d_prior": "discriminator: prior samples",
            "loss_d_normal": "discriminator: normal codes", "loss_d_anomaly": "discriminator: anomaly codes",
            "loss_e": "encoder", "loss_e_normal": "encoder: normal codes",
            "loss_e_anomaly": "encoder: anomaly codes"},
    explorable={"lr": (1e-4, 1e-2)},
    requires=(LABELLED_ANOMALIES,),
    # Gherbi et al.: 10 % labelled anomalies in training, a test set of 80 % normal / 20 % anomalies
    setup_defaults={"known_anomalies": 0.1, "test_anomaly_share": 0.2},
    presets=("anoean-one-vs-all", "anoean-n-vs-m", "anoean-paper"),
    order=3,
)
