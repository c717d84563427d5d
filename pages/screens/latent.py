"""Latent space: the test samples' representations in 2-D (PCA at once, UMAP when ready), the
distance to the centre with the radius, the input plane for 2-D data, and a per-epoch scrubber."""

import numpy as np
import streamlit as st

from deepad import embedding
from deepad.figures.latent import latent_scatter
from deepad.runs.layout import MODEL, RESULTS, SNAPSHOTS
from deepad.runs.reopen import run_dataset
from deepad.views.collapse import latest_collapse, representation_dim, verdict_applies
from deepad.views.common import distances
from deepad.views.latent import centre_in_pca, latent_frame
from pages.figures.latent import (decision_plane, distance_histogram, latent_chart, snapshot_animation,
                                  snapshot_distances, snapshot_scatter, spread_timeline)
from pages.figures.scores import score_hist_chart
from pages.ui.current import dataset_of, get_run, page_run, require_results, results_of, sample_images, state_of
from pages.ui.live import LIVE_REFRESH_S, history_of, live_fragment
from pages.ui.snapshots import snapshot_view
from pages.ui.look import esc
from pages.ui.singletons import projector
from pages.ui.widgets import current_threshold, download_figures
from pages.views.common import is_live
from pages.views.latent import by_score, decision_grid, has_input_plane, hover_columns, selected_rows
from pages.views.samples import sample_table

st.title("Latent space")
st.caption("Each dot is one test sample's representation φ(x): the space the method makes its "
           "decision in, squeezed to two dimensions. Normal samples should gather, anomalies "
           "should land apart.")

run = page_run()


@st.cache_data(max_entries=8, show_spinner=False)
def pca_view(path: str, stamp: int, run_id: str):
    r = get_run(run_id)
    return centre_in_pca(results_of(r))


@st.cache_data(max_entries=8, show_spinner="Scoring a grid over the input plane…")
def input_plane(run_id: str, stamp: int, threshold: float):
    r = get_run(run_id)
    return decision_grid(r, results_of(r), threshold)


SELECTION_KEY = "selection"  # {run_id: test rows}: one selection shared by the maps, histogram and Samples


def selection() -> np.ndarray:
    return np.asarray(st.session_state.get(SELECTION_KEY, {}).get(run.run_id, []), dtype=int)


def remember_selection(key: str, frame) -> None:
    """on_select of a chart: the rows it selected become the shared selection (an emptied
    selection clears it)."""
    event = st.session_state.get(key)
    chosen = selected_rows(frame, dict(event.selection) if event is not None else {})
    st.session_state.setdefault(SELECTION_KEY, {})[run.run_id] = [int(r) for r in chosen]


def show_selected(rows: np.ndarray, results: dict) -> None:
    """The selected samples, most anomalous first."""
    if not len(rows):
        return
    rows = by_score(results, rows)
    c1, c2 = st.columns([4, 1])
    c1.markdown(f"**{len(rows)} selected sample(s)**, most anomalous first"
                + (" (the first 48 shown)" if len(rows) > 48 else "")
                + ". The same selection is on **Samples**.")
    if c2.button("Clear the selection", key="latent.clear", icon=":material/close:"):
        st.session_state.setdefault(SELECTION_KEY, {})[run.run_id] = []
        st.rerun()
    ds = dataset_of(run)
    if ds is not None and ds.kind == "image":
        sample_images(run, results, rows[:48], ds)
    elif ds is not None:
        st.dataframe(sample_table(run, results, rows[:200], ds.x, ds.feature_names), hide_index=True)


@st.cache_data(max_entries=8, show_spinner="Preparing the hover images…")
def hover_frame(run_id: str, stamp: int):
    r = get_run(run_id)
    res = results_of(r)
    try:
        ds = run_dataset(r)
    except Exception:  # noqa: BLE001 (no images then; the numbers still show)
        return None
    return hover_columns(res, np.arange(len(res["test_scores"])), ds)


