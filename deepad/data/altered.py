"""Image-alteration set-ups (`alteration` other than "none"): they make anomalies out of normal images
instead of taking them from other classes:
- "block-permutation" and "strokes" (paper 000, Sec. V-A): every class of the dataset is normal
  (all natural images pooled; `normal` must list every class), and the anomalies are altered
  copies: one anomalous counterpart per natural validation and test image. For the
  semi-supervised variant (paper 000, Table VI) the known anomalies are altered copies of training
  images made with `train_alteration`, which may differ from the test alteration (and
  `val_alteration` may be a third one).
- "fgsm" (paper 001, GTSRB): normal = the `normal` classes; a small classifier is trained on the
  training pools of every class, and the test anomalies are FGSM-perturbed copies of the normal
  test images (one per image), ε = `alteration_param`.
Pollution, when asked for, is unlabelled altered copies (test alteration) of training images not
used for known anomalies. Parts of these set-ups carry their unpreprocessed images in `raw`; their
`index` is the row of the natural image a sample was made from.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING

import numpy as np

from deepad.data import generators
from deepad.data.parts import Part, Split, anomaly_share_mask, check_normal_training, class_pools
from deepad.data.preprocess import apply_preprocess, fit_preprocess
from deepad.data.types import Dataset
from deepad.errors import DeepADError

if TYPE_CHECKING:
    from deepad.data.setups import SetupConfig


FGSM_CLASSIFIER_EPOCHS = 3


def _alteration_counts(setup: SetupConfig, n_norm: int) -> tuple[int, int]:
    """(known anomalies, pollution) for an alteration set-up with n_norm natural training images;
    each is an altered copy of a different training image."""

    k = setup.known_anomalies
    n_known = int(k) if k >= 1 else int(round(k * n_norm))
    n_poll = int(round(setup.pollution / (1 - setup.pollution) * n_norm))
    if n_known + n_poll > n_norm:
        raise DeepADError(f"known_anomalies={n_known} and pollution={setup.pollution} ({n_poll} samples) "
                          f"need {n_known + n_poll} altered copies of different training images, but "
                          f"only {n_norm} exist; ask for fewer")
    if setup.known_normals > n_norm:
        raise DeepADError(f"known_normals={setup.known_normals}: only {n_norm} normal training "
                          "samples exist")
    return n_known, n_poll


_CLASSIFIERS: OrderedDict = OrderedDict()  # (dataset, rows, seed) -> trained FGSM classifier
_CLASSIFIERS_LOCK = threading.Lock()


def _fgsm_classifier(dataset: Dataset, fit_rows: np.ndarray, seed: int):
    """The small classifier FGSM perturbs against, trained once per dataset, training rows and
    seed and kept for the last two: checking a run's set-up and training the run then share one.
    The classifier is only read afterwards (FGSM differentiates with respect to the inputs)."""
    key = (dataset.name, dataset.x.shape, hashlib.sha1(fit_rows.tobytes()).hexdigest(), seed)
    with _CLASSIFIERS_LOCK:
        if key in _CLASSIFIERS:
            _CLASSIFIERS.move_to_end(key)
            return _CLASSIFIERS[key]
    model = generators.train_classifier(dataset.x[fit_rows], dataset.y[fit_rows],
                                        epochs=FGSM_CLASSIFIER_EPOCHS, seed=seed)
    with _CLASSIFIERS_LOCK:
        _CLASSIFIERS[key] = model
        while len(_CLASSIFIERS) > 2:
            _CLASSIFIERS.popitem(last=False)
    return model


def _alterer(dataset: Dataset, plan: dict, pools: dict, seed: int):
    """A function (rows, part, purpose) -> altered copies of dataset.x[rows], seeded per use. FGSM
    uses one small classifier trained on the training pools of every class (never val or test)."""
    model = None
    if any(kind == "fgsm" for kind, _ in plan.values()):
        fit_rows = np.sort(np.concatenate(list(pools["train"].values())))
        model = _fgsm_classifier(dataset, fit_rows, seed)
    streams = {"train": 1, "pollution": 2, "val": 3, "test": 4}

    def alter(rows: np.ndarray, part: str, purpose: str) -> np.ndarray:
        kind, param = plan[part]
        if len(rows) == 0:
            return dataset.x[rows].astype(np.float32)
        rng = np.random.default_rng([seed, streams[purpose]])
        return generators.alter(dataset.x[rows], kind, param, rng, model=model, labels=dataset.y[rows])

    return alter


def alteration_split(dataset: Dataset, setup: SetupConfig, normal: list[int], seed: int,
                     preprocess: str | None) -> Split:
    """The split of an image-alteration set-up whose checked normal classes are `normal`."""
    plan = setup.alteration_plan()
    rng = np.random.default_rng(seed)
    pools = class_pools(dataset, list(range(len(dataset.classes))), setup, rng)
    alter = _alterer(dataset, plan, pools, seed)

    train_nat = np.concatenate([pools["train"][c] for c in normal])
    n_norm = len(train_nat)
    check_normal_training(n_norm, normal, dataset)
    n_known, n_poll = _alteration_counts(setup, n_norm)
    sources = train_nat[rng.permutation(n_norm)[:n_known + n_poll]]
    known, polluted = sources[:n_known], sources[n_known:]
    train_idx = np.concatenate([train_nat, known, polluted])
    train_raw = np.concatenate([dataset.x[train_nat], alter(known, "train", "train"),
                                alter(polluted, "test", "pollution")])
    target = np.r_[np.zeros(n_norm), np.ones(n_known + n_poll)]
    semi = np.r_[np.zeros(n_norm), -np.ones(n_known), np.zeros(n_poll)]
    semi[rng.permutation(n_norm)[:setup.known_normals]] = 1
    order = rng.permutation(len(train_idx))

    method = setup.preprocess if setup.preprocess != "auto" else (preprocess or "gcn")
    params = fit_preprocess(train_raw, method)

    def part(idx: np.ndarray, raw: np.ndarray, target_: np.ndarray, semi_: np.ndarray) -> Part:
        return Part(x=apply_preprocess(raw, params), y=dataset.y[idx], target=target_.astype(np.int64),
                    semi=semi_.astype(np.int64), index=idx, raw=np.ascontiguousarray(raw, np.float32))

    def held_out(name: str) -> Part:
        nat = np.concatenate([pools[name][c] for c in normal])
        idx = np.concatenate([nat, nat])
        raw = np.concatenate([dataset.x[nat], alter(nat, name, name)])
        tgt = np.r_[np.zeros(len(nat)), np.ones(len(nat))]
        o = rng.permutation(len(idx))
        if name == "test":
            o = o[anomaly_share_mask(tgt[o], setup.test_anomaly_share, seed)]
        return part(idx[o], raw[o], tgt[o], np.zeros(len(o)))

    train = part(train_idx[order], train_raw[order], target[order], semi[order])
    return Split(train=train, val=held_out("val"), test=held_out("test"), dataset=dataset,
                 normal=normal, anomaly=[], preprocess=params,
                 alterations={p: {"kind": k, "param": v} for p, (k, v) in plan.items()})
