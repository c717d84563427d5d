"""What R2-AD2, EGBAD and Rt-BiGAN share (they take their data in [0, 1]): the phases they record, in
order, with validation numbers; the stop flag; a NaN loss; their preferred preprocessing; the papers'
set-ups in their presets. Each method's own tests: tests/detectors/test_<name>.py."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepad.detectors import registry
from deepad.detectors.base import Cancelled
from deepad.detectors._shared import bigan as BG
from deepad.detectors.r2ad2 import gradients as G
from deepad.errors import TrainingFailed
from deepad.training.config import validate_config
from tests.detectors.unit_interval import TINY, contract_split, fit


PHASES = {"r2ad2": ["target", "target", "features", "train", "train"],
          "egbad": ["train", "train"],
          "rt-bigan": ["meta"] * 4 + ["adapt", "train", "train"]}


# -- the phases they record (the contract itself: tests/test_contract.py) ----------------------------
@pytest.mark.parametrize("name", ["r2ad2", "egbad", "rt-bigan"])
def test_phases_in_order_with_validation_numbers(split_factory, name):
    _, records = fit(name, contract_split(split_factory))
    assert [r["phase"] for r in records] == PHASES[name]
    for r in records:
        assert r["seconds"] >= 0
        if r["phase"] in ("train", "meta", "adapt"):
            assert np.isfinite(r["loss"]) and 0 <= r["val_auc"] <= 1
            assert "eff_rank" not in r and "verdict" not in r  # no hypersphere: no collapse numbers


@pytest.mark.parametrize("name", ["r2ad2", "egbad", "rt-bigan"])
def test_stop_flag_is_checked_during_training(split_factory, name):
    split = contract_split(split_factory)
    calls = []

    def stop():
        calls.append(1)
        return len(calls) > 3

    with pytest.raises(Cancelled):
        registry.get(name)(TINY[name]).fit(split.train, should_stop=stop)


def test_nan_loss_fails_the_run_with_the_epoch(split_factory, monkeypatch):
    split = contract_split(split_factory)
    monkeypatch.setattr(G, "reconstruction_loss", lambda x_hat, x: (x_hat.reshape(x.shape) - x).sum() * np.nan
                        + torch.zeros(len(x)))
    with pytest.raises(TrainingFailed) as err:
        fit("r2ad2", split, val=False)
    assert err.value.epoch == 1
    monkeypatch.setattr(BG, "discriminator_loss", lambda a, b: (a.sum() + b.sum()) * np.nan)
    with pytest.raises(TrainingFailed):
        fit("egbad", split, val=False)


def test_preferred_preprocessing_puts_data_in_the_unit_interval():
    for name in ("r2ad2", "egbad", "rt-bigan"):
        cls = registry.get(name)
        assert registry.spec(name).preferred_preprocess("toy") == "minmax"
        assert cls.preferred_preprocess("image") == "unit"
        assert cls.preferred_preprocess("tabular") == "minmax"


def test_presets_hold_the_papers_set_ups():
    from deepad.presets import load_presets

    presets = {n: validate_config(p.config) for n, p in load_presets().items()
               if n.split("-")[0] in ("r2ad2", "egbad", "rt")}
    assert set(presets) - {"r2ad2-paper", "egbad-paper", "rt-bigan-paper"} == {
                            "r2ad2-semi", "r2ad2-polluted", "rt-bigan-polluted", "egbad-polluted", "egbad-clean",
                            "rt-bigan-fashion-pollution", "egbad-fashion-pollution", "egbad-fashion-clean"}
    semi = presets["r2ad2-semi"].setup
    assert (semi.normal, semi.known_anomalies, semi.known_classes) == ([0, 1, 2, 3], 100, [4, 5, 6])
    assert semi.anomaly == [4, 5, 6, 7, 8, 9] and semi.pollution == 0
    assert presets["r2ad2-polluted"].setup == semi.model_copy(update={"pollution": 0.05})
    # the two BiGANs see the same polluted data; the clean run differs only by the pollution
    assert presets["rt-bigan-polluted"].setup == presets["egbad-polluted"].setup
    assert presets["rt-bigan-polluted"].setup.pollution > 0 and presets["egbad-clean"].setup.pollution == 0
    # Ma et al.'s own data: digits normal, clothing the anomalies; the same BiGAN epochs for both methods
    fashion = {n: p for n, p in presets.items() if "fashion" in n}
    assert {p.dataset for p in fashion.values()} == {"mnist-and-fashion"}
    polluted = presets["rt-bigan-fashion-pollution"]
    assert polluted.setup == presets["egbad-fashion-pollution"].setup
    assert (polluted.setup.normal, polluted.setup.anomaly) == (list(range(10)), list(range(10, 20)))
    assert presets["egbad-fashion-clean"].setup == polluted.setup.model_copy(update={"pollution": 0,
                                                                                    "known_normals": 0})
    egbad = presets["egbad-fashion-pollution"].params
    assert egbad["epochs"] == polluted.params["rounds"] * polluted.params["round_epochs"]
    assert egbad["lr"] == polluted.params["lr"] == presets["egbad-fashion-clean"].params["lr"]
    # no preset picks its pseudo-normal share from the pollution it sets (that would be an oracle)
    raw = {n: p.config for n, p in load_presets().items() if p.config["method"] == "rt-bigan"}
    assert raw and all(not {"threshold_quantile", "pseudo_label"} & set(c.get("params", {})) for c in raw.values())
    config = registry.spec("rt-bigan").Config
    for c in raw.values():
        cfg = config(**c.get("params", {}))
        assert cfg.pseudo_label == "known-normals" or cfg.threshold_quantile != 1 - c["setup"]["pollution"]
