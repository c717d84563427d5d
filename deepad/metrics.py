"""Detection metrics (scikit-learn underneath). Labels: 1 = anomaly; scores: higher = more anomalous."""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm


def _both_classes(labels: np.ndarray) -> bool:
    return len(np.unique(labels)) == 2


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC, or None when only one class is present (AUC is undefined then)."""
    return float(skm.roc_auc_score(labels, scores)) if _both_classes(labels) else None


def _positive(labels: np.ndarray, scores: np.ndarray, positive: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores with `positive` ("anomaly" or "normal") as the class ranked first: for
    normal, labels are flipped and scores negated (the most normal sample first)."""
    if positive == "anomaly":
        return labels, scores
    if positive == "normal":
        return 1 - np.asarray(labels), -np.asarray(scores)
    raise ValueError(f"positive={positive!r}: choose 'anomaly' or 'normal'")


def average_precision(labels: np.ndarray, scores: np.ndarray, positive: str = "anomaly") -> float | None:
    """Area under the precision-recall curve of the `positive` class. Its chance level is that
    class's share of the test set, so it depends on the test set's composition (unlike AUC)."""
    labels, scores = _positive(labels, scores, positive)
    return float(skm.average_precision_score(labels, scores)) if _both_classes(labels) else None


def anomaly_share(labels: np.ndarray) -> float | None:
    """Share of anomalies in a labelled set: the precision a random ranking gets."""
    return float(np.mean(labels)) if len(labels) else None


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> dict:
    fpr, tpr, thr = skm.roc_curve(labels, scores)
    return {"fpr": fpr, "tpr": tpr, "threshold": thr}


def pr_curve(labels: np.ndarray, scores: np.ndarray, positive: str = "anomaly") -> dict:
    """Precision and recall of the `positive` class ("anomaly", or "normal": the most normal
    samples ranked first); thresholds are on the original scores."""
    labels_, scores_ = _positive(labels, scores, positive)
    precision, recall, thr = skm.precision_recall_curve(labels_, scores_)
    return {"precision": precision, "recall": recall,
            "threshold": thr if positive == "anomaly" else -thr}


def at_threshold(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    """Predict 'anomaly' where score > threshold; confusion counts, precision, recall, F1."""
    pred = (scores > threshold).astype(int)
    tn, fp, fn, tp = skm.confusion_matrix(labels, pred, labels=[0, 1]).ravel()
    return {"threshold": float(threshold), "tp": int(tp), "fp": int(fp), "tn": int(tn), "fn": int(fn),
            "precision": float(skm.precision_score(labels, pred, zero_division=0)),
            "recall": float(skm.recall_score(labels, pred, zero_division=0)),
            "f1": float(skm.f1_score(labels, pred, zero_division=0))}


def summary(labels: np.ndarray, scores: np.ndarray, threshold: float | None = None) -> dict:
    out = {"auc": auc(labels, scores), "ap": average_precision(labels, scores),
           "ap_normal": average_precision(labels, scores, positive="normal"),
           "n_test": int(len(labels)), "n_test_anomalies": int(np.sum(labels)),
           "test_anomaly_share": anomaly_share(labels)}
    if threshold is not None:
        out.update({k: v for k, v in at_threshold(labels, scores, threshold).items()
                    if k in ("precision", "recall", "f1")})
    return out
