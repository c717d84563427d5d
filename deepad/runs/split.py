"""A run's split, handed from the process that creates the run to the one that trains it.

The split (which rows train, validate and test, what a detector may see of them, the altered
copies of an alteration set-up, the preprocessing fitted on the training part) is built and checked
once, when the run is created (`deepad.runs.create`). It is written into the run folder as
split.json (what a reader needs) and split.npz (the parts' rows and labels, and the unpreprocessed
inputs of parts that are not rows of the dataset), and the process that trains the run reads it
back from there: the preprocessed inputs are the fitted preprocessing applied to the dataset's rows
(or to the kept inputs), exactly as they were when the split was built, and nothing is drawn or
trained again (an alteration set-up's FGSM classifier included)."""

from __future__ import annotations

import numpy as np

from deepad.data.parts import Part, Split
from deepad.data.preprocess import apply_preprocess
from deepad.data.types import Dataset
from deepad.errors import DeepADError
from deepad.runs.layout import SPLIT_PARTS

PARTS = ("train", "val", "test")
LABELS = ("y", "target", "known_label", "index")


def split_record(split: Split) -> dict:
    """split.json: what a reader of the run needs to know of its split."""
    return {
        "dataset": split.dataset.name, "kind": split.kind, "classes": split.dataset.classes,
        "normal": split.normal, "anomaly": split.anomaly, "input_shape": list(split.input_shape),
        "preprocess": split.preprocess, "sizes": {"train": len(split.train), "val": len(split.val),
                                                  "test": len(split.test)},
        "n_samples": len(split.dataset.y),
        "feature_names": split.dataset.feature_names, "alterations": split.alterations}


def split_parts(split: Split) -> dict[str, np.ndarray]:
    """split.npz: per part its rows, labels, what a detector may see, and its unpreprocessed inputs
    when they are not rows of the dataset."""
    out = {}
    for name in PARTS:
        part = getattr(split, name)
        for label in LABELS:
            out[f"{name}_{label}"] = np.asarray(getattr(part, label))
        if part.raw is not None:
            out[f"{name}_raw"] = np.ascontiguousarray(part.raw, np.float32)
    return out


def split_from_parts(record: dict, parts: dict[str, np.ndarray], dataset: Dataset) -> Split:
    """The split as it was built, from split.json, split.npz and the run's dataset (DeepADError
    when they do not belong together, e.g. a dataset that changed since the run was created)."""
    n = len(dataset.y)
    if record.get("n_samples") != n or list(record.get("classes") or []) != list(dataset.classes):
        raise DeepADError(f"{SPLIT_PARTS}: the run's split was made from {record.get('n_samples')} samples of "
                          f"classes {record.get('classes')}; the dataset loaded now has {n} of classes "
                          f"{dataset.classes}: it changed since the run was created, create the run again")
    params = record["preprocess"]
    built = {}
    for name in PARTS:
        index = parts[f"{name}_index"]
        if len(index) and (index.min() < 0 or index.max() >= n):
            raise DeepADError(f"{SPLIT_PARTS}: the {name} part names rows outside the dataset (0..{n - 1})")
        raw = parts.get(f"{name}_raw")
        built[name] = Part(x=apply_preprocess(raw if raw is not None else dataset.x[index], params),
                           y=parts[f"{name}_y"], target=parts[f"{name}_target"],
                           known_label=parts[f"{name}_known_label"], index=index, raw=raw)
    return Split(**built, dataset=dataset, normal=list(record["normal"]), anomaly=list(record["anomaly"]),
                 preprocess=params, alterations=record.get("alterations"))
