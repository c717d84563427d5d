"""What following a run on Runs / live costs the run: the same default Deep SVDD run (MNIST-5k,
normal class 0) trained alone and trained while Chromium shows it on Runs / live, in one real
dashboard server (`streamlit run app.py`, headless, on 127.0.0.1). The run is trained by a
process of its own, as the dashboard's workers are (one torch thread, as a worker has on 2
cores), and its own training time (the run's `seconds`) is compared. Alone and watched alternate.

    PYTHONPATH=. python bench/live_view.py [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(env: dict, log) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                             "--server.port", str(port), "--server.address", "127.0.0.1",
                             "--browser.gatherUsageStats", "false"], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.read().decode().strip() == "ok":
                    return proc, url
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the dashboard did not start")


def train(env: dict, runs: Path, page=None, url: str = "") -> float:
    """One default run in a process of its own; with `page`, followed on Runs / live meanwhile.
    Returns the run's training seconds."""
    before = set(runs.iterdir()) if runs.exists() else set()
    proc = subprocess.Popen([sys.executable, "-m", "deepad", "train", "--normal", "0", "--runs-dir", str(runs),
                             "--quiet"], cwd=ROOT, env={**env, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if page is not None:
        while not (new := set(runs.iterdir()) - before if runs.exists() else set()):
            time.sleep(0.05)
        run_id = next(iter(new)).name
        page.goto(f"{url}/?page=runs&run={run_id}")
        page.get_by_role("heading", name="Runs", exact=True).wait_for(timeout=120_000)
    out, _ = proc.communicate()
    line = json.loads(out.strip().splitlines()[-1])
    assert line["state"] == "finished", line
    if page is not None:
        page.goto("about:blank")
    return float(line["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DEEPAD_RUNS_DIR": str(runs), "DEEPAD_UMAP": "off"}
        with open(Path(tmp) / "server.log", "w") as log:
            server, url = start_server(env, log)
            try:
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                    page = browser.new_page()
                    page.goto(f"{url}/?page=runs")  # the server's first page load imports what pages need
                    page.get_by_role("heading", name="Runs", exact=True).wait_for(timeout=120_000)
                    page.goto("about:blank")
                    alone, watched = [], []
                    for _ in range(args.repeat):
                        alone.append(train(env, runs))
                        watched.append(train(env, runs, page, url))
                        print(f"alone {alone[-1]:.1f} s, watched on Runs / live {watched[-1]:.1f} s", flush=True)
                    browser.close()
            finally:
                server.terminate()
                server.wait(timeout=30)
    a, w = statistics.median(alone), statistics.median(watched)
    print(f"training time watched / alone: {w / a:.2f} (median of {args.repeat}; goal <= 1.1)")


if __name__ == "__main__":
    main()
