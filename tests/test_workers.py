"""Runs in worker processes: a killed worker leaves its run interrupted with its records and the
next queued run starts; the concurrency setting queues or runs side by side; a run trained from the
command line is followed and cancelled from the Runs page like any other."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

pytest.importorskip("streamlit")

from deepad.runs.listing import RunStore  # noqa: E402
from tests.apptools import PAGES, manager_of, open_page, texts  # noqa: E402

LONG = {"dataset": "digits", "method": "deep-svdd",
        "params": {"epochs": 10000, "pretrain_epochs": 0, "batch_size": 512}}  # ended by the tests
SHORT = {"dataset": "digits", "method": "deep-svdd", "params": {"epochs": 2, "pretrain_epochs": 1}}


def wait_for_records(store: RunStore, run_id: str, n: int, manager=None, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while len(store.get(run_id).history()) < n:
        assert time.monotonic() < deadline, f"fewer than {n} records in {timeout} s: {store.get(run_id).status}"
        if manager is not None:
            assert manager.is_active(run_id), store.get(run_id).status
        time.sleep(0.1)


def test_a_worker_killed_mid_run_leaves_it_interrupted_and_the_next_run_starts(empty_env):
    manager = manager_of(empty_env)
    manager.max_parallel = 1
    store = RunStore(empty_env)
    try:
        doomed = manager.start(LONG)
        following = manager.start(SHORT)
        assert manager.queue_position(following) == 1
        wait_for_records(store, doomed, 3, manager)
        assert store.get(following).state == "queued"
        pid = manager.worker_pid(doomed)
        assert pid != os.getpid() and store.get(doomed).status["owner"]["pid"] == pid
        os.kill(pid, signal.SIGKILL)

        run = manager.wait(doomed, timeout=60)
        assert run.state == "interrupted" and "SIGKILL" in run.status["error"], run.status
        assert manager.worker_exit_code(doomed) == -signal.SIGKILL
        assert len(run.history()) >= 3 and all("loss" in rec for rec in run.history())
        done = manager.wait(following, timeout=180)
        assert done.state == "finished" and done.summary["auc"] > 0.5, done.status
    finally:
        manager.shutdown()
    for page in PAGES:  # the server carries on: every page, on the killed run
        assert not open_page(page, doomed).exception
    at = open_page("pages/screens/runs.py", doomed)
    assert "Interrupted" in texts(at) and "SIGKILL" in texts(at)


def test_the_setting_queues_runs_or_trains_them_side_by_side_and_cancel_ends_the_workers(empty_env):
    manager = manager_of(empty_env)
    manager.max_parallel = 1
    store = RunStore(empty_env)
    try:
        first, second = manager.start(LONG), manager.start(LONG)
        wait_for_records(store, first, 2, manager)
        assert store.get(second).state == "queued" and manager.queue_position(second) == 1
        assert manager.worker_pid(second) is None
        at = open_page("pages/screens/runs.py", second)
        assert "position 1 in the queue" in texts(at)
        at.number_input(key="runs.parallel").set_value(2).run()  # the page's setting
        assert not at.exception and manager.max_parallel == 2
        wait_for_records(store, second, 2, manager)
        n_first = len(store.get(first).history())
        wait_for_records(store, first, n_first + 2, manager)  # still training beside the second
        assert [store.get(i).state for i in (first, second)] == ["running", "running"]
        pids = {manager.worker_pid(i) for i in (first, second)}
        assert len(pids) == 2 and os.getpid() not in pids

        for run_id in (first, second):
            assert manager.cancel(run_id)
        for run_id in (first, second):
            run = manager.wait(run_id, timeout=60)
            assert run.state == "cancelled" and len(run.history()) >= 2, run.status
            assert manager.worker_exit_code(run_id) == 0  # it stopped itself after a minibatch
    finally:
        manager.shutdown()


def test_a_command_line_run_is_followed_and_cancelled_from_the_runs_page(empty_env):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-m", "deepad", "train", "--dataset", "digits", "--epochs", "10000",
                              "--pretrain-epochs", "0", "--batch-size", "512", "--runs-dir", str(empty_env),
                              "--quiet"], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        store = RunStore(empty_env)
        deadline = time.monotonic() + 180
        while not (runs := [r for r in store.list() if r.history()]):
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.1)
        run_id = runs[0].run_id
        at = open_page("pages/screens/runs.py", run_id)
        assert "Training on" in texts(at) and len(at.get("progress")) >= 1
        assert run_id in list(at.dataframe[0].value["run"])
        at.button(key="runs.cancel").click().run()
        assert not at.exception
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 130 and '"state": "cancelled"' in out.splitlines()[-1]
        assert store.get(run_id).state == "cancelled" and store.get(run_id).history()
    finally:
        if child.poll() is None:
            child.kill()
