"""One builder for every set-up's split, pure and seeded: dataset + set-up + seed -> train / val / test.

Every class is first split, per class, into disjoint train / validation / test pools, so the
validation part never draws on the test part. Then, for every set-up alike:
- train: the normal classes' train pool, plus `known_anomalies` labelled anomalies, unlabelled
  pollution (a `pollution` share of the training set) and `known_normals` normals labelled normal;
- val and test: held out, every sample's ground truth known; the test part trimmed to
  `test_anomaly_share` when asked.

Only where the anomalies come from differs, and that is the anomaly source's whole job:
- `OtherClasses`: samples of the anomaly classes;
- `AlteredCopies` (`alteration` other than "none", see `deepad.data.altered`): altered copies of
  normal images; every held-out normal image has its altered counterpart.
"""

from __future__ import annotations

import numpy as np

from deepad.data.altered import alterer
from deepad.data.parts import Part, Split, anomaly_share_mask
from deepad.data.preprocess import apply_preprocess, fit_preprocess
from deepad.data.setups import SetupConfig, check_classes
from deepad.data.types import Dataset
from deepad.errors import DeepADError


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


def training_anomaly_counts(setup: SetupConfig, n_normal: int) -> tuple[int, int]:
    """(known anomalies, pollution) for a training set with `n_normal` normal samples: the known
    anomalies as a count or a ratio of the normals, the pollution as its share of the whole."""
    k = setup.known_anomalies
    n_known = int(k) if k >= 1 else int(round(k * n_normal))
    return n_known, int(round(setup.pollution / (1 - setup.pollution) * n_normal))


def _rows(pools: dict[int, np.ndarray], classes: list[int]) -> np.ndarray:
    return np.concatenate([pools[c] for c in classes])


