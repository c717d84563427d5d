"""The ROC & scores page's numbers: the threshold's choices, the share it flags, what an AUC
was measured on and the scores as a table."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from deepad.runs.read import RunRecord
from deepad.views.common import ANOMALY, NORMAL, class_names, distances


def threshold_options(scores: np.ndarray, default: float, n: int = 201) -> list[float]:
    """Candidate thresholds evenly spread over the score distribution (quantiles), plus the
    default: heavy-tailed scores still give a slider that moves smoothly."""
    qs = np.quantile(np.asarray(scores, dtype=np.float64), np.linspace(0, 1, n))
    below = float(np.min(scores)) - 1e-9 * (abs(float(np.min(scores))) + 1)
    vals = np.unique(np.r_[below, qs, default])
    return [float(v) for v in vals]


def flagged_share(scores: np.ndarray, threshold: float) -> float:
    return float(np.mean(np.asarray(scores) > threshold)) if len(scores) else 0.0


def share_label(share: float | None) -> str:
    """"20 % anomalies": the test set's anomaly share, said beside every AP, PR curve and F1."""
    return "" if share is None else f"{100 * share:.0f} % anomalies"


def measured_on_text(run: RunRecord, results: dict | None = None) -> str:
    """"1500 test samples, 10.0 % anomalies": what an AUC or AP was measured on (from the summary
    when it records the counts, else from the results)."""
    s = run.summary
    n, k = s.get("n_test"), s.get("n_test_anomalies")
    if (n is None or k is None) and results is not None:
        n, k = len(results["test_target"]), int(np.sum(results["test_target"] == 1))
    if not n or k is None:
        return ""
    return f"{n} test samples, {100 * k / n:.1f} % anomalies"


def scores_frame(run: RunRecord, results: dict) -> pd.DataFrame:
    """One row per test sample: its row in the dataset, class, ground truth and score."""
    names = class_names(run)
    y = results["test_y"]
    df = pd.DataFrame({
        "dataset_index": results["test_index"], "class": y,
        "class_name": [names[i] if 0 <= i < len(names) else str(i) for i in y],
        "truth": np.where(results["test_target"] == 1, ANOMALY, NORMAL),
        "score": results["test_scores"],
    })
    if "center" in results and "test_emb" in results:
        df["distance_to_centre"] = distances(results)
    return df


def scores_csv(run: RunRecord, results: dict) -> str:
    buf = io.StringIO()
    scores_frame(run, results).to_csv(buf, index=False)
    return buf.getvalue()
