"""The contract every registered detector keeps, whatever its folder: fit → score → embed → save →
load → the same scores, the epoch records its declaration promises, seeds that matter, and the
stop flag. New detectors are covered by being registered (their `SPEC.smoke` settings keep the
training to seconds)."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import torch

from deepad.detectors import registry
from deepad.detectors.base import Cancelled
from deepad.detectors.spec import TOTAL_LOSS


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def contract_split(split_factory, name):
    """Digit 1 normal with 20 labelled anomalies (methods that need them), 10 known normals
    (Rt-BiGAN's adaptation) and 5 % unlabelled pollution, preprocessed as the method asks."""
    return split_factory(normal=[1], known_anomalies=20, known_classes=[7, 9], known_normals=10,
                         pollution=0.05, preprocess=registry.spec(name).preferred_preprocess("image"))


def fit(name, split, seed=0, val=True):
    spec = registry.spec(name)
    det = registry.get(name)(dict(spec.smoke), seed=seed)
    records = []
    det.fit(split.train, split.val if val else None, on_epoch=lambda r, s=None: records.append(r))
    return det, records


# Deterministic given their data: OC-SVM draws nothing at random, and the KDE's seed only splits the
# training data into the bandwidth's folds, which here choose the same width.
SEED_FREE = {"ocsvm", "kde"}


@pytest.mark.parametrize("name", registry.names())
def test_fit_score_embed_save_load(split_factory, name, tmp_path):
    spec = registry.spec(name)
    split = contract_split(split_factory, name)
    det, records = fit(name, split)
    x = split.test.x[:300]

    # the records the declaration promises (the progress bar counts on them), with declared losses
    plan = spec.planned_records(det.config)
    assert plan is not None and Counter(r["phase"] for r in records) == Counter(
        {p: n for p, n in plan.items() if n}), (plan, [r["phase"] for r in records])
    known_losses = set(TOTAL_LOSS) | set(spec.losses)
    for r in records:
        assert r["seconds"] >= 0 and r["epoch"] >= 1
        assert {k for k in r if k.startswith("loss")} <= known_losses, set(r)
        assert all(np.isfinite(r[k]) for k in r if k.startswith("loss"))
    assert any(0 <= r.get("val_auc", -1) <= 1 for r in records)

    scores = det.score(x)
    assert scores.shape == (len(x),) and np.all(np.isfinite(scores))
    assert scores.std() > 1e-6 * (np.abs(scores).mean() + 1e-12), "constant scores"
    emb = det.embed(x)
    assert emb.ndim == 2 and len(emb) == len(x) and np.all(np.isfinite(emb))
    assert det.threshold is not None and np.isfinite(det.threshold)
    if spec.hypersphere:
        assert det.center is not None and det.center.shape == (emb.shape[1],)

    again, _ = fit(name, split, val=False)  # the validation records must not change training
    assert np.array_equal(again.embed(x), emb), "same seed, different embeddings"
    if name != "anoean":  # (AnoEAN fits its score's Gaussian on the validation normals when given them)
        assert np.array_equal(again.score(x), scores), "same seed, different scores"
    other, _ = fit(name, split, seed=1, val=False)
    if name in SEED_FREE:
        np.testing.assert_allclose(other.score(x), scores, rtol=1e-9)
    else:
        assert not np.allclose(other.score(x), scores), "another seed gave the same scores"

    path = tmp_path / f"{name}.pt"
    det.save(path)
    back = registry.get(name).load(path)
    assert type(back) is type(det)
    # the same numbers (libsvm's reloaded model may round differently in the last bit)
    np.testing.assert_allclose(back.score(x), scores, rtol=1e-12, atol=1e-12)
    assert np.array_equal(back.embed(x), emb)
    assert back.threshold == det.threshold
    assert (back.center is None and det.center is None) or np.array_equal(back.center, det.center)


@pytest.mark.parametrize("name", registry.names())
def test_the_stop_flag_cancels_training(split_factory, name):
    det = registry.get(name)(dict(registry.spec(name).smoke), seed=0)
    with pytest.raises(Cancelled):
        det.fit(contract_split(split_factory, name).train, should_stop=lambda: True)
