"""`deepad export`: runs read back from TensorBoard event files (tensorboard's own reader) and from
an MLflow file store (mlflow's own client), offline."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from deepad.cli import main
from deepad.runs.listing import RunStore
from deepad.training.runner import train

pytest.importorskip("tensorboard")
pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    """Two short Deep SVDD runs on the ring toy set (different seeds), finished on disk."""
    runs = tmp_path_factory.mktemp("runs")
    store = RunStore(runs)
    ids = [train({"dataset": "ring", "method": "deep-svdd", "seed": seed, "title": f"ring seed {seed}",
                  "params": {"epochs": 3, "pretrain_epochs": 1}}, store).run_id for seed in (0, 1)]
    return runs, ids


def export(capsys, runs, ids, fmt, out) -> dict:
    status = main(["export", *ids, "--format", fmt, "--out", str(out), "--runs-dir", str(runs)])
    captured = capsys.readouterr()
    assert status == 0, captured.err
    return json.loads(captured.out)


def history_of(store, run_id, key="loss", phase="train"):
    return [(r["step"], r[key]) for r in store.get(run_id).history() if r.get("phase") == phase and key in r]


def test_tensorboard_export_is_read_back_by_tensorboard(tmp_path, capsys, two_runs):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    runs, ids = two_runs
    store = RunStore(runs)
    summary = export(capsys, runs, ids, "tensorboard", tmp_path / "tb")
    assert [r["run_id"] for r in summary["runs"]] == ids
    for run_id in ids:
        record = store.get(run_id)
        ea = EventAccumulator(str(tmp_path / "tb" / run_id), size_guidance={"scalars": 0, "images": 0, "tensors": 0})
        ea.Reload()
        loss = [(e.step, e.value) for e in ea.Scalars("train/loss")]
        expected = history_of(store, run_id)
        assert [s for s, _ in loss] == [s for s, _ in expected] and len(loss) == 3
        assert np.allclose([v for _, v in loss], [v for _, v in expected], rtol=1e-6)
        assert len(ea.Scalars("pretrain/loss")) == 1
        assert ea.Scalars("final/auc")[0].value == pytest.approx(record.summary["auc"], rel=1e-6)
        assert "roc" in ea.Tags()["images"]
        hparams = ea.PluginTagToContent("hparams")
        assert "_hparams_/session_start_info" in hparams
        from tensorboard.plugins.hparams import plugin_data_pb2

        info = plugin_data_pb2.HParamsPluginData.FromString(hparams["_hparams_/session_start_info"]).session_start_info
        assert info.hparams["method"].string_value == "deep-svdd" and info.hparams["seed"].number_value == record.config["seed"]
        assert info.hparams["epochs"].number_value == 3
        assert (tmp_path / "tb" / run_id / "artifacts" / "model.pt").read_bytes() == record.files.file("model.pt").read_bytes()


def test_mlflow_export_is_read_back_by_mlflow_s_client(tmp_path, capsys, two_runs, monkeypatch):
    from mlflow.tracking import MlflowClient

    runs, ids = two_runs
    store = RunStore(runs)
    summary = export(capsys, runs, ids, "mlflow", tmp_path / "mlruns")
    assert summary["experiment"] == "deepad" and len(summary["runs"]) == 2
    assert os.environ.get("MLFLOW_ALLOW_FILE_STORE") is None  # the opt-in was only for the export
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").resolve().as_uri())
    exp = client.get_experiment_by_name("deepad")
    found = {r.data.tags["deepad.run_id"]: r for r in client.search_runs([exp.experiment_id])}
    assert sorted(found) == sorted(ids)
    for run_id in ids:
        record, mr = store.get(run_id), found[run_id]
        assert mr.info.status == "FINISHED" and mr.info.run_name == record.config["title"]
        assert mr.data.metrics["auc"] == pytest.approx(record.summary["auc"])
        assert mr.data.params["method"] == "deep-svdd" and mr.data.params["epochs"] == "3"
        assert json.loads(mr.data.params["setup.normal"]) == record.config["setup"]["normal"]
        loss = [(m.step, m.value) for m in client.get_metric_history(mr.info.run_id, "train/loss")]
        expected = history_of(store, run_id)
        assert [s for s, _ in sorted(loss)] == [s for s, _ in expected] and len(expected) == 3
        assert np.allclose([v for _, v in sorted(loss)], [v for _, v in expected])
        names = {a.path for a in client.list_artifacts(mr.info.run_id)}
        assert {"roc.png", "roc.plotly.json", "config.json", "model"} <= names
        assert [a.path for a in client.list_artifacts(mr.info.run_id, "model")] == ["model/model.pt"]
        png = client.download_artifacts(mr.info.run_id, "roc.png", str(tmp_path / f"dl-{run_id}"))
        from PIL import Image

        assert Image.open(png).size == (480, 480)
    # exporting again adds to the same experiment
    export(capsys, runs, ids[:1], "mlflow", tmp_path / "mlruns")
    assert len(client.search_runs([exp.experiment_id])) == 3


def test_bad_exports_are_refused_with_one_line(tmp_path, capsys, two_runs):
    runs, ids = two_runs
    (tmp_path / "file").write_text("x")
    cases = [(["export", "no-such-run", "--format", "mlflow", "--out", str(tmp_path / "o")], "no-such-run"),
             (["export", ids[0], "--format", "wandb", "--out", str(tmp_path / "o")], "invalid choice"),
             (["export", ids[0], "--format", "mlflow", "--out", str(tmp_path / "file")], "a file is in the way")]
    for argv, message in cases:
        assert main([*argv, "--runs-dir", str(runs)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err, err


def test_a_sweep_exports_as_one_experiment(tmp_path, capsys, monkeypatch):
    """The trials of one sweep (trained here one after the other, as Ray would) land in the sweep's
    MLflow experiment, each with its grid values as parameters."""
    from mlflow.tracking import MlflowClient

    from deepad.sweeps import expand

    base = {"dataset": "blobs", "method": "iforest", "seed": 0, "setup": {"normal": [0]}, "params": {}}
    configs = expand(base, {"seed": [0, 1], "n_estimators": [20, 50]}, "s-test1", ["n_estimators"], [])
    store = RunStore(tmp_path / "runs")
    ids = [train(cfg, store).run_id for cfg in configs]
    summary = export(capsys, tmp_path / "runs", ids, "mlflow", tmp_path / "mlruns")
    assert summary["experiment"] == "deepad sweep s-test1"
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=(tmp_path / "mlruns").resolve().as_uri())
    found = client.search_runs([client.get_experiment_by_name("deepad sweep s-test1").experiment_id])
    assert len(found) == 4 and {r.data.tags["deepad.sweep_id"] for r in found} == {"s-test1"}
    assert sorted((r.data.params["seed"], r.data.params["n_estimators"]) for r in found) == [
        ("0", "20"), ("0", "50"), ("1", "20"), ("1", "50")]
