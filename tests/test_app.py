"""The dashboard through Streamlit's AppTest (whole-script runs, no browser): every page runs without an
exception on an empty runs folder and for every kind of run on disk (finished deep, finished shallow,
2-D toy, cancelled, failed, interrupted, missing), saying what it should; the sidebar and a shared link
(/latent?run=...) reopen the run; a short run started from Train shows its results on every page (the
test waits on the run's state, never a fixed time); cancel and delete from Runs; the lesson button; the
snapshots while a run trains; presenter mode; serve.py. The Train form, own data, Explore and the
numbers behind the pages have modules of their own (tests/test_app_*.py)."""

from __future__ import annotations

import json
import os
import shutil

import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from deepad.figures.style import PRESENTER  # noqa: E402
from pages.views.common import run_label
from deepad.detectors import registry  # noqa: E402
from deepad.runs.listing import RunStore  # noqa: E402
from deepad.training.runner import train  # noqa: E402
from tests.apptools import APP, PAGES, charts, manager_of, open_page, texts  # noqa: E402


def vega_charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


# --- every page, empty folder and every kind of run --------------------------------------------------
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_an_empty_runs_folder(empty_env, page):
    at = open_page(page)
    if page == "pages/screens/lesson.py":  # about a pair of runs, not the current run
        assert "No lesson yet" in texts(at)
    elif page not in ("pages/screens/train.py", "pages/screens/explore.py", "pages/screens/runs.py",
                      "pages/screens/papers.py"):
        assert "No run selected" in texts(at)


@pytest.mark.parametrize("kind", ["finished", "toy", "tabular", "cancelled", "failed", "interrupted", "missing"])
@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_for_every_kind_of_run(runs_env, page, kind):
    ids = runs_env[1]
    at = open_page(page, ids[kind])
    assert at.session_state["run_id"] == ids[kind]
    shown = texts(at)
    if page in ("pages/screens/train.py", "pages/screens/lesson.py"):  # lesson: about a pair, not this run
        return
    if kind == "missing" and page not in ("pages/screens/explore.py", "pages/screens/papers.py"):
        assert "not in" in shown and "deleted" in shown
    if kind == "failed" and page in ("pages/screens/runs.py", "pages/screens/evaluate.py"):
        assert "Failed at epoch 2" in shown and "nan" in shown
    if kind == "cancelled" and page == "pages/screens/runs.py":
        assert "Cancelled" in shown and charts(at) >= 1  # its curves are kept
    if kind == "interrupted" and page == "pages/screens/runs.py":
        assert "Interrupted" in shown
    if kind in ("finished", "toy", "tabular"):
        if page == "pages/screens/evaluate.py":
            assert charts(at) == 4 and any(m.label == "ROC AUC" for m in at.metric)
        if page == "pages/screens/samples.py":
            assert (len(at.image) >= 2) if kind == "finished" else len(at.dataframe) >= 2
        if page == "pages/screens/collapse.py":
            if kind == "tabular":  # an isolation forest is not a hypersphere: no verdict
                assert "does not apply" in shown and "### Verdict" not in shown
            else:
                assert "Verdict:" in shown and charts(at) >= 1
        if page == "pages/screens/latent.py":  # the PCA view and the score histogram, the distances where there is a centre
            assert vega_charts(at) >= 2 and charts(at) >= (0 if kind == "tabular" else 1)
    if kind == "toy" and page == "pages/screens/latent.py":
        assert "The input plane" in shown and "Distance to the centre" in shown
    if kind in ("toy", "tabular") and page == "pages/screens/score.py":  # a point / a row scored at once
        assert any(m.label == "anomaly score" for m in at.metric) and charts(at) >= (3 if kind == "toy" else 2)
    if kind == "finished" and page == "pages/screens/score.py":
        assert "Draw something on the canvas" in shown


def test_sidebar_shows_the_current_run_and_lists_all_runs(runs_env):
    root, ids = runs_env
    at = open_page("pages/screens/train.py", ids["failed"])
    picker = at.sidebar.selectbox(key="run_picker")
    assert set(picker.options) >= {run_label(RunStore(root).get(i)) for i in ids.values() if i != ids["missing"]}
    assert any("Failed at epoch 2" in e.value for e in at.sidebar.error)
    picker.set_value(ids["finished"]).run()
    assert at.session_state["run_id"] == ids["finished"]
    assert at.query_params["run"] == ids["finished"]


def test_a_shared_link_reopens_the_page_and_the_run(runs_env):
    ids = runs_env[1]
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["run"] = ids["toy"]
    at.run()
    at.switch_page("pages/screens/latent.py").run()
    assert not at.exception
    assert at.title[0].value == "Latent space"
    assert at.session_state["run_id"] == ids["toy"]


