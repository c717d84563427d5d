"""The Explore page through Streamlit's AppTest: a grid of ranges launches as a sweep and fills its table
and heatmap, range values are what the steps and scale say, and an axis that cannot matter for the base
run or a log range from zero is refused before launch."""

from __future__ import annotations

import pytest

pytest.importorskip("streamlit")

from pages.views.explore import explore_grids  # noqa: E402
from deepad.runs.listing import RunStore  # noqa: E402
from tests.apptools import charts, manager_of, open_page  # noqa: E402


def test_explore_launches_a_grid_and_shows_it(empty_env):
    at = open_page("pages/screens/explore.py")
    at.selectbox(key="explore.dataset").set_value("digits").run()
    at.selectbox(key="explore.axis.a.deep-svdd").set_value("lr").run()
    at.select_slider(key="explore_range.deep-svdd.lr").set_value((0.001, 0.01))
    at.number_input(key="explore.range.deep-svdd.lr.steps").set_value(2)
    at.number_input(key="explore.p.deep-svdd.epochs").set_value(1)
    at.number_input(key="explore.p.deep-svdd.pretrain_epochs").set_value(0).run()
    assert at.radio(key="explore.range.deep-svdd.lr.scale").value == "log"
    assert at.radio(key="explore.engine").value == "server"
    at.button(key="launch-grid").click().run()
    assert not at.exception, [e.value for e in at.exception]
    manager = manager_of(empty_env)
    try:
        grids = explore_grids(RunStore(empty_env).list())
        assert len(grids) == 1
        (grid,) = grids.values()
        assert grid["axes"] == ["lr"] and len(grid["runs"]) == 2 == grid["trials"]
        for r in grid["runs"]:
            assert r.config["sweep"]["axes"] == ["lr"]
            assert manager.wait(r.run_id, timeout=120).state == "finished"
        at.run()
        assert not at.exception and charts(at) == 1
        table = at.dataframe[0].value
        assert sorted(table["lr"]) == [0.001, 0.01] and table["test AUC"].notna().all()
        assert table["val AUC"].notna().all()
        assert at.radio(key=f"explore.metric.{next(iter(grids))}").value == "val AUC"
        assert any("Shown: validation AUC" in c.value for c in at.caption)
    finally:
        manager.shutdown()


def test_explore_range_values_and_settings_that_cannot_matter():
    from deepad.detectors.deep_svdd import DeepSVDDConfig
    from deepad.sweeps import ranges

    assert ranges.range_values(1e-4, 1e-2, 3, "log") == ([1e-4, 1e-3, 1e-2], None)
    assert ranges.range_values(0.1, 0.9, 5, "linear") == ([0.1, 0.3, 0.5, 0.7, 0.9], None)
    assert ranges.range_values(10, 200, 4, "log", integer=True) == ([10, 27, 74, 200], None)
    assert "log scale needs a minimum above 0" in ranges.range_values(0, 1, 3, "log")[1]
    ticks = ranges.ticks(DeepSVDDConfig, "nu")
    assert ticks[0] == 0.01 and ticks[-1] == 1.0 and 0 not in ticks  # ν is in (0, 1]
    assert ranges.ticks(DeepSVDDConfig, "k")[-1] == 1000
    assert ranges.irrelevant(DeepSVDDConfig, "k", {"reg": "none"})
    assert ranges.irrelevant(DeepSVDDConfig, "k", {"reg": "noise"}) is None
    assert ranges.irrelevant(DeepSVDDConfig, "alpha", {"reg": "variance", "weighting": "fixed"})
    assert ranges.irrelevant(DeepSVDDConfig, "beta", {"reg": "variance", "weighting": "adaptive"}) is None
    assert ranges.irrelevant(DeepSVDDConfig, "nu", {"objective": "one-class"})
    assert ranges.irrelevant(DeepSVDDConfig, "lr", {}) is None


def test_explore_refuses_an_axis_that_cannot_matter_and_a_log_range_from_zero(empty_env):
    at = open_page("pages/screens/explore.py")
    at.selectbox(key="explore.axis.a.deep-svdd").set_value("k").run()  # the default base run has no regularizer
    assert not at.exception
    assert any("k is the noise regularizer's number of random labels" in e.value for e in at.error)
    assert at.button(key="launch-grid").disabled
    at.selectbox(key="explore.p.deep-svdd.reg").set_value("noise").run()
    assert not at.error and not at.button(key="launch-grid").disabled
    at.selectbox(key="explore.axis.b.deep-svdd").set_value("alpha").run()
    at.select_slider(key="explore_range.deep-svdd.alpha").set_value((0.0, 0.5))
    at.radio(key="explore.range.deep-svdd.alpha.scale").set_value("log").run()
    assert any("log scale needs a minimum above 0" in e.value for e in at.error)
    assert at.button(key="launch-grid").disabled
