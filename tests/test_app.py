"""The dashboard through Streamlit's AppTest (whole-script runs, no browser), and the pure helpers
behind its pages.

- every page runs without an exception on an empty runs folder, and for every kind of run on disk
  (finished deep, finished shallow, 2-D toy, cancelled, failed, interrupted, missing), saying what
  it should;
- a short run started from the Train page trains in the background and its results appear on the
  ROC, Latent, Samples and Collapse pages (the test waits on the run's state, never a fixed time);
- cancel and delete from the Runs page; a shared link (/latent?run=...) reopens the view;
- image-alteration set-ups on Train (preview, a short block-permutation run whose Samples show the
  altered anomalies), and a user's own file through the page's st.file_uploader (AppTest drives it):
  a CSV trains and is kept with its run, NaN rows are reported and can be dropped, mixed image sizes
  can be resized, and a bad file is refused with the loader's message and nothing written;
- generated widgets only allow valid values, the exported command line trains the same config,
  thresholds and mistakes agree with the metrics, the input-plane grid is preprocessed like the
  run's data, and the UMAP projector caches per run.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from deepad import embedding, figures  # noqa: E402
from pages import views as vm  # noqa: E402
from deepad.cli import train_command  # noqa: E402
from deepad.detectors import registry  # noqa: E402
from deepad.runs.listing import RunStore  # noqa: E402
from deepad.training.config import validate_config  # noqa: E402
from deepad.training.runner import execute, train  # noqa: E402
from pages import DEFAULT, PAGES as REGISTRY, page_path  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TITLES = {"pages/screens/train.py": "Train a detector", "pages/screens/runs.py": "Runs",
          "pages/screens/evaluate.py": "ROC curves and scores", "pages/screens/latent.py": "Latent space",
          "pages/screens/samples.py": "Samples", "pages/screens/collapse.py": "Hypersphere collapse",
          "pages/screens/explore.py": "Explore hyperparameters", "pages/screens/score.py": "Score your own input",
          "pages/screens/papers.py": "Papers", "pages/screens/lesson.py": "Lesson"}
PAGES = [p.path for p in REGISTRY]
DEFAULT_PAGE = page_path(DEFAULT)
TINY = {"epochs": 2, "pretrain_epochs": 1}


# --- fixtures ---------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def runs_on_disk(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A runs folder with one run of each kind the pages must handle; returns (folder, ids)."""
    root = tmp_path_factory.mktemp("dashboard-runs")
    store = RunStore(root)
    ids = {}
    ids["finished"] = train({"dataset": "digits", "method": "deep-svdd", "params": TINY}, store).run_id
    ids["toy"] = train({"dataset": "blobs", "method": "deep-svdd",
                        "params": {"objective": "soft-boundary", "epochs": 3, "pretrain_epochs": 0,
                                   "warmup_epochs": 1}}, store).run_id
    ids["tabular"] = train({"dataset": "breast-cancer", "setup": {"normal": [1]}, "method": "iforest",
                            "params": {"n_estimators": 20}}, store).run_id

    # cancelled after its first epoch record: curves but no results
    cfg = validate_config({"dataset": "digits", "method": "deep-svdd", "params": {"epochs": 3, "pretrain_epochs": 0}})
    run = store.create(cfg.model_dump(), cfg.method)
    seen = []
    execute(run, cfg, store, on_event=lambda _id, rec: seen.append(rec), should_stop=lambda: bool(seen))
    ids["cancelled"] = run.run_id

    # failed at epoch 2 (written as the runner writes a failure)
    run = store.create(cfg.model_dump(), cfg.method)
    store.append_history(run, {"phase": "train", "epoch": 1, "step": 1, "loss": 1.0, "spread_ratio": 0.5,
                               "verdict": "healthy"})
    store.update_status(run, state="failed", error="the loss became nan at epoch 2", failed_epoch=2,
                        hint="lower the learning rate (--lr)")
    ids["failed"] = run.run_id

    # interrupted: "running" but owned by a process that no longer exists
    run = store.create(cfg.model_dump(), cfg.method)
    store.update_status(run, state="running", epoch=1)
    status = json.loads((run.path / "status.json").read_text())
    status["owner"] = {"pid": 2 ** 22 + 7, "host": status["owner"]["host"], "token": "gone"}
    (run.path / "status.json").write_text(json.dumps(status))
    ids["interrupted"] = run.run_id
    ids["missing"] = "20000101-000000-deep-svdd-000000"
    return root, ids


@pytest.fixture
def runs_env(monkeypatch, runs_on_disk):
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(runs_on_disk[0]))
    monkeypatch.setenv("DEEPAD_UMAP", "off")  # UMAP's first fit compiles for ~45 s: not in tests
    return runs_on_disk


