"""The lesson view and presenter mode in a real browser (Chromium driven by Playwright against
`python serve.py`), at a projector's 1920×1080.

Layout tests use runs written beforehand (a lesson's and a demo's presets, shortened to a few
epochs); the flow test presses a lesson's button on Train and waits for its two runs to train.
Screenshots go to test-artifacts/screenshots/ (lesson-*.png)."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from test_browser import SHOTS, wait_idle

pytestmark = pytest.mark.browser

FULL_HD = {"width": 1920, "height": 1080}
SHORT = {"epochs": 3}  # a few epochs: enough for snapshots, curves and a verdict


@pytest.fixture(scope="module")
def runs_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("lesson-browser") / "runs"


@pytest.fixture(scope="module")
def pairs(runs_dir) -> dict[str, tuple[str, str]]:
    """The first collapse lesson's and the first demo's presets, trained for a few epochs under the
    presets' titles: kind -> (left run id, right run id), i.e. (trigger, fix) and (without, with)."""
    from deepad.presets import demos, lessons, load_presets
    from deepad.runs.listing import RunStore
    from deepad.training.runner import train

    presets = load_presets()
    store = RunStore(runs_dir)
    out = {}
    for kind, found in (("lesson", lessons(presets)), ("demo", demos(presets))):
        if not found:
            continue
        names = found[sorted(found)[0]]
        ids = []
        for name in names:
            p = presets[name]
            cfg = {**p.config, "title": p.title, "params": {**p.config["params"], **SHORT}}
            ids.append(train(cfg, store).run_id)
        out[kind] = tuple(ids)
    return out


@pytest.fixture(scope="module")
def server(chromium, dashboard, runs_dir, pairs):
    return dashboard(runs_dir, runs_dir.parent / "server.log")


@pytest.fixture(scope="module")
def page(chromium, server):
    pg = chromium.new_page(viewport=FULL_HD)
    pg.set_default_timeout(90_000)
    yield pg
    pg.close()


def open_lesson(page, server, ids, present: bool) -> None:
    page.goto(f"{server}/lesson?pair={','.join(ids)}" + ("&present=1" if present else ""))
    page.get_by_role("heading", name="Lesson", exact=True).wait_for()
    wait_idle(page)
    charts_drawn(page)


def charts_drawn(page, at_least: int = 3) -> None:
    """Until the lesson's cards are drawn and at least `at_least` charts (both snapshots and the
    curves between them), each with its SVG."""
    page.locator(".st-key-lesson-left [data-testid='stMetricValue']").first.wait_for()
    page.wait_for_function(f"""() => {{ const c = [...document.querySelectorAll('[data-testid="stPlotlyChart"]')];
        return c.length >= {at_least} && c.every(e => e.querySelector('.js-plotly-plot .main-svg')); }}""")


_METRIC_SIZES = """() => [...document.querySelectorAll('[data-testid="stMetric"]')].map(m => {
    const size = sel => { const e = m.querySelector(sel); if (!e) return null;
        const t = [...e.querySelectorAll('*')].filter(x => x.childElementCount === 0 && x.textContent.trim());
        return Math.min(...(t.length ? t : [e]).map(x => parseFloat(getComputedStyle(x).fontSize))); };
    return {label: m.querySelector('[data-testid="stMetricLabel"]').textContent.trim(),
            value: size('[data-testid="stMetricValue"]'), name: size('[data-testid="stMetricLabel"]')}; })"""


def box(page, selector: str) -> dict:
    b = page.locator(selector).first.bounding_box()
    assert b is not None, selector
    return b


def test_presenter_mode_enlarges_every_metric_and_keeps_start_in_view(server, page, pairs):
    ids = pairs["lesson"]
    open_lesson(page, server, ids, present=False)
    before = {m["label"]: m for m in page.evaluate(_METRIC_SIZES)}
    open_lesson(page, server, ids, present=True)
    after = {m["label"]: m for m in page.evaluate(_METRIC_SIZES)}
    assert set(before) == set(after) and {"verdict", "test AUC"} <= set(after), (before, after)
    for label, m in after.items():  # the rendered text of every metric: its value and its label
        assert m["value"] > before[label]["value"], (label, before[label], m)
        assert m["name"] > before[label]["name"], (label, before[label], m)

    # Start stays above the fold: at 1920×1080 in presenter mode and at 1280×800 without it
    for size, present in ((FULL_HD, True), ({"width": 1280, "height": 800}, False)):
        page.set_viewport_size(size)
        page.goto(f"{server}/train" + ("?present=1" if present else ""))
        page.get_by_role("heading", name="Train a detector", exact=True).wait_for()
        wait_idle(page)
        start = page.locator('[data-testid="stBaseButton-primary"]', has_text="Start").first
        b = start.bounding_box()
        assert b is not None and 0 <= b["y"] and b["y"] + b["height"] <= size["height"], (size, b)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"lesson-start-{size['width']}{'-present' if present else ''}.png"))
    page.set_viewport_size(FULL_HD)