# --- a run started from the Train page ---------------------------------------------------------------
def test_a_run_started_on_train_shows_its_results_on_every_page(empty_env):
    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.number_input(key="train.p.deep-svdd.epochs").set_value(2)
    at.number_input(key="train.p.deep-svdd.pretrain_epochs").set_value(1)
    at.text_input(key="train.title").set_value("from the test")
    at.button(key="start-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run_id = at.session_state["run_id"]
    assert run_id and at.title[0].value == "Runs"  # moved on to the live view

    manager = manager_of(empty_env)
    try:
        run = manager.wait(run_id, timeout=180)
        assert run.state == "finished", run.status
        assert run.config["title"] == "from the test" and run.config["params"]["epochs"] == 2

        at.run()  # run_every does not fire under AppTest: run again to see the finished run
        assert not at.exception
        assert "Finished" in texts(at)
        at.switch_page("pages/screens/evaluate.py").run()
        assert not at.exception and charts(at) == 4
        labels = {m.label for m in at.metric}
        assert labels >= {"ROC AUC", "precision", "recall"}
        share = f"{100 * run.summary['test_anomaly_share']:.0f} % anomalies"  # said beside AP and F1
        assert {f"F1 ({share})", f"average precision ({share})"} <= labels, labels
        ap_anomaly = next(m.value for m in at.metric if m.label.startswith("average precision"))
        at.radio(key="roc.positive").set_value("normal").run()  # the PR curve of the normal class
        assert not at.exception and charts(at) == 4
        ap_normal = next(m.value for m in at.metric if m.label.startswith("average precision"))
        assert float(ap_normal) == pytest.approx(run.summary["ap_normal"], abs=1e-3) and ap_normal != ap_anomaly
        at.switch_page("pages/screens/latent.py").run()
        assert not at.exception and vega_charts(at) >= 2 and charts(at) >= 2  # PCA, scores; distances, snapshots
        assert "UMAP is switched off" in texts(at)
        at.switch_page("pages/screens/samples.py").run()
        assert not at.exception and len(at.image) >= 4  # four groups of images
        at.switch_page("pages/screens/collapse.py").run()
        assert not at.exception and "Verdict:" in texts(at) and charts(at) >= 4
    finally:
        manager.shutdown()


def test_a_lesson_button_queues_its_trigger_and_fix_and_opens_them_side_by_side(empty_env):
    from deepad.presets import lessons, load_presets

    presets = load_presets()
    name = sorted(lessons(presets))[0]
    trigger, fix = (presets[n] for n in lessons(presets)[name])
    at = open_page("pages/screens/train.py")
    at.button(key=f"lesson.{name}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    manager = manager_of(empty_env)
    try:
        assert at.title[0].value == "Lesson"
        pair = at.session_state["lesson.pair"]
        assert at.query_params["pair"] == ",".join(pair)  # the address reopens the same lesson
        store = RunStore(empty_env)
        runs = [store.get(i) for i in pair]
        assert [r.config["title"] for r in runs] == [trigger.title, fix.title]
        assert all(r.state in ("queued", "running", "finished") for r in runs)
        for run, preset in zip(runs, (trigger, fix)):
            assert all(run.config["params"][k] == v for k, v in preset.config["params"].items())
        cards = [m.value for m in at.markdown if m.value.startswith(("**Trigger**", "**Fix**"))]
        assert [c.split("**")[1] for c in cards] == ["Trigger", "Fix"], cards  # trigger first (left)
        line = next(m.value for m in at.markdown if m.value.startswith("**Collapse lesson"))
        assert all(f"`{k}`" in line for k in fix.differs_in), line  # the one line names what differs
        assert at.expander[0].label == "Why?"
        # the comparison on Collapse opens on the same two runs, trigger on the left
        at.switch_page("pages/screens/collapse.py").run()
        assert not at.exception
        assert at.selectbox(key="collapse.cmp.left").value == pair[0]
        assert at.selectbox(key="collapse.cmp.right").value == pair[1]
        assert "They differ in:" in texts(at)
        at.selectbox(key="collapse.cmp.right").set_value(pair[0]).run()  # any other run can be picked
        assert "The same run on both sides." in texts(at)
    finally:
        for run_id in at.session_state["lesson.pair"]:
            manager.cancel(run_id)
        manager.shutdown()


def start_long_run(manager, until) -> str:
    """Start a run that would train for minutes and wait until `until(its record)` holds (on its
    files, never a fixed time); its id."""
    run_id = manager.start({"dataset": "digits", "method": "deep-svdd",
                            "params": {"epochs": 500, "pretrain_epochs": 0, "batch_size": 512}})
    while not until(manager.store.get(run_id)):
        manager.wait(run_id, timeout=0.2)
        assert manager.is_active(run_id), manager.store.get(run_id).status
    return run_id


def test_cancel_from_the_runs_page_keeps_the_curves(empty_env):
    manager = manager_of(empty_env)
    try:
        run_id = start_long_run(manager, until=lambda run: run.history())  # its first epoch record
        at = open_page("pages/screens/runs.py", run_id)  # a new session (a reload) re-attaches to the live run
        assert "Training on" in texts(at) and len(at.get("progress")) >= 1
        pid = manager.worker_pid(run_id)
        assert pid is not None and pid != os.getpid()  # trained in a worker process
        at.button(key="runs.cancel").click().run()
        run = manager.wait(run_id, timeout=60)
        assert run.state == "cancelled" and manager.worker_exit_code(run_id) is not None  # the worker ended
        at.run()
        assert not at.exception and "Cancelled" in texts(at) and charts(at) >= 1
    finally:
        manager.shutdown()


def test_the_latent_page_shows_the_snapshots_of_a_run_while_it_trains(empty_env):
    manager = manager_of(empty_env)
    try:
        # snapshots are written every couple of seconds while it trains
        run_id = start_long_run(manager, until=lambda run: (run.path / "snapshots.npz").exists())
        at = open_page("pages/screens/latent.py", run_id)
        shown = texts(at)
        assert "Live (" in shown and "a fixed set of validation samples embedded after each epoch" in shown, shown
        assert charts(at) >= 2 and not at.select_slider  # the latest epoch, no scrubber yet
        manager.cancel(run_id)
        assert manager.wait(run_id, timeout=60).state == "cancelled"
        at.run()
        assert not at.exception and len(at.select_slider) == 1  # ended: scrub through every epoch
    finally:
        manager.shutdown()


def test_delete_from_the_runs_page(runs_on_disk, tmp_path, monkeypatch):
    root, ids = runs_on_disk
    mine = tmp_path / "runs"
    for kind in ("finished", "tabular"):
        shutil.copytree(root / ids[kind], mine / ids[kind])
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(mine))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    at = open_page("pages/screens/runs.py", ids["finished"])
    at.button(key="runs.delete").click().run()
    assert not at.exception
    assert not (mine / ids["finished"]).exists() and (mine / ids["tabular"]).exists()
    assert at.session_state["run_id"] == ids["tabular"]
    at.switch_page("pages/screens/evaluate.py").run()
    assert not at.exception


def test_serve_starts_the_warm_up_then_streamlit_on_app_py(monkeypatch):
    import sys

    from streamlit.web import cli as streamlit_cli

    import serve

    calls = []
    monkeypatch.setattr(serve, "warm_up_server", lambda: calls.append("warm-up"))
    monkeypatch.setattr(streamlit_cli, "main", lambda: calls.append(list(sys.argv)) or 0)
    monkeypatch.setattr(sys, "argv", ["serve.py", "--server.port", "8600"])
    with pytest.raises(SystemExit) as stop:
        serve.main()
    assert stop.value.code == 0
    assert calls == ["warm-up", ["streamlit", "run", APP, "--server.port", "8600"]]


def test_presenter_mode_carries_over_every_page_and_the_address(runs_env):
    ids = runs_env[1]
    at = open_page("pages/screens/evaluate.py", ids["finished"])
    assert "present" not in at.query_params and not at.get("html")
    small = [c for c in at.get("plotly_chart")][0].proto.spec
    at.sidebar.toggle(key="presenter").set_value(True).run()
    assert at.query_params["present"] == "1"
    assert any("font-size: 21px" in h.proto.body for h in at.get("html"))  # the shipped stylesheet
    big = [c for c in at.get("plotly_chart")][0].proto.spec
    assert json.loads(big)["layout"]["font"]["size"] == PRESENTER["font"]
    assert "font" not in json.loads(small)["layout"] or json.loads(small)["layout"]["font"].get("size") is None
    link = AppTest.from_file(APP, default_timeout=60)  # a link to another page opens with it on
    link.query_params.update({"run": ids["finished"], "present": "1"})
    link.run()
    link.switch_page("pages/screens/latent.py").run()
    assert not link.exception and link.title[0].value == "Latent space"
    assert link.session_state["presenter"] and link.get("html")
    distances = json.loads(link.get("plotly_chart")[0].proto.spec)
    assert distances["layout"]["font"]["size"] == PRESENTER["font"]


def test_a_method_without_a_centre_gets_no_verdict_and_its_own_loss_names_on_collapse(empty_env):
    run = train({"dataset": "digits", "method": "anoean", "setup": {"known_anomalies": 20},
                 "params": dict(registry.spec("anoean").smoke)}, RunStore(empty_env))
    assert run.state == "finished" and run.summary["verdict"] is None
    at = open_page("pages/screens/collapse.py", run.run_id)
    shown = texts(at)
    assert "does not apply" in shown and "### Verdict" not in shown
    figs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert any("Losses: training" in json.dumps(f["layout"].get("title")) for f in figs)
    names = {t.get("name") for f in figs for t in f["data"] if t.get("name")}
    captions = set(registry.spec("anoean").losses.values()) | {"total loss"}
    assert names and names <= captions, names  # the method's own words: no raw keys, no "SVDD term"
