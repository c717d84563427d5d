"""A finished run's threshold, ROC / PR curves and the counts at a threshold (`deepad.api`,
`deepad.export` and the ROC & scores page)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepad import metrics
from deepad.runs.read import RunRecord


def default_threshold(run: RunRecord, results: dict) -> float:
    """The method's own threshold when it has one (e.g. R for soft-boundary Deep SVDD, the 95th
    percentile of training scores otherwise), else that percentile computed here."""
    from deepad.scoring import run_threshold

    return run_threshold(run, results)


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


def at_threshold(results: dict, threshold: float) -> dict:
    """Confusion counts, precision, recall (= true positive rate), F1 and the false positive rate
    of the test part at a threshold."""
    m = metrics.at_threshold(results["test_target"], results["test_scores"], threshold)
    m["fpr"] = m["fp"] / (m["fp"] + m["tn"]) if m["fp"] + m["tn"] else 0.0
    return m
