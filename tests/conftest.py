"""Shared fixtures: the embedded datasets and a few small splits, built once per session; a runs folder
with one run of each kind the dashboard's pages must handle; Chromium and a dashboard server for the
browser tests."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
import torch

from deepad.runs.create import create_run, new_run_folder
from deepad.runs.listing import RunStore
from deepad.runs.write import RunWriter
from deepad.training.config import validate_config
from deepad.training.runner import execute, train

# views' caches (the UMAP projections) go to a folder of the test session's own, not ~/.cache
os.environ.setdefault("DEEPAD_CACHE_DIR", tempfile.mkdtemp(prefix="deepad-test-cache-"))

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def mnist():
    from deepad.data import load_dataset

    return load_dataset("mnist5k")


@pytest.fixture(scope="session")
def split_factory(mnist):
    """split_factory(normal=[0], **setup_fields) -> Split on MNIST-5k, cached."""
    from deepad.data import SetupConfig, make_split

    cache = {}

    def make(dataset=None, seed=0, preprocess=None, **setup):
        from deepad.data import load_dataset

        ds = load_dataset(dataset) if dataset else mnist
        key = (ds.name, seed, preprocess, repr(sorted(setup.items())))
        if key not in cache:
            cache[key] = make_split(ds, SetupConfig(**setup), seed=seed, preprocess=preprocess)
        return cache[key]

    return make


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    d = tmp_path / "runs"
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(d))
    return d


# --- the dashboard in a real browser (tests marked `browser`) ---------------------------------------
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


@pytest.fixture(scope="module")
def chromium():
    """Chromium driven by Playwright, for one test module (skipped where either is missing)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium chromium-driver)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def dashboard():
    """dashboard(runs_dir, log, umap="off") -> URL: `python serve.py` (what `make run` starts) on a free
    port of 127.0.0.1 over that runs folder, once its health endpoint answers; stopped after the module."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    servers = []

    def start(runs_dir: Path, log: Path, umap: str = "off") -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "DEEPAD_RUNS_DIR": str(runs_dir), "PYTHONPATH": str(repo), "DEEPAD_UMAP": umap}
        out = open(log, "w")
        proc = subprocess.Popen([sys.executable, "serve.py", "--server.headless", "true", "--server.port", str(port),
                                 "--server.address", "127.0.0.1"],  # the rest from .streamlit/config.toml
                                cwd=repo, env=env, stdout=out, stderr=subprocess.STDOUT)
        servers.append((proc, out))
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        return url
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + Path(log).read_text())
            time.sleep(0.2)  # polling the health endpoint, not waiting for the app

    yield start
    for proc, out in servers:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def runs_on_disk(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A runs folder with one run of each kind the pages must handle; returns (folder, ids)."""
    from tests.apptools import TINY

    root = tmp_path_factory.mktemp("dashboard-runs")
    store = RunStore(root)
    ids = {}
    ids["finished"] = train({"dataset": "digits", "method": "deep-svdd", "params": TINY}, store).run_id
    ids["toy"] = train({"dataset": "blobs", "method": "deep-svdd",
                        "params": {"objective": "soft-boundary", "epochs": 3, "pretrain_epochs": 0,
                                   "warmup_epochs": 1}}, store).run_id
    ids["tabular"] = train({"dataset": "breast-cancer", "setup": {"normal": [1]}, "method": "iforest",
                            "params": {"n_estimators": 20}}, store).run_id

    # cancelled after its first epoch record: curves but no results
    cfg = validate_config({"dataset": "digits", "method": "deep-svdd", "params": {"epochs": 3, "pretrain_epochs": 0}})
    new = create_run(cfg, store)
    seen = []
    execute(new.run, new.config, new.split, on_event=lambda _id, rec: seen.append(rec), should_stop=lambda: bool(seen))
    ids["cancelled"] = new.run.run_id

    # failed at epoch 2 (written as the runner writes a failure)
    run = new_run_folder(store, cfg.model_dump(), cfg.method)
    RunWriter(run).history({"phase": "train", "epoch": 1, "step": 1, "loss": 1.0, "spread_ratio": 0.5,
                            "verdict": "healthy"})
    RunWriter(run).status(state="failed", error="the loss became nan at epoch 2", failed_epoch=2,
                          hint="lower the learning rate (--lr)")
    ids["failed"] = run.run_id

    # interrupted: "running" but owned by a process that no longer exists
    run = new_run_folder(store, cfg.model_dump(), cfg.method)
    RunWriter(run).status(state="running", epoch=1)
    status = json.loads((run.path / "status.json").read_text())
    status["owner"] = {"pid": 2 ** 22 + 7, "host": status["owner"]["host"], "token": "gone"}
    (run.path / "status.json").write_text(json.dumps(status))
    ids["interrupted"] = run.run_id
    ids["missing"] = "20000101-000000-deep-svdd-000000"
    return root, ids


@pytest.fixture
def runs_env(monkeypatch, runs_on_disk):
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(runs_on_disk[0]))
    monkeypatch.setenv("DEEPAD_UMAP", "off")  # UMAP's first fit compiles for ~45 s: not in tests
    return runs_on_disk


@pytest.fixture
def empty_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    return tmp_path / "runs"
