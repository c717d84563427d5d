"""Deep SVDD / Deep SAD with Chong et al.'s collapse regularizers (see README.md)."""

from typing import Literal

from pydantic import Field

from deepad.detectors._shared.configs import DeepConfig
from deepad.detectors.spec import DetectorSpec


class DeepSVDDConfig(DeepConfig):
    """`json_schema_extra` tells the Train form how to group the settings, which few a lesson varies
    (shown first) and when a setting cannot matter (drawn disabled with the reason)."""

    objective: Literal["one-class", "soft-boundary"] = Field(
        "one-class", description="one-class: mean distance to c; soft-boundary: radius R with slack ν",
        json_schema_extra={"group": "objective", "lesson": True})
    nu: float = Field(0.1, gt=0, le=1, description="ν: share of training samples allowed outside R "
                      "(soft-boundary)",
                      json_schema_extra={"widget": "slider", "step": 0.01, "group": "objective", "lesson": True,
                                         "what": "the soft-boundary objective's share of samples outside R",
                                         "when": {"objective": ["soft-boundary"]}})
    eta: float = Field(1.0, gt=0, description="η: weight of labelled samples (Deep SAD)",
                       json_schema_extra={"group": "objective", "when": {"labelled": [True]},
                                          "why": "the set-up gives no labelled samples (known anomalies "
                                                 "or labelled normals)"})
    rep_dim: int = Field(0, ge=0, le=512, description="size of the representation φ(x); 0: by input "
                         "shape, 128 for CIFAR-10-sized colour images and 32 otherwise, as in the papers",
                         json_schema_extra={"group": "network"})
    bias: bool = Field(False, description="bias terms in the network (a collapse trigger)",
                       json_schema_extra={"group": "network", "lesson": True})
    bn_affine: bool = Field(False, description="learnable BatchNorm shift and scale (a collapse trigger)",
                            json_schema_extra={"group": "network", "when": {"batchnorm": [True]}})
    batchnorm: bool = Field(True, description="BatchNorm layers in the network; without them bias terms "
                            "and bounded activations collapse easily", json_schema_extra={"group": "network"})
    activation: Literal["leaky_relu", "sigmoid", "tanh"] = Field(
        "leaky_relu", description="hidden activation; bounded ones can saturate (a collapse trigger)",
        json_schema_extra={"group": "network"})
    learnable_center: bool = Field(False, description="train c with the network (a collapse trigger)",
                                   json_schema_extra={"group": "objective"})
    reg: Literal["none", "noise", "variance"] = Field("none", description="collapse regularizer",
                                                      json_schema_extra={"group": "regularizer", "lesson": True,
                                                                         "noun": "regularizer"})
    k: int = Field(50, ge=1, le=1000, description="noise regularizer: number of random binary labels",
                   json_schema_extra={"widget": "slider", "group": "regularizer", "lesson": True,
                                      "what": "the noise regularizer's number of random labels",
                                      "when": {"reg": ["noise"]}})
    weighting: Literal["adaptive", "fixed"] = Field(
        "adaptive", description="regularizer weight: adaptive c_t (α, β) or the fixed reg_weight",
        json_schema_extra={"group": "regularizer", "when": {"reg": {"not": ["none"]}}})
    alpha: float = Field(0.9, ge=0, le=1, description="α: memory of the adaptive weight c_t",
                         json_schema_extra={"widget": "slider", "step": 0.05, "group": "regularizer", "lesson": True,
                                            "what": "the memory of the adaptive regularizer weight c_t",
                                            "when": {"reg": {"not": ["none"]}, "weighting": ["adaptive"]}})
    beta: float = Field(0.5, ge=0, le=1, description="β: target ratio L_SVDD / L_reg of the adaptive weight",
                        json_schema_extra={"widget": "slider", "step": 0.05, "group": "regularizer", "lesson": True,
                                           "what": "the target ratio of the adaptive regularizer weight c_t",
                                           "when": {"reg": {"not": ["none"]}, "weighting": ["adaptive"]}})
    reg_weight: float = Field(1.0, ge=0, description="fixed regularizer weight (weighting = fixed)",
                              json_schema_extra={"group": "regularizer",
                                                 "when": {"reg": {"not": ["none"]}, "weighting": ["fixed"]}})
    d0: float = Field(0.1, gt=0, description="variance regularizer: initial threshold d_0",
                      json_schema_extra={"group": "regularizer", "when": {"reg": ["variance"]}})
    r: int = Field(3, ge=1, description="variance regularizer: divide the threshold by 10 every r epochs",
                   json_schema_extra={"group": "regularizer", "when": {"reg": ["variance"]}})
    reg_lr_mult: float = Field(10.0, gt=0, description="learning-rate multiplier of the noise layer g",
                               json_schema_extra={"group": "regularizer", "when": {"reg": ["noise"]}})
    lr: float = Field(1e-3, gt=0, le=1, description="learning rate (the papers use 1e-4 for 150 epochs on "
                      "full MNIST; 1e-3 for 30 epochs does as well on MNIST-5k in a ninth of the time)",
                      json_schema_extra={"widget": "log", "group": "optimisation", "lesson": True})
    epochs: int = Field(30, ge=1, le=10000, description="Deep SVDD training epochs",
                        json_schema_extra={"group": "optimisation", "lesson": True})
    batch_size: int = Field(64, ge=2, le=100000, description="minibatch size",
                            json_schema_extra={"group": "optimisation"})
    weight_decay: float = Field(5e-7, ge=0, le=1, description="weight decay λ (0..1)",
                                json_schema_extra={"group": "optimisation", "widget": "number"})
    pretrain_epochs: int = Field(30, ge=0, le=10000, description="autoencoder pretraining epochs (0: none)",
                                 json_schema_extra={"group": "optimisation"})
    pretrain_lr: float = Field(1e-3, gt=0, le=1, description="autoencoder learning rate",
                               json_schema_extra={"group": "optimisation", "when": {"pretrain_epochs": {"not": [0]}}})
    warmup_epochs: int = Field(5, ge=0, description="soft-boundary: epochs before R is updated",
                               json_schema_extra={"group": "optimisation",
                                                  "when": {"objective": ["soft-boundary"]}})


