"""What Deep SVDD-VAE, AnoEAN and the autoencoder share (one training phase, a code space): the records
they write and the threshold they set, tabular data through the MLP networks, the stop flag at the
first batch, a NaN loss, and a documented config. Each method's own tests: tests/detectors/test_<name>.py."""

from __future__ import annotations

import numpy as np
import pytest

from deepad.detectors.ae import detector as AE
from deepad.detectors import registry
from deepad.detectors.anoean import losses as EL
from deepad.detectors.base import Cancelled
from deepad.detectors.deep_svdd_vae import losses as VL
from deepad.errors import DeepADError, TrainingFailed
from tests.detectors.code_space import contract_split, fit, train_normals


REQUIRED = {"deep-svdd-vae": {"loss", "loss_rec", "loss_kl", "loss_svdd"},
            "anoean": {"loss", "loss_d", "loss_e"},
            "ae": {"loss", "loss_rec"}}


# -- what these three record and decide by (the contract itself: tests/test_contract.py) ---------
@pytest.mark.parametrize("name", ["deep-svdd-vae", "anoean", "ae"])
def test_records_and_threshold(split_factory, name):
    split = contract_split(split_factory)
    det, records = fit(name, split, epochs=2)
    assert [r["epoch"] for r in records] == [1, 2]
    for r in records:
        assert r["phase"] == "train" and r["seconds"] > 0
        assert REQUIRED[name] <= set(r), set(r)
        assert all(np.isfinite(r[k]) for k in REQUIRED[name])
        assert 0 <= r["val_auc"] <= 1
        # the collapse numbers belong to the centre methods only
        hypersphere = registry.spec(name).hypersphere
        assert ("spread_ratio" in r and r["verdict"] in ("healthy", "at risk", "collapsed")) == hypersphere
    assert det.embed(split.test.x[:50]).shape == (50, det.rep_dim)
    assert det.threshold == pytest.approx(np.percentile(det.score(train_normals(split)), 95))
    if name == "ae":  # no geometry in the code space: the score lives in input space
        assert det.center is None
    else:
        assert det.center.shape == (det.rep_dim,)


@pytest.mark.parametrize("name", ["deep-svdd-vae", "anoean", "ae"])
def test_tabular_data_train_with_the_mlp_networks(split_factory, name, tmp_path):
    split = contract_split(split_factory, "breast-cancer")
    det, records = fit(name, split, epochs=3, batch_size=64)
    scores = det.score(split.test.x)
    assert len(records) == 3 and np.all(np.isfinite(scores)) and scores.std() > 0
    det.save(tmp_path / "det.pt")
    assert np.array_equal(registry.get(name).load(tmp_path / "det.pt").score(split.test.x), scores)


@pytest.mark.parametrize("name", ["deep-svdd-vae", "anoean", "ae"])
def test_stop_flag_cancels_at_the_first_batch(split_factory, name):
    det = registry.get(name)({"epochs": 50}, seed=0)
    with pytest.raises(Cancelled):
        det.fit(contract_split(split_factory).train, should_stop=lambda: True)


@pytest.mark.parametrize("name, module, function", [
    ("deep-svdd-vae", VL, "kl_to_standard_normal"),
    ("anoean", EL, "encoder_loss"),
    ("ae", AE, "reconstruction_error"),
])
def test_a_nan_loss_fails_the_run_with_its_epoch(split_factory, monkeypatch, name, module, function):
    real = getattr(module, function)

    def poisoned(*args, **kwargs):
        out = real(*args, **kwargs)
        nan = lambda t: t * float("nan")  # noqa: E731
        return {k: nan(v) for k, v in out.items()} if isinstance(out, dict) else nan(out)

    monkeypatch.setattr(module, function, poisoned)
    with pytest.raises(TrainingFailed) as err:
        fit(name, contract_split(split_factory), epochs=3, val=False)
    assert err.value.epoch == 1 and "nan" in str(err.value)


@pytest.mark.parametrize("name", ["deep-svdd-vae", "anoean", "ae"])
def test_registered_with_a_documented_config(name):
    cls = registry.get(name)
    assert cls.title and cls.summary and cls.Config is not None
    for field, info in cls.Config.model_fields.items():
        assert info.description, f"{name}.{field} has no description"
    with pytest.raises(DeepADError, match="lr"):
        cls({"lr": -1.0})
