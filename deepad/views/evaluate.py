"""The Evaluate page: scores, ROC / PR curves and a threshold."""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from deepad import metrics
from deepad.runs.listing import RunRecord
from deepad.views.common import ANOMALY, NORMAL, class_names, distances

__all__ = ["default_threshold", "threshold_options", "flagged_share", "Curves", "curves", "share_label",
           "at_threshold", "measured_on_text", "scores_frame", "scores_csv"]


def default_threshold(run: RunRecord, results: dict) -> float:
    """The method's own threshold when it has one (e.g. R for soft-boundary Deep SVDD, the 95th
    percentile of training scores otherwise), else that percentile computed here."""
    from deepad.scoring import run_threshold

    return run_threshold(run, results)


def threshold_options(scores: np.ndarray, default: float, n: int = 201) -> list[float]:
    """Candidate thresholds evenly spread over the score distribution (quantiles), plus the
    default: heavy-tailed scores still give a slider that moves smoothly."""
    qs = np.quantile(np.asarray(scores, dtype=np.float64), np.linspace(0, 1, n))
    below = float(np.min(scores)) - 1e-9 * (abs(float(np.min(scores))) + 1)
    vals = np.unique(np.r_[below, qs, default])
    return [float(v) for v in vals]


def flagged_share(scores: np.ndarray, threshold: float) -> float:
    return float(np.mean(np.asarray(scores) > threshold)) if len(scores) else 0.0


@dataclass
class Curves:
    label: str
    fpr: np.ndarray
    tpr: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    auc: float | None
    ap: float | None
    base_rate: float
    positive: str = "anomaly"
    anomaly_share: float | None = None


def curves(label: str, results: dict, positive: str = "anomaly") -> Curves | None:
    """ROC and PR curves of a run's test scores; None when the test part has a single class. The
    PR curve, its AP and `base_rate` (the positive class's share: a random ranking's precision)
    are those of the `positive` class, "anomaly" or "normal" (most normal first); `anomaly_share`
    is always the test set's share of anomalies."""
    y, s = results["test_target"], results["test_scores"]
    if len(np.unique(y)) < 2:
        return None
    roc, pr = metrics.roc_curve(y, s), metrics.pr_curve(y, s, positive)
    share = float(np.mean(y))
    return Curves(label, roc["fpr"], roc["tpr"], pr["precision"], pr["recall"],
                  metrics.auc(y, s), metrics.average_precision(y, s, positive),
                  share if positive == "anomaly" else 1 - share, positive, share)


def share_label(share: float | None) -> str:
    """"20 % anomalies": the test set's anomaly share, said beside every AP, PR curve and F1."""
    return "" if share is None else f"{100 * share:.0f} % anomalies"


def at_threshold(results: dict, threshold: float) -> dict:
    """Confusion counts, precision, recall (= true positive rate), F1 and the false positive rate
    of the test part at a threshold."""
    m = metrics.at_threshold(results["test_target"], results["test_scores"], threshold)
    m["fpr"] = m["fp"] / (m["fp"] + m["tn"]) if m["fp"] + m["tn"] else 0.0
    return m


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