class OtherClasses:
    """Natural anomalies: the samples of the anomaly classes; known anomalies from `known_classes`
    (default: every anomaly class), pollution from any anomaly class, never a known anomaly again."""

    held_out_order = ("test", "val")  # the order the split's seeded stream shuffles them in
    keeps_inputs = False  # every sample is a row of the dataset

    def __init__(self, dataset: Dataset, setup: SetupConfig, normal: list[int], anomaly: list[int]):
        self.dataset, self.setup, self.anomaly = dataset, setup, anomaly
        self.classes = normal + anomaly  # the classes split into pools
        self.alterations = None

    def start(self, pools: dict, seed: int) -> None:
        pass

    def draw(self, pools: dict, normal_rows: np.ndarray, n_known: int, n_poll: int,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        known_from = self.setup.known_classes or self.anomaly
        avail = rng.permutation(_rows(pools["train"], known_from))
        if n_known > len(avail):
            raise DeepADError(f"known_anomalies={n_known}: only {len(avail)} training samples of classes "
                              f"{known_from} are available; ask for at most {len(avail)}")
        known = avail[:n_known]
        rest = np.setdiff1d(_rows(pools["train"], self.anomaly), known)
        if n_poll > len(rest):
            raise DeepADError(f"pollution={self.setup.pollution}: needs {n_poll} anomalies but only "
                              f"{len(rest)} are available; lower the pollution ratio")
        return known, rng.permutation(rest)[:n_poll]

    def training_inputs(self, rows: np.ndarray, n_normal: int, n_known: int) -> np.ndarray:
        return self.dataset.x[rows]

    def held_out(self, pools: dict, name: str) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """(rows, unpreprocessed inputs or None for the dataset's own, ground truth) of a held-out part."""
        rows = _rows(pools[name], self.classes)
        return rows, None, np.isin(self.dataset.y[rows], self.anomaly)


class AlteredCopies:
    """Image-alteration anomalies: altered copies of normal images, each known anomaly and each
    polluting sample made from a different training image (the known ones with the training
    alteration, the pollution with the test one); every held-out normal image joined by its copy."""

    held_out_order = ("val", "test")  # the order the split's seeded stream shuffles them in
    keeps_inputs = True  # the copies are not rows of the dataset: the parts carry them in `raw`

    def __init__(self, dataset: Dataset, setup: SetupConfig, normal: list[int]):
        self.dataset, self.setup, self.normal = dataset, setup, normal
        self.classes = list(range(len(dataset.classes)))  # FGSM's classifier learns every class
        self.anomaly: list[int] = []
        plan = setup.alteration_plan()
        self.plan = plan
        self.alterations = {p: {"kind": k, "param": v} for p, (k, v) in plan.items()}

    def start(self, pools: dict, seed: int) -> None:
        self.alter = alterer(self.dataset, self.plan, pools, seed)

    def draw(self, pools: dict, normal_rows: np.ndarray, n_known: int, n_poll: int,
             rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        n_normal = len(normal_rows)
        if n_known + n_poll > n_normal:
            raise DeepADError(f"known_anomalies={n_known} and pollution={self.setup.pollution} ({n_poll} "
                              f"samples) need {n_known + n_poll} altered copies of different training images, "
                              f"but only {n_normal} exist; ask for fewer")
        sources = normal_rows[rng.permutation(n_normal)[:n_known + n_poll]]
        return sources[:n_known], sources[n_known:]

    def training_inputs(self, rows: np.ndarray, n_normal: int, n_known: int) -> np.ndarray:
        normal, known, polluted = np.split(rows, [n_normal, n_normal + n_known])
        return np.concatenate([self.dataset.x[normal], self.alter(known, "train", "train"),
                               self.alter(polluted, "test", "pollution")])

    def held_out(self, pools: dict, name: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        natural = _rows(pools[name], self.normal)
        inputs = np.concatenate([self.dataset.x[natural], self.alter(natural, name, name)])
        return np.r_[natural, natural], inputs, np.r_[np.zeros(len(natural)), np.ones(len(natural))]


def make_split(dataset: Dataset, setup: SetupConfig, seed: int = 0,
               preprocess: str | None = None) -> Split:
    """Pure and seeded: the same dataset, set-up and seed always give the same split (a run's split
    is rebuilt from its config, so the order of the random draws is part of the contract).
    `preprocess` overrides `setup.preprocess == "auto"` (a detector's own preference)."""

    normal, anomaly = check_classes(setup, dataset)
    source = (AlteredCopies(dataset, setup, normal) if setup.alteration != "none"
              else OtherClasses(dataset, setup, normal, anomaly))
    rng = np.random.default_rng(seed)
    pools = class_pools(dataset, source.classes, setup, rng)
    source.start(pools, seed)

    normal_rows = _rows(pools["train"], normal)
    n_normal = len(normal_rows)
    if n_normal < 2:
        names = ", ".join(repr(dataset.classes[c]) for c in normal)
        raise DeepADError(f"normal={','.join(map(str, normal))}: only {n_normal} training sample(s) of "
                          f"class {names}; a detector needs at least 2 (use more data or more normal classes)")
    known, polluted = source.draw(pools, normal_rows, *training_anomaly_counts(setup, n_normal), rng)
    if setup.known_normals > n_normal:
        raise DeepADError(f"known_normals={setup.known_normals}: only {n_normal} normal training "
                          "samples exist")
    rows = np.concatenate([normal_rows, known, polluted])
    inputs = source.training_inputs(rows, n_normal, len(known))  # unpreprocessed, in the order of `rows`
    target = np.r_[np.zeros(n_normal), np.ones(len(known) + len(polluted))]
    known_label = np.r_[np.zeros(n_normal), -np.ones(len(known)), np.zeros(len(polluted))]
    known_label[rng.permutation(n_normal)[:setup.known_normals]] = 1
    order = rng.permutation(len(rows))
    rows, inputs, target, known_label = rows[order], inputs[order], target[order], known_label[order]

    method = setup.preprocess if setup.preprocess != "auto" else (
        preprocess or ("gcn" if dataset.kind == "image" else "standardize"))
    params = fit_preprocess(inputs, method)

    def part(rows_: np.ndarray, inputs_: np.ndarray, target_: np.ndarray, known_label_: np.ndarray) -> Part:
        return Part(x=apply_preprocess(inputs_, params), y=dataset.y[rows_], target=target_.astype(np.int64),
                    known_label=known_label_.astype(np.int64), index=rows_,
                    raw=np.ascontiguousarray(inputs_, np.float32) if source.keeps_inputs else None)

    def held_out(name: str) -> Part:
        rows_, inputs_, target_ = source.held_out(pools, name)
        o = rng.permutation(len(rows_))
        if name == "test":
            o = o[anomaly_share_mask(target_[o], setup.test_anomaly_share, seed)]
        return part(rows_[o], dataset.x[rows_[o]] if inputs_ is None else inputs_[o], target_[o], np.zeros(len(o)))

    held = {name: held_out(name) for name in source.held_out_order}
    return Split(train=part(rows, inputs, target, known_label), val=held["val"],
                 test=held["test"], dataset=dataset, normal=normal, anomaly=anomaly, preprocess=params,
                 alterations=source.alterations)
