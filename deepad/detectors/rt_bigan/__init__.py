"""Rt-BiGAN (Ma et al.): Reptile meta-training, adaptation on known normals and
self-training of a BiGAN (see README.md)."""

import math
from typing import Literal

from pydantic import Field, model_validator

from deepad.detectors._shared.configs import BIGAN_EXPLORABLE, BIGAN_LOSSES, BIGAN_PREPROCESS, BiGANConfig
from deepad.detectors.spec import DetectorSpec, Requirement


class RtBiGANConfig(BiGANConfig):
    n_tasks: int = Field(10, ge=1, le=1000, description="meta-training tasks come from this many k-means "
                         "clusters of the training data (1: tasks are random subsets)")
    task_size: int = Field(10, ge=2, le=1000, description="samples per meta-training task, and per "
                           "adaptation batch")
    meta_iterations: int = Field(50, ge=0, le=100000, description="Reptile meta-iterations (the paper runs "
                                 "100 000 on full MNIST; scaled down for MNIST-5k)")
    meta_batch: int = Field(1, ge=1, le=100, description="tasks per meta-iteration; Φ moves towards the "
                            "average of their adapted weights")
    inner_steps: int = Field(5, ge=1, le=1000, description="K: adversarial steps on each task "
                             "(supervised-reptile: 5 on Omniglot, 8 on Mini-ImageNet)",
                             json_schema_extra={"group": "optimisation"})
    inner_lr: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of the task and adaptation "
                            "steps (supervised-reptile: 1e-3)",
                            json_schema_extra={"group": "optimisation", "widget": "log"})
    meta_update: Literal["interpolate", "adam"] = Field(
        "interpolate", description="interpolate: Reptile's Φ ← Φ + ε(W − Φ), ε annealed linearly from "
        "meta_step to meta_step_final (Nichol et al.); adam: Ma et al.'s Algorithm 1, an Adam step at "
        "meta_lr with gradient Φ − W (at 1e-4 it moves no weight by more than 0.005 in 50 iterations)")
    meta_step: float = Field(1.0, gt=0, le=1, description="ε of the first meta-iteration (interpolate; "
                             "supervised-reptile: 1.0)", json_schema_extra={"widget": "slider", "step": 0.05,
                                                                 "when": {"meta_update": ["interpolate"]}})
    meta_step_final: float = Field(0.0, ge=0, le=1, description="ε of the last meta-iteration "
                                   "(interpolate; supervised-reptile: 0)",
                                   json_schema_extra={"widget": "slider", "step": 0.05,
                                                      "when": {"meta_update": ["interpolate"]}})
    meta_lr: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of the meta-update on Φ − W "
                           "(adam)", json_schema_extra={"group": "optimisation", "widget": "log",
                                                    "when": {"meta_update": ["adam"]}})
    n_adapt: int = Field(10, ge=2, le=10000, description="known-normal samples the meta-model adapts on "
                         "(the paper uses 5–10); taken from the set-up's known normals")
    adapt_steps: int = Field(300, ge=1, le=100000, description="adversarial steps of the adaptation (the "
                             "paper fine-tunes 20 steps from a meta-model of 100 000 iterations; after the "
                             "few meta-iterations affordable here, 60 steps left digit 0 scored backwards, "
                             "AUC 0.1-0.3, and 300 steps reach 0.95 before self-training)",
                             json_schema_extra={"group": "optimisation"})
    rounds: int = Field(3, ge=0, le=100, description="self-training rounds (0: stop after adaptation)")
    round_epochs: int = Field(5, ge=1, le=10000, description="training epochs on the pseudo-normal set "
                              "per round",
                              json_schema_extra={"group": "optimisation"})
    pseudo_label: Literal["share", "known-normals"] = Field(
        "share", description="how each round picks its pseudo-normal training samples. share: the "
        "threshold_quantile share with the lowest scores (0.5 by default: assumes only that anomalies "
        "are a minority); known-normals: those scoring at most the known_normal_quantile of the known "
        "normals' scores under the current model. Chosen on validation AUC (bench/paper_tables.py "
        "--ablations threshold): at 10 % pollution share 0.5 kept 1 % pollution and the highest known "
        "normal up to 10 %")
    known_normal_quantile: float = Field(1.0, gt=0, le=1, description="known-normals rule: the quantile "
                                         "of the known normals' scores below which a training sample "
                                         "counts as normal (1: the highest-scoring known normal)",
                                         json_schema_extra={"widget": "slider", "step": 0.05,
                                                            "when": {"pseudo_label": ["known-normals"]}})
    threshold_quantile: float = Field(0.5, gt=0, le=1, description="share rule: each round keeps as "
                                      "pseudo-normal the training samples scoring below this quantile "
                                      "(0.5 assumes only that anomalies are a minority; setting it to "
                                      "1 − the true pollution would be an oracle)",
                                      json_schema_extra={"widget": "slider", "step": 0.05,
                                                         "when": {"pseudo_label": ["share"]}})

    @model_validator(mode="after")
    def _check_adaptation(self):
        if self.n_adapt < self.task_size:
            raise ValueError(f"n_adapt={self.n_adapt} is smaller than task_size={self.task_size}: the "
                             f"adaptation draws batches of task_size samples from the n_adapt known "
                             f"normals; raise n_adapt to at least {self.task_size} or lower task_size")
        return self


def _records(cfg: RtBiGANConfig) -> dict[str, int]:
    """One record per tenth of the meta-iterations, one for the adaptation, then the
    self-training epochs."""
    block = max(1, math.ceil(cfg.meta_iterations / 10))
    return {"meta": math.ceil(cfg.meta_iterations / block), "adapt": 1,
            "train": cfg.rounds * cfg.round_epochs}


SPEC = DetectorSpec(
    title="Rt-BiGAN (Reptile + self-training)",
    summary=("A BiGAN meta-trained with Reptile, adapted on a few known normals, then self-trained on "
             "the training samples it scores as normal; made for polluted training data."),
    Config=RtBiGANConfig,
    implementation=f"{__name__}.detector:RtBiGAN",
    losses=BIGAN_LOSSES,
    phases={"meta": "meta-training", "adapt": "adaptation", "train": "self-training"},
    records=_records,
    explorable=BIGAN_EXPLORABLE,
    requires=(Requirement("known_normals", "n_adapt", noun="known normals", flag="--known-normals"),),
    preprocess=BIGAN_PREPROCESS,
    # Ma et al.: a few known normals (5-10) and polluted training data (20 % here, as its presets)
    setup_defaults={"known_normals": 10, "pollution": 0.2},
    presets=("rt-bigan-polluted", "rt-bigan-fashion-pollution"),
    smoke={"meta_iterations": 4, "inner_steps": 2, "adapt_steps": 3, "rounds": 2, "round_epochs": 1,
           "task_size": 5, "n_adapt": 5},
    order=6,
)
