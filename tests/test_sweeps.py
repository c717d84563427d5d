"""Sweeps on real Ray: a local instance started by the sweep, and a cluster started here
(`ray start --head` on 127.0.0.1) that sweeps connect to by address. Tiny data (the 8×8 digits),
1-2 epochs per trial."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from deepad import cli
from deepad.runs.listing import RunStore

ROOT = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).with_name("ray")
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "RAY_AUTH_MODE": "disabled", "OMP_NUM_THREADS": "1"}
ENV.pop("DEEPAD_RAY_ADDRESS", None)
TINY = ["--dataset", "digits", "--normal", "0", "--epochs", "2", "--pretrain-epochs", "1"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_head(tmp_path_factory):
    """A Ray cluster of one head node with 2 CPUs, as a lab's would be started; ending the
    `ray start --block` process stops the whole cluster (never `ray stop`: it stops every Ray on
    the machine)."""
    port = free_port()
    log = tmp_path_factory.mktemp("ray-head") / "head.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([str(RAY), "start", "--head", "--node-ip-address", "127.0.0.1", "--port", str(port),
                                 "--num-cpus", "2", "--include-dashboard=false", "--block"],
                                stdout=out, stderr=subprocess.STDOUT, env=ENV, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while "Ray runtime started" not in log.read_text():
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the Ray head did not start: " + log.read_text()
            time.sleep(0.5)
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def sweep(*argv, timeout=480) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "deepad", "sweep", "--quiet", *argv], capture_output=True,
                          text=True, env=ENV, timeout=timeout, cwd=ROOT)


def lines(out: subprocess.CompletedProcess) -> tuple[list[dict], dict]:
    rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    return rows[:-1], rows[-1]


def cluster_nodes(address: str) -> set[str]:
    code = ("import json, ray; ray.init(address=%r, log_to_driver=False); "
            "print(json.dumps([n['NodeID'] for n in ray.nodes() if n['Alive']]))" % address)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120)
    assert out.returncode == 0, out.stderr
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def same_auc(run) -> bool:
    """The run's summary AUC is the one its shipped-back scores and labels give."""
    from sklearn.metrics import roc_auc_score

    res = run.results()
    return abs(roc_auc_score(res["test_target"], res["test_scores"]) - run.summary["auc"]) < 1e-9


def test_sweep_on_a_local_ray_instance_trains_every_trial_as_a_run(tmp_path):
    runs = tmp_path / "runs"
    out = sweep(*TINY, "--reg", "noise", "--grid", "k=5,50", "--grid", "lr=1e-4,1e-3", "--runs-dir", str(runs))
    assert out.returncode == 0, out.stderr
    trials, summary = lines(out)
    assert {k: summary[k] for k in ("engine", "trials", "finished", "failed", "local_instance")} == \
        {"engine": "ray", "trials": 4, "finished": 4, "failed": 0, "local_instance": True}
    assert len(trials) == 4 and {t["sweep_id"] for t in trials} == {summary["sweep_id"]}
    assert sorted((t["grid"]["k"], t["grid"]["lr"]) for t in trials) == [(5, 1e-4), (5, 1e-3), (50, 1e-4),
                                                                          (50, 1e-3)]
    listed = RunStore(runs).list()
    assert sorted(r.run_id for r in listed) == sorted(t["run_id"] for t in trials)
    for run in listed:
        assert run.state == "finished" and run.config["sweep"]["id"] == summary["sweep_id"]
        assert run.config["params"]["reg"] == "noise" and run.config["params"]["epochs"] == 2
        assert len(run.history()) == 3  # 1 pretraining + 2 training epochs, shipped back whole
        assert len(run.results()["test_scores"]) == run.summary["n_test"]
        assert same_auc(run) and (run.path / "model.pt").exists()
        assert run.status["ray"]["cluster"] == summary["gcs_address"] == summary["address"]
    # the local instance was the sweep's own, and it is gone
    host, port = summary["address"].rsplit(":", 1)
    with pytest.raises(OSError):
        socket.create_connection((host, int(port)), timeout=2).close()


