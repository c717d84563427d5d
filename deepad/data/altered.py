"""Image-alteration set-ups (`alteration` other than "none"): they make anomalies out of normal images
instead of taking them from other classes:
- "block-permutation" and "strokes" (Chong et al., Sec. V-A): every class of the dataset is normal
  (all natural images pooled; `normal` must list every class), and the anomalies are altered
  copies: one anomalous counterpart per natural validation and test image. For the
  semi-supervised variant (Chong et al., Table VI) the known anomalies are altered copies of training
  images made with `train_alteration`, which may differ from the test alteration (and
  `val_alteration` may be a third one).
- "fgsm" (Zhou et al., GTSRB): normal = the `normal` classes; a small classifier is trained on the
  training pools of every class, and the test anomalies are FGSM-perturbed copies of the normal
  test images (one per image), ε = `alteration_param`.
Pollution, when asked for, is unlabelled altered copies (test alteration) of training images not
used for known anomalies. Parts of these set-ups carry their unpreprocessed images in `raw`; their
`index` is the row of the natural image a sample was made from.

This module makes the altered copies (`alterer`); `deepad.data.splits` builds the split, the same
way for altered copies as for anomalies taken from other classes.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from deepad.data import generators
from deepad.data.types import Dataset

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
                                        epochs=generators.FGSM_CLASSIFIER_EPOCHS, seed=seed)
    with _CLASSIFIERS_LOCK:
        _CLASSIFIERS[key] = model
        while len(_CLASSIFIERS) > 2:
            _CLASSIFIERS.popitem(last=False)
    return model


def alterer(dataset: Dataset, plan: dict, pools: dict, seed: int):
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
