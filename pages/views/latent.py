"""The Latent space page's numbers (the Lesson and Score pages use them too): the images shown
on hover, a selection's rows, the training snapshots and the decision grid of a 2-D input."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepad.runs.layout import MODEL
from deepad.runs.read import RunRecord
from deepad.runs.reopen import run_dataset, run_detector
from deepad.views.evaluate import default_threshold
from pages.views.common import image_tile
from pages.views.samples import sample_inputs


def data_url(tile: np.ndarray) -> str:
    """An image tile (H, W, 3) uint8 as a PNG data URL (for chart tooltips)."""
    import base64

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(tile).save(buf, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()


MAX_HOVER_IMAGES = 4000  # a latent map with more points shows images for this many (each ~0.5 kB)


def hover_columns(results: dict, rows: np.ndarray, ds) -> pd.DataFrame:
    """What hovering a point of a latent map shows besides its numbers: the sample's image (as a
    data URL in a column named `image`, which chart tooltips draw) or its first feature values."""
    rows = np.asarray(rows, dtype=int)
    if ds.kind == "image":
        shown = rows[:MAX_HOVER_IMAGES]
        urls = [data_url(image_tile(x, min_size=56, border=0)) for x in sample_inputs(results, shown, ds.x)]
        return pd.DataFrame({"image": urls + [""] * (len(rows) - len(shown))})
    feats = np.asarray(ds.x[results["test_index"][rows]]).reshape(len(rows), -1)
    names = ds.feature_names if len(ds.feature_names) == feats.shape[1] else [f"x{i}" for i in range(feats.shape[1])]
    return pd.DataFrame(feats[:, :8], columns=names[:8])


def selected_rows(df: pd.DataFrame, selection: dict) -> np.ndarray:
    """Test rows chosen in a chart's selection event: clicked points (by their `row`), a box on
    the map (x and y ranges) or a range of the score histogram (its `score` range)."""
    picked = []
    for value in (selection or {}).values():
        if isinstance(value, list):  # point selections: [{"row": 12, ...}, ...]
            picked += [int(p["row"]) for p in value if isinstance(p, dict) and "row" in p]
        elif isinstance(value, dict) and value:  # interval selections: {"x": [lo, hi], ...}
            keep = np.ones(len(df), dtype=bool)
            for field, bounds in value.items():
                column = field if field in df else next((c for c in ("score", "x", "y")
                                                         if field.endswith("_" + c)), None)
                if column is not None and isinstance(bounds, list) and len(bounds) == 2:
                    lo, hi = sorted(float(b) for b in bounds)
                    keep &= (df[column] >= lo).to_numpy() & (df[column] <= hi).to_numpy()
            picked += df["row"][keep].astype(int).tolist()
    return np.unique(np.asarray(picked, dtype=int))


def by_score(results: dict, rows: np.ndarray) -> np.ndarray:
    """Rows sorted by score, most anomalous first."""
    rows = np.asarray(rows, dtype=int)
    return rows[np.argsort(-results["test_scores"][rows], kind="stable")]


@dataclass
class SnapshotView:
    steps: np.ndarray  # epoch record number of each snapshot
    epochs: np.ndarray  # training epoch of each snapshot
    xy: np.ndarray  # (n_snapshots, n_probe, 2), one fixed PCA basis for all epochs
    spread: np.ndarray  # spread ratio per snapshot (collapse when it heads to 0)
    truth: np.ndarray | None  # probe samples' ground truth (1 anomaly) when it can be recovered
    centre: np.ndarray | None  # (n_snapshots, 2): the centre c in the same view at each snapshot
    lim: tuple[float, float, float, float]  # x0, x1, y0, y1 covering every epoch
    dist: np.ndarray | None = None  # (n_snapshots, n_probe) distances to c in φ, when there is a c
    spread_title: str = "Spread ratio of the training probe (the verdict's measure)"
    judged: bool = False  # the spread is the collapse verdict's own measure (a hypersphere method)


def snapshot_view(snapshots: dict, centre: np.ndarray | None = None, truth: np.ndarray | None = None,
                  history: list[dict] | None = None) -> SnapshotView | None:
    """All per-epoch probe embeddings in one PCA basis (fitted on all epochs together), so that
    scrubbing through epochs shows the cloud shrinking, spreading or collapsing to a point."""
    from deepad.diagnostics import spread as spread_of
    from deepad.embedding import pca_basis, pca_project

    emb = snapshots.get("emb")
    if emb is None or emb.ndim != 3 or len(emb) == 0:
        return None
    n, p, d = emb.shape
    basis = pca_basis(emb.reshape(n * p, d))
    xy = pca_project(emb.reshape(n * p, d), basis).reshape(n, p, 2)
    centres = _snapshot_centres(snapshots.get("center"), centre, n, d)  # (n, d) or None
    c = pca_project(centres, basis) if centres is not None else None
    steps = np.asarray(snapshots.get("step", np.arange(1, n + 1)))
    recorded = {r.get("step"): r for r in history or []}  # the numbers measured during training
    ratios = [recorded.get(int(s), {}).get("spread_ratio") for s in steps]
    judged = all(isinstance(r, (int, float)) for r in ratios)
    if judged:  # a centre method: the verdict's own measure
        spread, title = np.asarray(ratios, dtype=np.float64), SnapshotView.spread_title
    else:  # the spread of these snapshots relative to the first one
        first = max(spread_of(emb[0]), 1e-300)
        spread = np.array([spread_of(e) / first for e in emb])
        title = "Spread of the probe embeddings relative to the first snapshot"
    dist = (np.sqrt(((emb.astype(np.float64) - centres[:, None, :]) ** 2).sum(axis=2))
            if centres is not None else None)
    lo, hi = xy.reshape(-1, 2).min(axis=0), xy.reshape(-1, 2).max(axis=0)
    if c is not None and np.all(c >= lo - 0.5 * (hi - lo)) and np.all(c <= hi + 0.5 * (hi - lo)):
        lo, hi = np.minimum(lo, c.min(axis=0)), np.maximum(hi, c.max(axis=0))
    else:
        c = None  # far outside the cloud: showing it would shrink the cloud to a dot
    pad = np.maximum((hi - lo) * 0.05, 1e-9)
    if truth is not None and len(truth) != p:
        truth = None
    epochs = np.array([recorded.get(int(s), {}).get("epoch") or int(s) for s in steps])
    return SnapshotView(steps, epochs, xy, spread, truth, c,
                        (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]), dist, title, judged)


def _snapshot_centres(recorded, final, n: int, d: int) -> np.ndarray | None:
    """The centre at each of n snapshots: as recorded with them (while training, and where a
    learnt centre moved), else the run's final centre at every one; None without a centre."""
    if recorded is not None and np.shape(recorded) == (n, d):
        return np.asarray(recorded, dtype=np.float64)
    if final is not None and np.shape(final) == (d,):
        return np.repeat(np.asarray(final, dtype=np.float64)[None, :], n, axis=0)
    return None