def touchable_map(frame, key: str, color_by: str, centre, title: str, hover) -> None:
    """A latent map with hover images and selection shared through the session."""
    if hover is not None:  # feature columns under names of their own (a feature may be called "score")
        hover = hover.rename(columns=lambda c: c if c == "image" else f"feature · {c}")
        frame = frame.join(hover.iloc[frame["row"].to_numpy()].reset_index(drop=True))
    extra = [c for c in hover.columns if c != "image"] if hover is not None else []
    chart = latent_chart(frame, color_by, centre, title, selection(), extra_tooltip=extra)
    st.altair_chart(chart, key=key, on_select=lambda: remember_selection(key, frame),
                    selection_mode=["pick", "box"], width="stretch")


def umap_refresh(run_id: str) -> float | None:
    """Look again until the run's UMAP view is ready (or failed)."""
    r = get_run(run_id)
    status = projector().status(r) if r is not None else "gone"
    return None if status in ("ready", "gone") or status.startswith("failed") else LIVE_REFRESH_S


def umap_pending(run_id: str) -> None:
    """Says UMAP is on its way (the page is redrawn once it is ready)."""
    proj = projector()
    warm = "" if proj.warm_state == "ready" else " (UMAP is still warming up on this server)"
    st.info(f"UMAP view: computing in the background{warm}. It appears here by itself and is saved "
            "with the run; the PCA view on the left is complete meanwhile.")


results = results_of(run)
stamp = run.files.stamp(RESULTS)
if results is not None and "test_emb" in results:
    has_centre = "center" in results
    color_choices = ["truth", "class", "score"] + (["distance"] if has_centre else [])
    color_labels = {"truth": "normal / anomaly", "class": "class", "score": "anomaly score",
                    "distance": "distance to the centre"}
    color_by = st.radio("Colour the dots by", color_choices, format_func=color_labels.get, horizontal=True,
                        key="latent.color")
    dim = representation_dim(run, results)
    # autoscaled maps make any cloud look spread: for the methods with a verdict, its spread is written on them
    latest = latest_collapse(run, history_of(run), dim)
    spread_note = (f" · spread ratio {latest['spread_ratio']:.2g}" + (f" ({latest['verdict']})" if latest.get("verdict")
                                                                     else "")
                   if latest.get("spread_ratio") is not None else "")
    pca_xy, centre_xy = pca_view(str(run.path), stamp, run.run_id)
    hover = hover_frame(run.run_id, stamp)
    left, right = st.columns(2)
    figs = []  # for the HTML export
    with left:
        df = latent_frame(run, results, pca_xy)
        pca_title = f"PCA of φ ({dim} dimensions){spread_note}"
        figs.append(latent_scatter(df, color_by, centre_xy, pca_title))
        touchable_map(df, "latent.pca", color_by, centre_xy, pca_title, hover)
        where_c = ("The black cross marks the centre c. " if centre_xy is not None else
                   "The centre c lies far outside this view. " if has_centre else "")
        spread_words = ("Each map is scaled to its own cloud, so a collapsed cloud fills it too: the spread "
                        "ratio in the title says how much of the starting spread is left. " if spread_note else "")
        st.caption("PCA: the two directions along which the representations vary most (shown at "
                   f"once). {where_c}{spread_words}Hover over a dot to see its sample; click one (shift-click for more) "
                   "or drag a box to select; double-click clears.")
    with right:
        proj = projector()
        if not embedding.umap_enabled():
            st.info("UMAP is switched off on this server (DEEPAD_UMAP=off); the PCA view is on the left.")
        else:
            status = proj.request(run)
            cached = embedding.load_umap(run) if status == "ready" else None
            if cached is not None:
                udf = latent_frame(run, results, cached["xy"], cached["index"])
                figs.append(latent_scatter(udf, color_by, None, f"UMAP of φ{spread_note}"))
                touchable_map(udf, "latent.umap", color_by, None, f"UMAP of φ{spread_note}", hover)
                st.caption("UMAP keeps neighbourhoods: samples close here are close in φ. Distances "
                           "between far-apart groups mean little.")
            elif status.startswith("failed"):
                st.warning(f"UMAP could not be computed: {esc(status.removeprefix('failed: '))}. The PCA "
                           "view on the left shows the same points.")
            else:
                live_fragment(umap_pending, run.run_id, every=umap_refresh)
    st.altair_chart(score_hist_chart(df, current_threshold(run, results), selection()),
                    key="latent.hist", on_select=lambda: remember_selection("latent.hist", df),
                    selection_mode=["range"], width="stretch")
    st.caption("The test scores; drag over a range to select those samples (the dashed line is the "
               "threshold). A selection made on any of these charts is highlighted on all of them.")
    show_selected(selection(), results)

    if has_centre:
        st.subheader("Distance to the centre")
        radius = run.summary.get("radius")
        figs.append(distance_histogram(distances(results), results["test_target"], radius))
        st.plotly_chart(figs[-1], key="latent.dist")
        st.caption("The hypersphere seen from its centre c: normal samples should sit close, anomalies "
                   "farther out." + (" The dashed line is the learned radius R: outside it is "
                                     "flagged." if radius else ""))

    if has_input_plane(run):
        st.subheader("The input plane")
        thr = current_threshold(run, results)
        grid = input_plane(run.run_id, run.files.stamp(MODEL), thr)
        figs.append(decision_plane(grid))
        st.plotly_chart(figs[-1], key="latent.plane")
        st.caption("For 2-D data the decision can be drawn where the data lives: the shaded field is the "
                   "anomaly score over the plane, the thick line the boundary at the current threshold "
                   "(set it on ROC & scores).")
    download_figures(figs, f"Latent space of {run.run_id}", f"{run.run_id}-latent.html", key="latent.dl")
