"""DeepAD Studio: the dashboard's entry point (`streamlit run app.py`).

It runs on every interaction, around whichever page is open: it builds the navigation over the
modules in `pages/`, shows the current run and its status in the sidebar, and keeps the current
run and page in the URL (`?run=...&page=...`) so a reload or a shared link reopens the same view.
Runs train in worker processes supervised by one process-wide run manager (see `pages/_ui.py`).
"""

from pathlib import Path

import streamlit as st

from deepad import views as vm
from deepad.errors import DeepADError
from pages import _ui as ui

# the icon is a file served by this server: a material icon as page icon is fetched from a font CDN
st.set_page_config(page_title="DeepAD Studio", page_icon=str(Path(__file__).parent / "assets" / "icon.png"),
                   layout="wide")

ui.warm_up()  # once per server process, in the background: UMAP compilation, the default dataset
ui.presenter_mode()  # larger fonts and thicker lines, from the sidebar toggle or ?present=1
ui.keep_widget_state(("train.", "explore."))

# --- pages ---------------------------------------------------------------------------------------
pages = {url: st.Page(path, title=title, url_path=url, icon=icon, default=(url == "train"))
         for path, (title, url, icon) in ui.PAGES.items()}
current = st.navigation({
    "Train and follow": [pages["train"], pages["runs"]],
    "Look at the current run": [pages["roc"], pages["latent"], pages["samples"], pages["collapse"],
                                pages["score"]],
    "Try many settings": [pages["explore"]],
})
current_url = next(u for u, p in pages.items() if p.title == current.title)

# --- the current run: from this session, else the URL, else the newest run ---------------------
try:
    runs = ui.store().list()
except DeepADError as exc:  # the runs folder is a file, or cannot be read
    st.error(ui.esc(exc))
    runs = []
if ui.RUN_KEY not in st.session_state:
    st.session_state[ui.RUN_KEY] = ui.run_id_from_url() or (runs[0].run_id if runs else None)
run_id = st.session_state[ui.RUN_KEY]

# A link such as /?page=roc&run=ID opens that page once, on the session's first run.
if not st.session_state.get("_opened_from_url"):
    st.session_state["_opened_from_url"] = True
    wanted = st.query_params.get("page")
    if wanted in pages and wanted != current_url:
        st.switch_page(pages[wanted], query_params={"run": run_id} if run_id else None)


def _picked():
    picked = st.session_state["run_picker"]
    if ui.get_run(picked) is not None:
        ui.select_run(picked)


def _sidebar_status(run_id: str) -> None:
    """State, progress and headline numbers of the current run; polls while it trains."""
    run = ui.get_run(run_id)
    if run is None:
        st.warning("This run is not on disk (deleted?). Pick another one.")
        return
    seen = st.session_state.setdefault("_live_seen", {})
    live = vm.is_live(run)
    if seen.get(run_id) and not live:  # it just ended: redraw the whole page with its results
        seen[run_id] = False
        st.rerun()
    seen[run_id] = live
    text = vm.status_text(run, ui.manager().queue_position(run_id))
    st.markdown(ui.badge(run.state))
    if run.state in ("failed", "damaged"):
        st.error(ui.esc(text))
    elif run.state in ("cancelled", "interrupted"):
        st.warning(ui.esc(text))
    else:
        st.caption(ui.esc(text))
    if live:
        p = vm.progress(run, len(ui.history_of(run)))
        st.progress(p.fraction, text=p.text)
    s = run.summary
    if s.get("auc") is not None:
        verdict = f" · {ui.badge(s['verdict'], 'verdict')}" if s.get("verdict") else ""
        st.markdown(f"test AUC **{s['auc']:.3f}**{verdict}")


with st.sidebar:
    ui.url_note()
    ids = [r.run_id for r in runs]
    labels = {r.run_id: vm.run_label(r) for r in runs}
    options = ids if (run_id is None or run_id in ids) else [run_id, *ids]
    if st.session_state.get("run_picker") != run_id:
        st.session_state["run_picker"] = run_id
    st.selectbox("Current run", options, key="run_picker", on_change=_picked,
                 format_func=lambda i: labels.get(i, f"missing run: {i}"),
                 placeholder="no runs yet: start one on Train",
                 help="Every page shows this run. It is also in the page's address, so a reload or a "
                      "shared link opens the same run.")
    if run_id:
        run_now = ui.get_run(run_id)
        live = run_now is not None and vm.is_live(run_now)
        st.fragment(_sidebar_status, run_every=ui.refresh_every(run_now) if live else None)(run_id)
    active, training = ui.manager().active_ids(), ui.manager().running_ids()
    queued = (f"{len(training)} run(s) training and {len(active) - len(training)} queued in this server, at "
              f"most {ui.manager().max_parallel} at once, each in a process of its own.  \n" if active else "")
    st.caption(f"{queued}Runs folder: {ui.esc(ui.store().root)}")  # one element, so a redraw never shows it twice
    st.toggle("Presenter mode", key=ui.PRESENTER_KEY,
              help="Larger text and thicker lines for a projector, on every page (also in the address: "
                   "?present=1).")

st.session_state["_entered_via_app"] = True  # (see ui.require_app)

# --- the address bar mirrors the view ----------------------------------------------------------
if run_id:
    st.query_params["run"] = run_id
st.query_params["page"] = current_url
if st.session_state.get(ui.PRESENTER_KEY):
    st.query_params["present"] = "1"
elif "present" in st.query_params:
    del st.query_params["present"]

current.run()
