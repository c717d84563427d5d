"""R2-AD2 (Schulze et al.): semi-supervised detection from the raw gradient (see
README.md)."""

from typing import Literal

from pydantic import Field, model_validator

from deepad.detectors._shared.configs import DeepConfig
from deepad.detectors.spec import LABELLED_ANOMALIES, DetectorSpec


def schedule_problem(t0: int, t: int, n_snapshots: int, ae_epochs: int) -> str | None:
    """Why a snapshot schedule does not fit the autoencoder's training budget, or None if it does.
    Snapshots are taken after epochs T0, T0 + T, ..., T0 + (n_snapshots − 1)·T."""
    last = t0 + (n_snapshots - 1) * t
    if last > ae_epochs:
        return (f"n_snapshots={n_snapshots}, t0={t0}, t={t}: the last snapshot would come after "
                f"epoch t0 + (n_snapshots − 1)·t = {last}, beyond ae_epochs={ae_epochs}; raise "
                f"ae_epochs to at least {last} or take fewer / closer snapshots")
    return None


class R2AD2Config(DeepConfig):
    size: Literal["small", "big"] = Field(
        "small", description="alarm network: small = LSTM 100 → LSTM 50 → dense 25 → dense 10; big = "
                             "1000 → 500 → 200 → 75 (the paper's default, for large data sets)",
        json_schema_extra={"group": "network"})
    t0: int = Field(10, ge=1, le=10000, description="T0: autoencoder epochs before the first snapshot")
    t: int = Field(5, ge=1, le=10000, description="T: autoencoder epochs between snapshots (a retraining stage)")
    n_snapshots: int = Field(3, ge=1, le=20, description="autoencoder snapshots, i.e. the length of the "
                             "gradient sequence the alarm network reads")
    ae_epochs: int = Field(20, ge=1, le=10000, description="training budget of the target autoencoder; "
                           "the snapshot schedule T0 + (n_snapshots − 1)·T must fit in it, and training "
                           "stops at the last snapshot",
                           json_schema_extra={"group": "optimisation"})
    holdout: float = Field(0.25, ge=0, le=0.9, description="share of the normal training data held back "
                           "while the autoencoder trains (fresh normal gradients for the alarm network)",
                           json_schema_extra={"widget": "slider", "step": 0.05})
    rep_dim: int = Field(8, ge=2, le=256, description="code size of the target autoencoder (the paper's "
                         "MNIST autoencoder has 8); more parameters mean longer gradient vectors",
                         json_schema_extra={"group": "network"})
    ae_lr: float = Field(1e-3, gt=0, le=1, description="autoencoder learning rate (Adam)",
                         json_schema_extra={"group": "optimisation", "widget": "log"})
    lr: float = Field(1e-3, gt=0, le=1, description="alarm network learning rate (Adam, as in the paper)",
                      json_schema_extra={"group": "optimisation", "lesson": True, "widget": "log"})
    epochs: int = Field(6, ge=1, le=10000, description="alarm network epochs (the paper trains 100 on "
                        "much larger data; 6 suffice on MNIST-5k)",
                        json_schema_extra={"group": "optimisation"})
    alarm_normals: Literal["all", "held-back"] = Field(
        "all", description="normal samples the alarm network learns from: all normal training data "
                           "(Algorithm 1 loops over the whole training set) or only the held-back share "
                           "the autoencoder never saw (cheaper; its gradients look like a test sample's)")
    resample_synthetic: bool = Field(True, description="draw new synthetic anomalies (and their "
                                     "gradients) for every alarm-network epoch; off: one draw for all")
    ae_batch_size: int = Field(64, ge=2, le=100000, description="autoencoder minibatch size",
                               json_schema_extra={"group": "optimisation"})
    batch_size: int = Field(128, ge=2, le=100000, description="alarm network minibatch size (each batch "
                            "of real samples gets as many synthetic anomalies)",
                            json_schema_extra={"group": "optimisation"})

    @model_validator(mode="after")
    def _check_schedule(self):
        problem = schedule_problem(self.t0, self.t, self.n_snapshots, self.ae_epochs)
        if problem:
            raise ValueError(problem)
        return self


def _records(cfg: R2AD2Config) -> dict[str, int]:
    """The autoencoder trains up to its last snapshot, one record for the gradient features,
    then the alarm network's epochs."""
    return {"target": cfg.t0 + (cfg.n_snapshots - 1) * cfg.t, "features": 1, "train": cfg.epochs}


SPEC = DetectorSpec(
    title="R2-AD2 (raw gradient)",
    summary=("An LSTM alarm network reads the per-sample gradients of an autoencoder at several "
             "training snapshots and learns to flag known and synthetic anomalies."),
    Config=R2AD2Config,
    implementation=f"{__name__}.detector:R2AD2",
    losses={"loss_rec": "target autoencoder: reconstruction", "loss_real": "alarm network: real samples",
            "loss_synthetic": "alarm network: synthetic anomalies"},
    diagnostics={"val_auc_recon": ("validation AUC of the reconstruction error",
                                   "the target autoencoder alone, at each snapshot", False)},
    phases={"target": "target autoencoder", "features": "gradient features", "train": "alarm network"},
    records=_records,
    explorable={"lr": (1e-4, 1e-2)},
    requires=(LABELLED_ANOMALIES,),
    preprocess={"image": "unit", "*": "minmax"},  # inputs in [0, 1], as the synthetic anomalies assume
    setup_defaults={"known_anomalies": 100},  # Schulze et al.: 100 labelled anomalies
    presets=("r2ad2-semi", "r2ad2-polluted", "r2ad2-paper"),
    smoke={"t0": 1, "t": 1, "n_snapshots": 2, "ae_epochs": 2, "epochs": 2, "rep_dim": 2},
    order=2,
)
