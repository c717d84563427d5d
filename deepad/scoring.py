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
from deepad.runs.read import RunRecord
from deepad.runs.reopen import run_dataset, run_detector


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

    det = detector or run_detector(run)
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

    if run.damage:
        raise DeepADError(f"run {run.run_id} is damaged ({'; '.join(run.damage)}); score with another run")
    shape = expected_shape(run)
    inputs = read_inputs(path, image_shape=shape if len(shape) == 3 else None)
    names = None
    if inputs.kind == "tabular" and len(expected_shape(run)) == 1:
        names = run_dataset(run).feature_names or None
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


# --- the dashboard's own input: a drawing, one image, a point ----------------------------------------
def drawing_to_input(rgba: np.ndarray, shape: tuple[int, ...], frame: float = 20 / 28) -> np.ndarray | None:
    """A drawing (canvas pixels, light strokes on a dark background, RGBA or gray) as one input of
    `shape` (C, H, W) in [0, 1], prepared the way MNIST digits were: the ink's bounding box scaled
    to fit `frame` of the image (20 of 28 pixels), then centred by its centre of mass. None when
    nothing is drawn."""
    from PIL import Image

    a = np.asarray(rgba, dtype=np.float32)
    if a.ndim == 3:
        rgb = a[..., :3].mean(axis=2)
        ink = rgb * (a[..., 3] / 255.0) if a.shape[2] == 4 else rgb
    else:
        ink = a
    ink = ink / max(float(ink.max()), 1e-6) if ink.max() > 1 else ink
    rows, cols = np.flatnonzero(ink.max(axis=1) > 0.05), np.flatnonzero(ink.max(axis=0) > 0.05)
    if not len(rows) or not len(cols):
        return None
    box = ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]
    c, h, w = shape
    side = max(1, int(round(frame * min(h, w))))
    scale = side / max(box.shape)
    size = (max(1, int(round(box.shape[1] * scale))), max(1, int(round(box.shape[0] * scale))))
    small = np.asarray(Image.fromarray((box * 255).astype(np.uint8)).resize(size, Image.LANCZOS),
                       dtype=np.float32) / 255.0
    out = np.zeros((h, w), np.float32)
    top, left = (h - small.shape[0]) // 2, (w - small.shape[1]) // 2
    out[top:top + small.shape[0], left:left + small.shape[1]] = small
    if out.sum() > 0:  # centre of mass to the middle, as MNIST did
        yy, xx = np.indices(out.shape)
        dy = int(round((h - 1) / 2 - (yy * out).sum() / out.sum()))
        dx = int(round((w - 1) / 2 - (xx * out).sum() / out.sum()))
        out = np.roll(np.roll(out, dy, axis=0), dx, axis=1)
    return np.repeat(np.clip(out, 0, 1)[None], c, axis=0)


def image_to_input(data: bytes, filename: str, shape: tuple[int, ...], invert: bool | None = None):
    """One uploaded image as one input of `shape` (C, H, W): decoded (never executed), made gray
    or RGB, resized to H×W. `invert` turns dark ink on a light background into light on dark,
    as the built-in digits are; None decides by the border (light border: invert).
    Returns (input, inverted)."""
    from PIL import Image

    from deepad.data.uploads import read_inputs

    img = read_inputs(data=data, filename=filename).x[0]  # (C, h, w) in [0, 1]
    c, h, w = shape
    gray = img.mean(axis=0) if c == 1 else None
    planes = [gray] if c == 1 else [img[min(i, len(img) - 1)] for i in range(3)]
    resized = [np.asarray(Image.fromarray(p.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR))
               for p in planes]
    x = np.clip(np.stack(resized), 0, 1).astype(np.float32)
    if invert is None:
        border = np.concatenate([x[:, 0].ravel(), x[:, -1].ravel(), x[:, :, 0].ravel(), x[:, :, -1].ravel()])
        invert = float(border.mean()) > 0.5
    return (1.0 - x if invert else x), bool(invert)


def nearest(emb: np.ndarray, reference: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """(rows, distances) of the k reference embeddings nearest to `emb` (one embedding)."""
    ref = np.asarray(reference, np.float64).reshape(len(reference), -1)
    d = np.sqrt(((ref - np.asarray(emb, np.float64).reshape(1, -1)) ** 2).sum(axis=1))
    rows = np.argsort(d, kind="stable")[:k]
    return rows, d[rows]


def rank_among(score_value: float, scores: np.ndarray) -> float:
    """Share of `scores` below this score (0: the most normal of them, 1: above them all)."""
    return float(np.mean(np.asarray(scores) < score_value)) if len(scores) else 0.0
