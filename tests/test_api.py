"""The Python API (`deepad.train`, `load`, `runs`, `sweep`, `Run`): it trains, reloads and draws the
dashboard's figures; it validates options exactly as the CLI does; its docstring examples run; the
example notebook under docs/ executes."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import deepad
from deepad import api
from deepad.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_importing_deepad_loads_no_heavy_module():
    code = ("import sys, deepad; heavy = [m for m in ('torch', 'sklearn', 'pandas', 'plotly', 'pydantic') "
            "if m in sys.modules]; print(heavy); assert callable(deepad.train) and 'torch' not in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_docstring_examples_run(tmp_path):
    result = doctest.testmod(api, extraglobs={"RUNS": str(tmp_path)}, optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted >= 6 and result.failed == 0


def test_train_reload_and_figures(tmp_path):
    run = deepad.train(dataset="ring", method="deep-svdd", epochs=3, pretrain_epochs=1, seed=0, runs_dir=tmp_path,
                       progress=False)
    assert run.state == "finished" and 0.5 < run.auc <= 1 and 0 < run.ap <= 1
    assert run.verdict in ("healthy", "at risk", "collapsed")
    h = run.history
    assert isinstance(h, pd.DataFrame) and set(h["phase"]) == {"pretrain", "train"} and len(h) == 4
    assert run.scores.shape == run.labels.shape and set(np.unique(run.labels)) == {0, 1}
    assert run.embeddings.shape[0] == len(run.scores)
    again = deepad.load(run.run_id, runs_dir=tmp_path)
    by_path = deepad.load(run.path)
    for other in (again, by_path):
        assert other.run_id == run.run_id and other.auc == run.auc and np.array_equal(other.scores, run.scores)
    assert again.config == run.config and again.config["params"]["epochs"] == 3
    for name in api.FIGURES:
        fig = run.figure(name)
        assert isinstance(fig, go.Figure) and len(fig.data) >= 1, name
    roc = run.figure("roc")
    (curve,) = [t for t in roc.data if "AUC" in (t.name or "")]
    fpr, tpr = np.asarray(curve.x), np.asarray(curve.y)
    assert np.trapezoid(tpr, fpr) == pytest.approx(run.auc, abs=1e-6)  # the curve of the run's own scores
    with pytest.raises(deepad.DeepADError, match="figure 'umap' is unknown; choose one of: roc"):
        run.figure("umap")
    table = deepad.list_runs(tmp_path)
    assert table["run_id"].tolist() == [run.run_id] and table["auc"][0] == run.auc
    assert deepad.list_runs(tmp_path, method="iforest").empty


def test_a_background_run_returns_at_once_and_can_be_followed(tmp_path):
    run = deepad.train(dataset="blobs", method="deep-svdd", epochs=30, pretrain_epochs=0, seed=0, runs_dir=tmp_path,
                       background=True)
    assert run.state in ("queued", "running")  # returned before the training ended
    assert run.wait(timeout=300) is run
    assert run.state == "finished" and run.auc is not None and len(run.history) == 30


@pytest.mark.parametrize("options, argv", [
    ({"dataset": "blobs", "method": "no-such"}, ["--dataset", "blobs", "--method", "no-such"]),
    ({"method": "deep-svdd", "epochs": 0}, ["--method", "deep-svdd", "--epochs", "0"]),
    ({"method": "iforest", "nu": 0.1}, ["--method", "iforest", "--nu", "0.1"]),
    ({"normal": [3], "known_anomalies": 50, "known_classes": "12"},
     ["--normal", "3", "--known-anomalies", "50", "--known-classes", "12"]),
    ({"dataset": "mnist5k", "normal": "x"}, ["--dataset", "mnist5k", "--normal", "x"]),
])
def test_bad_options_get_the_cli_s_message_and_nothing_is_written(tmp_path, capsys, options, argv):
    with pytest.raises(deepad.DeepADError) as err:
        deepad.train(runs_dir=tmp_path / "api", **options)
    assert main(["train", *argv, "--runs-dir", str(tmp_path / "cli")]) == 2
    assert capsys.readouterr().err.strip() == f"error: {err.value}"
    assert not (tmp_path / "api").exists() or not any((tmp_path / "api").iterdir())


def test_an_unknown_keyword_is_refused_naming_the_options(tmp_path):
    with pytest.raises(deepad.DeepADError, match="unknown option 'colour'; the options are those of `deepad train"):
        deepad.train(colour="red", runs_dir=tmp_path)


def test_the_example_notebook_executes(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    nb = nbformat.read(ROOT / "docs" / "example.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs)
    assert "finished" in text and "'collapsed'" in text
    assert any("application/vnd.plotly.v1+json" in o.get("data", {}) for o in outputs)  # the figures are drawn
    assert len(list((tmp_path / "runs").iterdir())) == 2


def test_a_sweep_from_python_trains_its_grid_on_ray(tmp_path):
    """In a fresh interpreter (the sweep starts and stops its own local Ray instance)."""
    code = ("import json, sys, deepad\n"
            "runs = deepad.sweep({'n_estimators': [20, 50]}, seeds=[0], dataset='blobs', method='iforest', "
            "runs_dir=sys.argv[1], max_concurrent=2)\n"
            "table = deepad.list_runs(sys.argv[1], sweep_id=runs[0].config['sweep']['id'])\n"
            "print(json.dumps({'states': [r.state for r in runs], 'trees': sorted(r.config['params']['n_estimators'] "
            "for r in runs), 'aucs': [r.auc for r in runs], 'listed': len(table)}))")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled", "OMP_NUM_THREADS": "1"}
    env.pop("DEEPAD_RAY_ADDRESS", None)
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "runs")], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    import json

    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["states"] == ["finished", "finished"] and out["trees"] == [20, 50] and out["listed"] == 2
    assert all(a > 0.8 for a in out["aucs"])


def test_train_takes_the_chosen_methods_own_settings_and_refuses_anothers(tmp_path):
    run = deepad.train(dataset="blobs", method="iforest", n_estimators=20, seed=0, runs_dir=tmp_path, progress=False)
    assert run.state == "finished" and run.config["params"]["n_estimators"] == 20
    with pytest.raises(deepad.DeepADError, match=r"^--k does not apply to method iforest; its settings are: "
                                                 r"--features, --pca-variance, --pca-components, --n-estimators"):
        deepad.train(dataset="blobs", method="iforest", k=5, runs_dir=tmp_path, progress=False)
    with pytest.raises(deepad.DeepADError, match="k does not apply to method egbad"):  # the preset's method
        deepad.train(preset="egbad-clean", k=5, runs_dir=tmp_path, progress=False)
    assert len(list(tmp_path.iterdir())) == 1  # nothing written for the refused ones
