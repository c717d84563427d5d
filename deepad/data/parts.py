"""The parts of a split (`Part`: inputs, labels, ground truth and what a detector may see), the
split itself, and the test set's anomaly share. `deepad.data.splits` builds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from deepad.data.types import Dataset


@dataclass
class Part:
    x: np.ndarray  # preprocessed inputs
    y: np.ndarray  # original class labels
    target: np.ndarray  # ground truth: 1 anomaly, 0 normal (hidden from detectors during fit)
    # the label a detector is given (all it may see of the ground truth): +1 a known normal,
    # -1 a known anomaly, 0 unlabelled
    known_label: np.ndarray
    index: np.ndarray  # row numbers in the dataset, to show the raw sample
    # unpreprocessed inputs when some samples are not rows of the dataset (altered copies);
    # None means the raw inputs are dataset.x[index]
    raw: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.y)

    def raw_inputs(self, dataset: Dataset) -> np.ndarray:
        """The samples as they were before preprocessing (altered copies included)."""
        return self.raw if self.raw is not None else dataset.x[self.index]


@dataclass
class Split:
    train: Part
    val: Part
    test: Part
    dataset: Dataset
    normal: list[int]
    anomaly: list[int]
    preprocess: dict
    # image-alteration set-ups: part -> {"kind": ..., "param": ...} of the alteration used there
    alterations: Optional[dict] = None

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.train.x.shape[1:])

    @property
    def kind(self) -> str:
        return self.dataset.kind


def anomaly_share_counts(n_normal: int, n_anomaly: int, share: float) -> tuple[int, int]:
    """(normals, anomalies) to keep so that anomalies are `share` of the set, keeping as many
    samples as possible: all normals and fewer anomalies, or, when the anomalies are too few for
    that, all anomalies and fewer normals."""
    want_anomalies = int(round(share / (1 - share) * n_normal))
    if want_anomalies <= n_anomaly:
        return n_normal, max(want_anomalies, 1)
    return max(int(round((1 - share) / share * n_anomaly)), 1), n_anomaly


def anomaly_share_mask(target: np.ndarray, share: float | None, seed: int) -> np.ndarray:
    """Which samples of a test set (`target`: 1 anomaly, 0 normal) to keep so that anomalies are
    `share` of it (None: all), drawn at random with a seeded stream of their own so that the
    rest of the split does not change."""
    target = np.asarray(target).astype(bool)
    if share is None:
        return np.ones(len(target), bool)
    keep_n, keep_a = anomaly_share_counts(int(np.sum(~target)), int(np.sum(target)), share)
    rng = np.random.default_rng([seed, 5])
    keep = np.zeros(len(target), bool)
    for mask, n_keep in ((~target, keep_n), (target, keep_a)):
        keep[rng.permutation(np.flatnonzero(mask))[:n_keep]] = True
    return keep
