"""Score new inputs with a finished run's saved model and preprocessing: `python -m deepad score`
and the dashboard's "score your own input".

The inputs go through exactly what the run's own test samples went through: the preprocessing
fitted on its training data (saved in split.json), then the saved detector. `anomalous` compares
the score with the run's threshold (the method's own, e.g. R² for soft-boundary Deep SVDD, else
the 95th percentile of the training scores); `distance` is ‖φ(x) − c‖ where the method has a
centre c.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepad.errors import DeepADError
from deepad.store import RunRecord


def run_threshold(run: RunRecord, results: dict | None = None) -> float:
    """The run's decision threshold: the method's own when it has one, else the 95th percentile
    of the training scores (of the test scores when no training scores were kept)."""
    thr = run.summary.get("threshold")
    if thr is not None and np.isfinite(thr):
        return float(thr)
    results = results if results is not None else run.results()
    if results is None:
        raise DeepADError(f"run {run.run_id} has no results (state: {run.state}); score with a finished run")
    ref = results.get("train_scores")
    if ref is None or not len(ref):
        ref = results["test_scores"]
    return float(np.percentile(ref, 95))


def expected_shape(run: RunRecord) -> tuple[int, ...]:
    shape = run.split_info().get("input_shape")
    if not shape:
        raise DeepADError(f"run {run.run_id} has no saved split (state: {run.state}); score with a finished run")
    return tuple(int(v) for v in shape)


def _shape_text(shape: tuple[int, ...]) -> str:
    if len(shape) == 3:
        c, h, w = shape
        return f"images of {h}×{w} pixels with {c} channel{'s' if c > 1 else ''} ({'RGB' if c == 3 else 'grayscale'})"
    return f"rows of {shape[0]} number{'s' if shape[0] > 1 else ''}"


def check_inputs(run: RunRecord, x: np.ndarray, columns: list[str] | None = None,
                 feature_names: list[str] | None = None) -> np.ndarray:
    """The inputs as the run expects them, or DeepADError naming the expected shape. Table rows
    are matched to the run's features by column name when the file has all of them."""
    shape = expected_shape(run)
    x = np.asarray(x, dtype=np.float32)
    if x.ndim == 2 and len(shape) == 1 and columns and feature_names and set(feature_names) <= set(columns):
        x = x[:, [columns.index(c) for c in feature_names]]
    if tuple(x.shape[1:]) != shape:
        got = ("images of {1}×{2} pixels with {0} channel(s)".format(*x.shape[1:]) if x.ndim == 4
               else f"rows of {x.shape[1]} numbers" if x.ndim == 2 else f"samples of shape {x.shape[1:]}")
        names = f" (columns {', '.join(feature_names)})" if len(shape) == 1 and feature_names else ""
        raise DeepADError(f"run {run.run_id} expects {_shape_text(shape)}, i.e. shape "
                          f"(n, {', '.join(map(str, shape))}){names}; got {got}")
    if not np.isfinite(x).all():
        raise DeepADError("every value to score must be a finite number; found NaN or infinite values")
    return x


@dataclass
class Scored:
    score: np.ndarray  # (n,) higher = more anomalous
    anomalous: np.ndarray  # (n,) bool: score above the threshold
    threshold: float
    distance: np.ndarray | None  # (n,) ‖φ(x) − c‖ where the method has a centre
    embedding: np.ndarray  # (n, d) φ(x)


def score(run: RunRecord, x: np.ndarray, detector=None, results: dict | None = None) -> Scored:
    """Scores of raw inputs (as in the dataset, already checked by `check_inputs`)."""
    from deepad.data.preprocess import apply_preprocess

    det = detector or run.load_detector()
    z = apply_preprocess(np.asarray(x, dtype=np.float32), run.split_info()["preprocess"])
    s = np.asarray(det.score(z), dtype=np.float64)
    emb = np.asarray(det.embed(z), dtype=np.float64).reshape(len(z), -1)
    dist = None
    if det.center is not None:
        dist = np.sqrt(((emb - np.asarray(det.center, np.float64).reshape(1, -1)) ** 2).sum(axis=1))
    thr = run_threshold(run, results)
    return Scored(s, s > thr, thr, dist, emb)


def score_file(run: RunRecord, path) -> list[dict]:
    """One dict per input of the file (CSV, NPZ, image, zip or folder of images), in its order."""
    from deepad.data.uploads import read_inputs

    inputs = read_inputs(path)
    names = None
    if inputs.kind == "tabular" and len(expected_shape(run)) == 1:
        names = run.load_dataset().feature_names or None
    x = check_inputs(run, inputs.x, inputs.columns, names)
    out = score(run, x)
    rows = []
    for i, name in enumerate(inputs.names):
        row = {"input": name, "score": float(out.score[i]), "anomalous": bool(out.anomalous[i]),
               "threshold": out.threshold}
        if out.distance is not None:
            row["distance"] = float(out.distance[i])
        rows.append(row)
    return rows
