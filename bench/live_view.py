"""What following a run on Runs / live costs the run: the same default Deep SVDD run (MNIST-5k,
normal class 0) trained alone and trained while Chromium shows it on Runs / live, in one real
dashboard server (`streamlit run app.py`, headless, on 127.0.0.1). The run is trained by a
process of its own, as the dashboard's workers are (one torch thread, as a worker has on 2
cores), and its own training time (the run's `seconds`) is compared. Alone and watched alternate. Also
prints the CPU the dashboard server and the browser use while a run is watched (cores busy on
average): on a machine with a core to spare for them, that is what watching can cost the run.

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


SERVER = [0]


def _tree_cpu_seconds(root: int, skip: int | None = None, with_root: bool = False) -> float:
    """CPU seconds (user + system) used so far by `root`'s descendants (not `skip`'s subtree), and
    by `root` itself `with_root`."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = (stats[root][1] if with_root and root in stats else 0.0), list(children.get(root, []))
    while todo:
        pid = todo.pop()
        if pid == skip:
            continue
        total += stats[pid][1]
        todo += children.get(pid, [])
    return total


def train(env: dict, runs: Path, page=None, url: str = "") -> tuple[float, float]:
    """One default run in a process of its own; with `page`, followed on Runs / live meanwhile.
    Returns the run's training seconds and the cores the server and browser kept busy meanwhile."""
    t0, cpu0, srv0 = time.monotonic(), _tree_cpu_seconds(os.getpid()), _tree_cpu_seconds(SERVER[0], with_root=True)
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
        srv1 = _tree_cpu_seconds(SERVER[0], with_root=True)
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
    if page is not None:
        print(f"  server alone: {(srv1 - srv0) / max(t1 - t0, 1e-9):.2f} cores", flush=True)
    return float(line["seconds"]), (cpu1 - cpu0) / max(t1 - t0, 1e-9)


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
            SERVER[0] = server.pid
            try:
                with sync_playwright() as p:
                    browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
                    page = browser.new_page()
                    page.goto(f"{url}/runs")  # the server's first page load imports what pages need
                    page.get_by_role("heading", name="Runs", exact=True).wait_for(timeout=120_000)
                    page.goto("about:blank")
                    alone, watched, cores = [], [], []
                    for _ in range(args.repeat):
                        alone.append(train(env, runs)[0])
                        secs, busy = train(env, runs, page, url)
                        watched.append(secs)
                        cores.append(busy)
                        print(f"alone {alone[-1]:.1f} s, watched on Runs / live {watched[-1]:.1f} s "
                              f"(server + browser meanwhile: {busy:.2f} cores)", flush=True)
                    browser.close()
            finally:
                server.terminate()
                server.wait(timeout=30)
    a, w = statistics.median(alone), statistics.median(watched)
    print(f"training time watched / alone: {w / a:.2f} (median of {args.repeat}; goal <= 1.1); "
          f"server + browser while watching: {statistics.median(cores):.2f} of {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
