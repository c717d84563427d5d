"""In a real browser (Chromium through Playwright): no request leaves 127.0.0.1 (page icon, fonts,
icons, usage statistics), and markup in a run's title or in the address is shown as text (no image
loaded, no link drawn)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
REPO = Path(__file__).resolve().parent.parent
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run", "--disable-quic"]
EVIL = "evil.example"
TITLE = (f"![pwn](http://{EVIL}/a.png) [click me](http://{EVIL}/) <img src=http://{EVIL}/b.png> **bold** "
         f"www.{EVIL} me@{EVIL}")

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium chromium-driver)",
                allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory):
    """`python serve.py` over a runs folder holding one run titled with markup; (url, run id)."""
    from deepad.store import RunStore
    from deepad.training.runner import train

    tmp = tmp_path_factory.mktemp("browser-offline")
    run = train({"dataset": "blobs", "method": "kde", "setup": {"normal": [0]}, "title": TITLE},
                RunStore(tmp / "runs"))
    port = _free_port()
    env = {**os.environ, "DEEPAD_RUNS_DIR": str(tmp / "runs"), "PYTHONPATH": str(REPO), "DEEPAD_UMAP": "off"}
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "serve.py", "--server.headless", "true", "--server.port", str(port),
                             "--server.address", "127.0.0.1"], cwd=REPO, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                    if r.read().decode().strip() == "ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start:\n" + (tmp / "server.log").read_text())
            time.sleep(0.2)  # polling the health endpoint, not waiting for the app
        yield url, run.run_id
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_idle(page) -> None:
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
    page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0",
                           timeout=120_000)


def test_no_request_leaves_the_machine_and_markup_is_shown_as_text(hostile_server):
    url, run_id = hostile_server
    requests: list[str] = []
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.set_default_timeout(120_000)
        page.on("request", lambda r: requests.append(r.url))
        try:
            for link, heading in ((f"/?page=runs&run={run_id}", "Runs"),
                                  (f"/?page=roc&run={run_id}", "ROC curves and scores"),
                                  (f"/?page=latent&run={run_id}", "Latent space"),
                                  ("/?page=runs&run=" + urllib.parse.quote(f"x](http://{EVIL}/c.png)"), "Runs"),
                                  ("/?page=train", "Train a detector")):
                page.goto(url + link)
                page.get_by_role("heading", name=heading, exact=True).wait_for()
                _wait_idle(page)
                found = page.eval_on_selector_all(f'img[src*="{EVIL}"], a[href*="{EVIL}"], [style*="{EVIL}"]',
                                                  "els => els.map(e => e.parentElement.outerHTML.slice(0, 400))")
                assert found == [], found
                if "x%5D" in link:
                    page.get_by_text("The address names no run").wait_for()
                elif "train" not in link:
                    page.get_by_text("click me", exact=False).first.wait_for()
                    assert page.evaluate("""() => [...document.querySelectorAll('strong, b')]
                        .filter(e => e.textContent.trim() === 'bold').length""") == 0
            icons = page.eval_on_selector_all("link[rel~='icon']", "els => els.map(e => e.href)")
        finally:
            browser.close()
    assert icons and all(i.startswith(url) or i.startswith("data:") for i in icons), icons
    outside = [r for r in requests if not (r.startswith(url) or r.startswith("ws://127.0.0.1")
                                           or r.startswith(("data:", "blob:", "about:")))]
    assert outside == [], outside
    assert len(requests) > 10
