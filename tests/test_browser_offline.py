"""In a real browser (Chromium through Playwright): no request leaves 127.0.0.1 (page icon, fonts,
icons, usage statistics), and markup in a run's title or in the address is shown as text (no image
loaded, no link drawn)."""

from __future__ import annotations

import urllib.parse

import pytest

pytestmark = pytest.mark.browser

EVIL = "evil.example"
TITLE = (f"![pwn](http://{EVIL}/a.png) [click me](http://{EVIL}/) <img src=http://{EVIL}/b.png> **bold** "
         f"www.{EVIL} me@{EVIL}")


@pytest.fixture(scope="module")
def hostile_server(chromium, dashboard, tmp_path_factory):
    """`python serve.py` over a runs folder holding one run titled with markup; (url, run id)."""
    from deepad.runs.listing import RunStore
    from deepad.training.runner import train

    tmp = tmp_path_factory.mktemp("browser-offline")
    run = train({"dataset": "blobs", "method": "kde", "setup": {"normal": [0]}, "title": TITLE},
                RunStore(tmp / "runs"))
    return dashboard(tmp / "runs", tmp / "server.log"), run.run_id


def _wait_idle(page) -> None:
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
    page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0",
                           timeout=120_000)


def test_no_request_leaves_the_machine_and_markup_is_shown_as_text(chromium, hostile_server):
    url, run_id = hostile_server
    requests: list[str] = []
    page = chromium.new_page(viewport={"width": 1300, "height": 900})
    page.set_default_timeout(120_000)
    page.on("request", lambda r: requests.append(r.url))
    try:
        for link, heading in ((f"/runs?run={run_id}", "Runs"),
                              (f"/roc?run={run_id}", "ROC curves and scores"),
                              (f"/latent?run={run_id}", "Latent space"),
                              ("/runs?run=" + urllib.parse.quote(f"x](http://{EVIL}/c.png)"), "Runs"),
                              ("/train", "Train a detector")):
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
        page.close()
    assert icons and all(i.startswith(url) or i.startswith("data:") for i in icons), icons
    outside = [r for r in requests if not (r.startswith(url) or r.startswith("ws://127.0.0.1")
                                           or r.startswith(("data:", "blob:", "about:")))]
    assert outside == [], outside
    assert len(requests) > 10