def test_sweep_on_an_existing_cluster_runs_there_and_lands_locally(ray_head, tmp_path):
    runs = tmp_path / "runs"
    out = sweep(*TINY, "--seeds", "0,1", "--ray-address", ray_head, "--runs-dir", str(runs))
    assert out.returncode == 0, out.stderr
    trials, summary = lines(out)
    assert summary["address"] == ray_head and summary["local_instance"] is False
    assert summary["gcs_address"].endswith(ray_head.rsplit(":", 1)[1])
    assert (summary["trials"], summary["finished"], summary["failed"]) == (2, 2, 0)
    nodes = cluster_nodes(ray_head)  # the cluster outlives the sweep
    for t in trials:
        run = RunStore(runs).get(t["run_id"])
        assert run.status["ray"]["cluster"] == summary["gcs_address"] and run.status["ray"]["node_id"] in nodes
        assert t["node"] == run.status["ray"]["node_id"]
        assert len(run.history()) == 3 and same_auc(run) and (run.path / "model.pt").exists()
    assert sorted(RunStore(runs).get(t["run_id"]).config["seed"] for t in trials) == [0, 1]


def test_trials_write_straight_into_a_runs_folder_the_cluster_shares(ray_head, tmp_path):
    runs = tmp_path / "runs"
    out = sweep(*TINY, "--ray-address", ray_head, "--runs-dir", str(runs), "--shared-runs-dir")
    assert out.returncode == 0, out.stderr
    (trial,), summary = lines(out)
    assert (summary["trials"], summary["finished"]) == (1, 1)
    run = RunStore(runs).get(trial["run_id"])
    assert run.state == "finished" and len(run.history()) == 3 and same_auc(run)
    assert run.status["ray"]["node_id"] == trial["node"] and run.status["owner"]["pid"] == run.status["ray"]["pid"]


def test_a_failing_trial_is_reported_failed_and_the_others_finish(ray_head, tmp_path):
    runs = tmp_path / "runs"
    # a regularizer weight beyond float32 makes the loss NaN in the first epoch
    out = sweep(*TINY, "--reg", "variance", "--weighting", "fixed", "--grid", "reg_weight=0.1,1e39",
                "--ray-address", ray_head, "--runs-dir", str(runs))
    assert out.returncode == 1, out.stderr
    trials, summary = lines(out)
    assert (summary["trials"], summary["finished"], summary["failed"]) == (2, 1, 1)
    by_weight = {t["grid"]["reg_weight"]: t for t in trials}
    assert by_weight[0.1]["state"] == "finished"
    assert by_weight[1e39]["state"] == "failed" and "nan" in by_weight[1e39]["error"]
    failed = RunStore(runs).get(by_weight[1e39]["run_id"])
    assert failed.state == "failed" and failed.status["failed_epoch"] == 1
    assert len(failed.history()) == 1  # the pretraining epoch before the failure is kept


def test_ctrl_c_cancels_the_rest_and_keeps_what_finished(ray_head, tmp_path):
    runs = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-m", "deepad", "sweep", "--quiet", "--dataset", "digits",
                             "--normal", "0", "--pretrain-epochs", "0", "--grid", "epochs=1,2000,3000",
                             "--max-concurrent", "1", "--ray-address", ray_head, "--runs-dir", str(runs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV, cwd=ROOT)
    first = json.loads(proc.stdout.readline())  # the 1-epoch trial
    assert first["state"] == "finished"
    deadline = time.monotonic() + 120
    while True:  # wait until the second trial trains, then press Ctrl-C
        second = [r for r in RunStore(runs).list() if r.config["sweep"]["trial"] == 1][0]
        if second.history():
            break
        assert time.monotonic() < deadline
        time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    rest, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    trials = [json.loads(line) for line in rest.splitlines() if line.startswith("{")]
    summary = trials.pop()
    assert (summary["trials"], summary["finished"], summary["cancelled"]) == (3, 1, 2)
    states = {r.config["sweep"]["trial"]: r for r in RunStore(runs).list()}
    assert states[0].state == "finished" and states[1].state == "cancelled" and states[2].state == "cancelled"
    assert 1 <= len(states[1].history()) < 2000  # the cancelled trial's records so far are kept
    assert states[0].results() is not None


