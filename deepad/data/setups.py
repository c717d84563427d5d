"""Experiment set-ups as pure, seeded functions: dataset + set-up + seed -> train / val / test.

Every class is first split, per class, into disjoint train / validation / test pools, so the
validation part never draws on the test part. Then:
- train: the normal classes' train pool, plus labelled ("known") anomalies and unlabelled
  pollution drawn from the anomaly classes' train pool;
- val and test: the normal and anomaly classes' own pools, labelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from deepad.data.datasets import Dataset
from deepad.data.preprocess import apply_preprocess, fit_preprocess


@dataclass
class Part:
    x: np.ndarray  # preprocessed inputs
    y: np.ndarray  # original class labels
    target: np.ndarray  # ground truth: 1 anomaly, 0 normal (hidden from detectors during fit)
    semi: np.ndarray  # what a detector may see: +1 known normal, -1 known anomaly, 0 unlabelled
    index: np.ndarray  # row numbers in the dataset, to show the raw sample

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class Split:
    train: Part
    val: Part
    test: Part
    dataset: Dataset
    normal: list[int]
    anomaly: list[int]
    preprocess: dict

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train.x.shape[1:])

    @property
    def kind(self) -> str:
        return self.dataset.kind


class SetupConfig(BaseModel):
    """Which classes are normal and what the training data holds."""

    model_config = ConfigDict(extra="forbid")

    normal: list[int] = Field(default_factory=lambda: [0], min_length=1,
                              description="normal class(es); several make an n-vs-m set-up")
    anomaly: Optional[list[int]] = Field(
        None, description="anomaly classes at test (default: every class that is not normal)")
    known_anomalies: float = Field(
        0, ge=0, description="labelled anomalies in training: a count (>= 1) or a ratio of the "
                             "normal training samples (< 1)")
    known_classes: Optional[list[int]] = Field(
        None, description="anomaly classes the known anomalies come from (others stay unseen)")
    known_normals: int = Field(0, ge=0, description="normal training samples given the label 'normal'")
    pollution: float = Field(0.0, ge=0, lt=1,
                             description="share of unlabelled anomalies in the training set")
    val_fraction: float = Field(0.1, gt=0, lt=0.5)
    test_fraction: float = Field(0.3, gt=0, lt=0.9)
    preprocess: Literal["auto", "gcn", "unit", "standardize", "minmax"] = Field(
        "auto", description="auto: the detector's choice, else GCN for images, standardize otherwise")

    @model_validator(mode="after")
    def _check(self):
        if self.known_anomalies >= 1 and self.known_anomalies != int(self.known_anomalies):
            raise ValueError(f"known_anomalies={self.known_anomalies}: a count must be a whole number "
                             "(or give a ratio below 1)")
        if self.val_fraction + self.test_fraction >= 0.9:
            raise ValueError("val_fraction + test_fraction must leave at least 10 % for training")
        if len(set(self.normal)) != len(self.normal):
            raise ValueError(f"normal={self.normal}: a class is repeated")
        return self


def check_classes(setup: SetupConfig, dataset: Dataset) -> tuple[list[int], list[int]]:
    """Resolve normal / anomaly classes, with a clear message for an unknown class."""
    from deepad.errors import DeepADError

    n = len(dataset.classes)
    allowed = f"0..{n - 1}" + (f" ({', '.join(dataset.classes)})" if n <= 12 else "")
    for field, values in (("normal", setup.normal), ("anomaly", setup.anomaly or []),
                          ("known_classes", setup.known_classes or [])):
        bad = [c for c in values if not 0 <= c < n]
        if bad:
            raise DeepADError(f"{field}={','.join(map(str, values))}: class {bad[0]} does not exist in "
                              f"{dataset.name}; allowed classes are {allowed}")
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


def make_split(dataset: Dataset, setup: SetupConfig, seed: int = 0,
               preprocess: str | None = None) -> Split:
    """Pure and seeded: the same dataset, set-up and seed always give the same split.
    `preprocess` overrides `setup.preprocess == "auto"` (a detector's own preference)."""
    from deepad.errors import DeepADError

    normal, anomaly = check_classes(setup, dataset)
    rng = np.random.default_rng(seed)
    pools: dict[str, dict[int, np.ndarray]] = {"train": {}, "val": {}, "test": {}}
    for c in normal + anomaly:
        idx = rng.permutation(np.flatnonzero(dataset.y == c))
        n_test = int(round(len(idx) * setup.test_fraction))
        n_val = int(round(len(idx) * setup.val_fraction))
        pools["test"][c], pools["val"][c] = idx[:n_test], idx[n_test:n_test + n_val]
        pools["train"][c] = idx[n_test + n_val:]

    train_normal = np.concatenate([pools["train"][c] for c in normal])
    n_norm = len(train_normal)
    # labelled anomalies
    k = setup.known_anomalies
    n_known = int(k) if k >= 1 else int(round(k * n_norm))
    known_from = setup.known_classes or anomaly
    avail = rng.permutation(np.concatenate([pools["train"][c] for c in known_from]))
    if n_known > len(avail):
        raise DeepADError(f"known_anomalies={n_known}: only {len(avail)} training samples of classes "
                          f"{known_from} are available; ask for at most {len(avail)}")
    known = avail[:n_known]
    # unlabelled pollution, from any anomaly class, never reusing a known anomaly
    rest = np.setdiff1d(np.concatenate([pools["train"][c] for c in anomaly]), known)
    n_poll = int(round(setup.pollution / (1 - setup.pollution) * n_norm))
    if n_poll > len(rest):
        raise DeepADError(f"pollution={setup.pollution}: needs {n_poll} anomalies but only "
                          f"{len(rest)} are available; lower the pollution ratio")
    polluted = rng.permutation(rest)[:n_poll]
    if setup.known_normals > n_norm:
        raise DeepADError(f"known_normals={setup.known_normals}: only {n_norm} normal training "
                          "samples exist")

    train_idx = np.concatenate([train_normal, known, polluted])
    semi = np.r_[np.zeros(n_norm), -np.ones(len(known)), np.zeros(len(polluted))]
    semi[rng.permutation(n_norm)[:setup.known_normals]] = 1
    order = rng.permutation(len(train_idx))
    train_idx, semi = train_idx[order], semi[order]

    method = setup.preprocess if setup.preprocess != "auto" else (
        preprocess or ("gcn" if dataset.kind == "image" else "standardize"))
    params = fit_preprocess(dataset.x[train_idx], method)

    def part(idx: np.ndarray, semi_: np.ndarray | None = None) -> Part:
        y = dataset.y[idx]
        return Part(x=apply_preprocess(dataset.x[idx], params), y=y,
                    target=np.isin(y, anomaly).astype(np.int64),
                    semi=(semi_ if semi_ is not None else np.zeros(len(idx))).astype(np.int64),
                    index=idx)

    def held_out(name: str) -> np.ndarray:
        return rng.permutation(np.concatenate([pools[name][c] for c in normal + anomaly]))

    return Split(train=part(train_idx, semi), val=part(held_out("val")), test=part(held_out("test")),
                 dataset=dataset, normal=normal, anomaly=anomaly, preprocess=params)
