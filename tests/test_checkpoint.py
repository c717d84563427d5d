"""checkpoint = best-val: the weights, scores and threshold of the training epoch with the highest
validation AUC, chosen on the validation part alone (the test part's labels cannot move it)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from deepad import metrics
from deepad.data.parts import Part
from deepad.detectors import registry
from deepad.errors import DeepADError
from deepad.runs.listing import RunStore
from deepad.training.runner import train

# lr 1e-2 with bias terms: validation AUC moves from epoch to epoch (Chong et al.'s unstable arm)
SWINGY = {"bias": True, "lr": 1e-2, "epochs": 8, "pretrain_epochs": 1, "batch_size": 64}


def fit(split, **params):
    det = registry.get("deep-svdd")({**SWINGY, **params}, seed=4)
    records = []
    det.fit(split.train, split.val, on_epoch=lambda r, s=None: records.append(r))
    return det, [r for r in records if r["phase"] == "train"]


def test_best_val_keeps_the_validation_best_epoch(split_factory):
    split = split_factory(normal=[2])
    best, history = fit(split, checkpoint="best-val")
    aucs = [r["val_auc"] for r in history]  # every training epoch has one under best-val
    assert len(aucs) == SWINGY["epochs"]
    assert best.checkpoint_epoch == history[int(np.argmax(aucs))]["epoch"]
    assert best.checkpoint_val_auc == max(aucs)
    # the weights that score are that epoch's: they give its validation AUC again
    assert metrics.auc(split.val.target, best.score(split.val.x)) == pytest.approx(max(aucs), abs=1e-12)
    # and the threshold is theirs: the 95th percentile of the training scores under them
    assert best.threshold == pytest.approx(np.percentile(best.score(split.train.x), 95))

    last, last_history = fit(split, checkpoint="last")
    assert last.checkpoint_epoch == SWINGY["epochs"]
    assert [r["val_auc"] for r in last_history if "val_auc" in r][-1] == aucs[-1]  # same training
    if best.checkpoint_epoch != SWINGY["epochs"]:  # the choice changes what scores
        assert not np.allclose(best.score(split.test.x), last.score(split.test.x))


def test_test_labels_cannot_change_the_checkpoint(tmp_path, capsys):
    """Two runs whose test parts differ (the test set's anomaly share, and with it which test
    samples and labels there are) but whose training and validation parts are the same choose the
    same epoch with the same validation AUC."""
    store = RunStore(tmp_path / "runs")
    base = {"dataset": "mnist5k", "method": "deep-svdd", "seed": 4,
            "params": {**SWINGY, "epochs": 5, "checkpoint": "best-val"}}
    runs = [train({**base, "setup": {"normal": [2], **share}}, store) for share in ({}, {"test_anomaly_share": 0.2})]
    assert [r.state for r in runs] == ["finished", "finished"]
    a, b = (r.summary for r in runs)
    assert a["n_test"] != b["n_test"] and a["n_test_anomalies"] != b["n_test_anomalies"]
    assert a["checkpoint"] == "best-val" and 1 <= a["checkpoint_epoch"] <= 5
    assert (a["checkpoint_epoch"], a["checkpoint_val_auc"]) == (b["checkpoint_epoch"], b["checkpoint_val_auc"])
    val_a = [r["val_auc"] for r in runs[0].history() if r["phase"] == "train"]
    assert val_a == [r["val_auc"] for r in runs[1].history() if r["phase"] == "train"]
    assert a["checkpoint_epoch"] == int(np.argmax(val_a)) + 1

    from deepad.cli import main
    from deepad.sweeps.report import run_line

    assert run_line(runs[0])["checkpoint_epoch"] == a["checkpoint_epoch"]
    assert main(["show", runs[0].run_id, "--runs-dir", str(store.root)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["checkpoint"], shown["checkpoint_epoch"]) == ("best-val", a["checkpoint_epoch"])


def test_best_val_needs_labelled_validation_anomalies(split_factory):
    split = split_factory(normal=[2])
    v = split.val
    normals = v.target == 0
    only_normals = Part(x=v.x[normals], y=v.y[normals], target=v.target[normals], known_label=v.known_label[normals],
                        index=v.index[normals])
    det = registry.get("ae")({"epochs": 1, "checkpoint": "best-val"}, seed=0)
    with pytest.raises(DeepADError, match="best-val.*one class only"):
        det.fit(split.train, only_normals)
    with pytest.raises(DeepADError, match="best-val.*no samples"):
        det.fit(split.train, None)


@pytest.mark.parametrize("method", ["ae", "deep-svdd-vae", "egbad"])
def test_best_val_applies_to_other_deep_detectors(split_factory, method):
    split = split_factory(normal=[5], preprocess=registry.get(method).preferred_preprocess("image"))
    params = {**registry.spec(method).smoke, "epochs": 3, "checkpoint": "best-val"}
    det = registry.get(method)(params, seed=1)
    records = []
    det.fit(split.train, split.val, on_epoch=lambda r, s=None: records.append(r))
    aucs = {r["epoch"]: r["val_auc"] for r in records if r["phase"] == "train"}
    assert len(aucs) == 3 and det.checkpoint_epoch == max(aucs, key=lambda e: (aucs[e], -e))
    assert metrics.auc(split.val.target, det.score(split.val.x)) == pytest.approx(aucs[det.checkpoint_epoch], abs=1e-9)


@pytest.mark.parametrize("method", [n for n, s in registry.specs().items()
                                    if "checkpoint" in s.Config.model_fields and n not in ("deep-svdd",)])
def test_best_val_restores_the_chosen_epoch_for_every_deep_detector(split_factory, method):
    """Every detector with a checkpoint setting, on a split every one of them accepts (known normals
    and known anomalies, a little pollution): best-val ends on the validation-best training epoch
    and scores as it scored then, whatever state beyond the weights the method keeps."""
    spec = registry.spec(method)
    split = split_factory(normal=[1], known_anomalies=20, known_classes=[7, 9], known_normals=10, pollution=0.05,
                          preprocess=registry.get(method).preferred_preprocess("image"))
    det = registry.get(method)({**spec.smoke, "checkpoint": "best-val"}, seed=2)
    records = []
    det.fit(split.train, split.val, on_epoch=lambda r, s=None: records.append(r))
    aucs = {r["epoch"]: r["val_auc"] for r in records
            if r["phase"] in det.CHECKPOINT_PHASES and r.get("val_auc") is not None}
    assert aucs and det.checkpoint_epoch == max(aucs, key=lambda e: (aucs[e], -e)), aucs
    assert metrics.auc(split.val.target, det.score(split.val.x)) == pytest.approx(aucs[det.checkpoint_epoch],
                                                                                   abs=1e-6)
    assert det.threshold is not None and np.isfinite(det.threshold)