def first_screen(page, kind: str, left: str, right: str) -> None:
    """Both verdicts, both test AUCs, the shared curves and both snapshots inside the first screen
    at 1920×1080, `left` on the left and `right` on the right."""
    h = FULL_HD["height"]
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"lesson-{kind}-first-screen.png"))
    lbox, rbox = box(page, ".st-key-lesson-left"), box(page, ".st-key-lesson-right")
    assert lbox["x"] + lbox["width"] <= rbox["x"]  # left of it, not above
    assert page.locator(".st-key-lesson-left").first.inner_text().startswith(left)
    assert page.locator(".st-key-lesson-right").first.inner_text().startswith(right)
    for side in ("left", "right"):
        for i in range(2):  # verdict, test AUC
            m = box(page, f".st-key-lesson-{side} [data-testid='stMetric'] >> nth={i}")
            assert m["y"] >= 0 and m["y"] + m["height"] <= h, (side, i, m)
        values = page.locator(f".st-key-lesson-{side} [data-testid='stMetricValue']").all_inner_texts()
        assert values[0] in ("healthy", "at risk", "collapsed") and re.fullmatch(r"0\.\d{3}|1\.000", values[1]), values
    charts = page.locator('[data-testid="stPlotlyChart"]')
    drawn = [charts.nth(i).bounding_box() for i in range(min(3, charts.count()))]
    assert len(drawn) == 3 and all(b["y"] + b["height"] <= h for b in drawn), drawn  # snapshots and curves
    titles = page.locator(".gtitle").evaluate_all("els => els.map(e => e.textContent)")
    assert any(t.startswith(f"{left}: epoch") for t in titles) and any(t.startswith(f"{right}: epoch")
                                                                         for t in titles), titles
    epochs = {re.search(r"epoch (\d+)", t).group(1) for t in titles if re.match(rf"({left}|{right}): epoch", t)}
    assert len(epochs) == 1, titles  # both snapshots at the same epoch
    assert not page.locator("details[open]").count()  # the why is closed


def test_the_lesson_view_shows_trigger_left_and_fix_right_from_a_link_in_either_order(server, page, pairs):
    trigger, fix = pairs["lesson"]
    for ids in ((fix, trigger), (trigger, fix)):
        open_lesson(page, server, ids, present=True)
        first_screen(page, "lesson", "Trigger", "Fix")
        assert f"pair={trigger},{fix}" in unquote(page.url)  # the address names them in the lesson's order


def test_a_demo_is_without_left_and_with_right_and_never_called_a_fix(server, page, pairs):
    if "demo" not in pairs:
        pytest.skip("no demo preset")
    without, with_ = pairs["demo"]
    open_lesson(page, server, (with_, without), present=True)
    first_screen(page, "demo", "Without", "With")
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "Regularizer demo" in main and not re.search(r"\bfix(es)?\b", main, re.I), main
    page.locator(".js-plotly-plot .gtitle", has_text="ROC").first.wait_for(state="attached")  # the gain:
    page.locator(".js-plotly-plot .gtitle", has_text="Validation AUC").first.wait_for(state="attached")


def test_a_lesson_button_trains_the_pair_and_opens_the_lesson_view(server, page, runs_dir):
    from deepad.presets import lesson_title, lessons, load_presets
    from deepad.runs.listing import RunStore
    from pages.views.lesson import preset_of

    presets = load_presets()
    name = sorted(lessons(presets))[-1]
    title = lesson_title(presets[lessons(presets)[name][0]], name)
    page.goto(f"{server}/train?present=1")
    page.get_by_role("heading", name="Train a detector", exact=True).wait_for()
    wait_idle(page)
    page.get_by_role("button", name=re.compile(f"{re.escape(title)}: trigger")).click()
    page.get_by_role("heading", name="Lesson", exact=True).wait_for()
    page.wait_for_url(re.compile(r".*/lesson\?.*pair=.*"))
    ids = re.search(r"pair=([^&]+)", unquote(page.url)).group(1).split(",")
    store = RunStore(runs_dir)
    presets = load_presets()
    assert [preset_of(store.get(i), presets).role for i in ids] == ["trigger", "fix"]
    # real training: the view follows the two runs by itself until both have finished
    for side in ("left", "right"):
        page.locator(f".st-key-lesson-{side}", has_text="finished").wait_for(timeout=600_000)
    assert all(store.get(i).state == "finished" for i in ids)
    wait_idle(page)
    charts_drawn(page)
    first_screen(page, "button", "Trigger", "Fix")


