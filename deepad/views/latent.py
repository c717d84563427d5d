"""The test samples' representations in two dimensions (PCA) with what each point can be coloured
by (`deepad.api`'s latent figure and the Latent space page)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deepad.runs.read import RunRecord
from deepad.views.common import ANOMALY, NORMAL, class_names, distances


def latent_frame(run: RunRecord, results: dict, xy: np.ndarray, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Points of a 2-D view with what they can be coloured by and shown with on hover."""
    rows = np.arange(len(results["test_scores"])) if rows is None else rows
    names = class_names(run)
    y = results["test_y"][rows]
    df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "row": rows,
                       "dataset_index": results["test_index"][rows],
                       "truth": np.where(results["test_target"][rows] == 1, ANOMALY, NORMAL),
                       "class": [names[i] if 0 <= i < len(names) else str(i) for i in y],
                       "score": results["test_scores"][rows]})
    d = distances(results)
    if d is not None:
        df["distance"] = d[rows]
    df["rank"] = score_ranks(results["test_scores"])[rows]
    return df


def score_ranks(scores: np.ndarray) -> np.ndarray:
    """Rank of each score among them: 1 = the highest (most anomalous)."""
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    ranks = np.empty(len(order), dtype=int)
    ranks[order] = np.arange(1, len(order) + 1)
    return ranks


def centre_in_pca(results: dict) -> tuple[np.ndarray, np.ndarray | None]:
    """PCA view of the test embeddings and where the centre c lands in it: None when there is no
    centre, or when it lands far outside the cloud (it would shrink the cloud to a dot)."""
    from deepad.embedding import pca_basis, pca_project

    emb = results["test_emb"]
    basis = pca_basis(emb)
    xy = pca_project(emb, basis)
    if "center" not in results or not len(xy):
        return xy, None
    c = pca_project(results["center"][None, :], basis)[0]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    # a cloud fallen onto one point has no span: c is drawn when it lies on that point (to rounding)
    margin = np.maximum((hi - lo) * 0.5, 1e-6 * max(1.0, float(np.abs(xy).max()), float(np.abs(c).max())))
    inside = bool(np.all(c >= lo - margin) and np.all(c <= hi + margin))
    return xy, (c if inside else None)
