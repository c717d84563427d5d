"""The dashboard with hostile and damaged input (AppTest): markup in a run's title, in the address's
?run= and in a CSV's column names is shown as text; damaged runs and symbolic links in the runs
folder never take a page down or become the current run."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from deepad.runs.listing import RunStore  # noqa: E402
from deepad.training.runner import train  # noqa: E402
from pages import DEFAULT, PAGES as REGISTRY, page_path  # noqa: E402

APP = str(Path(__file__).resolve().parent.parent / "app.py")
PAGES = [p.path for p in REGISTRY]
EVIL = "evil.example"
PAYLOAD = (f"![pwn](http://{EVIL}/a.png) [click me](http://{EVIL}/) <img src=http://{EVIL}/b.png> "
           f"**bold** :red[red] $x^2$ www.{EVIL} me@{EVIL}")
RAW_MARKUP = ("](http", "<img", "**bold**", ":red[", "$x^2$", f"www.{EVIL}")


def shown_texts(at: AppTest) -> list[str]:
    """The source of every element that renders markdown (main area and sidebar)."""
    kinds = ("markdown", "caption", "info", "warning", "error", "success", "title", "subheader", "header")
    return [str(e.value) for kind in kinds for e in getattr(at, kind)]


def assert_no_markup(at: AppTest) -> None:
    """No payload markup survives outside backslash escapes (which markdown shows as the character)."""
    import re

    for text in shown_texts(at):
        unescaped = re.sub(r"\\.", "", text)
        for raw in RAW_MARKUP:
            assert raw not in unescaped, f"{raw!r} would render as markup in {text!r}"
        shown = re.sub(r"\\(.)", r"\1", text)  # as markdown shows it: addresses are linked even then
        for address in ("http://", f"www.{EVIL}", f"@{EVIL}"):
            assert address not in shown, f"{address!r} would become a link in {text!r}"


def open_page(page: str, run_id: str | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    if run_id is not None:
        at.query_params["run"] = run_id
    at.run()  # the address / opens Train; this first run registers the pages (st.navigation) ...
    if page != page_path(DEFAULT):
        at.switch_page(page).run()  # ... so that a link opens another (AppTest then stays on it)
    assert not at.exception, [e.value for e in at.exception]
    return at


# pages that show no one run (a form, a grid, the papers' tables, a lesson's pair): they never name the run picked
NOT_ABOUT_ONE_RUN = ("pages/screens/train.py", "pages/screens/explore.py", "pages/screens/papers.py",
                     "pages/screens/lesson.py")


@pytest.fixture(scope="module")
def hostile_runs(tmp_path_factory):
    """A run titled with markup, a run with a damaged results file, a run whose config is a JSON
    list, and a symbolic link to a run outside the folder."""
    root = tmp_path_factory.mktemp("hostile") / "runs"
    store = RunStore(root)
    base = {"dataset": "blobs", "method": "kde", "setup": {"normal": [0]}}
    ids = {"titled": train({**base, "title": PAYLOAD}, store).run_id}
    ids["damaged"] = train({**base, "title": "damaged results"}, store).run_id
    data = (root / ids["damaged"] / "results.npz").read_bytes()
    (root / ids["damaged"] / "results.npz").write_bytes(data[:len(data) // 2])
    ids["not an object"] = train({**base, "title": "config list"}, store).run_id
    (root / ids["not an object"] / "config.json").write_text("[1, 2]")
    outside = root.parent / "outside-run"
    shutil.copytree(root / ids["titled"], outside)
    cfg = json.loads((outside / "config.json").read_text())
    (outside / "config.json").write_text(json.dumps({**cfg, "title": "outside the runs folder"}))
    ids["link"] = "99991231-235959-kde-ffffff"  # sorts first: would be the newest run
    (root / ids["link"]).symlink_to(outside, target_is_directory=True)
    return root, ids


@pytest.fixture
def hostile_env(monkeypatch, hostile_runs):
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(hostile_runs[0]))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    return hostile_runs


@pytest.mark.parametrize("page", PAGES)
def test_a_title_with_markup_is_shown_as_text_on_every_page(hostile_env, page):
    _, ids = hostile_env
    at = open_page(page, ids["titled"])
    assert_no_markup(at)
    if page not in NOT_ABOUT_ONE_RUN:
        assert any("click me" in t and EVIL in t.replace("\\", "") for t in shown_texts(at))


@pytest.mark.parametrize("page", ["pages/screens/runs.py", "pages/screens/evaluate.py", "pages/screens/latent.py"])
def test_markup_in_the_address_is_shown_as_text(hostile_env, page):
    at = open_page(page, f"x](http://{EVIL}/c.png)")
    assert_no_markup(at)
    notes = [t for t in shown_texts(at) if "The address names no run" in t]
    assert notes and "only letters, digits" in notes[0]
    assert at.session_state["run_id"] != f"x](http://{EVIL}/c.png)"


@pytest.mark.parametrize("page", [p for p in PAGES if p not in NOT_ABOUT_ONE_RUN])
@pytest.mark.parametrize("kind", ["damaged", "not an object"])
def test_a_damaged_run_shows_what_is_wrong_and_the_pages_still_work(hostile_env, page, kind):
    _, ids = hostile_env
    at = open_page(page, ids[kind])
    wrong = "results.npz" if kind == "damaged" else "config.json"
    assert any("damaged" in t and wrong in t for t in shown_texts(at)), shown_texts(at)


def test_a_symlinked_run_is_not_listed_and_never_the_current_run(hostile_env):
    root, ids = hostile_env
    at = open_page("pages/screens/runs.py")
    picker = at.sidebar.selectbox(key="run_picker")
    assert ids["link"] not in picker.options and at.session_state["run_id"] != ids["link"]
    assert not any("outside the runs folder" in t for t in shown_texts(at))
    at = open_page("pages/screens/runs.py", ids["link"])
    assert not any("outside the runs folder" in t for t in shown_texts(at))
    assert (root / ids["link"]).is_symlink() and (root.parent / "outside-run" / "status.json").exists()


def test_csv_column_names_with_markup_are_shown_as_text(monkeypatch, tmp_path):
    import pandas as pd

    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(60, 2)), columns=[f"![c](http://{EVIL}/d.png)", "<b>plain</b>"])
    df.iloc[3, 0] = np.nan
    df["kind"] = ["ok"] * 45 + ["bad"] * 15
    at = open_page("pages/screens/train.py")
    at.radio(key="train.source").set_value("upload").run()
    at.file_uploader(key="upload-file").upload("m.csv", df.to_csv(index=False).encode()).run()
    assert not at.exception, [e.value for e in at.exception]
    (key,) = [w.key for w in at.selectbox if w.key and w.key.startswith("train.upload.label.")]
    at.selectbox(key=key).set_value("kind").run()
    assert not at.exception, [e.value for e in at.exception]
    assert_no_markup(at)
    bad_rows = [t for t in shown_texts(at) if "non\\-numeric values" in t or "non-numeric values" in t]
    assert bad_rows and "evil.example/d.png" in bad_rows[0]  # the column is named, as text
    assert not os.path.exists(tmp_path / "runs")


@pytest.mark.parametrize("page", [p for p in PAGES if p != "pages/screens/train.py"])
def test_a_runs_folder_that_is_a_file_is_a_message_on_every_page(monkeypatch, tmp_path, page):
    not_a_folder = tmp_path / "runs"
    not_a_folder.write_text("oops")
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(not_a_folder))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    at = open_page(page)
    assert any("is a file, not a folder" in t for t in shown_texts(at))
