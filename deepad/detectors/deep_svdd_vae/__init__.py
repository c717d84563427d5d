"""Deep SVDD-VAE (Zhou et al.): a VAE whose latent means are pulled towards a centre
(see README.md)."""

from typing import Literal

from pydantic import Field

from deepad.detectors._shared.configs import DeepConfig
from deepad.detectors.spec import DetectorSpec


class DeepSVDDVAEConfig(DeepConfig):
    alpha: float = Field(0.1, ge=0, le=1, description="α: weight of the VAE term (the negative ELBO, "
                         "reconstruction + KL) against the distance ‖μ(x) − c‖ (near 1). With vae_scale "
                         "'per-sample' (the paper's Eq. 12) the VAE term is in nats per input, summed over "
                         "its D dimensions (170–490 on MNIST), so 0.1 keeps both in play and near 1 the VAE "
                         "drowns the distance; with 'per-dimension' it is divided by D (nats per pixel) and "
                         "α = 1 weighs the two about equally",
                         json_schema_extra={"group": "objective", "lesson": True, "widget": "slider", "step": 0.05})
    vae_scale: Literal["per-sample", "per-dimension"] = Field(
        "per-sample", description="scale of the VAE term: 'per-sample', the negative ELBO of each input "
                                  "summed over its D dimensions (Zhou et al.'s Eq. 12); 'per-dimension', "
                                  "the same divided by D (the reconstruction averaged per input dimension, "
                                  "the KL shared out over them), so α does not depend on the input size",
        json_schema_extra={"group": "objective"})
    rep_dim: int = Field(0, ge=0, le=512, description="latent dimension d (size of μ(x)); 0: by input "
                         "shape, 128 for CIFAR-10-sized colour images and 32 otherwise (Zhou et al.'s Table 2)",
                         json_schema_extra={"group": "network"})
    likelihood: Literal["auto", "bernoulli", "gaussian"] = Field(
        "auto", description="decoder likelihood p(x|z): bernoulli (data in [0, 1]), gaussian (unit "
                            "variance), auto: bernoulli when the training data lie in [0, 1]",
        json_schema_extra={"group": "objective"})
    bias: bool = Field(True, description="bias terms and affine BatchNorm in the VAE (the paper "
                                         "allows them: the reconstruction term prevents collapse)",
                       json_schema_extra={"group": "network", "lesson": True})
    lr: float = Field(1e-3, gt=0, le=1, description="RMSprop learning rate",
                      json_schema_extra={"group": "optimisation", "lesson": True, "widget": "log"})
    epochs: int = Field(20, ge=1, le=10000, description="training epochs",
                        json_schema_extra={"group": "optimisation"})
    batch_size: int = Field(200, ge=2, le=100000, description="minibatch size",
                            json_schema_extra={"group": "optimisation"})
    weight_decay: float = Field(0.0, ge=0, le=1, description="weight decay λ (0..1)",
                                json_schema_extra={"group": "optimisation", "widget": "number"})


SPEC = DetectorSpec(
    title="Deep SVDD-VAE",
    summary=("A variational autoencoder trained jointly with a hypersphere in its latent space; the "
             "score is the distance of the latent mean to the centre."),
    Config=DeepSVDDVAEConfig,
    implementation=f"{__name__}.detector:DeepSVDDVAE",
    losses={"loss_rec": "reconstruction (negative log-likelihood)", "loss_kl": "KL to N(0, I)",
            "loss_svdd": "distance to the batch centre"},
    progress=("loss_svdd",),
    explorable={"alpha": (0.1, 0.9), "lr": (1e-4, 1e-2)},
    hypersphere=True,
    presets=("deep-svdd-vae-one-vs-all", "deep-svdd-vae-paper"),
    order=1,
)