def draw_stroke(page, dx: float = 0.5) -> None:
    """A vertical stroke (a "1") on the Score page's canvas."""
    canvas = page.locator("canvas.upper-canvas").first
    canvas.wait_for()
    b = canvas.bounding_box()
    x0, y0 = b["x"] + b["width"] / 2, b["y"] + b["height"] * 0.2
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 13):
        page.mouse.move(x0 + i * dx, y0 + i * b["height"] * 0.05)
    page.mouse.up()


def test_score_draw_then_upload_then_draw_again_raises_nothing(server, page, pairs, tmp_path):
    from PIL import Image, ImageDraw

    run_id = pairs["lesson"][1]
    page.set_viewport_size({"width": 1440, "height": 1000})
    page.goto(f"{server}/score?run={run_id}")
    page.get_by_role("heading", name="Score your own input", exact=True).wait_for()
    wait_idle(page)
    draw_stroke(page)
    page.get_by_text(re.compile("flagged as anomalous|passes as normal")).first.wait_for()
    wait_idle(page)

    png = tmp_path / "seven.png"  # dark ink on white, as a photo of a written digit would be
    img = Image.new("L", (64, 64), 255)
    ImageDraw.Draw(img).line([(14, 12), (50, 12), (28, 56)], fill=0, width=7)
    img.save(png)
    page.get_by_role("tab", name=re.compile("Upload an image")).click()
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(png))
    page.get_by_text("Invert it").first.wait_for()
    wait_idle(page)
    page.get_by_role("tab", name=re.compile("Draw")).click()
    draw_stroke(page, dx=-0.5)  # another drawing: both results are on the page at once
    wait_idle(page)
    page.get_by_role("tab", name=re.compile("Upload an image")).click()
    wait_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0, \
        page.locator('[data-testid="stException"]').first.inner_text()
    assert page.locator('[data-testid="stMetricLabel"]', has_text="anomaly score").count() == 2  # a drawing's, an upload's
    page.screenshot(path=str(SHOTS / "lesson-score-draw-upload-draw.png"))
    page.set_viewport_size(FULL_HD)


def _overlap(a: dict, b: dict) -> bool:
    return a["x"] < b["x"] + b["w"] and b["x"] < a["x"] + a["w"] and a["y"] < b["y"] + b["h"] and b["y"] < a["y"] + a["h"]


@pytest.mark.parametrize("width,present", [(1280, False), (1920, True)])
def test_play_pause_the_epoch_slider_and_the_axis_title_do_not_overlap(server, page, pairs, width, present):
    page.set_viewport_size({"width": width, "height": 1000})
    page.goto(f"{server}/latent?run={pairs['lesson'][1]}" + ("&present=1" if present else ""))
    page.get_by_role("heading", name="Latent space", exact=True).wait_for()
    wait_idle(page)
    page.locator(".updatemenu-container").first.wait_for(state="attached")
    page.locator(".updatemenu-container").first.scroll_into_view_if_needed()
    chart = page.locator('[data-testid="stPlotlyChart"]', has=page.locator(".updatemenu-container")).first
    buttons = chart.locator(".updatemenu-button")
    parts = {"buttons": [buttons.nth(i).bounding_box() for i in range(buttons.count())],
             "slider": [chart.locator(".slider-container").first.bounding_box()],
             "axis title": [chart.locator(".g-xtitle").first.bounding_box()],
             "tick labels": [chart.locator(".xtick").nth(i).bounding_box() for i in range(chart.locator(".xtick").count())]}
    boxes = {k: [{"x": b["x"], "y": b["y"], "w": b["width"], "h": b["height"]} for b in v if b] for k, v in parts.items()}
    assert len(boxes["buttons"]) == 2 and boxes["slider"] and boxes["axis title"]
    names = list(boxes)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            hits = [(x, y) for x in boxes[a] for y in boxes[b] if _overlap(x, y)]
            assert not hits, (a, b, hits)
    SHOTS.mkdir(parents=True, exist_ok=True)
    chart.screenshot(path=str(SHOTS / f"lesson-latent-controls-{width}.png"))
    page.set_viewport_size(FULL_HD)
