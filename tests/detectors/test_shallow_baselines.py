"""The shallow baselines (Isolation Forest, one-class SVM, KDE; their shared features in
`deepad/detectors/_shared/shallow.py`): each one's detection quality on MNIST-5k beside scikit-learn's
defaults on the same split, and the PCA features fitted on the training normals."""

from __future__ import annotations

import numpy as np
import pytest

from deepad import metrics
from deepad.detectors import registry


# Digits 1 and 8 as the one normal class: no preset trains on either alone. MNIST-5k one-vs-all,
# split seed 0; the references are scikit-learn's defaults on the same split (bench/baselines.py:
# OneClassSVM(gamma='scale', nu=0.1) on the pixels, IsolationForest(100) on PCA(0.95), an exact
# Gaussian KDE on PCA(0.95) with the bandwidth by 5-fold likelihood). Measured: digit 1 0.996 /
# 0.995 / 0.992, digit 8 0.861 / 0.815 / 0.867 (ocsvm / iforest / kde, ours and the references
# alike).
STATED_AUC = {1: 0.98, 8: 0.80}


MARGIN = 0.01


@pytest.fixture(scope="module")
def reference_aucs(split_factory):
    from bench.baselines import references

    return {normal: references(split_factory(normal=[normal], preprocess="unit"), seed=0) for normal in STATED_AUC}


@pytest.mark.parametrize("normal", sorted(STATED_AUC))
@pytest.mark.parametrize("name", ["iforest", "ocsvm", "kde"])
def test_shallow_baselines_match_scikit_learn_defaults_on_the_same_split(split_factory, reference_aucs, name, normal):
    assert registry.get(name).preferred_preprocess("image") == "unit"  # the split every run of it gets
    split = split_factory(normal=[normal], preprocess="unit")
    det = registry.get(name)(seed=0).fit(split.train)
    scores = det.score(split.test.x)
    assert np.all(np.isfinite(scores))
    ours = metrics.auc(split.test.target, scores)
    assert ours > STATED_AUC[normal]
    assert ours >= reference_aucs[normal][name] - MARGIN, (ours, reference_aucs[normal][name])
    assert det.threshold == pytest.approx(np.percentile(det.score(split.train.x), 95))


def test_shallow_features_follow_the_training_normals_variance(split_factory):
    split = split_factory(normal=[8], preprocess="unit")
    flat = split.train.x.reshape(len(split.train.x), -1)
    iforest = registry.get("iforest")(seed=0).fit(split.train)
    explained = iforest.pca.explained_variance_ratio_
    assert explained.sum() >= 0.95 > explained[:-1].sum()  # the fewest components that reach 95 %
    assert registry.get("ocsvm")(seed=0).fit(split.train).embed(split.test.x[:3]).shape == (3, flat.shape[1])
    fixed = registry.get("kde")({"pca_components": 10}, seed=0).fit(split.train)
    assert fixed.embed(split.test.x[:3]).shape == (3, 10)
