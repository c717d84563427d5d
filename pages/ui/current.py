"""The current run, shared by every page (and kept in the address as ?run=...): picking it,
reading it and its results fresh from disk, and the messages that say why a page has nothing to
show."""

from __future__ import annotations

import streamlit as st

from deepad.errors import DeepADError
from deepad.runs.layout import RESULTS, check_run_id
from deepad.runs.read import RunFolder, RunRecord
from deepad.runs.records import DamagedFile
from deepad.runs.reopen import run_dataset
from deepad.views.common import run_title
from pages import page_path
from pages.ui.look import badge, esc
from pages.ui.singletons import manager, store
from pages.views.common import is_live
from pages.views.runs import RunState, run_state, status_text
from pages.views.samples import sample_captions, sample_tiles

RUN_KEY = "run_id"  # the current run, shared by every page (also in the URL: ?run=...)


def current_run_id() -> str | None:
    return st.session_state.get(RUN_KEY)


def run_id_from_url() -> str | None:
    """The ?run= of the address when it is a well-formed run id; otherwise None, and a note for
    `url_note` to show."""
    wanted = st.query_params.get("run")
    if not wanted:
        return None
    try:
        return check_run_id(wanted)
    except DeepADError as exc:
        st.session_state["_url_note"] = f"The address names no run: {exc}"
        return None


def url_note() -> None:
    """Why the address's ?run= was not opened (shown until another run is picked)."""
    if st.session_state.get("_url_note"):
        st.warning(esc(st.session_state["_url_note"]))


def select_run(run_id: str | None) -> None:
    st.session_state.pop("_url_note", None)
    st.session_state[RUN_KEY] = run_id
    if run_id:
        st.query_params["run"] = run_id
    elif "run" in st.query_params:
        del st.query_params["run"]


def get_run(run_id: str | None) -> RunRecord | None:
    if not run_id:
        return None
    try:
        return store().get(run_id)
    except (DeepADError, OSError, ValueError):
        return None


def current_run() -> RunRecord | None:
    """The run picked in the sidebar, read fresh from disk; says on the page why there is none."""
    run_id = current_run_id()
    if not run_id:
        st.info("No run selected yet. Start one on the **Train** page, or pick one in the sidebar.")
        return None
    run = get_run(run_id)
    if run is None:
        st.warning(f"Run {esc(run_id)} is not in {esc(store().root)} (it may have been deleted, or the "
                   "address names no run). Pick another run in the sidebar.")
    elif not run.config:  # its config is unreadable: nothing about it can be shown
        st.error(f"This run is damaged: {esc('; '.join(run.damage))}. Pick another run in the sidebar.")
        return None
    elif run.damage:
        st.error(f"This run is damaged: {esc('; '.join(run.damage))}. What can still be read is shown.")
    return run


def state_of(run: RunRecord) -> RunState:
    """The run's state as every part of the screen says it (heading, sidebar, status box, captions):
    one reading of its status file, its records and its place in the queue (`run_state`)."""
    from pages.ui.live import history_of

    return run_state(run, len(history_of(run)), manager().queue_position(run.run_id))


def status_box(run: RunRecord, state: RunState | None = None) -> None:
    """What the run is doing, in a box coloured by how it went."""
    state = state or state_of(run)
    if state.state in ("failed", "damaged"):
        st.error(esc(state.text))
    elif state.state in ("cancelled", "interrupted"):
        st.warning(esc(state.text))
    else:
        st.info(esc(state.text))


def _heading(run: RunRecord) -> None:
    state = state_of(run)
    where = f" · {esc(state.progress.text)}" if state.live else ""
    st.markdown(f"**{esc(run_title(run))}** · {esc(run.run_id)} · {badge(state.state)}{where}")


def run_heading(run: RunRecord, live: bool = True) -> None:
    """The run's name, id and state. While it trains the heading looks again as often as the
    sidebar does (the same reading, `state_of`), so the two never disagree for longer than a look;
    `live=False` inside a view that already redraws itself."""
    if not live or not is_live(run):
        _heading(run)
        return
    from pages.ui.live import live_fragment

    def heading(run_id: str) -> None:
        r = get_run(run_id)
        if r is not None:
            _heading(r)

    live_fragment(heading, run.run_id)


@st.cache_data(max_entries=16, show_spinner=False)
def _load_results(path: str, stamp: int) -> dict | None:
    return RunFolder(path).read_results()


def results_of(run: RunRecord) -> dict | None:
    """Test results (cached per run and file version), or None before the run has finished or when
    the file is damaged (the damage is then in `run.damage`)."""
    try:
        return _load_results(str(run.path), run.files.stamp(RESULTS))
    except DamagedFile as exc:
        run.damage.append(str(exc)) if str(exc) not in run.damage else None
        return None
    except OSError:
        return None


def dataset_of(run: RunRecord):
    """The run's dataset as loaded from disk (raw samples for display), or None with a message."""
    try:
        return run_dataset(run)
    except DeepADError as exc:
        st.warning(f"The samples cannot be shown: {esc(exc)}")
        return None


def require_results(run: RunRecord) -> dict | None:
    """The run's results, or a message saying why there are none (yet)."""
    results = results_of(run)
    if results is not None:
        return results
    if is_live(run):
        st.info("It is still training (its state is in the heading above). Its test results appear here when "
                "it finishes; follow it live on **Runs / live**.")
        st.page_link(page_path("runs"), label="Follow it live", icon=":material/monitoring:")
    elif run.state == "failed":
        st.error(esc(status_text(run)))
    elif run.damage:
        st.error(f"Its results cannot be shown: {esc('; '.join(run.damage))}.")
    else:
        st.warning(f"{esc(status_text(run))} It has no test results, so there is nothing to show here; "
                   "its training curves are on **Runs / live** and **Collapse**.")
    return None


def page_run() -> RunRecord:
    """The preamble of a page about one run: the current run under its heading; where there is none
    (or it cannot be read), the page says why and ends there."""
    run = current_run()
    if run is None:
        st.stop()
    run_heading(run)
    return run


def page_run_results() -> tuple[RunRecord, dict]:
    """`page_run`, then the run's test results; where there are none (yet), the page says why and
    ends there."""
    run = page_run()
    results = require_results(run)
    if results is None:
        st.stop()
    return run, results


def sample_images(run: RunRecord, results: dict, rows, ds) -> None:
    """Test samples as a grid of images with their captions; altered copies (image-alteration
    set-ups) are drawn as they were scored, not as the natural images they were made from."""
    st.image(sample_tiles(results, rows, ds.x),
             caption=[esc(c) for c in sample_captions(run, results, rows)], width=104)