def probe_truth(run: RunRecord, size: int | None = None) -> np.ndarray | None:
    """Ground truth of the probe samples whose embeddings were snapshot, from the split the run was
    created with (split.npz; a run written before it was kept: the split is a pure function of the
    run's config, so it is rebuilt); None when that is not possible. `size`: the number of probe
    samples in the run's snapshots (runs written with another probe size)."""
    from deepad.detectors.torch_utils import PROBE_SIZE, probe_indices
    from deepad.errors import DeepADError
    from deepad.runs.create import build_split, load_data
    from deepad.runs.reopen import run_dataset_name
    from deepad.training.config import RunConfig

    try:
        cfg = RunConfig(**{**run.config, "dataset": run_dataset_name(run)})
        parts = run.files.read_split_parts()
        target = parts["val_target"] if parts is not None else build_split(cfg, load_data(cfg)).val.target
    except (DeepADError, ValueError, TypeError):
        return None
    return target[probe_indices(len(target), cfg.seed, size or PROBE_SIZE)]


def has_input_plane(run: RunRecord) -> bool:
    """2-D inputs (the toy sets) whose decision boundary can be drawn in the input plane."""
    info = run.split_info()
    return info.get("input_shape") == [2] and run.files.has(MODEL)


@dataclass
class DecisionGrid:
    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray  # scores on the grid (rows: ys, columns: xs)
    threshold: float
    points: np.ndarray  # test samples in input coordinates
    truth: np.ndarray  # 1 anomaly


def score_inputs(run: RunRecord, raw_x: np.ndarray, detector=None) -> np.ndarray:
    """Anomaly scores of raw inputs (as in the dataset) by the run's trained detector: they go
    through the run's own preprocessing first, exactly as its training and test data did."""
    from deepad.data.preprocess import apply_preprocess

    det = detector or run_detector(run)
    return det.score(apply_preprocess(np.asarray(raw_x, dtype=np.float32), run.split_info()["preprocess"]))


def decision_grid(run: RunRecord, results: dict, threshold: float | None = None,
                  resolution: int = 120) -> DecisionGrid:
    """Score a grid over the input plane with the run's trained detector; the grid goes through
    the same preprocessing as the run's data, so the contour sits where the model decides."""
    ds = run_dataset(run)
    raw = ds.x.reshape(len(ds.x), -1)
    lo, hi = raw.min(axis=0), raw.max(axis=0)
    pad = (hi - lo) * 0.08
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.c_[gx.ravel(), gy.ravel()].astype(np.float32)
    z = score_inputs(run, grid).reshape(gx.shape)
    thr = default_threshold(run, results) if threshold is None else threshold
    return DecisionGrid(xs, ys, z, float(thr), raw[results["test_index"]], results["test_target"])
