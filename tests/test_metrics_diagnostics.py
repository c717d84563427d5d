import numpy as np
import pytest

from deepad import metrics
from deepad import diagnostics as D


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


def test_pr_curve_and_ap_with_normal_as_the_positive_class():
    labels = np.array([0, 0, 0, 1, 1, 0, 1, 0])
    scores = np.array([0.1, 0.2, 0.3, 0.9, 0.4, 0.5, 0.8, 0.05])
    # ranked most normal first: 0.05 (n), 0.1 (n), 0.2 (n), 0.3 (n), 0.4 (a), 0.5 (n), 0.8 (a), 0.9 (a)
    # precision at each normal: 1, 1, 1, 1, 5/6 -> AP = (4 + 5/6) / 5
    assert metrics.average_precision(labels, scores, positive="normal") == pytest.approx((4 + 5 / 6) / 5)
    pr = metrics.pr_curve(labels, scores, positive="normal")
    i = int(np.flatnonzero(np.isclose(pr["threshold"], 0.3))[0])  # scores <= 0.3 called normal
    assert pr["recall"][i] == pytest.approx(4 / 5) and pr["precision"][i] == 1.0
    s = metrics.summary(labels, scores)
    assert (s["n_test"], s["n_test_anomalies"], s["test_anomaly_share"]) == (8, 3, 3 / 8)
    assert s["ap_normal"] == metrics.average_precision(labels, scores, positive="normal")



@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_agree_with_scikit_learn_on_random_scores_with_ties(seed):
    """deepad's numpy metrics give scikit-learn's numbers: AUC, AP of either class, both curves and
    the counts at a threshold, on small and large sets, with many ties and with none."""
    from sklearn import metrics as skm

    rng = np.random.default_rng(seed)
    for trial in range(300):
        n = int(rng.integers(2, 400))
        labels = rng.integers(0, 2, n)
        scores = (rng.integers(0, int(rng.integers(1, 15)), n).astype(float) if trial % 2
                  else rng.normal(size=n))
        if len(np.unique(labels)) < 2:
            assert metrics.auc(labels, scores) is None and metrics.average_precision(labels, scores) is None
            continue
        assert metrics.auc(labels, scores) == pytest.approx(skm.roc_auc_score(labels, scores), abs=1e-12)
        assert metrics.average_precision(labels, scores) == pytest.approx(
            skm.average_precision_score(labels, scores), abs=1e-12)
        assert metrics.average_precision(labels, scores, positive="normal") == pytest.approx(
            skm.average_precision_score(1 - labels, -scores), abs=1e-12)
        fpr, tpr, thr = skm.roc_curve(labels, scores)
        roc = metrics.roc_curve(labels, scores)
        np.testing.assert_allclose(roc["fpr"], fpr)
        np.testing.assert_allclose(roc["tpr"], tpr)
        np.testing.assert_array_equal(roc["threshold"], thr)
        precision, recall, thr = skm.precision_recall_curve(labels, scores)
        pr = metrics.pr_curve(labels, scores)
        np.testing.assert_allclose(pr["precision"], precision)
        np.testing.assert_allclose(pr["recall"], recall)
        np.testing.assert_array_equal(pr["threshold"], thr)
        t = float(rng.choice(scores))
        pred = (scores > t).astype(int)
        at = metrics.at_threshold(labels, scores, t)
        counts = skm.confusion_matrix(labels, pred, labels=[0, 1]).ravel().tolist()
        assert [at[k] for k in ("tn", "fp", "fn", "tp")] == counts
        assert at["f1"] == pytest.approx(skm.f1_score(labels, pred, zero_division=0), abs=1e-12)
        assert at["precision"] == pytest.approx(skm.precision_score(labels, pred, zero_division=0), abs=1e-12)



