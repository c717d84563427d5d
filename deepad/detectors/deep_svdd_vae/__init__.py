"""Deep SVDD-VAE (Zhou et al., paper 001): a VAE whose latent means are pulled towards a centre
(see README.md)."""

from typing import Literal

from pydantic import Field

from deepad.detectors.spec import DetectorConfig, DetectorSpec


class DeepSVDDVAEConfig(DetectorConfig):
    alpha: float = Field(0.1, ge=0, le=1, description="α: weight of the VAE terms (KL + reconstruction) "
                         "against the SVDD distance. The reconstruction term is summed over the pixels "
                         "(hundreds per image against a distance near 1), so 0.1 keeps both in play; "
                         "near 1 the VAE dominates and the AUC falls as training goes on",
                         json_schema_extra={"widget": "slider", "step": 0.05})
    rep_dim: int = Field(0, ge=0, le=512, description="latent dimension d (size of μ(x)); 0: by input "
                         "shape, 128 for CIFAR-10-sized colour images and 32 otherwise (paper 001's Table 2)")
    likelihood: Literal["auto", "bernoulli", "gaussian"] = Field(
        "auto", description="decoder likelihood p(x|z): bernoulli (data in [0, 1]), gaussian (unit "
                            "variance), auto: bernoulli when the training data lie in [0, 1]")
    bias: bool = Field(True, description="bias terms and affine BatchNorm in the VAE (the paper "
                                         "allows them: the reconstruction term prevents collapse)")
    lr: float = Field(1e-3, gt=0, le=1, description="RMSprop learning rate",
                      json_schema_extra={"widget": "log"})
    epochs: int = Field(20, ge=1, le=10000, description="training epochs")
    batch_size: int = Field(200, ge=2, le=100000, description="minibatch size")
    weight_decay: float = Field(0.0, ge=0, le=1, description="weight decay λ (0..1)")


SPEC = DetectorSpec(
    name="deep-svdd-vae",
    title="Deep SVDD-VAE",
    summary=("A variational autoencoder trained jointly with a hypersphere in its latent space; the "
             "score is the distance of the latent mean to the centre."),
    Config=DeepSVDDVAEConfig,
    implementation=f"{__name__}.detector:DeepSVDDVAE",
    losses={"loss_rec": "reconstruction (negative log-likelihood)", "loss_kl": "KL to N(0, I)",
            "loss_svdd": "distance to the batch centre"},
    explorable={"alpha": (0.1, 0.9), "lr": (1e-4, 1e-2)},
    hypersphere=True,
    presets=("deep-svdd-vae-one-vs-all", "deep-svdd-vae-paper"),
    order=1,
)
