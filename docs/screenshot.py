"""The README's screenshot, taken from the running dashboard in real Chromium:
`PYTHONPATH=. python docs/screenshot.py [RUNS_DIR [PAGE]]`.

Trains one default Deep SVDD run (MNIST-5k, digit 3 normal, seed 0) into RUNS_DIR when it holds
no finished run, starts the dashboard as `make run` does (`serve.py`) on a free local port over that
folder, opens the run's page (PAGE, by default `runs`: Runs / live) at 1440×900 and writes
`assets/screenshots/dashboard.png`. Needs /usr/bin/chromium and Playwright (no browser download).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "screenshots" / "dashboard.png"


def finished_run(runs: Path) -> str:
    for status in sorted(runs.glob("*/status.json")):
        if json.loads(status.read_text()).get("state") == "finished":
            return status.parent.name
    done = subprocess.run([sys.executable, "-m", "deepad", "train", "--dataset", "mnist5k", "--normal", "3",
                           "--method", "deep-svdd", "--seed", "0", "--runs-dir", str(runs)],
                          capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["run_id"]


def main() -> None:
    runs = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="deepad-shot-"))
    page_name = sys.argv[2] if len(sys.argv) > 2 else "runs"
    run_id = finished_run(runs)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DEEPAD_RUNS_DIR": str(runs), "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "serve.py", "--server.headless", "true", "--server.port", str(port),
                               "--server.address", "127.0.0.1"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(450):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                time.sleep(0.2)
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_page(viewport={"width": 1440, "height": 900})
            page.goto(f"{url}/{page_name}?run={run_id}")
            page.wait_for_selector(".js-plotly-plot", timeout=120_000)
            # the page is drawn when Streamlit's status widget no longer says it is running
            page.wait_for_function("!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
            page.wait_for_timeout(3000)
            OUT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUT))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=20)
    print(OUT)


if __name__ == "__main__":
    main()
