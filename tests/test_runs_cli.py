"""Runs on disk, the background manager, and the CLI contract."""

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest

from deepad import cli
from deepad.detectors.deep_svdd import losses as L
from deepad.runs.files import atomic_write_json
from deepad.runs.create import new_run_folder
from deepad.runs.listing import RunStore
from deepad.training.manager import RunManager
from deepad.runs.reopen import run_detector
from deepad.training.runner import train

FAST = {"epochs": 4, "pretrain_epochs": 2}


def small_config(**params):
    return {"dataset": "mnist5k", "setup": {"normal": [1]}, "method": "deep-svdd",
            "params": {**FAST, **params}, "seed": 0}


@pytest.mark.parametrize("argv, needle", [
    (["--nu", "1.5"], "nu=1.5: allowed values are in (0, 1]"),
    (["--nu", "0"], "nu=0: allowed values are in (0, 1]"),
    (["--reg", "noise", "--k", "0"], "k=0: allowed values are in [1, "),
    (["--alpha", "1.2"], "alpha=1.2: allowed values are in [0, 1]"),
    (["--beta", "-0.1"], "beta=-0.1: allowed values are in [0, 1]"),
    (["--lr", "0"], "lr=0: allowed values are in (0, "),
    (["--lr", "abc"], "lr=abc"),
    (["--dataset", "nope"], "unknown dataset 'nope'"),
    (["--method", "nope"], "unknown method 'nope'"),
    (["--normal", "11"], "class 11 does not exist"),
    (["--normal", "x"], "--normal='x'"),
    (["--known-classes", "3", "--normal", "3"], "known_classes"),
    (["--method", "iforest", "--k", "5"], "--k does not apply to method iforest"),
    (["--dataset", "cifar10"], "cifar-10-batches-py"),
    # set-ups the data cannot supply are refused before a run folder exists
    (["--normal", "1", "--known-anomalies", "100000"], "known_anomalies=100000: only"),
    (["--normal", "1", "--pollution", "0.95"], "pollution=0.95: needs"),
    (["--normal", "1", "--known-normals", "100000"], "known_normals=100000: only"),
    (["--preset", "nope"], "unknown preset 'nope'; choose one of: "),
    (["--bogus"], "unrecognized arguments: --bogus (see `python -m deepad train --help`)"),
    (["--preset", "rt-bigan-fashion-pollution"], "mnist-and-fashion reads MNIST and Fashion-MNIST"),
    (["--preset", "egbad-clean", "--k", "5"], "--k does not apply to method egbad"),
    # options that need another, given without it
    (["--label-column", "y"], "--label-column applies only to your own data given with --data"),
    (["--image-size", "0"], "--image-size applies only to your own data given with --data"),
    (["--normal", "1", "--known-classes", "3"], "known_classes=[3]: the known anomalies are drawn from"),
    (["--weight-decay", "1e9"], "weight_decay=1e9: allowed values are in [0, 1]"),
])
def test_cli_bad_input_is_one_line_exit_2_and_writes_nothing(tmp_path, capsys, argv, needle):
    runs = tmp_path / "runs"
    data = tmp_path / "data"
    rc = cli.main(["train", "--runs-dir", str(runs), "--data-dir", str(data), *argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert needle in err and len(err.splitlines()) == 1, err
    assert not runs.exists() and not data.exists()


def _smoke_flags(method: str) -> list[str]:
    """The method's short recipe (its declared smoke settings) as command-line options."""
    from deepad.detectors import registry

    flags = []
    for name, value in registry.spec(method).smoke.items():
        flag = cli.flag_for(name)
        flags += ([flag if value else "--no-" + flag[2:]] if isinstance(value, bool) else [flag, str(value)])
    return flags


@pytest.mark.parametrize("method", __import__("deepad.detectors.registry", fromlist=["names"]).names())
def test_every_method_trains_from_train_method_alone(tmp_path, capsys, method):
    """`train --method M` with nothing else (the set-up left to the method's paper defaults), in its
    short recipe: a finished run on MNIST-5k with its test metrics, the set-up its paper uses filled
    in. (Two epochs are too few to ask every method to detect well: EGBAD's smoke run can rank
    below chance.)"""
    from deepad.detectors import registry

    runs = tmp_path / "runs"
    rc = cli.main(["train", "--method", method, "--runs-dir", str(runs), "--quiet", *_smoke_flags(method)])
    out = capsys.readouterr()
    assert rc == 0, out.err
    result = json.loads(out.out.strip().splitlines()[-1])
    assert result["state"] == "finished" and result["method"] == method
    assert 0 <= result["auc"] <= 1 and result["n_test"] > result["n_test_anomalies"] > 0, result
    saved = json.loads((runs / result["run_id"] / "config.json").read_text())["setup"]
    for name, value in registry.spec(method).default_setup(registry.spec(method).smoke).items():
        assert saved[name] == value, (name, saved)


def test_method_defaults_fill_only_what_the_set_up_leaves_unset(tmp_path, capsys):
    """Rt-BiGAN from the options that used to fail after writing a folder: its 10 known normals are
    filled in; known normals follow n_adapt; a set-up that explicitly lacks them is refused."""
    args = cli.build_parser().parse_args(["train", "--method", "rt-bigan", "--normal", "3", "--pollution", "0.1"])
    cfg = cli.config_from_args(args)
    assert cfg["setup"] == {"normal": [3], "known_normals": 10, "pollution": "0.1"}  # validated later
    args = cli.build_parser().parse_args(["train", "--method", "rt-bigan", "--n-adapt", "25"])
    assert cli.config_from_args(args)["setup"]["known_normals"] == 25
    args = cli.build_parser().parse_args(["train", "--method", "anoean"])
    assert cli.config_from_args(args)["setup"] == {"normal": [0], "known_anomalies": 0.1, "test_anomaly_share": 0.2}
    args = cli.build_parser().parse_args(["train", "--method", "deep-svdd"])
    assert cli.config_from_args(args)["setup"] == {"normal": [0]}
    # a preset's set-up stays as it is
    args = cli.build_parser().parse_args(["train", "--preset", "r2ad2-semi"])
    assert cli.config_from_args(args)["setup"]["known_anomalies"] == 100
    runs = tmp_path / "runs"
    for argv, needle in ((["--method", "rt-bigan", "--known-normals", "3"], "needs 10 known normals"),
                         (["--method", "r2ad2", "--known-anomalies", "0"], "needs labelled anomalies"),
                         (["--method", "anoean", "--known-anomalies", "0"], "needs labelled anomalies")):
        rc = cli.main(["train", "--runs-dir", str(runs), *argv])
        err = capsys.readouterr().err.strip()
        assert rc == 2 and needle in err and len(err.splitlines()) == 1, err
        assert not runs.exists()


def test_cli_preset_is_the_start_and_the_options_given_change_it():
    from deepad.presets import get_preset

    parse = lambda *argv: cli.config_from_args(cli.build_parser().parse_args(["train", *argv]))  # noqa: E731
    preset = get_preset("egbad-fashion-pollution")
    cfg = parse("--preset", "egbad-fashion-pollution")
    assert {k: cfg[k] for k in preset.config} == preset.config and cfg["title"] == preset.title
    cfg = parse("--preset", "egbad-fashion-pollution", "--seed", "3", "--epochs", "2", "--pollution", "0.1")
    assert cfg["seed"] == 3 and cfg["params"] == {**preset.config["params"], "epochs": "2"}
    assert cfg["setup"] == {**preset.config["setup"], "pollution": "0.1"}
    # another method starts from its own defaults; another dataset from its default normal class
    assert parse("--preset", "egbad-fashion-pollution", "--method", "iforest")["params"] == {}
    cfg = parse("--preset", "egbad-fashion-pollution", "--dataset", "digits")
    assert cfg["setup"] == {"normal": [0]} and cfg["params"] == preset.config["params"]
    # without a preset: the documented defaults
    cfg = parse()
    assert (cfg["dataset"], cfg["method"], cfg["seed"], cfg["setup"]) == ("mnist5k", "deep-svdd", 0, {"normal": [0]})


def test_cli_trains_a_preset(tmp_path, capsys):
    runs = tmp_path / "runs"
    rc = cli.main(["train", "--preset", "egbad-clean", "--epochs", "2", "--runs-dir", str(runs), "--quiet"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0 and out["state"] == "finished" and out["method"] == "egbad" and out["normal"] == [0]
    saved = json.loads((runs / out["run_id"] / "config.json").read_text())
    assert saved["params"]["epochs"] == 2 and saved["title"] == "EGBAD, clean training data"
    # a BiGAN encoder is not a hypersphere: no verdict, in the train line and in `show`
    assert out["verdict"] is None and out["collapsed"] is None and "verdict_rule" not in out
    assert cli.main(["show", out["run_id"], "--runs-dir", str(runs)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["verdict"] is None and shown["status"]["summary"]["verdict"] is None
    assert not (runs / out["run_id"] / "diagnostics.json").exists()


def test_cli_train_prints_json_last_and_list_show_find_the_run(tmp_path):
    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    out = subprocess.run([sys.executable, "-m", "deepad", "train", "--dataset", "digits", "--normal", "0",
                          "--epochs", "3", "--pretrain-epochs", "2", "--test-anomaly-share", "0.2",
                          "--runs-dir", str(runs), "--quiet"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # digits: 178 zeros, 30 % of them (53) in the test set; anomalies 20 % of it
    assert abs(result["n_test_anomalies"] - 0.2 * result["n_test"]) <= 1
    assert result["n_test"] - result["n_test_anomalies"] == 53
    for key in ("run_id", "method", "dataset", "auc", "ap", "collapsed", "seconds"):
        assert key in result
    assert result["method"] == "deep-svdd" and result["dataset"] == "digits"
    assert result["verdict"] in ("healthy", "at risk", "collapsed")
    assert result["verdict_rule"]["collapsed_below"] > 0 and result["spread_ratio"] > 0
    assert 0.5 < result["auc"] <= 1.0
    listed = subprocess.run([sys.executable, "-m", "deepad", "list", "--runs-dir", str(runs)],
                            capture_output=True, text=True, env=env, timeout=120)
    assert json.loads(listed.stdout.splitlines()[0])["run_id"] == result["run_id"]
    shown = subprocess.run([sys.executable, "-m", "deepad", "show", result["run_id"], "--runs-dir", str(runs)],
                           capture_output=True, text=True, env=env, timeout=120)
    shown = json.loads(shown.stdout)
    assert shown["state"] == "finished" and shown["verdict"] == result["verdict"]
    assert shown["status"]["summary"]["n_test_anomalies"] == result["n_test_anomalies"]
    assert shown["config"]["setup"]["test_anomaly_share"] == 0.2


def test_finished_run_is_complete_on_disk_and_reloads(runs_dir):
    run = train(small_config())
    assert run.state == "finished"
    res = run.results()
    assert len(res["test_scores"]) == len(res["test_target"]) == run.summary["n_test"]
    assert res["test_emb"].shape == (run.summary["n_test"], 32)
    assert len(run.history()) == FAST["epochs"] + FAST["pretrain_epochs"]
    snaps = run.snapshots()  # a short run: every training epoch is a scheduled frame (see torch_utils)
    assert snaps["step"].tolist() == [r["step"] for r in run.history() if r["phase"] == "train"]
    assert snaps["emb"].shape[0] == FAST["epochs"] and snaps["step"][-1] == len(run.history())
    det = run_detector(RunStore().get(run.run_id))
    from deepad.data import SetupConfig, load_dataset, make_split

    split = make_split(load_dataset("mnist5k"), SetupConfig(normal=[1]), seed=0)
    assert np.allclose(det.score(split.test.x), res["test_scores"], rtol=1e-5, atol=1e-7)
    assert np.array_equal(split.test.index, res["test_index"])


def test_nan_loss_fails_the_run_with_epoch_and_hint_and_keeps_history(runs_dir, monkeypatch):
    real = L.squared_distance
    calls = {"n": 0}

    def poisoned(z, c):
        calls["n"] += 1
        d = real(z, c)
        return d * float("nan") if calls["n"] > 15 else d

    monkeypatch.setattr(L, "squared_distance", poisoned)
    run = train(small_config(epochs=6, pretrain_epochs=0))
    assert run.state == "failed"
    kept = [r["epoch"] for r in run.history()]
    assert len(kept) >= 2 and kept == list(range(1, len(kept) + 1))
    assert run.status["failed_epoch"] == len(kept) + 1  # the first epoch whose loss was not finite
    assert f"at epoch {len(kept) + 1}" in run.status["error"]
    assert "lower the learning rate" in run.status["hint"]


def test_cancel_keeps_history_and_marks_cancelled(runs_dir):
    seen = []

    def stop():
        return len(seen) >= 3

    run = train(small_config(epochs=50, pretrain_epochs=0), on_event=lambda _id, r: seen.append(r),
                should_stop=stop)
    assert run.state == "cancelled"
    assert len(run.history()) == 3
    kept = run.snapshots()["step"].tolist()  # what was snapshot before the cancel is kept
    assert {r["step"] for r in run.history() if "val_auc" in r} <= set(kept) <= {r["step"] for r in run.history()}


def test_manager_runs_in_background_queues_and_cancels(runs_dir):
    mgr = RunManager(max_parallel=1)
    try:
        first = mgr.start(small_config(epochs=200, pretrain_epochs=0))
        second = mgr.start(small_config())
        assert mgr.queue_position(second) == 1
        # wait for the first run to have trained a couple of epochs, then cancel it
        deadline = time.monotonic() + 120
        while len(RunStore().get(first).history()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mgr.cancel(first)
        assert mgr.wait(first, timeout=120).state == "cancelled"
        done = mgr.wait(second, timeout=300)
        assert done.state == "finished" and done.summary["auc"] > 0.5
    finally:
        mgr.shutdown()


def test_run_whose_process_died_reads_as_interrupted(runs_dir):
    store = RunStore()
    run = new_run_folder(store, small_config(), "deep-svdd")
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    atomic_write_json(run.path / "status.json", {**run.status, "state": "running",
                                                  "owner": {"pid": dead.pid, "host": run.status["owner"]["host"],
                                                            "token": "gone"}})
    (run.path / "history.jsonl").write_text('{"epoch": 1, "loss": 1.0}\n{"epoch": 2, "lo')  # torn write
    again = RunStore().get(run.run_id)
    assert again.state == "interrupted"
    assert again.history() == [{"epoch": 1, "loss": 1.0}]
    assert [r.run_id for r in RunStore().list()] == [run.run_id]


def test_a_training_process_killed_mid_run_leaves_an_interrupted_run_with_its_history(tmp_path):
    """A real crash: the CLI trains in a child process, which is killed (SIGKILL, no clean-up)
    after its third epoch record; the run then reads as interrupted with the records so far, and a
    finished run beside it is untouched."""
    import signal

    runs = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    done = cli.main(["train", "--dataset", "digits", "--epochs", "1", "--pretrain-epochs", "0",
                     "--runs-dir", str(runs), "--quiet"])
    assert done == 0
    child = subprocess.Popen([sys.executable, "-m", "deepad", "train", "--dataset", "digits", "--epochs", "500",
                              "--pretrain-epochs", "0", "--runs-dir", str(runs), "--quiet"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            live = [r for r in RunStore(runs).list() if r.state == "running" and len(r.history()) >= 3]
            if live:
                break
            assert child.poll() is None, "the training process ended before it was killed"
            time.sleep(0.1)
        assert live, "no epoch records within 120 s"
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    runs_now = {r.run_id: r for r in RunStore(runs).list()}
    killed = runs_now[live[0].run_id]
    assert killed.state == "interrupted"
    assert len(killed.history()) >= 3 and all("loss" in rec for rec in killed.history())
    assert [r.state for r in runs_now.values()].count("finished") == 1


def test_runs_dir_resolution(tmp_path, monkeypatch):
    from deepad.runs.layout import resolve_runs_dir

    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(tmp_path / "env"))
    assert resolve_runs_dir(tmp_path / "arg") == tmp_path / "arg"
    assert resolve_runs_dir() == tmp_path / "env"
    monkeypatch.delenv("DEEPAD_RUNS_DIR")
    assert str(resolve_runs_dir()).startswith(os.path.expanduser("~"))


def test_cli_trains_on_a_users_csv_and_keeps_a_copy_with_the_run(tmp_path, capsys):
    import pandas as pd

    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, (300, 4))
    status = np.where(rng.random(300) < 0.8, "ok", "bad")
    x[status == "bad"] += 3.0
    csv = tmp_path / "sensors.csv"
    pd.DataFrame(x, columns=list("abcd")).assign(status=status).to_csv(csv, index=False)
    runs = tmp_path / "runs"
    rc = cli.main(["train", "--data", str(csv), "--label-column", "status", "--normal", "ok",
                   "--epochs", "3", "--pretrain-epochs", "2", "--runs-dir", str(runs), "--quiet"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0 and out["auc"] > 0.9
    run = RunStore(runs).get(out["run_id"])
    assert (run.path / "data" / "sensors.csv").exists()
    csv.unlink()  # the run no longer needs the original
    assert str(run.path) in run.config["dataset"]
    assert run_detector(run) is not None
    rc = cli.main(["train", "--data", str(tmp_path / "missing.csv"), "--normal", "ok", "--runs-dir", str(runs)])
    assert rc == 2 and "missing.csv" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["npz", "zip"])
def test_cli_trains_on_a_users_npz_and_image_zip(tmp_path, capsys, kind):
    """Bright squares in the middle (normal) or in a corner (defect), 12×12 grey images."""
    import io
    import zipfile

    from PIL import Image

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 0.15, (120, 12, 12))
    x[:80, 4:8, 4:8] = 0.9
    x[80:, 0:4, 0:4] = 0.9
    labels = ["good"] * 80 + ["defect"] * 40
    if kind == "npz":
        path = tmp_path / "parts.npz"
        np.savez(path, x=x.astype(np.float32), y=np.array(labels))
    else:
        path = tmp_path / "parts.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for i, (img, label) in enumerate(zip(x, labels)):
                buf = io.BytesIO()
                Image.fromarray((img * 255).round().astype(np.uint8)).save(buf, "PNG")
                zf.writestr(f"parts/{label}/{i:03d}.png", buf.getvalue())
    runs = tmp_path / "runs"
    rc = cli.main(["train", "--data", str(path), "--normal", "good", "--epochs", "5", "--pretrain-epochs", "2",
                   "--runs-dir", str(runs), "--quiet"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0 and out["state"] == "finished" and out["auc"] > 0.9, out
    run = RunStore(runs).get(out["run_id"])
    assert (run.path / "data" / path.name).exists() and run.split_info()["input_shape"] == [1, 12, 12]


def test_cli_alteration_set_up_with_every_class_normal(tmp_path, capsys):
    runs = tmp_path / "runs"
    rc = cli.main(["train", "--dataset", "digits", "--alteration", "strokes", "--runs-dir", str(runs)])
    assert rc == 2 and "all classes" in capsys.readouterr().err and not runs.exists()
    rc = cli.main(["train", "--dataset", "digits", "--normal", "all", "--alteration", "block-permutation",
                   "--epochs", "2", "--pretrain-epochs", "1", "--runs-dir", str(runs), "--quiet"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert rc == 0 and out["normal"] == list(range(10))
    res = RunStore(runs).get(out["run_id"]).results()
    assert res["test_raw"].shape[0] == len(res["test_scores"])  # altered copies are kept for display
