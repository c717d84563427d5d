"""What following a run on Runs / live costs the run, in one real dashboard server (`streamlit run
app.py`, headless, on 127.0.0.1) and Chromium, two ways, each the same default Deep SVDD run
(MNIST-5k, normal class 0) alone and followed, alternating:

- **from the Train page** (as in class): the page is open on Train, Start is pressed, the
  dashboard's own worker trains the run (one torch thread, as on 2 cores) and the page moves to
  Runs / live, where it stays until the run ends. Alone: the browser leaves as soon as the run is
  started.
- **opened by its address**: the run is trained by `python -m deepad train` beside the dashboard
  (one torch thread) and the browser loads `/runs?run=...` afresh once it has started, so the
  whole page (the app's scripts included) is loaded while the run trains.

The run's own training time (its `seconds`) is compared, and the CPU the server (not its workers)
and the browser use meanwhile is printed (cores busy on average).

    PYTHONPATH=. python bench/live_view.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
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


STREAMLIT_RUN = ["-m", "streamlit", "run", "app.py"]
SERVE = ["serve.py"]  # what `make run` starts


def start_server(env: dict, log, entry: list[str] = STREAMLIT_RUN) -> tuple[subprocess.Popen, str]:
    """The dashboard (`entry` after the interpreter) headless on a free port of 127.0.0.1; returns
    once it answers its health check."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, *entry, "--server.headless", "true",
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


SERVER = [0]


def _tree_cpu_seconds(root: int, skip: int | None = None, with_root: bool = False) -> float:
    """CPU seconds (user + system) used so far by `root`'s descendants (not `skip`'s subtree, nor a
    dashboard worker's), and by `root` itself `with_root`."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] == "Z":  # exited, not yet reaped (a worker that has just ended)
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = (stats[root][1] if with_root and root in stats else 0.0), list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid == skip or _is_worker(pid):
            continue
        total += stats[pid][1]
        todo += children.get(pid, [])
    return total


WORKERS: set[int] = set()


def _is_worker(pid: int) -> bool:
    """A dashboard worker (remembered: once it has exited, its command line reads empty)."""
    if pid not in WORKERS:
        try:
            if b"deepad.training.worker" in Path(f"/proc/{pid}/cmdline").read_bytes():
                WORKERS.add(pid)
        except OSError:
            pass
    return pid in WORKERS


def _cpu_now() -> tuple[float, float]:
    """CPU seconds used so far by the server (without its workers) and by the browser."""
    server = _tree_cpu_seconds(SERVER[0], with_root=True)
    return server, _tree_cpu_seconds(os.getpid(), skip=SERVER[0])


def from_train_page(page, url: str, runs: Path, watch: bool) -> tuple[float, float]:
    """Start a default run with the Train page's Start button; watched, stay on Runs / live (where
    the dashboard goes) until it ends; alone, leave the page at once. The run's training seconds
    and the cores the server and browser kept busy meanwhile."""
    from deepad.runs.listing import RunStore

    page.goto(f"{url}/train")
    page.get_by_role("heading", name="Train a detector", exact=True).wait_for(timeout=120_000)
    start = page.locator('[data-testid="stBaseButton-primary"]', has_text="Start")
    start.wait_for()
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
    t0, (srv0, br0) = time.monotonic(), _cpu_now()
    start.click()
    page.wait_for_url(re.compile(r".*/runs\?.*run=.*"), timeout=120_000)
    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    if not watch:
        page.goto("about:blank")
    store = RunStore(runs)
    while (run := store.get(run_id)).state not in ("finished", "failed", "cancelled", "interrupted"):
        time.sleep(0.25)
    t1, (srv1, br1) = time.monotonic(), _cpu_now()
    assert run.state == "finished", run.status
    page.goto("about:blank")
    if watch:
        print(f"  server {(srv1 - srv0) / max(t1 - t0, 1e-9):.2f} cores, browser "
              f"{(br1 - br0) / max(t1 - t0, 1e-9):.2f} cores", flush=True)
    return float(run.status["seconds"]), ((srv1 - srv0) + (br1 - br0)) / max(t1 - t0, 1e-9)


def train(env: dict, runs: Path, page=None, url: str = "") -> tuple[float, float]:
    """One default run in a process of its own; with `page`, followed on Runs / live meanwhile.
    Returns the run's training seconds and the cores the server and browser kept busy meanwhile."""
    t0, cpu0 = time.monotonic(), _tree_cpu_seconds(os.getpid())
    before = set(runs.iterdir()) if runs.exists() else set()
    proc = subprocess.Popen([sys.executable, "-m", "deepad", "train", "--normal", "0", "--runs-dir", str(runs),
                             "--quiet"], cwd=ROOT, env={**env, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    if page is not None:
        while not (new := set(runs.iterdir()) - before if runs.exists() else set()):
            time.sleep(0.05)
        run_id = next(iter(new)).name
        page.goto(f"{url}/runs?run={run_id}")
        page.get_by_role("heading", name="Runs", exact=True).wait_for(timeout=120_000)
    out_lines = []
    while True:
        cpu1, t1 = _tree_cpu_seconds(os.getpid(), skip=proc.pid), time.monotonic()
        try:
            out_lines.append(proc.communicate(timeout=1)[0])
            break
        except subprocess.TimeoutExpired:
            continue
    out = "".join(out_lines)
    line = json.loads(out.strip().splitlines()[-1])
    assert line["state"] == "finished", line
    if page is not None:
        page.goto("about:blank")
    return float(line["seconds"]), (cpu1 - cpu0) / max(t1 - t0, 1e-9)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DEEPAD_RUNS_DIR": str(runs), "DEEPAD_UMAP": "off"}
        with open(Path(tmp) / "server.log", "w") as log:
            server, url = start_server(env, log)
            SERVER[0] = server.pid
            try:
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                    page = browser.new_page()
                    for path, heading in (("runs", "Runs"), ("train", "Train a detector")):
                        page.goto(f"{url}/{path}")  # the server's first page loads import what pages need
                        page.get_by_role("heading", name=heading, exact=True).wait_for(timeout=120_000)
                    page.goto("about:blank")
                    flows = {"from the Train page": lambda watch: from_train_page(page, url, runs, watch),
                             "opened by its address": lambda watch: train(env, runs, page if watch else None, url)}
                    figures = {}
                    for name, flow in flows.items():
                        alone, watched, cores = [], [], []
                        for _ in range(args.repeat):
                            alone.append(flow(False)[0])
                            secs, busy = flow(True)
                            watched.append(secs)
                            cores.append(busy)
                            print(f"{name}: alone {alone[-1]:.1f} s, watched on Runs / live {watched[-1]:.1f} s "
                                  f"(server + browser meanwhile: {busy:.2f} cores)", flush=True)
                        figures[name] = (statistics.median(watched) / statistics.median(alone),
                                         statistics.median(cores))
                    browser.close()
            finally:
                server.terminate()
                server.wait(timeout=30)
    for name, (ratio, busy) in figures.items():
        print(f"{name}: training time watched / alone {ratio:.2f} (median of {args.repeat}; goal <= 1.1); "
              f"server + browser while watching: {busy:.2f} of {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