def test_infinite_scores_rank_as_the_extremes_and_nan_scores_are_refused():
    """A density model can score a sample +inf (log-likelihood -inf): it ranks above every finite
    score and ties with the other +inf ones; a NaN score cannot be ranked and is refused."""
    labels = np.array([1, 1, 0, 0, 1, 0])
    scores = np.array([np.inf, 0.2, np.inf, -np.inf, 0.9, 0.1])
    pairs = [(a > n) + 0.5 * (a == n) for a in scores[labels == 1] for n in scores[labels == 0]]
    assert metrics.auc(labels, scores) == pytest.approx(np.mean(pairs))
    roc = metrics.roc_curve(labels, scores)
    assert roc["fpr"][-1] == roc["tpr"][-1] == 1 and len(roc["threshold"]) == len(roc["fpr"])
    with pytest.raises(ValueError, match="1 of 6 scores are NaN"):
        metrics.auc(labels, np.where(scores == 0.2, np.nan, scores))

def cloud(rng, n=400, dim=16, scales=None, offset=0.0):
    scales = np.ones(dim) if scales is None else np.asarray(scales, dtype=float)
    return offset + rng.normal(0, 1, (n, dim)) * scales


def test_verdict_on_constructed_embeddings():
    rng = np.random.default_rng(0)
    ref = cloud(rng)
    monitor = D.CollapseMonitor()
    monitor.start(ref)
    # shrinking (to a fifth) and moving towards c, but still spread: healthy
    assert monitor.epoch(cloud(rng, scales=np.full(16, 0.2), offset=3.0))["verdict"] == "healthy"
    # every direction of variation lost relative to the reference: collapsed
    rep = monitor.epoch(cloud(rng, scales=np.full(16, 1e-4), offset=3.0))
    assert rep["verdict"] == "collapsed" and rep["const_dims"] == 16

    # anisotropic but varied (one direction carries almost all of it): not collapsed
    fresh = D.CollapseMonitor()
    fresh.start(ref)
    elongated = fresh.epoch(cloud(rng, scales=[3.0] + [0.01] * 15))
    assert elongated["verdict"] == "healthy" and elongated["eff_rank"] < 4

    # translation-invariant: moving the cloud far away changes nothing
    a, b = D.measure(ref, 1.0), D.measure(ref + 1e4, 1.0)
    assert a["spread"] == pytest.approx(b["spread"], rel=1e-6)
    assert D.effective_rank(np.eye(8)) == pytest.approx(8, rel=0.2)


def test_noise_around_a_threshold_does_not_flip_the_verdict():
    rng = np.random.default_rng(1)
    wobble = D.COLLAPSED_BELOW * np.exp(rng.uniform(-0.3, 0.3, 40))  # ±30 % around the boundary
    trail = D.verdict_trail(wobble)
    first = trail.index("collapsed")
    assert set(trail[first:]) == {"collapsed"}
    plain = ["collapsed" if r < D.COLLAPSED_BELOW else "at risk" for r in wobble]
    assert sum(a != b for a, b in zip(plain, plain[1:])) > 5  # without hysteresis it would flip
    # a clear recovery is followed
    assert D.verdict_trail([0.005, 0.5])[-1] == "healthy"
    assert D.verdict_trail([0.005, 0.02])[-1] == "collapsed"  # a jitter inside the at-risk band
    assert D.verdict_trail([0.005, 0.04])[-1] == "at risk"
    assert D.verdict_trail([0.5, 0.02, 0.04])[-1] == "at risk"  # not yet clear of the risk boundary


def test_the_rule_is_rendered_from_the_constants():
    text = D.rule_text()
    for value in (D.COLLAPSED_BELOW, D.AT_RISK_BELOW, D.HYSTERESIS):
        assert f"{value:g}" in text
    assert D.rule()["collapsed_below"] == D.COLLAPSED_BELOW
    from pathlib import Path

    page = (Path(__file__).resolve().parent.parent / "docs" / "concepts" / "collapse.md").read_text()
    assert text in page, "docs/concepts/collapse.md's verdict rule is not the one the code renders"
