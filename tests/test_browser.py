"""The dashboard in a real browser: Chromium driven by Playwright against `python serve.py`.

Starts the server on a free port with an empty runs folder, starts a short run on the embedded
default dataset (MNIST-5k) from the Train page, waits for it to finish, visits every page, checks
that the charts and sample images are drawn, and saves a screenshot of each page under
test-artifacts/screenshots/. Every wait is for an element or a state, never a fixed time.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parent.parent
SHOTS = REPO / "test-artifacts" / "screenshots"


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("browser") / "runs"


@pytest.fixture(scope="module")
def server(chromium, dashboard, runs_dir):
    """`python serve.py` (`make run`'s `streamlit run app.py` with the warm-up started at launch) on
    a free port with an empty runs folder, UMAP on; its URL."""
    return dashboard(runs_dir, runs_dir.parent / "server.log", umap="on")


@pytest.fixture(scope="module")
def page(chromium, server):
    pg = chromium.new_page(viewport={"width": 1440, "height": 1000})
    pg.set_default_timeout(60_000)
    yield pg
    pg.close()


_CONTENT_HEIGHT = """() => Math.max(...[...document.querySelectorAll('*')]
    .filter(e => /auto|scroll/.test(getComputedStyle(e).overflowY))
    .map(e => e.scrollHeight), document.body.scrollHeight)"""


def shot(page, name: str) -> None:
    """A screenshot of the whole page: Streamlit scrolls inside its main area, so the window is
    made as tall as the content for the picture."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    wait_idle(page)
    size = page.viewport_size
    height = min(int(page.evaluate(_CONTENT_HEIGHT)) + 40, 8000)
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
    wait_idle(page)
    # every chart in view now: wait until each one is drawn (an SVG inside its plotly div)
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stPlotlyChart"]')]
        .every(c => c.querySelector('.js-plotly-plot .main-svg'))""")
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.set_viewport_size(size)


def wait_idle(page) -> None:
    """Until Streamlit has finished the current script run: its status widget is gone and no
    element is left over (stale) from the previous run."""
    page.wait_for_selector('[data-testid="stStatusWidget"]', state="detached", timeout=120_000)
    page.wait_for_function("document.querySelectorAll('[data-stale=\"true\"]').length === 0",
                           timeout=120_000)


def charts(page, at_least: int) -> int:
    """Plotly charts on the page (Streamlit draws those out of view only when scrolled to)."""
    page.wait_for_function(
        f"document.querySelectorAll('[data-testid=\"stPlotlyChart\"]').length >= {at_least}")
    return page.locator('[data-testid="stPlotlyChart"]').count()


def go(page, title: str, heading: str) -> None:
    page.get_by_role("link", name=title).first.click()
    page.get_by_role("heading", name=heading, exact=True).wait_for()
    wait_idle(page)


def test_train_a_run_and_visit_every_page(server, page, runs_dir):
    try:
        _train_and_visit(server, page, runs_dir)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)  # what the browser showed when it went wrong
        page.screenshot(path=str(SHOTS / "failed.png"))
        raise


def _train_and_visit(server, page, runs_dir):
    (SHOTS / "failed.png").unlink(missing_ok=True)
    page.goto(f"{server}/train")  # a link to a page, on a server no one has opened yet
    page.get_by_role("heading", name="Train a detector", exact=True).wait_for(timeout=120_000)
    wait_idle(page)
    dataset = page.get_by_role("combobox", name="Dataset")
    assert "MNIST-5k" in dataset.input_value()  # opens on the embedded default
    page.locator('[data-testid="stBaseButton-primary"]', has_text="Start").wait_for()  # the whole form
    shot(page, "1-train")

    # an out-of-range value blocks Start and says which field and what is allowed; nothing is written
    box = page.get_by_label("epochs", exact=True)
    box.fill("100000")
    box.press("Enter")
    wait_idle(page)
    page.get_by_text("epochs=100000: allowed values are in [1, 10000]").first.wait_for()
    wait_idle(page)  # the sidebar's Start is drawn after the settings
    assert page.locator('[data-testid="stBaseButton-primary"]', has_text="Start").is_disabled()
    assert not runs_dir.exists() or not any(runs_dir.iterdir())

    page.get_by_text(re.compile(r"^Advanced: \d+ more settings")).click()
    for label, value in (("epochs", "2"), ("pretrain epochs", "1")):
        box = page.get_by_label(label, exact=True)
        box.fill(value)
        box.press("Enter")
        wait_idle(page)
    # the server has the values when the equivalent command line shows them
    page.locator("code", has_text="--pretrain-epochs 1").wait_for(state="attached")
    assert "--epochs 2" in page.locator("code", has_text="--pretrain-epochs 1").text_content()
    page.locator('[data-testid="stBaseButton-primary"]', has_text="Start").click()

    page.get_by_role("heading", name="Runs", exact=True).wait_for()
    page.wait_for_url(re.compile(r".*/runs\?.*run=.*"))
    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    page.reload()  # reloading during training re-attaches to the run
    page.get_by_role("heading", name="Runs", exact=True).wait_for()
    assert run_id in page.url
    page.get_by_text(re.compile("Finished in")).first.wait_for(timeout=240_000)
    page.get_by_role("button", name="Delete").wait_for()  # the whole page was redrawn, not just the live part
    wait_idle(page)
    assert charts(page, 3) >= 3  # loss, diagnostics, gauges
    shot(page, "2-runs")

    go(page, "ROC & scores", "ROC curves and scores")
    assert charts(page, 4) >= 4
    page.get_by_text("ROC AUC").first.wait_for()
    shot(page, "3-roc")

    go(page, "Latent space", "Latent space")
    assert charts(page, 3) >= 3  # PCA (at once, whatever UMAP is doing), distances, epoch snapshots
    # the latent map (Vega-Lite) draws its points once its chunk has loaded
    page.locator('[data-testid="stVegaLiteChart"] .mark-symbol path').first.wait_for(timeout=60_000)
    assert page.locator('[data-testid="stVegaLiteChart"] .mark-symbol path').count() > 100
    shot(page, "4-latent")

    go(page, "Samples", "Samples")
    page.wait_for_function("document.querySelectorAll('[data-testid=\"stImage\"] img').length >= 16")
    images = page.locator('[data-testid="stImage"] img')
    assert images.count() >= 32  # most normal + most anomalous, 16 each
    page.wait_for_function("""() => [...document.querySelectorAll('[data-testid="stImage"] img')]
        .every(img => img.complete && img.naturalWidth > 0)""")  # every image actually loaded
    shot(page, "5-samples")

    go(page, "Collapse", "Hypersphere collapse")
    assert charts(page, 4) >= 4
    page.get_by_text(re.compile("Verdict:")).first.wait_for()
    shot(page, "6-collapse")

    go(page, "Explore", "Explore hyperparameters")
    page.locator("button", has_text=re.compile(r"Launch \d+ run")).wait_for()
    shot(page, "7-explore")

    # a reload (or a shared link) reopens the same page and run
    page.goto(f"{server}/roc?run={run_id}")
    page.get_by_role("heading", name="ROC curves and scores", exact=True).wait_for()
    wait_idle(page)
    assert run_id in page.url and charts(page, 4) >= 4

    # the UMAP view, computed in the background since the run ended, appears by itself
    go(page, "Latent space", "Latent space")
    page.get_by_text("UMAP keeps neighbourhoods").wait_for(timeout=300_000)
    wait_idle(page)
    shot(page, "8-latent-umap")


@pytest.fixture(scope="module")
def digits_run(runs_dir) -> str:
    """A short finished run on the 8×8 digits, written where the server reads its runs."""
    from deepad.runs.listing import RunStore
    from deepad.training.runner import train

    return train({"dataset": "digits", "method": "deep-svdd", "params": {"epochs": 2, "pretrain_epochs": 1}},
                 RunStore(runs_dir)).run_id


def open_run_page(page, server, url: str, run_id: str, heading: str) -> None:
    page.goto(f"{server}/{url}?run={run_id}")
    page.get_by_role("heading", name=heading, exact=True).wait_for()
    wait_idle(page)


def test_hovering_a_latent_point_shows_its_image(server, page, digits_run):
    open_run_page(page, server, "latent", digits_run, "Latent space")
    points = page.locator('[data-testid="stVegaLiteChart"] .mark-symbol path')  # Vega draws SVG here
    points.first.wait_for()
    tip = page.locator("#vg-tooltip-element img")
    for i in range(min(points.count(), 40)):  # a point not covered by another one
        points.nth(i).hover(force=True)
        if tip.count() and tip.first.is_visible():
            break
    tip.first.wait_for(state="visible", timeout=5_000)
    assert tip.first.get_attribute("src").startswith("data:image/png;base64,")
    page.wait_for_function("() => document.querySelector('#vg-tooltip-element img').naturalWidth > 0")
    assert "rank" in page.locator("#vg-tooltip-element").text_content()
    shot(page, "9-latent-hover")


def test_a_drawn_digit_is_scored(server, page, digits_run):
    open_run_page(page, server, "score", digits_run, "Score your own input")
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for()
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] * 0.2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 13):  # a vertical stroke: a "1"
        page.mouse.move(x0 + i * 0.5, y0 + i * box["height"] * 0.05)
    page.mouse.up()
    page.get_by_text("what the model sees").first.wait_for()  # shown once a drawing has come back
    page.get_by_text(re.compile("flagged as anomalous|passes as normal")).first.wait_for()
    wait_idle(page)
    assert page.locator('[data-testid="stMetricLabel"]', has_text="anomaly score").count() == 1
    shot(page, "10-score-drawing")


def test_presenter_mode_enlarges_the_text(server, page, digits_run):
    open_run_page(page, server, "roc", digits_run, "ROC curves and scores")
    size = "() => parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)"
    body = """() => parseFloat(getComputedStyle(document.querySelector('[data-testid="stCaptionContainer"]')).fontSize)"""
    before, before_body = page.evaluate(size), page.evaluate(body)
    page.get_by_text("Presenter mode").click()
    page.wait_for_url(re.compile(r".*present=1.*"))
    wait_idle(page)
    page.wait_for_function(f"() => ({size})() > {before}")
    assert page.evaluate(body) > before_body
    go(page, "Samples", "Samples")  # still on, on another page
    assert page.evaluate(size) > before and "present=1" in page.url
    shot(page, "11-presenter")


HEADINGS = {"train": "Train a detector", "runs": "Runs", "roc": "ROC curves and scores", "latent": "Latent space",
            "samples": "Samples", "collapse": "Hypersphere collapse", "score": "Score your own input",
            "explore": "Explore hyperparameters", "lesson": "Lesson", "papers": "Papers"}
# every link the sidebar's navigation has drawn, from the page's first paint on
_RECORD_NAV = """window.__nav = new Set();
new MutationObserver(() => document.querySelectorAll('[data-testid="stSidebarNav"] a')
    .forEach(a => window.__nav.add(a.textContent.trim()))).observe(document, {subtree: true, childList: true});"""


def test_a_fresh_server_opens_every_direct_link_with_the_apps_own_navigation(chromium, dashboard, tmp_path):
    """A link to a page is the first request of a server no one has opened (then every other page's
    link): it opens that page on that run, no "Page not found", and the sidebar only ever lists the
    registry's pages (Streamlit's older routing would list the scripts of pages/ by file name)."""
    from deepad.runs.listing import RunStore
    from deepad.training.runner import train
    from pages import PAGES

    run_id = train({"dataset": "blobs", "method": "kde", "setup": {"normal": [0]}}, RunStore(tmp_path / "runs")).run_id
    server = dashboard(tmp_path / "runs", tmp_path / "server.log")
    assert set(HEADINGS) == {p.url for p in PAGES}
    pg = chromium.new_page(viewport={"width": 1300, "height": 900})
    pg.set_default_timeout(120_000)
    pg.add_init_script(_RECORD_NAV)
    try:
        for url in ["latent", *(u for u in HEADINGS if u != "latent")]:
            pg.goto(f"{server}/{url}?run={run_id}")
            pg.get_by_role("heading", name=HEADINGS[url], exact=True).wait_for()
            wait_idle(pg)
            assert pg.get_by_text("Page not found").count() == 0, url
            assert re.search(rf"/{url}\?(.*&)?run={run_id}", pg.url), pg.url
            assert run_id[-6:] in pg.get_by_role("combobox", name="Current run").input_value(), url
            drawn = pg.evaluate("[...window.__nav]")  # each "<icon name><title>"
            titles = {p.title for p in PAGES}
            assert all(any(d.endswith(t) for t in titles) for d in drawn), (url, drawn)
            assert all(any(d.endswith(t) for d in drawn) for t in titles), (url, drawn)
        pg.goto(server)  # the root address opens Train
        pg.get_by_role("heading", name=HEADINGS["train"], exact=True).wait_for()
        assert pg.url.rstrip("/").endswith("/train") or "/train?" in pg.url, pg.url
    finally:
        pg.close()
