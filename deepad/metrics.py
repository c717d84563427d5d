"""Detection metrics. Labels: 1 = anomaly; scores: higher = more anomalous.

Written on numpy (a few lines each, from one ranked count of the scores) rather than imported from
scikit-learn: `sklearn.metrics` takes about 1.2 s to import, which every training process would pay
before its first epoch (a sixth of a default run). The definitions are scikit-learn's, and
`tests/test_metrics_diagnostics.py` checks them against it on random scores with ties."""

from __future__ import annotations

import numpy as np


def _both_classes(labels: np.ndarray) -> bool:
    return len(np.unique(labels)) == 2


def _ranked_counts(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each distinct score, from the highest down: the normals (false positives) and the
    anomalies (true positives) scored at or above it, and the score."""
    labels, scores = np.asarray(labels).ravel(), np.asarray(scores, dtype=np.float64).ravel()
    if labels.shape != scores.shape:
        raise ValueError(f"{len(labels)} labels for {len(scores)} scores: give one label per score")
    if np.isnan(scores).any():
        raise ValueError(f"{int(np.isnan(scores).sum())} of {len(scores)} scores are NaN: every sample needs a "
                         "score (a number, ±inf allowed) to be ranked")
    order = np.argsort(-scores, kind="stable")
    ranked, positive = scores[order], (labels[order] == 1)
    last = np.r_[np.flatnonzero(ranked[1:] != ranked[:-1]), len(ranked) - 1]  # the last of each distinct score
    tps = np.cumsum(positive)[last].astype(np.float64)
    return last + 1 - tps, tps, ranked[last]


def auc(labels: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC: the share of (anomaly, normal) pairs scored in the right order, ties counting half;
    None when only one class is present (AUC is undefined then)."""
    if not _both_classes(labels):
        return None
    fps, tps, _ = _ranked_counts(labels, scores)
    return float(np.trapezoid(np.r_[0.0, tps] / tps[-1], np.r_[0.0, fps] / fps[-1]))


def _positive(labels: np.ndarray, scores: np.ndarray, positive: str) -> tuple[np.ndarray, np.ndarray]:
    """Labels and scores with `positive` ("anomaly" or "normal") as the class ranked first: for
    normal, labels are flipped and scores negated (the most normal sample first)."""
    if positive == "anomaly":
        return np.asarray(labels), np.asarray(scores)
    if positive == "normal":
        return 1 - np.asarray(labels), -np.asarray(scores)
    raise ValueError(f"positive={positive!r}: choose 'anomaly' or 'normal'")


def _precision_recall(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Precision and recall at each distinct score, from the highest score down (recall 1 throughout
    when there is no positive sample, as scikit-learn has it)."""
    fps, tps, thresholds = _ranked_counts(labels, scores)
    recall = tps / tps[-1] if tps[-1] else np.ones_like(tps)
    return tps / (tps + fps), recall, thresholds


def average_precision(labels: np.ndarray, scores: np.ndarray, positive: str = "anomaly") -> float | None:
    """Area under the precision-recall curve of the `positive` class: the precision at each
    threshold weighted by the recall gained there. Its chance level is that class's share of the
    test set, so it depends on the test set's composition (unlike AUC)."""
    labels, scores = _positive(labels, scores, positive)
    if not _both_classes(labels):
        return None
    precision, recall, _ = _precision_recall(labels, scores)
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def anomaly_share(labels: np.ndarray) -> float | None:
    """Share of anomalies in a labelled set: the precision a random ranking gets."""
    return float(np.mean(labels)) if len(labels) else None


def roc_curve(labels: np.ndarray, scores: np.ndarray) -> dict:
    """False and true positive rates as the threshold falls from above the highest score (0, 0) to
    the lowest (1, 1); points on a straight segment between two others are left out."""
    fps, tps, thr = _ranked_counts(labels, scores)
    if len(fps) > 2:
        keep = np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True]
        fps, tps, thr = fps[keep], tps[keep], thr[keep]
    fps, tps, thr = np.r_[0.0, fps], np.r_[0.0, tps], np.r_[np.inf, thr]
    return {"fpr": fps / fps[-1] if fps[-1] else np.full_like(fps, np.nan),
            "tpr": tps / tps[-1] if tps[-1] else np.full_like(tps, np.nan), "threshold": thr}


def pr_curve(labels: np.ndarray, scores: np.ndarray, positive: str = "anomaly") -> dict:
    """Precision and recall of the `positive` class ("anomaly", or "normal": the most normal
    samples ranked first), recall falling, ending at (recall 0, precision 1); thresholds are on the
    original scores, one fewer than points."""
    labels_, scores_ = _positive(labels, scores, positive)
    precision, recall, thr = _precision_recall(labels_, scores_)
    return {"precision": np.r_[precision[::-1], 1.0], "recall": np.r_[recall[::-1], 0.0],
            "threshold": thr[::-1] if positive == "anomaly" else -thr[::-1]}


def at_threshold(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    """Predict 'anomaly' where score > threshold; confusion counts, precision, recall, F1 (0 where
    undefined)."""
    truth, pred = np.asarray(labels) == 1, np.asarray(scores) > threshold
    tp, fp = int(np.sum(truth & pred)), int(np.sum(~truth & pred))
    fn, tn = int(np.sum(truth & ~pred)), int(np.sum(~truth & ~pred))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return {"threshold": float(threshold), "tp": tp, "fp": fp, "tn": tn, "fn": fn,
            "precision": float(precision), "recall": float(recall),
            "f1": float(2 * tp / (2 * tp + fp + fn)) if tp else 0.0}


def summary(labels: np.ndarray, scores: np.ndarray, threshold: float | None = None) -> dict:
    out = {"auc": auc(labels, scores), "ap": average_precision(labels, scores),
           "ap_normal": average_precision(labels, scores, positive="normal"),
           "n_test": int(len(labels)), "n_test_anomalies": int(np.sum(labels)),
           "test_anomaly_share": anomaly_share(labels)}
    if threshold is not None:
        out.update({k: v for k, v in at_threshold(labels, scores, threshold).items()
                    if k in ("precision", "recall", "f1")})
    return out
