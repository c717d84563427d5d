"""The parts of a split (`Part`: inputs, labels, ground truth and what a detector may see) and the
pieces every set-up builds them from: per-class pools and the test set's anomaly share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional

import numpy as np

from deepad.data.types import Dataset
from deepad.errors import DeepADError

if TYPE_CHECKING:
    from deepad.data.setups import SetupConfig


@dataclass
class Part:
    x: np.ndarray  # preprocessed inputs
    y: np.ndarray  # original class labels
    target: np.ndarray  # ground truth: 1 anomaly, 0 normal (hidden from detectors during fit)
    semi: np.ndarray  # what a detector may see: +1 known normal, -1 known anomaly, 0 unlabelled
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


def class_pools(dataset: Dataset, classes: list[int], setup: SetupConfig,
                 rng: np.random.Generator) -> dict[str, dict[int, np.ndarray]]:
    """Per class, disjoint train / val / test row numbers: the first `test_fraction` of a seeded
    permutation of the class goes to test, the next `val_fraction` to validation, the rest to
    training. Raises DeepADError when a class is too small for each part to get a sample."""
    pools: dict[str, dict[int, np.ndarray]] = {"train": {}, "val": {}, "test": {}}
    for c in classes:
        idx = rng.permutation(np.flatnonzero(dataset.y == c))
        n_test = int(round(len(idx) * setup.test_fraction))
        n_val = int(round(len(idx) * setup.val_fraction))
        if min(n_test, n_val, len(idx) - n_test - n_val) < 1:
            need = next(n for n in range(3, 10_000) if min(round(n * setup.test_fraction),
                                                           round(n * setup.val_fraction)) >= 1)
            raise DeepADError(
                f"class {dataset.classes[c]!r} of {dataset.name} has {len(idx)} sample(s): too few to give "
                f"the training, validation (val_fraction={setup.val_fraction}) and test "
                f"(test_fraction={setup.test_fraction}) parts one each; a class needs at least {need} "
                "samples here (add samples, or raise val_fraction)")
        pools["test"][c], pools["val"][c] = idx[:n_test], idx[n_test:n_test + n_val]
        pools["train"][c] = idx[n_test + n_val:]
    return pools


def check_normal_training(n_norm: int, normal: list[int], dataset: Dataset) -> None:
    if n_norm < 2:
        names = ", ".join(repr(dataset.classes[c]) for c in normal)
        raise DeepADError(f"normal={','.join(map(str, normal))}: only {n_norm} training sample(s) of "
                          f"class {names}; a detector needs at least 2 (use more data or more normal classes)")
