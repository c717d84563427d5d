"""Hyperparameters and declarations several detectors share: every deep detector's checkpoint, the
BiGANs (EGBAD, Rt-BiGAN) and the shallow baselines (their features). Torch-free: the detectors'
`__init__` files read it."""

from typing import Literal

from pydantic import Field

from deepad.detectors.spec import DetectorConfig

# Images as they are in [0, 1] (G ends in a sigmoid), tabular and toy data min-max scaled.
BIGAN_PREPROCESS = {"image": "unit", "*": "minmax"}
BIGAN_LOSSES = {"loss_d": "discriminator D", "loss_ge": "encoder E and generator G"}
BIGAN_EXPLORABLE = {"alpha": (0.1, 0.9), "lr": (1e-4, 1e-2)}


class DeepConfig(DetectorConfig):
    """What every deep detector's training loop shares (`deepad.detectors.training_loop`)."""

    checkpoint: Literal["last", "best-val"] = Field(
        "last", description="the weights that score, and set the threshold: the last epoch's, or "
                            "(best-val) those of the training epoch with the highest validation AUC. "
                            "best-val uses the validation part's labels (its anomalies included); that "
                            "part is disjoint from the test part, whose labels are never read",
        json_schema_extra={"group": "optimisation"})


class BiGANConfig(DeepConfig):
    alpha: float = Field(0.9, ge=0, le=1, description="α in A(x) = α·reconstruction + (1 − α)·feature "
                         "matching (EGBAD's MNIST choice is 0.9)",
                         json_schema_extra={"group": "objective", "lesson": True, "widget": "slider", "step": 0.05})
    latent_dim: int = Field(32, ge=2, le=512, description="size of the latent code z (EGBAD uses 200 on "
                            "full MNIST; 32 suits MNIST-5k)",
                            json_schema_extra={"group": "network"})
    width: int = Field(16, ge=2, le=256, description="channels of the first conv layer (MLP width / 4 "
                       "for tabular data); the other layers scale with it",
                       json_schema_extra={"group": "network"})
    lr: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of the BiGAN training epochs; "
                      "MNIST-5k's few hundred optimiser steps need a larger rate than full-MNIST runs "
                      "(EGBAD, seeds 0–2, digit 1 vs 20 % pollution: AUC 0.98 at 1e-3, 0.88–0.91 at 2e-4)",
                      json_schema_extra={"group": "optimisation", "lesson": True, "widget": "log"})
    batch_size: int = Field(32, ge=2, le=100000, description="minibatch size of the training epochs",
                            json_schema_extra={"group": "optimisation"})
    spectral_norm: bool = Field(True, description="spectrally normalise every layer of the "
                                "discriminator (Miyato et al. 2018; ALAD). Without it (and without "
                                "weight averaging) clean EGBAD failed on some seeds (digit 0, seed 2: "
                                "test AUC 0.17)")
    weight_average: float = Field(0.99, ge=0, lt=1, description="decay of the exponential moving "
                                  "average of the weights that scores (EGBAD's code: 0.999 over "
                                  "full-MNIST epochs; 0.99 averages the last ~100 steps here) and, in "
                                  "Rt-BiGAN's self-training, picks each round's pseudo-normal samples; "
                                  "0 uses the last weights",
                                  json_schema_extra={"widget": "slider", "step": 0.01})


SHALLOW_PREPROCESS = {"image": "unit"}  # pixels in [0, 1], as the libraries' peers feed them


class ShallowConfig(DetectorConfig):
    """The features a shallow baseline decides on: the flattened (preprocessed) input, or its PCA
    fitted on the training samples not labelled anomalous. No setting is chosen with labels."""

    features: Literal["pca", "raw"] = Field(
        "pca", description="what the model sees: PCA of the flattened input (fitted on the training "
                           "normals) or the raw flattened input",
        json_schema_extra={"group": "network"})
    pca_variance: float = Field(0.95, gt=0, le=1, description="PCA: keep the fewest components that "
                                "explain this share of the training normals' variance",
                                json_schema_extra={"group": "network", "widget": "slider", "step": 0.01,
                                                   "when": {"features": ["pca"]}})
    pca_components: int = Field(0, ge=0, le=4096, description="PCA: a fixed number of components instead "
                                "(0: by pca_variance)",
                                json_schema_extra={"group": "network", "when": {"features": ["pca"]}})
