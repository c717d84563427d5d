"""DeepAD Studio: the dashboard's entry point (`streamlit run app.py`).

It runs on every interaction, around whichever page is open: it builds the navigation from the
page registry in `pages/__init__.py`, shows the current run and its status in the sidebar, and
keeps the current run in the address (`/latent?run=...`, the page being its path), so a reload or a
shared link reopens the same page on the same run. Runs train in worker processes supervised by
one process-wide run manager (see `pages/ui/singletons.py`).
"""

from pathlib import Path

import streamlit as st

from deepad.errors import DeepADError
from pages import DEFAULT, PAGES
from pages.ui.current import RUN_KEY, get_run, run_id_from_url, select_run, state_of, url_note
from pages.ui.live import live_fragment
from pages.ui.look import PRESENTER_KEY, badge, esc, keep_sidebar_top, presenter_mode
from pages.ui.singletons import manager, store, warm_up
from pages.ui.widgets import keep_widget_state
from pages.views.common import run_label

# the icon is a file served by this server: a material icon as page icon is fetched from a font CDN
st.set_page_config(page_title="DeepAD Studio", page_icon=str(Path(__file__).parent / "assets" / "icon.png"),
                   layout="wide")

warm_up()  # once per server process, in the background: UMAP compilation, the default dataset
presenter_mode()  # larger fonts and thicker lines, from the sidebar toggle or ?present=1
keep_widget_state(("train.", "explore."))

# --- pages ---------------------------------------------------------------------------------------
# Streamlit gives the default page the root address ("/") and no other, so the default is a hidden
# page that opens Train: then /train, like every page's own address, is a link that works.
pages = {p.url: st.Page(p.path, title=p.title, url_path=p.url, icon=p.icon) for p in PAGES}


def _home() -> None:
    st.switch_page(pages[DEFAULT], query_params=st.query_params.to_dict())


sections: dict[str, list] = {"": [st.Page(_home, title="DeepAD Studio", default=True, visibility="hidden")]}
for p in PAGES:
    sections.setdefault(p.section, []).append(pages[p.url])
current = st.navigation(sections)

# --- the current run: from this session, else the URL, else the newest run ---------------------
try:
    runs = store().list()
except DeepADError as exc:  # the runs folder is a file, or cannot be read
    st.error(esc(exc))
    runs = []
if RUN_KEY not in st.session_state:
    st.session_state[RUN_KEY] = run_id_from_url() or (runs[0].run_id if runs else None)
run_id = st.session_state[RUN_KEY]


def _picked():
    picked = st.session_state["run_picker"]
    if get_run(picked) is not None:
        select_run(picked)


def _sidebar_status(run_id: str) -> None:
    """State, progress and headline numbers of the current run; polls while it trains."""
    run = get_run(run_id)
    if run is None:
        st.warning("This run is not on disk (deleted?). Pick another one.")
        return
    state = state_of(run)  # the reading the page's heading and status box draw from too
    st.markdown(badge(state.state))
    if state.state in ("failed", "damaged"):
        st.error(esc(state.text))
    elif state.state in ("cancelled", "interrupted"):
        st.warning(esc(state.text))
    else:
        st.caption(esc(state.text))
    if state.live:
        st.progress(state.progress.fraction, text=state.progress.text)
    s = run.summary
    if s.get("auc") is not None:
        verdict = f" · {badge(s['verdict'], 'verdict')}" if s.get("verdict") else ""
        st.markdown(f"test AUC **{s['auc']:.3f}**{verdict}")


with st.sidebar:
    keep_sidebar_top(st.container())  # what a page keeps in view: Train's Start, right under the navigation
    url_note()
    ids = [r.run_id for r in runs]
    labels = {r.run_id: run_label(r) for r in runs}
    options = ids if (run_id is None or run_id in ids) else [run_id, *ids]
    if st.session_state.get("run_picker") != run_id:
        st.session_state["run_picker"] = run_id
    st.selectbox("Current run", options, key="run_picker", on_change=_picked,
                 format_func=lambda i: labels.get(i, f"missing run: {i}"),
                 placeholder="no runs yet: start one on Train",
                 help="Every page shows this run. It is also in the page's address, so a reload or a "
                      "shared link opens the same run.")
    if run_id:
        live_fragment(_sidebar_status, run_id)
    active, training = manager().active_ids(), manager().running_ids()
    queued = (f"{len(training)} run(s) training and {len(active) - len(training)} queued in this server, at "
              f"most {manager().max_parallel} at once, each in a process of its own.  \n" if active else "")
    st.caption(f"{queued}Runs folder: {esc(store().root)}")  # one element, so a redraw never shows it twice
    st.toggle("Presenter mode", key=PRESENTER_KEY,
              help="Larger text and thicker lines for a projector, on every page (also in the address: "
                   "?present=1).")

# --- the address bar mirrors the view (the page is its path) -------------------------------------
if run_id:
    st.query_params["run"] = run_id
if st.session_state.get(PRESENTER_KEY):
    st.query_params["present"] = "1"
elif "present" in st.query_params:
    del st.query_params["present"]

current.run()