else:
    require_results(run)


def snapshot_section(run_id: str) -> None:
    """The per-epoch probe embeddings: a scrubber once the run has ended; while it trains, the
    latest epoch, redrawn as new ones are written (every couple of seconds)."""
    r = get_run(run_id)
    if r is None:
        return
    live = is_live(r)
    snap = snapshot_view(run_id, r.files.stamp(SNAPSHOTS))
    if snap is None and live:
        st.caption("The first per-epoch snapshots appear here within seconds of training starting "
                   "(pretraining epochs have none).")
        return
    if snap is None:
        st.caption("This run has no per-epoch snapshots (shallow methods train in one step).")
        return
    n = len(snap.steps)
    # the hypersphere's words (a centre c, collapse onto it) only for the methods it applies to
    watch = ("Watch the cloud: a healthy run keeps a spread-out cloud while it shrinks towards c; a "
             "collapsing one falls onto a single point." if verdict_applies(r) else
             "Watch how the representations of the same samples move and spread as the method trains.")
    if live:
        with_c = ", with the centre c as a black cross" if snap.centre is not None else ""
        state = state_of(r)  # the reading the heading and the sidebar show
        st.caption(f"Live ({esc(state.progress.text)}): a fixed set of validation samples embedded after "
                   f"each epoch, drawn for its newest snapshot (epoch {int(snap.epochs[-1])}){with_c}. {watch} "
                   "Once the run has ended, a play button animates every epoch and a slider scrubs through them.")
        i = n - 1
        left, right = st.columns([3, 2])
        left.plotly_chart(snapshot_scatter(snap, i), key="latent.snap")
    else:
        st.caption("A fixed set of validation samples was embedded after every epoch. Press **Play** "
                   f"or drag the slider under the plot. {watch} The axes stay fixed so shrinking is "
                   "visible; normal samples are drawn above anomalies" + (", the centre c above both."
                                                                          if snap.centre is not None else "."))
        i = st.select_slider("Epoch for the distances and the spread marker", options=list(range(n)),
                             value=n - 1, format_func=lambda j: str(int(snap.epochs[j])),
                             key=f"latent.snap.{run_id}", help="Pretraining epochs have no snapshot.") \
            if n > 1 else 0
        left, right = st.columns([3, 2])
        left.plotly_chart(snapshot_animation(snap, i), key="latent.snap")
    right.plotly_chart(spread_timeline(snap, i), key="latent.spread")
    right.caption("The red band is where the verdict says collapsed, the orange one at risk." if snap.judged else
                  "How spread out the same samples' representations are, relative to the first epoch "
                  "(the collapse verdict applies to hypersphere methods only).")
    if snap.dist is not None:
        right.plotly_chart(snapshot_distances(snap, i), key="latent.snapdist")
        right.caption("Distances of the same samples to the centre c at that epoch: in a "
                      "collapsed run normals and anomalies land at the same distance.")


st.subheader("Watch training happen, epoch by epoch")
live_fragment(snapshot_section, run.run_id)