@pytest.mark.parametrize("argv, needle", [
    (["--grid", "k=0,5"], "k=0: allowed values are in [1, 1000]"),
    (["--grid", "lr=1e-3,abc"], "lr=abc"),
    (["--grid", "k="], "--grid k='': give at least one value"),
    (["--grid", "k"], "--grid 'k': write it NAME=V1,V2,..."),
    (["--grid", "bogus=1,2"], "--grid bogus: not a setting of this method or set-up"),
    (["--grid", "k=1..1000", "--grid", "lr=1e-4,1e-3,1e-2,0.1,0.5,1,0.2,0.3,0.4,0.6,0.7"],
     "the grid has 11000 trials (1000 k × 11 lr); at most 10000"),
    (["--grid", "k=5", "--k", "5"], "--k is given both as a fixed option and as --grid k"),
    (["--grid", "k=5,50"], "--grid k: k is the noise regularizer's number of random labels; with regularizer"),
    (["--normal", "0..10"], "class 10 does not exist"),
    (["--normal", "3..1"], "the range 3..1 is empty"),
    (["--seeds", "0,x"], "seed"),
    (["--max-concurrent", "0"], "--max-concurrent=0: give at least 1"),
    (["--ray-address", "nohost"], "--ray-address 'nohost': expected HOST:PORT"),
    (["--ray-address", "127.0.0.1:1"], "--ray-address 127.0.0.1:1: no Ray cluster answers there"),
])
def test_bad_sweep_values_are_refused_before_anything_is_submitted(tmp_path, capsys, argv, needle):
    runs = tmp_path / "runs"
    rc = cli.main(["sweep", "--dataset", "digits", "--runs-dir", str(runs), "--quiet", *argv])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and needle in err and len(err.splitlines()) == 1, err
    assert not runs.exists()


def test_explore_launches_a_sweep_on_ray_and_fills_its_table(ray_head, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from pages.views.explore import explore_grids

    runs = tmp_path / "runs"
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(runs))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/screens/explore.py").run()
    at.selectbox(key="explore.dataset").set_value("digits").run()
    at.selectbox(key="explore.axis.a.deep-svdd").set_value("lr").run()
    at.select_slider(key="explore_range.deep-svdd.lr").set_value((0.001, 0.01))
    at.number_input(key="explore.range.deep-svdd.lr.steps").set_value(2)
    at.number_input(key="explore.p.deep-svdd.epochs").set_value(1)
    at.number_input(key="explore.p.deep-svdd.pretrain_epochs").set_value(0)
    at.radio(key="explore.engine").set_value("ray").run()
    assert at.button(key="launch-grid").disabled  # no address yet
    at.text_input(key="explore.ray_address").set_value(ray_head).run()
    at.button(key="launch-grid").click().run()
    assert not at.exception, [e.value for e in at.exception]
    (sweep_id, grid), = explore_grids(RunStore(runs).list()).items()
    assert grid["axes"] == ["lr"] and len(grid["runs"]) == 2  # queued at once, before Ray has them
    from deepad.sweeps.launch import launcher

    proc = launcher().get(sweep_id)
    assert proc is not None and proc.wait(timeout=400) == 0, proc.log_tail(20)
    finished = RunStore(runs).list()
    assert all(r.state == "finished" and r.status["ray"]["cluster"].endswith(ray_head.rsplit(":", 1)[1])
               for r in finished)
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["lr"]) == [0.001, 0.01] and table["val AUC"].notna().all()
    at.selectbox(key=f"explore.open.{sweep_id}").set_value(table["run"][0])
    at.button(key=f"explore-go.{sweep_id}").click().run()
    assert not at.exception and at.title[0].value == "Runs" and at.session_state["run_id"] == table["run"][0]


def test_paper_tables_run_as_one_sweep_on_the_cluster(ray_head, tmp_path, monkeypatch):
    import argparse
    import importlib.util

    spec = importlib.util.spec_from_file_location("paper_tables", ROOT / "bench" / "paper_tables.py")
    pt = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "paper_tables", pt)  # its dataclasses look their module up
    spec.loader.exec_module(pt)
    args = argparse.Namespace(papers="000", seeds="0", classes="0,1", datasets="mnist5k", data_dir=None,
                              quick=True, vae_alphas=[1.0], scorer=pt.SweepPlan())
    pt.render([pt.PAPERS["000"]], args)  # the planning pass trains nothing
    assert len(args.scorer.configs) == 2 and not any(RunStore(tmp_path / "runs").list())
    args.scorer.run(str(tmp_path / "runs"), ray_head)
    table = pt.render([pt.PAPERS["000"]], args)
    runs = {r.config["setup"]["normal"][0]: r for r in RunStore(tmp_path / "runs").list()}
    assert sorted(runs) == [0, 1] and all(r.state == "finished" for r in runs.values())
    assert len({r.config["sweep"]["id"] for r in runs.values()}) == 1
    for c, run in runs.items():  # each row is its run's test AUC, in %
        assert f"| Deep SVDD standard, one-vs-all | {c} | {100 * run.summary['auc']:.1f} |" in table
