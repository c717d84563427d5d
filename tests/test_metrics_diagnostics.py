import numpy as np
import pytest

from deepad import metrics
from deepad.diagnostics import collapse_report, effective_rank, verdict


def test_metrics_match_their_definitions():
    labels = np.array([0, 0, 0, 1, 1, 0, 1, 0])
    scores = np.array([0.1, 0.2, 0.3, 0.9, 0.4, 0.5, 0.8, 0.05])
    # AUC = share of (anomaly, normal) pairs ranked right
    pairs = [(a, n) for a in scores[labels == 1] for n in scores[labels == 0]]
    assert metrics.auc(labels, scores) == pytest.approx(np.mean([a > n for a, n in pairs]))
    at = metrics.at_threshold(labels, scores, 0.35)
    assert (at["tp"], at["fp"], at["fn"], at["tn"]) == (3, 1, 0, 4)
    assert at["precision"] == 0.75 and at["recall"] == 1.0
    assert at["f1"] == pytest.approx(2 * 0.75 / 1.75)
    roc = metrics.roc_curve(labels, scores)
    assert roc["fpr"][0] == 0 and roc["tpr"][-1] == 1
    assert metrics.auc(np.zeros(4), scores[:4]) is None  # one class: undefined, not a crash


def test_collapse_report_on_constructed_embeddings():
    rng = np.random.default_rng(0)
    c = np.full(16, 0.5)
    healthy = c + rng.normal(0, 0.2, (300, 16))
    point = c + rng.normal(0, 1e-5, (300, 16))
    line = c + np.outer(rng.normal(0, 3e-3, 300), np.ones(16)) + rng.normal(0, 1e-6, (300, 16))
    assert collapse_report(healthy, c)["verdict"] == "healthy"
    assert collapse_report(point, c)["collapsed"]
    rep = collapse_report(line, c)
    assert rep["collapsed"] and rep["eff_rank"] < 2
    assert effective_rank(np.eye(8)) == pytest.approx(8, rel=0.2)
    assert verdict(5e-3, 0.0, 30, 32) == "at risk"