def _records(cfg: DeepSVDDConfig) -> dict[str, int]:
    return {"pretrain": cfg.pretrain_epochs, "train": cfg.epochs}


SPEC = DetectorSpec(
    title="Deep SVDD / Deep SAD",
    summary=("Maps normal data into a small hypersphere around a centre c; the score is the "
             "distance to c. Labelled samples make it Deep SAD; regularizers allow bias terms."),
    Config=DeepSVDDConfig,
    implementation=f"{__name__}.detector:DeepSVDD",
    losses={"loss_svdd": "SVDD term", "loss_reg": "regularizer", "weighted_reg": "c_t × regularizer",
            "loss_rec": "reconstruction (pretraining)"},
    diagnostics={
        "c_t": ("regularizer weight c_t", "the adaptive weight of the regularizer", False),
        "batch_var": ("minibatch variance", "variance of φ within a minibatch", True),
        "mean_dist": ("mean squared distance to c", "what Deep SVDD minimises", True),
        "R": ("radius R", "soft-boundary radius", False),
    },
    phases={"pretrain": "autoencoder pretraining", "train": "training"},
    progress=("loss_svdd", "loss_reg", "c_t", "R"),
    headline=("c_t", "batch_var"),
    loss_caption=("The SVDD term pulls embeddings to the centre; the regularizer (when on) keeps them from "
                  "collapsing; c_t × regularizer is what it adds to the loss."),
    records=_records,
    explorable={"alpha": (0.1, 0.9), "beta": (0.1, 1.0), "k": (10, 200),
                "nu": (0.05, 0.2), "lr": (1e-4, 1e-2)},
    hypersphere=True,
    presets=("deep-svdd-standard", "collapse-trigger-no-batchnorm", "collapse-fix-batchnorm",
             "deep-svdd-paper"),
    smoke={"epochs": 2, "pretrain_epochs": 1},
    order=0,
)
