"""The lesson view's pure parts and the figure fixes behind a projector-ready dashboard: lesson
pairs in a fixed order whatever order their runs come in, snapshots drawn to the scale of the
starting spread, readable log ticks, titles that wrap instead of being cut, animation controls in
rows of their own, the "your input" star above the dots, and one reading of a run's state."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from deepad.figures.latent import latent_scatter
from deepad.figures.style import PRESENTER, log_ticks, set_presenter, tick_label, wrap_title
from deepad.figures.training import history_figure
from deepad.presets import demos, lessons, load_presets
from deepad.runs.listing import RunStore
from deepad.runs.write import RunWriter
from pages.figures.latent import ANIMATION_ROWS, animation_controls_y, snapshot_animation
from pages.figures.scores import mark_own_input
from pages.figures.training import history_grid
from pages.views.latent import SnapshotView, snapshot_view
from pages.views.lesson import (KIND_WORDS, ROLE_WORDS, common_epoch, lesson_line, lesson_outcome, lesson_pair, lesson_pairs_on_disk,
                                parse_pair, start_scale_limits)
from pages.views.runs import run_state


# --- ticks, titles, controls --------------------------------------------------------------------------
@pytest.mark.parametrize("lo,hi", [(0.3, 0.9), (0.52, 0.95), (0.8, 1.3), (0.50, 0.55), (2.0, 7.5), (120.0, 180.0)])
def test_a_log_axis_spanning_less_than_a_decade_gets_several_distinct_readable_ticks(lo, hi):
    ticks = log_ticks(lo, hi)
    assert ticks is not None and len(ticks) >= 2
    assert all(lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9) for t in ticks), ticks
    labels = [tick_label(t) for t in ticks]
    assert len(set(labels)) == len(labels) and all(len(x) <= 6 for x in labels), labels
    df = pd.DataFrame({"step": [1, 2, 3], "phase": "train", "epoch": [1, 2, 3], "loss": [lo, (lo + hi) / 2, hi]})
    axis = history_figure(df, ["loss"], log_y=True).layout.yaxis
    assert axis.type == "log" and len(axis.tickvals) >= 2 and list(axis.ticktext) == labels
    assert list(axis.ticktext) != ["1"]


def test_a_log_axis_over_many_decades_labels_at_most_what_its_panel_holds():
    assert log_ticks(1e-3, 10.0) is None  # a few decades: one label per power of ten (Plotly's own)
    ticks = log_ticks(1e-12, 1.0, most=3)
    assert len(ticks) <= 3 and ticks[-1] == 1.0 and all(np.log10(t) % 1 == 0 for t in ticks)
    # the minibatch variance on Runs / live: a short panel, many decades
    df = pd.DataFrame({"step": range(1, 9), "phase": "train", "epoch": range(1, 9),
                       "batch_var": np.logspace(0, -14, 8), "c_t": np.linspace(1, 2, 8)})
    fig = history_grid(df, ["batch_var", "c_t"], {"batch_var": "variance", "c_t": "c_t"},
                               log_y=("batch_var",), row_height=170)
    axis = fig.layout.yaxis
    assert axis.type == "log" and 2 <= len(axis.tickvals) <= 170 // 45, axis.tickvals


def test_titles_wrap_at_spaces_and_the_figure_makes_room_for_them():
    long = "Spread of the probe embeddings relative to the first snapshot, measured every epoch"
    lines = wrap_title(long, 30).split("<br>")
    assert len(lines) >= 3 and all(len(x) <= 30 for x in lines) and " ".join(lines) == long
    fig = history_figure(pd.DataFrame({"step": [1], "phase": "train", "epoch": [1], "loss": [1.0]}),
                                 ["loss"], title=long)
    short = history_figure(pd.DataFrame({"step": [1], "phase": "train", "epoch": [1], "loss": [1.0]}),
                                   ["loss"], title="Loss")
    assert "<br>" in fig.layout.title.text and fig.layout.margin.t > short.layout.margin.t
    assert fig.layout.height - fig.layout.margin.t == short.layout.height - short.layout.margin.t  # same plot


@pytest.fixture(scope="module")
def lesson_runs(tmp_path_factory) -> tuple[Path, dict]:
    """A collapse lesson's and a demo's presets trained for two epochs under their titles."""
    from deepad.training.runner import train

    presets = load_presets()
    store = RunStore(tmp_path_factory.mktemp("lesson-runs"))
    out = {}
    for kind, found in (("lesson", lessons(presets)), ("demo", demos(presets))):
        if found:
            name = sorted(found)[0]
            out[kind] = [train({**presets[n].config, "title": presets[n].title,
                                "params": {**presets[n].config["params"], "epochs": 2}}, store).run_id
                         for n in found[name]]
    return store.root, out


def test_the_epoch_controls_sit_under_the_axis_title_in_rows_of_their_own(lesson_runs):
    root, ids = lesson_runs
    run = RunStore(root).get(ids["lesson"][0])
    view = snapshot_view(run.snapshots(), None, None, run.history())
    for presenter in (False, True):
        set_presenter(presenter)
        try:
            fig = snapshot_animation(view)
        finally:
            set_presenter(False)
        plot = fig.layout.height - fig.layout.margin.t - fig.layout.margin.b
        scale = PRESENTER["font"] / 12 if presenter else 1.0
        slider, buttons = fig.layout.sliders[0], fig.layout.updatemenus[0]
        axis_px = -slider.y * plot  # from the plot's bottom edge down to the slider's top
        assert axis_px >= ANIMATION_ROWS["axis"] * scale - 1e-6  # below the tick labels and the axis title
        assert -buttons.y * plot >= axis_px + ANIMATION_ROWS["slider"] * scale - 1e-6  # below the slider
        assert fig.layout.margin.b >= sum(ANIMATION_ROWS.values()) * scale  # everything inside the figure
        assert slider.yanchor == buttons.yanchor == "top" and fig.layout.legend.orientation == "v"
    assert animation_controls_y(300)[1] < animation_controls_y(300)[0] < 0


def test_the_own_input_star_is_drawn_above_the_webgl_dots(lesson_runs):
    df = pd.DataFrame({"x": [0.0, 1.0], "y": [0.0, 1.0], "dataset_index": [0, 1], "class": ["0", "1"],
                       "truth": ["normal", "anomaly"], "score": [0.1, 0.9], "row": [0, 1]})
    fig = mark_own_input(latent_scatter(df, "truth", None, "map"), 0.5, 0.5)
    # WebGL traces are drawn above every SVG trace: the star must be WebGL and come last
    assert fig.data[-1].type == "scattergl" and fig.data[-1].marker.symbol == "star"
    assert all(t.type == "scattergl" for t in fig.data)


# --- lesson pairs ---------------------------------------------------------------------------------
def test_a_pair_is_ordered_trigger_left_fix_right_whatever_order_its_runs_come_in(lesson_runs):
    root, ids = lesson_runs
    store, presets = RunStore(root), load_presets()
    left, right = (store.get(i) for i in ids["lesson"])
    for runs in ([left, right], [right, left]):
        pair = lesson_pair(runs, presets)
        assert pair.kind == "lesson" and pair.left.run_id == left.run_id and pair.right.run_id == right.run_id
        assert [ROLE_WORDS[r] for r in pair.roles] == ["Trigger", "Fix"]
        assert all(f"`{k}`" in lesson_line(pair) for k in pair.differs_in)
    assert lesson_pair([left, left], presets) is None or lesson_pair([left, left], presets).left is left
    assert parse_pair(f"{right.run_id},{left.run_id}") == [right.run_id, left.run_id]
    assert parse_pair("one") == [] and parse_pair("a,a") == []
    assert (left.run_id, right.run_id) in lesson_pairs_on_disk(store.list(), presets)
    if "demo" in ids:
        without, with_ = (store.get(i) for i in ids["demo"])
        pair = lesson_pair([with_, without], presets)
        assert pair.kind == "demo" and pair.left.run_id == without.run_id and pair.roles == ("without", "with")
        assert KIND_WORDS[pair.kind] == "Regularizer demo" and "fix" not in lesson_line(pair).lower()
        assert lesson_pair([left, with_], presets) is None  # halves of different pairs


def test_snapshots_are_drawn_to_the_scale_of_the_starting_spread():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(200, 2))
    xy = np.stack([start, start * 0.01])  # the cloud keeps 1 % of its spread
    view = SnapshotView(np.array([1, 2]), np.array([1, 2]), xy, np.array([1.0, 0.01]), None, None,
                           (-3, 3, -3, 3), judged=True)
    x0, x1, y0, y1 = start_scale_limits(view, 1)
    spread_now = float(np.sqrt(np.mean(np.var(xy[1], axis=0))))
    assert (x1 - x0) == pytest.approx(y1 - y0) and (x1 - x0) > 100 * spread_now  # a dot in a wide frame
    assert start_scale_limits(view, 0)[1] - start_scale_limits(view, 0)[0] == pytest.approx(x1 - x0)
    view.judged = False  # no verdict: the view's own limits over every epoch
    assert start_scale_limits(view, 1) == (-3, 3, -3, 3)
    assert common_epoch([1, 2, 3], [2, 3, 4]) == (3, 2, 1) and common_epoch([1], [2]) == (None, None, None)


# --- one reading of a run's state ---------------------------------------------------------------------
def test_a_runs_state_is_read_once_for_every_part_of_the_screen(lesson_runs):
    root, ids = lesson_runs
    store = RunStore(root)
    run = store.get(ids["lesson"][0])
    state = run_state(run, len(run.history()))
    assert state.state == "finished" and not state.live and state.text.startswith("Finished")
    assert state.progress.fraction == 1.0
    RunWriter(run).status(state="running", epoch=7, last={"phase": "train", "epoch": 7})
    running = run_state(store.get(run.run_id), 7)
    assert running.state == "running" and running.live and running.epoch == 7
    assert "epoch 7" in running.text and "epoch 7" in running.progress.text  # the same epoch everywhere
    RunWriter(run).status(state="finished")


def test_anoean_latent_page_draws_no_collapse_band_nor_hypersphere_words(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    from deepad.detectors import registry
    from deepad.training.runner import train

    assert not registry.spec("anoean").hypersphere
    run = train({"dataset": "digits", "method": "anoean", "setup": {"known_anomalies": 20},
                 "params": dict(registry.spec("anoean").smoke)}, RunStore(tmp_path / "runs"))
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60)
    at.query_params["run"] = run.run_id
    at.run()
    at.switch_page("pages/screens/latent.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = "\n".join(str(e.value) for e in at.caption)
    assert "red band" not in shown and "towards c" not in shown and "collapsing one" not in shown
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    spread = [f for f in specs if "Spread" in json.dumps(f["layout"].get("title"))]
    assert spread and not spread[0]["layout"].get("shapes")  # no collapsed / at-risk bands
    # Runs / live: the verdict's cell says "n/a" rather than a sentence cut to "does n…"
    at.switch_page("pages/screens/runs.py").run()
    assert not at.exception
    cell = next(m for m in at.metric if m.label.startswith("collapse"))
    assert cell.value == "n/a" and "does not pull" in cell.help


def test_explore_greys_the_base_run_settings_that_cannot_matter(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=60)
    at.run()
    at.switch_page("pages/screens/explore.py").run()
    assert not at.exception, [e.value for e in at.exception]
    prefix = "explore.p.deep-svdd"
    # one-class objective: ν cannot matter; one normal class, nothing labelled: η cannot matter
    assert at.slider(key=f"{prefix}.nu").disabled
    assert at.number_input(key=f"{prefix}.eta").disabled
    assert any("Inactive" in c.value and "labelled" in c.value for c in at.caption)
    at.selectbox(key=f"{prefix}.objective").set_value("soft-boundary").run()
    assert not at.exception and not at.slider(key=f"{prefix}.nu").disabled  # now it matters


def test_heading_sidebar_and_snapshot_caption_say_the_same_state(lesson_runs, monkeypatch):
    """A run this process marks as running at epoch 2 of 2 (its records are on disk): the page's
    heading, the sidebar and the Latent page's live caption all say running and the same epoch,
    none says queued."""
    pytest.importorskip("streamlit")
    from streamlit.testing.v1 import AppTest

    root, ids = lesson_runs
    store = RunStore(root)
    run = store.get(ids["lesson"][1])
    saved = dict(run.status)
    RunWriter(run).status(state="running", epoch=2, last={"phase": "train", "epoch": 2})
    try:
        monkeypatch.setenv("DEEPAD_RUNS_DIR", str(root))
        monkeypatch.setenv("DEEPAD_UMAP", "off")
        at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=180)
        at.query_params["run"] = run.run_id
        at.run()
        at.switch_page("pages/screens/latent.py").run()
        assert not at.exception, [e.value for e in at.exception]
        heading = next(m.value for m in at.main.markdown if run.run_id in m.value)
        side = [m.value for m in at.sidebar.markdown] + [c.value for c in at.sidebar.caption]
        live = next(c.value for c in at.main.caption if c.value.startswith("Live ("))
        progress = run_state(store.get(run.run_id), len(store.get(run.run_id).history())).progress.text
        assert "running" in heading and progress in heading and progress in live, (heading, live)
        assert any("running" in s for s in side) and any("epoch 2" in s for s in side), side
        assert not any("queued" in s.lower() for s in [heading, live, *side])
    finally:
        RunWriter(run).status(**{k: saved.get(k) for k in ("state", "epoch", "last")})


def test_the_outcome_says_whether_the_lesson_held_on_this_case_from_the_runs_own_numbers():
    held = lesson_outcome("lesson", ("collapsed", "healthy"), (0.55, 0.90))
    assert held.startswith("It held here") and "0.550" in held and "0.900" in held
    # digit 1: the collapsed trigger still ranks well, so the fix is not 0.15 better
    miss = lesson_outcome("lesson", ("collapsed", "healthy"), (0.895, 0.95))
    assert miss.startswith("It did not fully hold") and "0.950" in miss and "0.895" in miss
    assert "not healthy" in lesson_outcome("lesson", ("collapsed", "at risk"), (0.5, 0.9))
    assert "not collapsed" in lesson_outcome("lesson", ("healthy", "healthy"), (0.5, 0.9))
    assert lesson_outcome("lesson", ("collapsed", "healthy"), (0.5, None)) is None  # still training
    assert "fix" not in lesson_outcome("demo", ("healthy", "healthy"), (0.927, 0.926)).lower()
    assert "the run without it detects better" in lesson_outcome("demo", ("healthy", "healthy"), (0.93, 0.90))


# --- a cloud fallen onto one point --------------------------------------------------------------------
def _collapsing(n: int = 8, zero_from: int = 5) -> pd.DataFrame:
    """A spread-ratio history that falls and then reaches exactly 0 (every embedding equal)."""
    ratio = [0.6 * 0.1 ** e if e < zero_from else 0.0 for e in range(n)]
    return pd.DataFrame({"step": range(1, n + 1), "phase": "train", "epoch": range(1, n + 1), "spread_ratio": ratio})


def test_a_spread_ratio_of_exactly_zero_stays_on_the_log_axis_drawn_at_a_marked_floor():
    """A trigger that collapses exactly (spread ratio 0 from some epoch on) keeps its line to the last
    epoch on every log-axis chart of the spread ratio, at a floor below its smallest positive value,
    with a line that says so; the hover still reads 0. A history without zeros is drawn unchanged."""
    from pages.figures.training import compare_figure

    trigger, fix = _collapsing(), _collapsing(zero_from=99).assign(spread_ratio=lambda d: 0.5)
    smallest = 0.6 * 0.1 ** 4
    figs = [compare_figure({"trigger": trigger, "fix": fix}, "spread_ratio", "Spread ratio", log_y=True),
            history_figure(trigger, ["spread_ratio"], log_y=True),
            history_grid(trigger, ["spread_ratio"], {}, log_y=("spread_ratio",))]
    for fig in figs:
        y = np.asarray(fig.data[0].y, dtype=float)
        assert len(y) == len(trigger) and np.all(y > 0), y  # no point dropped by the log axis
        floor = y[-1]
        assert floor < smallest / 5 and np.log10(floor) == pytest.approx(round(np.log10(floor)))
        notes = [a.text for a in fig.layout.annotations if a.text and "exactly 0" in a.text]
        assert len(notes) == 1, [a.text for a in fig.layout.annotations]
        assert np.asarray(fig.data[0].customdata).reshape(len(trigger), -1)[-1, -1] in (0, "0", 0.0)
    plain = compare_figure({"fix": fix}, "spread_ratio", "Spread ratio", log_y=True)
    assert list(plain.data[0].y) == list(fix["spread_ratio"])
    assert not any("exactly 0" in (a.text or "") for a in plain.layout.annotations)


def test_a_lesson_is_named_by_its_presets_and_says_how_many_settings_changed():
    from deepad.presets import lesson_title

    presets = load_presets()
    for name, (trigger, fix) in lessons(presets).items():
        title = lesson_title(presets[trigger], name)
        assert title and presets[trigger].title.startswith(title) and presets[fix].title.startswith(title)
    assert lesson_title(None, "bias-terms") == "Bias terms"


def test_the_centre_is_drawn_on_a_cloud_fallen_onto_it_and_left_out_when_far_away():
    """A collapsed run's test embeddings are one point, c among them (to rounding): the Latent map
    marks c there instead of saying it lies far outside. A c far from a spread cloud stays out."""
    from deepad.views.latent import centre_in_pca

    c = np.array([0.3, -1.2, 0.7, 2.0])
    point = np.tile(c + 1e-9, (50, 1))
    xy, centre = centre_in_pca({"test_emb": point, "center": c})
    assert centre is not None and np.allclose(centre, xy[0], atol=1e-6)
    cloud = np.random.default_rng(0).normal(size=(200, 4))
    assert centre_in_pca({"test_emb": cloud, "center": np.full(4, 50.0)})[1] is None
    assert centre_in_pca({"test_emb": cloud, "center": np.zeros(4)})[1] is not None
