"""The Samples page: the most and least anomalous samples and the mistakes."""

from __future__ import annotations

import numpy as np
import pandas as pd

from deepad.runs.read import RunRecord
from deepad.views.common import ANOMALY, NORMAL, class_names
from pages.views.common import image_tile

__all__ = ["extremes", "errors_at", "sample_captions", "sample_table", "sample_inputs",
           "sample_tiles"]


def extremes(results: dict, n: int = 16) -> dict[str, np.ndarray]:
    """Rows of the test part: the n lowest scores (most normal) and n highest (most anomalous)."""
    order = np.argsort(results["test_scores"], kind="stable")
    return {"most normal": order[:n], "most anomalous": order[::-1][:n]}


def errors_at(results: dict, threshold: float, n: int = 16) -> dict[str, np.ndarray]:
    """False positives (normal but flagged; most confident first) and false negatives (anomalous
    but passed; lowest scores first) at a threshold."""
    s, y = results["test_scores"], results["test_target"]
    fp = np.flatnonzero((y == 0) & (s > threshold))
    fn = np.flatnonzero((y == 1) & (s <= threshold))
    return {"false positives": fp[np.argsort(-s[fp], kind="stable")][:n],
            "false negatives": fn[np.argsort(s[fn], kind="stable")][:n],
            "n_fp": len(fp), "n_fn": len(fn)}


def sample_captions(run: RunRecord, results: dict, rows: np.ndarray) -> list[str]:
    names = class_names(run)
    out = []
    for r in rows:
        c = int(results["test_y"][r])
        name = names[c] if 0 <= c < len(names) else str(c)
        tag = "anomaly" if results["test_target"][r] == 1 else "normal"
        out.append(f"{name} · {tag} · {results['test_scores'][r]:.3g}")
    return out


def sample_table(run: RunRecord, results: dict, rows: np.ndarray, x: np.ndarray,
                 feature_names: list[str]) -> pd.DataFrame:
    """Tabular samples: score, truth, class, then the raw feature values."""
    names = class_names(run)
    idx = results["test_index"][rows]
    feats = np.asarray(x[idx]).reshape(len(idx), -1)
    cols = feature_names if len(feature_names) == feats.shape[1] else [f"x{i}" for i in range(feats.shape[1])]
    df = pd.DataFrame(feats, columns=cols)
    y = results["test_y"][rows]
    df.insert(0, "class", [names[i] if 0 <= i < len(names) else str(i) for i in y])
    df.insert(0, "truth", np.where(results["test_target"][rows] == 1, ANOMALY, NORMAL))
    df.insert(0, "score", results["test_scores"][rows])
    df.insert(0, "dataset_index", idx)
    return df


def sample_inputs(results: dict, rows: np.ndarray, dataset_x: np.ndarray) -> np.ndarray:
    """The test samples at `rows` as they were scored, before preprocessing: the saved altered
    copies (`test_raw`) for image-alteration runs, else the dataset's rows."""
    rows = np.asarray(rows, dtype=int)
    if "test_raw" in results:
        return np.asarray(results["test_raw"][rows], dtype=np.float32)
    return np.asarray(dataset_x[results["test_index"][rows]])


def sample_tiles(results: dict, rows: np.ndarray, dataset_x: np.ndarray) -> list[np.ndarray]:
    """Image tiles of the test samples at `rows` (altered copies drawn as altered)."""
    return [image_tile(x) for x in sample_inputs(results, rows, dataset_x)]