@pytest.fixture
def empty_env(monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    return tmp_path / "runs"


def open_page(page: str, run_id: str | None = None) -> AppTest:
    """A new session opened on a link to `page` (and `run_id`): app.py draws the page inside its
    navigation and sidebar, as for a reload or a shared link."""
    at = AppTest.from_file(APP, default_timeout=60)
    if run_id:
        at.query_params["run"] = run_id
    at.run()  # the address / opens Train; this first run registers the pages (st.navigation) ...
    if page != DEFAULT_PAGE:
        at.switch_page(page).run()  # ... so that a link opens another (AppTest then stays on it)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == TITLES[page]
    assert at.sidebar.selectbox(key="run_picker") is not None  # drawn by app.py around the page
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("markdown", "caption", "info", "warning", "error", "success", "title",
                                  "subheader") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def start_short_run(at: AppTest) -> str:
    """Set Deep SVDD to 2 epochs after 1 of pretraining, press Start; the new run's id."""
    at.number_input(key="train.p.deep-svdd.epochs").set_value(2)
    at.number_input(key="train.p.deep-svdd.pretrain_epochs").set_value(1)
    at.button(key="start-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at.session_state["run_id"]


def charts(at: AppTest) -> int:
    return len(at.get("plotly_chart"))


def vega_charts(at: AppTest) -> int:
    return len(at.get("vega_lite_chart"))


def manager_of(root: Path):
    from pages.ui.singletons import _manager

    return _manager(str(root))


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
    assert set(picker.options) >= {vm.run_label(RunStore(root).get(i)) for i in ids.values() if i != ids["missing"]}
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


def test_a_set_up_the_data_cannot_supply_is_refused_on_train_and_nothing_is_written(empty_env):
    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.number_input(key="train.known.digits").set_value(5000).run()
    at.button(key="start-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("known_anomalies=5000: only" in e.value for e in at.error), [e.value for e in at.error]
    assert at.title[0].value == "Train a detector"  # stayed on the form
    assert not empty_env.exists() or not any(empty_env.iterdir())


# --- the Train form: what is shown is what is trained -------------------------------------------
WIDGET_KINDS = ("checkbox", "selectbox", "slider", "select_slider", "number_input", "text_input")


def form_params(at: AppTest, method: str) -> dict:
    """The method's settings as the form's widgets show them."""
    prefix = f"train.p.{method}."
    return {w.key.removeprefix(prefix): w.value for kind in WIDGET_KINDS for w in getattr(at, kind)
            if w.key and w.key.startswith(prefix)}


def other_value(spec: vm.FieldSpec):
    """A valid value of a setting that is not its default (None when it has only one)."""
    if spec.kind == "bool":
        return not spec.default
    if spec.kind in ("select", "log"):
        return next((o for o in spec.options if o != spec.default), None)
    if spec.kind in ("int", "slider", "float"):
        step = spec.step or 1
        up = spec.default + step
        return up if spec.hi is None or up <= spec.hi else spec.default - step
    return None


def widget(at: AppTest, key: str):
    (w,) = [w for kind in WIDGET_KINDS for w in getattr(at, kind) if w.key == key]
    return w


@pytest.mark.parametrize("method", registry.names())
def test_the_started_run_has_exactly_the_settings_the_form_shows(empty_env, method):
    cls = registry.get(method)
    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.selectbox(key="train.method").set_value(method).run()
    for field, need in vm.unmet_requirements(method, {}, {}):  # what the method declares it needs
        key = {"known_anomalies": "train.known.digits", "known_normals": "train.known_normals"}[field]
        at.number_input(key=key).set_value(max(need, 20)).run()
    assert not at.button(key="start-run").disabled, [e.value for e in at.error]
    changed = 0
    for spec in vm.field_specs(cls.Config):  # every setting that can matter away from its default
        value, key = other_value(spec), f"train.p.{method}.{spec.name}"
        if value is None or widget(at, key).disabled:
            continue
        widget(at, key).set_value(value).run()
        if at.button(key="start-run").disabled:  # a rule across settings refuses this one: undo it
            widget(at, key).set_value(spec.default).run()
        else:
            changed += 1
    assert changed >= len(cls.Config.model_fields) // 2
    shown = form_params(at, method)
    assert not at.button(key="start-run").disabled, [e.value for e in at.error]
    at.button(key="start-run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    run_id = at.session_state["run_id"]
    manager = manager_of(empty_env)
    try:
        saved = json.loads((empty_env / run_id / "config.json").read_text())
        assert saved["method"] == method and saved["dataset"] == "digits"
        assert saved["params"] == shown
        assert saved["params"] != cls.Config().model_dump()
    finally:
        manager.cancel(run_id)
        manager.shutdown()


def test_an_out_of_range_or_empty_setting_blocks_start_and_says_what_is_allowed(empty_env):
    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.number_input(key="train.p.deep-svdd.epochs").set_value(100000).run()
    assert not at.exception
    assert at.button(key="start-run").disabled
    assert any("epochs=100000: allowed values are in [1, 10000]" in e.value for e in at.error)
    at.number_input(key="train.p.deep-svdd.epochs").set_value(2)
    at.number_input(key="train.p.deep-svdd.rep_dim").set_value(None)
    at.number_input(key="train.p.deep-svdd.weight_decay").set_value(-1.0).run()
    shown = " ".join(e.value for e in at.error)
    assert "rep_dim is empty: give a whole number in [0, 512]" in shown
    assert "weight_decay=-1.0: allowed values are in [0, 1]" in shown and "epochs" not in shown
    assert at.button(key="start-run").disabled
    at.number_input(key="train.seed").set_value(None).run()
    assert "seed is empty" in " ".join(e.value for e in at.error)
    assert at.button(key="start-run").disabled and at.title[0].value == "Train a detector"
    assert not empty_env.exists() or not any(empty_env.iterdir())


def test_the_cli_says_the_same_as_the_form(tmp_path, capsys):
    from deepad.cli import main

    code = main(["train", "--dataset", "digits", "--epochs", "100000", "--runs-dir", str(tmp_path)])
    assert code == 2
    assert "epochs=100000: allowed values are in [1, 10000]" in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_settings_that_cannot_matter_are_disabled_with_the_reason(empty_env):
    at = open_page("pages/screens/train.py")
    key = "train.p.deep-svdd."

    def disabled(name: str) -> bool:
        return widget(at, key + name).disabled

    assert [disabled(n) for n in ("k", "reg_lr_mult", "d0", "r", "alpha", "beta", "nu", "eta")] == [True] * 8
    assert not disabled("reg") and not disabled("lr") and not disabled("bias")
    assert "Inactive: only used when reg is noise" in texts(at)
    at.selectbox(key=key + "reg").set_value("noise").run()
    assert not disabled("k") and not disabled("alpha") and disabled("d0") and disabled("reg_weight")
    at.selectbox(key=key + "weighting").set_value("fixed").run()
    assert disabled("alpha") and not disabled("reg_weight")
    at.selectbox(key=key + "objective").set_value("soft-boundary").run()
    assert not disabled("nu") and not disabled("warmup_epochs")
    at.number_input(key="train.known.mnist5k").set_value(10).run()
    assert not disabled("eta")


def test_reset_restores_the_defaults(empty_env):
    at = open_page("pages/screens/train.py")
    defaults = registry.get("deep-svdd").Config().model_dump()
    assert form_params(at, "deep-svdd") == defaults
    at.selectbox(key="train.p.deep-svdd.reg").set_value("variance")
    at.number_input(key="train.p.deep-svdd.epochs").set_value(100000)
    at.checkbox(key="train.p.deep-svdd.bias").check().run()
    assert form_params(at, "deep-svdd") != defaults and at.button(key="start-run").disabled
    at.button(key="reset-params").click().run()
    assert not at.exception
    assert form_params(at, "deep-svdd") == defaults and not at.button(key="start-run").disabled


def test_presets_are_picked_with_their_description_and_fill_the_form(empty_env):
    from deepad.presets import load_presets

    preset = load_presets()["collapse-fix-low-lr"]
    at = open_page("pages/screens/train.py")
    assert at.button(key="preset-start").disabled
    at.selectbox(key="train.preset").set_value("collapse-fix-low-lr").run()
    assert preset.description in texts(at)
    at.button(key="preset-fill").click().run()
    assert not at.exception
    method = preset.config["method"]
    expected = registry.get(method).Config(**preset.config["params"]).model_dump()
    assert at.selectbox(key="train.method").value == method and form_params(at, method) == expected
    assert not empty_env.exists() or not any(empty_env.iterdir())  # filling starts nothing


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
        grids = vm.explore_grids(RunStore(empty_env).list())
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


def test_the_train_page_draws_every_detectors_hyperparameters(empty_env):
    at = open_page("pages/screens/train.py")
    for method, cls in registry.all_detectors().items():
        at.selectbox(key="train.method").set_value(method).run()
        assert not at.exception, (method, [e.value for e in at.exception])
        keys = {w.key for kind in ("checkbox", "selectbox", "slider", "select_slider", "number_input",
                                   "text_input") for w in getattr(at, kind)}
        assert {f"train.p.{method}.{name}" for name in cls.Config.model_fields} <= keys, method
        # choosing the method filled in its paper's set-up, so it can start as it is ...
        filled = registry.spec(method).default_setup()
        assert at.number_input(key="train.known_normals").value == filled.get("known_normals", 0), method
        assert at.slider(key="train.pollution").value == filled.get("pollution", 0.0), method
        assert at.selectbox(key="train.test_share").value == filled.get("test_anomaly_share"), method
        assert not at.button(key="start-run").disabled, method
        if cls.needs_known_anomalies:
            known = at.number_input(key="train.known.mnist5k")
            k = filled["known_anomalies"]  # R2-AD2: 100; a share as a count, AnoEAN: 10 % of 300
            assert known.value == (k if k >= 1 else round(k * 300)), method
            known.set_value(0).run()  # ... and without them it cannot, and the warning says why
            assert at.button(key="start-run").disabled
            assert any("Known anomalies" in w.value for w in at.warning)


def test_a_dataset_that_is_not_on_disk_explains_how_to_get_it(empty_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPAD_DATA_DIR", str(tmp_path / "no-data"))
    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("fashion-mnist").run()
    assert not at.exception
    message = " ".join(e.value for e in at.error)
    assert "not available" in message and "FashionMNIST/raw" in message and "--download" in message


def test_a_preset_whose_data_is_not_on_disk_says_so_and_writes_nothing(empty_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DEEPAD_DATA_DIR", str(tmp_path / "no-data"))
    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.preset").set_value("rt-bigan-fashion-pollution").run()
    at.button(key="preset-start").click().run()
    assert not at.exception, [e.value for e in at.exception]
    message = " ".join(e.value for e in at.error)
    assert "mnist-and-fashion reads MNIST and Fashion-MNIST" in message and "MNIST/raw" in message, message
    assert at.title[0].value == "Train a detector"
    assert not empty_env.exists() or not any(empty_env.iterdir())
    assert not (tmp_path / "no-data").exists()


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


# --- image-alteration set-ups and a user's own file on the Train page ---------------------------------
def _csv_bytes(nan_rows: tuple[int, ...] = ()) -> bytes:
    """A small tabular CSV: 4 features, a text label column "kind" (ok = normal, bad = anomalous)."""
    import pandas as pd

    rng = np.random.default_rng(0)
    ok, bad = rng.normal(0, 1, (150, 4)), rng.normal(3, 1, (50, 4))
    df = pd.DataFrame(np.r_[ok, bad], columns=["f1", "f2", "f3", "f4"])
    df["kind"] = ["ok"] * 150 + ["bad"] * 50
    for r in nan_rows:
        df.loc[r, "f2"] = np.nan
    return df.to_csv(index=False).encode()


def _upload(at: AppTest, name: str, data: bytes) -> AppTest:
    """Choose "your own file" and upload through the page's st.file_uploader."""
    at.radio(key="train.source").set_value("upload").run()
    at.file_uploader(key="upload-file").upload(name, data).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _key(at: AppTest, kind: str, prefix: str) -> str:
    (key,) = [w.key for w in getattr(at, kind) if w.key and w.key.startswith(prefix)]
    return key


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_block_permutation_preview_run_and_altered_samples(empty_env):
    from deepad.data.datasets import load_dataset

    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("digits").run()
    assert len(at.image) == 0  # no preview for the usual set-up
    at.selectbox(key="train.alteration").set_value("block-permutation").run()
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.image) == 2 and "Preview" in texts(at)  # originals and their altered copies
    assert at.number_input(key="train.alt_param.block-permutation").max == 8  # 8×8 digits
    assert at.multiselect(key="train.normal_all.digits").disabled  # every class is normal
    run_id = start_short_run(at)
    manager = manager_of(empty_env)
    try:
        run = manager.wait(run_id, timeout=180)
        assert run.state == "finished", run.status
        setup = run.config["setup"]
        assert setup["alteration"] == "block-permutation" and setup["normal"] == list(range(10))
        at.switch_page("pages/screens/samples.py").run()
        assert not at.exception, [e.value for e in at.exception]
        assert len(at.image) >= 4 and "block-permutation copies" in texts(at)
        # what the page draws (views.sample_inputs): altered anomalies, natural normals
        results = run.results()
        ds = load_dataset("digits")
        rows = np.arange(len(results["test_scores"]))
        shown = vm.sample_inputs(results, rows, ds.x)
        natural = ds.x[results["test_index"]]
        anomalous = results["test_target"] == 1
        assert anomalous.any() and (~anomalous).any()
        diff = np.abs(shown - natural).reshape(len(rows), -1).max(axis=1)
        assert (diff[anomalous] > 0.05).all()  # every altered copy differs from its original
        assert (diff[~anomalous] < 1e-2).all()  # normals are the images themselves (float16)
        tiles = vm.sample_tiles(results, np.flatnonzero(anomalous)[:4], ds.x)
        assert not any(np.array_equal(t, vm.image_tile(x)) for t, x in
                       zip(tiles, natural[np.flatnonzero(anomalous)[:4]]))
    finally:
        manager.shutdown()


def test_alteration_widgets_allow_only_valid_setups(empty_env):
    from deepad.data.datasets import load_dataset

    at = open_page("pages/screens/train.py")
    at.selectbox(key="train.dataset").set_value("breast-cancer").run()
    assert not [w for w in at.selectbox if w.key == "train.alteration"]  # images only
    at.selectbox(key="train.dataset").set_value("digits").run()
    at.selectbox(key="train.alteration").set_value("fgsm").run()
    assert at.slider(key="train.alt_param.fgsm").min == 0.01 and at.slider(key="train.alt_param.fgsm").max == 1.0
    # semi-supervised variant: known anomalies made with another alteration (Chong et al., Table VI)
    at.selectbox(key="train.alteration").set_value("strokes").run()
    assert at.selectbox(key="train.train_alt").disabled  # no known anomalies yet
    at.number_input(key="train.known.digits").set_value(20).run()
    at.selectbox(key="train.train_alt").set_value("block-permutation").run()
    assert not at.exception and not at.error
    assert len(at.image) == 4  # test and known-anomaly previews
    assert not at.button(key="start-run").disabled
    ds = load_dataset("digits")
    setup = vm.alteration_setup({"normal": [0], "known_anomalies": 20}, "strokes", 3, 10,
                                train=("block-permutation", 2))
    assert setup["normal"] == list(range(10)) and vm.check_setup(setup, ds) is None
    assert "at most 8" in vm.check_setup({**setup, "alteration_param": 9}, ds)
    assert "every class" in vm.check_setup({**setup, "normal": [0]}, ds)


def test_an_uploaded_csv_trains_and_is_kept_with_its_run(empty_env):
    at = open_page("pages/screens/train.py")
    _upload(at, "measurements.csv", _csv_bytes())
    assert any("label" in i.value for i in at.info)  # no column named label: the user picks it
    assert not [b for b in at.button if b.key == "start-run"]  # nothing to start before the label is known
    at.selectbox(key=_key(at, "selectbox", "train.upload.label.")).set_value("kind").run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    normal_key = _key(at, "multiselect", "train.normal.file:")
    assert at.multiselect(key=normal_key).options == ["0: bad", "1: ok"]
    at.multiselect(key=normal_key).set_value([1]).run()  # "ok" is normal
    run_id = start_short_run(at)
    manager = manager_of(empty_env)
    try:
        run = manager.wait(run_id, timeout=180)
        assert run.state == "finished", run.status
        assert run.config["setup"]["normal"] == [1]
        assert run.config["dataset"].startswith(f"file:{run.path}/data/")  # the run's own copy
        assert run.summary["auc"] > 0.8
        at.switch_page("pages/screens/samples.py").run()  # reopened from the run's copy
        assert not at.exception and len(at.dataframe) >= 2
    finally:
        manager.shutdown()


def test_an_uploaded_csv_with_nan_offers_to_drop_the_rows(empty_env):
    data = _csv_bytes(nan_rows=(3, 17))
    check = vm.check_upload("m.csv", data, label_column="kind")
    assert check.dataset is None and "2 missing" in check.bad_rows and "rows 4, 18" in check.bad_rows
    check = vm.check_upload("m.csv", data, label_column="kind", drop_bad_rows=True)
    assert len(check.dataset.y) == 198

    at = open_page("pages/screens/train.py")
    _upload(at, "m.csv", data)
    at.selectbox(key=_key(at, "selectbox", "train.upload.label.")).set_value("kind").run()
    message = " ".join(e.value for e in at.error)
    assert "2 missing" in message and "in 2 of 200 rows" in message and "rows 4, 18" in message
    assert "Drop these rows" in message
    assert not [b for b in at.button if b.key == "start-run"]  # nothing to train on yet
    at.checkbox(key=_key(at, "checkbox", "train.upload.drop.")).check().run()
    assert not at.exception and "198 samples remain" in " ".join(s.value for s in at.success)
    assert not at.button(key="start-run").disabled
    name = _key(at, "multiselect", "train.normal.file:").removeprefix("train.normal.")
    assert "drop_bad_rows=True" in name
    from deepad.data.datasets import load_dataset

    assert len(load_dataset(name).y) == 198


def test_mixed_image_sizes_are_listed_and_can_be_resized():
    import io
    import zipfile

    from PIL import Image

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(6):
            for cls, size in (("good", (12, 12)), ("bad", (16, 12))):
                img = Image.fromarray((np.random.default_rng(i).random(size[::-1]) * 255).astype(np.uint8))
                b = io.BytesIO()
                img.save(b, format="PNG")
                zf.writestr(f"{cls}/{i}.png", b.getvalue())
    check = vm.check_upload("imgs.zip", buf.getvalue())
    assert check.dataset is None and "2 different sizes" in check.mixed_sizes and "Resize" in check.mixed_sizes
    assert check.size_hint == (12, 12)  # the most common size is suggested
    check = vm.check_upload("imgs.zip", buf.getvalue(), image_size=(10, 14))
    assert check.error is None and check.dataset.x.shape == (12, 1, 10, 14)


@pytest.mark.parametrize("name", ["model.pkl", "escape.zip"])
def test_a_bad_upload_shows_the_error_and_writes_nothing(empty_env, name):
    import io
    import zipfile

    if name.endswith(".pkl"):
        data = b"\x80\x04K\x01."
    else:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr("../evil/0.png", b"not an image")
        data = buf.getvalue()
    at = open_page("pages/screens/train.py")
    _upload(at, name, data)
    message = " ".join(e.value for e in at.error)
    assert ("pickles" in message) if name.endswith(".pkl") else ("outside the archive" in message)
    assert not [b for b in at.button if b.key == "start-run"]
    assert not _files_under(empty_env) and not _files_under(empty_env.parent / "uploads")


# --- pure helpers ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", registry.names())
def test_generated_widgets_only_offer_valid_values(method):
    """Every value a widget can produce passes the field's own type and bounds (rules that tie
    several fields together are checked when the form is read: see the next test)."""
    from typing import Annotated

    from pydantic import TypeAdapter

    cls = registry.get(method)
    for spec in vm.field_specs(cls.Config):
        info = cls.Config.model_fields[spec.name]
        field = TypeAdapter(Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation)
        candidates = [spec.default]
        if spec.kind in ("slider", "int", "float"):
            candidates += [v for v in (spec.lo, spec.hi) if v is not None]
        if spec.kind in ("log", "select"):
            candidates += list(spec.options)
        if spec.kind == "bool":
            candidates += [True, False]
        for value in candidates:
            if spec.kind == "json":
                value = json.loads(value)
            field.validate_python(value)  # raises if the widget could produce an invalid value


def test_rules_across_fields_are_explained_when_the_form_is_read():
    from pydantic import Field, model_validator

    from deepad.detectors.base import DetectorConfig

    class Cfg(DetectorConfig):
        warmup: int = Field(2, ge=0, le=100)
        epochs: int = Field(10, ge=1, le=100)

        @model_validator(mode="after")
        def _order(self):
            if self.warmup >= self.epochs:
                raise ValueError(f"warmup={self.warmup} must be below epochs={self.epochs}")
            return self

    params, error = vm.params_from_widgets(Cfg, {"warmup": 50, "epochs": 10})
    assert params is None and "warmup=50 must be below epochs=10" in error
    assert vm.params_from_widgets(Cfg, {"warmup": 5, "epochs": 10}) == ({"warmup": 5, "epochs": 10}, None)


def test_known_parameters_get_the_widgets_the_issue_asks_for():
    specs = {s.name: s for s in vm.field_specs(registry.get("deep-svdd").Config)}
    assert {specs[n].kind for n in ("alpha", "beta", "nu", "k")} == {"slider"}
    assert specs["lr"].kind == "log" and specs["bias"].kind == "bool"
    assert specs["objective"].kind == "select" and specs["reg"].options == ("none", "noise", "variance")
    assert specs["nu"].lo > 0 and specs["nu"].hi == 1 and specs["nu"].label.startswith("ν")


@pytest.mark.parametrize("config", [
    {"dataset": "digits", "method": "deep-svdd", "params": {"bias": True, "batchnorm": False, "lr": 0.01,
                                                           "reg": "noise", "k": 10}, "seed": 3},
    {"dataset": "mnist5k", "setup": {"normal": [0, 1], "anomaly": [7, 8], "known_anomalies": 20,
                                     "known_classes": [7], "pollution": 0.05, "preprocess": "unit"},
     "method": "deep-svdd", "params": {"eta": 2.0, "epochs": 3}, "title": "semi supervised"},
    {"dataset": "breast-cancer", "setup": {"normal": [1]}, "method": "ocsvm", "params": {"nu": 0.05}},
    # set-ups that differ from what the CLI fills in for these methods (their papers' set-ups)
    {"dataset": "mnist5k", "setup": {"normal": [2], "known_normals": 12, "pollution": 0.0},
     "method": "rt-bigan", "params": {}},
    {"dataset": "mnist5k", "setup": {"normal": [2], "known_anomalies": 30, "test_anomaly_share": None},
     "method": "anoean", "params": {}},
    {"dataset": "mnist5k", "setup": {"normal": [2], "known_anomalies": 30, "test_anomaly_share": 0.5},
     "method": "deep-svdd", "params": {}},
    {"dataset": "digits", "setup": {"normal": list(range(10)), "alteration": "block-permutation",
                                    "alteration_param": 4, "known_anomalies": 20,
                                    "train_alteration": "strokes", "train_alteration_param": 2,
                                    "val_alteration": "fgsm", "val_alteration_param": 0.2},
     "method": "deep-svdd", "params": {"eta": 1.0}},
])
def test_the_exported_command_line_trains_the_same_config(config):
    from deepad.cli import build_parser, config_from_args

    cmd = train_command(config)
    argv = shlex.split(cmd)
    assert argv[:4] == ["python", "-m", "deepad", "train"]
    parsed = config_from_args(build_parser().parse_args(argv[3:]))
    assert validate_config(parsed) == validate_config(config)


def test_threshold_options_and_mistakes_agree_with_the_metrics():
    rng = np.random.default_rng(0)
    results = {"test_scores": np.r_[rng.normal(0, 1, 200), rng.normal(3, 1, 40)],
               "test_target": np.r_[np.zeros(200, int), np.ones(40, int)]}
    opts = vm.threshold_options(results["test_scores"], 1.2345)
    assert 1.2345 in opts and opts == sorted(opts)
    assert vm.flagged_share(results["test_scores"], opts[0]) == 1.0  # the lowest flags everything
    m = vm.at_threshold(results, 1.2345)
    err = vm.errors_at(results, 1.2345, n=500)
    assert (err["n_fp"], err["n_fn"]) == (m["fp"], m["fn"])
    assert len(err["false positives"]) == m["fp"]
    ext = vm.extremes(results, 5)
    assert results["test_scores"][ext["most anomalous"][0]] == results["test_scores"].max()


def test_the_input_plane_goes_through_the_runs_preprocessing(runs_on_disk):
    from deepad.data.datasets import load_dataset

    root, ids = runs_on_disk
    run = RunStore(root).get(ids["toy"])
    results = run.results()
    raw = load_dataset("blobs").x[results["test_index"]]
    np.testing.assert_allclose(vm.score_inputs(run, raw), results["test_scores"], rtol=1e-5, atol=1e-6)
    grid = vm.decision_grid(run, results, resolution=20)
    assert grid.z.shape == (20, 20) and grid.threshold == run.summary["threshold"]
    assert vm.has_input_plane(run) and not vm.has_input_plane(RunStore(root).get(ids["finished"]))


def test_snapshots_are_shown_in_one_view_with_the_probe_labels(runs_on_disk):
    root, ids = runs_on_disk
    run = RunStore(root).get(ids["finished"])
    view = vm.snapshot_view(run.snapshots(), run.results()["center"], vm.probe_truth(run), run.history())
    assert view.xy.shape[0] == len(view.epochs) == 2 and list(view.epochs) == [1, 2]
    assert view.truth is not None and set(np.unique(view.truth)) <= {0, 1}
    x0, x1, y0, y1 = view.lim
    assert (view.xy[..., 0] >= x0).all() and (view.xy[..., 0] <= x1).all()


def test_pca_view_keeps_the_main_directions():
    rng = np.random.default_rng(0)
    emb = np.c_[rng.normal(0, 10, 300), rng.normal(0, 1, 300), np.zeros(300)]
    xy = embedding.pca_2d(emb)
    assert xy.shape == (300, 2)
    assert np.corrcoef(xy[:, 0], emb[:, 0])[0, 1] ** 2 > 0.99
    assert embedding.pca_2d(np.ones((1, 1))).shape == (1, 2)


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


def test_the_projector_computes_once_per_run_and_survives_failures(runs_on_disk, tmp_path, monkeypatch):
    root, ids = runs_on_disk
    shutil.copytree(root / ids["finished"], tmp_path / ids["finished"])
    run = RunStore(tmp_path).get(ids["finished"])
    calls = []

    def fake_umap(emb, **_):
        calls.append(len(emb))
        return np.asarray(emb)[:, :2].astype(np.float32)

    monkeypatch.setenv("DEEPAD_UMAP", "on")
    monkeypatch.setattr(embedding, "umap_2d", fake_umap)
    p = embedding.Projector()
    assert p.status(run) == "none"
    assert p.request(run) in ("queued", "computing", "ready")
    assert p.wait(run, timeout=30) == "ready"
    assert p.request(run) == "ready" and len(calls) == 1  # cached, outside the run's folder
    assert embedding.umap_cache_file(run).is_file() and not (run.path / embedding.UMAP_FILE).exists()
    cached = embedding.load_umap(run)
    assert cached["xy"].shape == (len(run.results()["test_scores"]), 2)

    def broken(emb, **_):
        raise RuntimeError("numba says no")

    monkeypatch.setattr(embedding, "umap_2d", broken)
    embedding.forget_umap(run)
    p2 = embedding.Projector()
    p2.request(run)
    assert p2.wait(run, timeout=30).startswith("failed: RuntimeError")

    # too few test samples: a failure with its reason, not an endless "computing"
    results = run.results()
    np.savez(run.path / "results.npz", **{k: (v[:2] if k.startswith("test_") else v)
                                          for k, v in results.items()})
    split = json.loads((run.path / "split.json").read_text())
    (run.path / "split.json").write_text(json.dumps({**split, "sizes": {**split["sizes"], "test": 2}}))
    p3 = embedding.Projector()
    p3.request(run)
    assert p3.wait(run, timeout=30) == "failed: UMAP needs at least 3 test samples; the run has 2"
    assert p3.request(run).startswith("failed")  # not queued again on the next page draw
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    assert p2.request(run) == "off"


def test_a_selection_on_any_chart_names_the_same_test_rows(runs_on_disk):
    from deepad.data.datasets import load_dataset

    root, ids = runs_on_disk
    run = RunStore(root).get(ids["finished"])
    results = run.results()
    xy = embedding.pca_2d(results["test_emb"])
    df = vm.latent_frame(run, results, xy)
    assert sorted(df["rank"]) == list(range(1, len(df) + 1))
    assert df["score"][df["rank"] == 1].iloc[0] == results["test_scores"].max()
    # clicked points, a box on the map, a range of the score histogram
    assert list(vm.selected_rows(df, {"pick": [{"row": 7}, {"row": 3}], "box": {}})) == [3, 7]
    x0, x1 = np.quantile(df["x"], [0.2, 0.6])
    y0, y1 = np.quantile(df["y"], [0.1, 0.9])
    boxed = vm.selected_rows(df, {"box": {"x": [x1, x0], "y": [y0, y1]}})
    inside = df[(df.x >= x0) & (df.x <= x1) & (df.y >= y0) & (df.y <= y1)]["row"]
    assert len(boxed) and set(boxed) == set(inside)
    lo, hi = np.quantile(results["test_scores"], [0.5, 0.9])
    ranged = vm.selected_rows(df, {"range": {"bin_maxbins_50_score": [lo, hi]}})
    assert set(ranged) == set(np.flatnonzero((results["test_scores"] >= lo) & (results["test_scores"] <= hi)))
    ordered = vm.by_score(results, ranged)  # the panel lists them most anomalous first
    assert list(results["test_scores"][ordered]) == sorted(results["test_scores"][ranged], reverse=True)
    hover = vm.hover_columns(results, np.arange(3), load_dataset("digits"))
    assert all(u.startswith("data:image/png;base64,") for u in hover["image"])
    table = vm.hover_columns(RunStore(root).get(ids["tabular"]).results(), np.arange(3), load_dataset("breast-cancer"))
    assert list(table.columns)[:2] == ["mean radius", "mean texture"] and len(table) == 3


def test_evaluation_reads_well(runs_on_disk, tmp_path):
    """The operating point at the threshold, the test part's anomaly share next to the metrics,
    the key columns first and empty cells, a user's file by its own name, settings that differ."""
    root, ids = runs_on_disk
    store = RunStore(root)
    run = store.get(ids["finished"])
    results = run.results()
    m = vm.at_threshold(results, vm.default_threshold(run, results))
    assert m["fpr"] == m["fp"] / (m["fp"] + m["tn"])
    roc = figures.roc_figure([vm.curves("a", results)], m)
    marker = [t for t in roc.data if t.name == "at the threshold"][0]
    assert (marker.x[0], marker.y[0]) == (m["fpr"], m["recall"])
    share = vm.test_share_text(run, results)
    n = len(results["test_target"])
    assert share == f"{n} test samples, {100 * results['test_target'].mean():.1f} % anomalies"
    table = vm.runs_frame(store.list())
    assert list(table.columns)[:5] == ["title", "AUC", "AP", "F1", "collapse"]
    failed = table[table["run"] == ids["failed"]].iloc[0]
    assert failed["collapse"] == "" and np.isnan(failed["AUC"])  # shown as empty cells
    user = RunStore(root).get(ids["finished"])
    user.config = {**user.config, "dataset": f"file:{tmp_path}/0123456789abcdef-good.csv?label_column=label"}
    assert vm.run_title(user) == "deep-svdd · good.csv · normal 0"
    diff = vm.config_diff([store.get(ids["finished"]), store.get(ids["toy"])])
    assert {"dataset", "objective", "epochs"} <= set(diff.index) and "lr" not in diff.index
    assert list(diff.loc["dataset"]) == ["digits", "blobs"]


def test_presenter_mode_carries_over_every_page_and_the_address(runs_env):
    ids = runs_env[1]
    at = open_page("pages/screens/evaluate.py", ids["finished"])
    assert "present" not in at.query_params and not at.get("html")
    small = [c for c in at.get("plotly_chart")][0].proto.spec
    at.sidebar.toggle(key="presenter").set_value(True).run()
    assert at.query_params["present"] == "1"
    assert any("font-size: 21px" in h.proto.body for h in at.get("html"))  # the shipped stylesheet
    big = [c for c in at.get("plotly_chart")][0].proto.spec
    assert json.loads(big)["layout"]["font"]["size"] == figures.PRESENTER["font"]
    assert "font" not in json.loads(small)["layout"] or json.loads(small)["layout"]["font"].get("size") is None
    link = AppTest.from_file(APP, default_timeout=60)  # a link to another page opens with it on
    link.query_params.update({"run": ids["finished"], "present": "1"})
    link.run()
    link.switch_page("pages/screens/latent.py").run()
    assert not link.exception and link.title[0].value == "Latent space"
    assert link.session_state["presenter"] and link.get("html")
    distances = json.loads(link.get("plotly_chart")[0].proto.spec)
    assert distances["layout"]["font"]["size"] == figures.PRESENTER["font"]


def test_log_axes_label_whole_decades_and_the_spread_gauge_shows_its_number():
    df = pd.DataFrame({"step": [1, 2, 3], "phase": "train", "epoch": [1, 2, 3], "loss": [100.0, 3.0, 0.02]})
    fig = figures.history_figure(df, ["loss"], log_y=True)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.minor.ticks
    narrow = figures.history_figure(df.assign(loss=[3.0, 2.5, 2.0]), ["loss"], log_y=True)
    assert narrow.layout.yaxis.dtick is None  # within a decade plotly's own labels are numbers
    gauges = figures.collapse_gauges(2.3e-5, 3.0, 32, 0.4)
    assert any(a.text == "2.3e-05" for a in gauges.layout.annotations)
    assert gauges.layout.margin.l >= 40  # room for the dial's "1e-6"


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
