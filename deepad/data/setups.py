"""Experiment set-ups: `SetupConfig` (which classes are normal, where the anomalies come from,
what the training data holds), its checks against a dataset, and the preview of an image
alteration. `deepad.data.splits.make_split` turns a set-up, a dataset and a seed into the split.
"""

from __future__ import annotations

from typing import Literal, Optional

import numpy as np
from pydantic import Field, model_validator

from deepad.configbase import ConfigModel
from deepad.data import generators
from deepad.data.types import Dataset
from deepad.errors import DeepADError


AlterationName = Literal["block-permutation", "strokes", "fgsm"]


class SetupConfig(ConfigModel):
    """Which classes are normal and what the training data holds."""


    normal: list[int] = Field(default_factory=lambda: [0], min_length=1, title="Normal class(es)",
                              description="normal class(es); several make an n-vs-m set-up")
    anomaly: Optional[list[int]] = Field(
        None, title="Anomaly classes at test",
        description="anomaly classes at test (default: every class that is not normal)")
    known_anomalies: float = Field(
        0, ge=0, title="Known anomalies in training",
        description="labelled anomalies in training: a count (>= 1) or a ratio of the normal training "
                    "samples (< 1)")
    known_classes: Optional[list[int]] = Field(
        None, title="…drawn from classes",
        description="anomaly classes the known anomalies come from (others stay unseen)")
    known_normals: int = Field(0, ge=0, title="Labelled normals",
                               description="normal training samples given the label 'normal'")
    pollution: float = Field(0.0, ge=0, lt=1, title="Pollution",
                             description="share of unlabelled anomalies in the training set")
    test_anomaly_share: Optional[float] = Field(
        None, gt=0, lt=1, title="Anomalies in the test set",
        description="share of anomalies in the test set, reached by leaving test anomalies (or, when "
                    "too few, test normals) out; default: every test sample of the test classes "
                    "(one-vs-all on MNIST: about 90 % anomalies)")
    val_fraction: float = Field(0.1, gt=0, lt=0.5)
    test_fraction: float = Field(0.3, gt=0, lt=0.9)
    preprocess: Literal["auto", "gcn", "unit", "standardize", "minmax"] = Field(
        "auto", title="Preprocessing",
        description="auto: the detector's choice, else GCN for images, standardize otherwise")
    alteration: Literal["none", "block-permutation", "strokes", "fgsm"] = Field(
        "none", description="image-alteration anomalies instead of other classes: block permutation "
                            "or strokes (every class normal, Chong et al.) or FGSM (Zhou et al.)")
    alteration_param: Optional[float] = Field(
        None, description="N blocks per side (block permutation, default 2), M stroke thickness in "
                          "pixels (strokes, default 5) or ε (FGSM, default 0.1)")
    train_alteration: Optional[AlterationName] = Field(
        None, description="alteration of the known (labelled) training anomalies; default: the test "
                          "alteration (Chong et al.'s Table VI uses a different one)")
    train_alteration_param: Optional[float] = Field(
        None, description="parameter of train_alteration (default: that alteration's default)")
    val_alteration: Optional[AlterationName] = Field(
        None, description="alteration of the validation anomalies; default: the test alteration")
    val_alteration_param: Optional[float] = Field(
        None, description="parameter of val_alteration (default: that alteration's default)")

    @model_validator(mode="after")
    def _check(self):
        if self.known_anomalies >= 1 and self.known_anomalies != int(self.known_anomalies):
            raise ValueError(f"known_anomalies={self.known_anomalies}: a count must be a whole number "
                             "(or give a ratio below 1)")
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ValueError("val_fraction + test_fraction must leave at least 10 % for training")
        if len(set(self.normal)) != len(self.normal):
            raise ValueError(f"normal={self.normal}: a class is repeated")
        self._check_alteration()
        if self.known_classes and self.known_anomalies == 0:
            raise ValueError(f"known_classes={self.known_classes}: the known anomalies are drawn from these "
                             "classes, but known_anomalies is 0; set known_anomalies (a count, or a ratio "
                             "below 1) or leave known_classes unset")
        return self

    def _check_alteration(self) -> None:
        if self.alteration == "none":
            for name in ("alteration_param", "train_alteration", "train_alteration_param",
                         "val_alteration", "val_alteration_param"):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name}={getattr(self, name)!r}: only applies to an "
                                     "image-alteration set-up; set alteration too (block-permutation, "
                                     "strokes or fgsm)")
            return
        if self.anomaly is not None:
            raise ValueError(f"anomaly={self.anomaly}: with alteration={self.alteration!r} the anomalies "
                             "are altered copies of normal images, not classes; leave anomaly unset")
        if self.known_classes is not None:
            raise ValueError(f"known_classes={self.known_classes}: with alteration={self.alteration!r} "
                             "known anomalies are altered copies (see train_alteration); leave "
                             "known_classes unset")
        for part in ("train", "val"):
            if getattr(self, f"{part}_alteration_param") is not None and getattr(self, f"{part}_alteration") is None:
                raise ValueError(f"{part}_alteration_param={getattr(self, f'{part}_alteration_param')}: "
                                 f"name the alteration it belongs to with {part}_alteration")
        if self.train_alteration is not None and self.known_anomalies == 0:
            raise ValueError(f"train_alteration={self.train_alteration!r} has no effect without known "
                             "anomalies: set known_anomalies (a count, or a ratio below 1)")
        for kind, param in self.alteration_plan().values():
            generators.check_param(kind, param)

    def alteration_plan(self) -> dict[str, tuple[str, float]]:
        """Part -> (alteration, parameter) with defaults filled in; {} without an alteration."""
        if self.alteration == "none":
            return {}

        def resolve(kind: str | None, param: float | None) -> tuple[str, float]:
            if kind is None:
                return test
            value = generators.DEFAULT_PARAMS[kind] if param is None else param
            return kind, int(value) if kind != "fgsm" and value == int(value) else value

        test = resolve(self.alteration, self.alteration_param)
        return {"train": resolve(self.train_alteration, self.train_alteration_param),
                "val": resolve(self.val_alteration, self.val_alteration_param), "test": test}


def check_classes(setup: SetupConfig, dataset: Dataset) -> tuple[list[int], list[int]]:
    """Resolve normal / anomaly classes, with a clear message for an unknown class."""

    n = len(dataset.classes)
    allowed = f"0..{n - 1}" + (f" ({', '.join(dataset.classes)})" if n <= 12 else "")
    for field, values in (("normal", setup.normal), ("anomaly", setup.anomaly or []),
                          ("known_classes", setup.known_classes or [])):
        bad = [c for c in values if not 0 <= c < n]
        if bad:
            raise DeepADError(f"{field}={','.join(map(str, values))}: class {bad[0]} does not exist in "
                              f"{dataset.name}; allowed classes are {allowed}")
    if setup.alteration != "none":
        return check_alteration(setup, dataset), []
    normal = sorted(setup.normal)
    anomaly = sorted(setup.anomaly) if setup.anomaly else [c for c in range(n) if c not in normal]
    if set(anomaly) & set(normal):
        raise DeepADError(f"anomaly={anomaly}: a class cannot be both normal and anomalous")
    if not anomaly:
        raise DeepADError(f"normal={normal}: every class of {dataset.name} is normal, so there is "
                          "nothing to detect; leave at least one class out")
    if setup.known_classes and not set(setup.known_classes) <= set(anomaly):
        raise DeepADError(f"known_classes={setup.known_classes}: known anomalies must come from "
                          f"anomaly classes {anomaly}")
    return normal, anomaly


def check_alteration(setup: SetupConfig, dataset: Dataset) -> list[int]:
    """An image-alteration set-up against its dataset: images only, every class normal for block
    permutation and strokes, parameters that fit the image size. Returns the normal classes."""

    if dataset.kind != "image":
        raise DeepADError(f"alteration={setup.alteration!r} alters images, but {dataset.name} is "
                          f"{dataset.kind} data; choose an image dataset or alteration 'none'")
    n = len(dataset.classes)
    normal = sorted(setup.normal)
    if setup.alteration in ("block-permutation", "strokes") and normal != list(range(n)):
        every = ",".join(map(str, range(n)))
        raise DeepADError(f"normal={','.join(map(str, setup.normal))}: alteration={setup.alteration!r} "
                          f"pools every class of {dataset.name} as normal (Chong et al.'s set-up); set "
                          f"normal to all classes: {every}")
    for kind, param in setup.alteration_plan().values():
        generators.check_param(kind, param, dataset.input_shape)
        if kind == "fgsm" and n < 2:
            raise DeepADError(f"alteration 'fgsm' needs a classifier, hence at least two classes; "
                              f"{dataset.name} has {n}")
    return normal


def preview(dataset: Dataset, setup: SetupConfig, n: int = 8, seed: int = 0,
            part: Literal["train", "val", "test"] = "test") -> tuple[np.ndarray, np.ndarray]:
    """(originals, altered): `n` natural images of the normal classes and their altered copies
    under the set-up's alteration for `part`, both (n, C, H, W) in [0, 1]. Seeded; for the
    dashboard's preview (FGSM first trains its small classifier on up to 5000 images)."""

    if setup.alteration == "none":
        raise DeepADError("preview shows an image alteration; set alteration to block-permutation, "
                          "strokes or fgsm")
    if part not in ("train", "val", "test"):
        raise DeepADError(f"part={part!r}: choose train, val or test")
    if n < 1:
        raise DeepADError(f"n={n}: ask for at least one image")
    normal, _ = check_classes(setup, dataset)
    kind, param = setup.alteration_plan()[part]
    rng = np.random.default_rng(seed)
    candidates = np.flatnonzero(np.isin(dataset.y, normal))
    rows = np.sort(rng.choice(candidates, min(n, len(candidates)), replace=False))
    model = None
    if kind == "fgsm":
        fit = rng.choice(len(dataset.y), min(5000, len(dataset.y)), replace=False)
        model = generators.train_classifier(dataset.x[fit], dataset.y[fit],
                                            epochs=generators.FGSM_CLASSIFIER_EPOCHS, seed=seed)
    originals = np.array(dataset.x[rows], dtype=np.float32)
    return originals, generators.alter(originals, kind, param, rng, model=model, labels=dataset.y[rows])
