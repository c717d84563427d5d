"""Score your own input: draw a digit or upload an image (image runs), click a point (the 2-D toy
sets) or type feature values (tables), and see its anomaly score against the run's threshold,
where it lands in the run's latent map, and its nearest training samples."""

import numpy as np
import pandas as pd
import streamlit as st

from deepad import scoring
from deepad.embedding import pca_basis, pca_project
from deepad.errors import DeepADError
from deepad.figures.latent import latent_scatter
from deepad.runs.layout import MODEL, RESULTS
from deepad.runs.reopen import run_dataset, run_detector
from deepad.views.latent import latent_frame
from pages.figures.latent import clickable_plane
from pages.figures.scores import mark_own_input, own_score_histogram
from pages.ui.current import get_run, page_run_results, results_of
from pages.ui.look import esc
from pages.ui.widgets import current_threshold
from pages.views.common import image_tile
from pages.views.latent import decision_grid

st.title("Score your own input")
st.caption("Give the current run something it has never seen and watch what it makes of it: the "
           "anomaly score against the run's threshold, where the input lands among the test samples "
           "in the latent map, and the training samples it is closest to.")

run, results = page_run_results()
if not run.files.file(MODEL).exists():
    st.warning("This run kept no model, so nothing new can be scored with it.")
    st.stop()
if run.damage:  # what it would score with cannot be trusted
    st.warning("Nothing new is scored with a damaged run (what is wrong is shown above); pick another run.")
    st.stop()
try:
    shape = scoring.expected_shape(run)
except DeepADError as exc:
    st.warning(esc(exc))
    st.stop()


@st.cache_resource(max_entries=4, show_spinner="Loading the run's model…")
def detector(path: str, stamp: int):
    """The run's saved detector, loaded once per model file (scoring does not change it)."""
    return run_detector(get_run(path.rsplit("/", 1)[-1]))


@st.cache_data(max_entries=4, show_spinner="Embedding the training samples (once per run)…")
def training_view(path: str, stamp: int):
    """The training samples' raw inputs, embeddings and classes (for the nearest neighbours)."""
    r = get_run(path.rsplit("/", 1)[-1])
    res = results_of(r)
    ds = run_dataset(r)
    idx = res["train_index"]
    x = np.asarray(ds.x[idx], dtype=np.float32)
    emb = scoring.score(r, x, detector(path, stamp), res).embedding
    return x, emb, np.asarray(ds.y[idx]), list(ds.classes)


@st.cache_data(max_entries=8, show_spinner=False)
def latent_basis(path: str, stamp: int):
    emb = results_of(get_run(path.rsplit("/", 1)[-1]))["test_emb"]
    basis = pca_basis(emb)
    return basis, pca_project(emb, basis)


stamp = run.files.stamp(MODEL)
try:
    det = detector(str(run.path), stamp)
except DeepADError as exc:
    st.error(f"The run's model cannot be loaded: {esc(exc)}")
    st.stop()
thr = current_threshold(run, results)


def show_result(x: np.ndarray, source: str) -> None:
    """Score, verdict, place among the test scores, place in the latent map, nearest training samples.
    `source` (draw, upload, point, row) names the elements: a drawing and an upload are both shown
    (one per tab), each with its own charts."""
    out = scoring.score(run, x[None], det, results)
    s, emb = float(out.score[0]), out.embedding[0]
    flagged = s > thr
    rank = scoring.rank_among(s, results["test_scores"])
    c1, c2, c3 = st.columns(3)
    c1.metric("anomaly score", f"{s:.4g}", delta=f"{s - thr:+.3g} vs threshold {thr:.3g}",
              delta_color="inverse", help="Higher = more anomalous. The threshold is the run's (or the one "
              "set on ROC & scores).")
    c2.markdown("**Verdict**  \n" + (":red-badge[:material/warning: flagged as anomalous]" if flagged
                                     else ":green-badge[:material/check_circle: passes as normal]"))
    c3.metric("above this share of the test scores", f"{100 * rank:.0f} %",
              help="Its rank among the run's test samples: 100 % means more anomalous than all of them.")
    if out.distance is not None:
        st.caption(f"Distance to the centre c: {float(out.distance[0]):.4g}"
                   + (f" (radius R = {run.summary['radius']:.4g})" if run.summary.get("radius") else ""))
    left, right = st.columns(2)
    with left:
        st.plotly_chart(own_score_histogram(results["test_scores"], results["test_target"], thr, s),
                        key=f"score.hist.{source}")
    with right:
        basis, xy = latent_basis(str(run.path), run.files.stamp(RESULTS))
        df = latent_frame(run, results, xy)
        p = pca_project(emb[None], basis)[0]
        fig = latent_scatter(df, "truth", None, "Where it lands in the latent map (PCA of φ)", height=420)
        st.plotly_chart(mark_own_input(fig, float(p[0]), float(p[1])), key=f"score.latent.{source}")
    try:
        tx, temb, ty, classes = training_view(str(run.path), stamp)
    except DeepADError as exc:
        st.caption(f"The training samples cannot be shown: {esc(exc)}")
        return
    rows, dist = scoring.nearest(emb, temb, k=8)
    st.markdown("**Its nearest training samples in φ** (what the model thinks it resembles)")
    caps = [f"{classes[ty[r]] if 0 <= ty[r] < len(classes) else ty[r]} · d={d:.3g}" for r, d in zip(rows, dist)]
    if len(shape) == 3:
        st.image([image_tile(tx[r]) for r in rows], caption=[esc(c) for c in caps], width=96)
    else:
        flat = tx[rows].reshape(len(rows), -1)
        table = pd.DataFrame(flat, columns=[f"x{i}" for i in range(flat.shape[1])])
        st.dataframe(table.assign(neighbour=caps), hide_index=True)


if len(shape) == 3:
    c, h, w = shape
    draw_tab, upload_tab = st.tabs([":material/draw: Draw", ":material/upload: Upload an image"])
    with draw_tab:
        left, right = st.columns([1, 2])
        with left:
            from streamlit_drawable_canvas import st_canvas

            st.caption("Draw in white on black, as the digits were written; the bin in the canvas's "
                       "toolbar starts again.")
            drawing = st_canvas(stroke_width=18, stroke_color="#ffffff", background_color="#000000",
                                height=224, width=224, drawing_mode="freedraw", key=f"score.canvas.{run.run_id}",
                                return_image_data=True)
            image = drawing.image_data if drawing is not None and drawing.json_data is not None else None
            x = scoring.drawing_to_input(image, shape) if image is not None else None
            if x is not None:
                st.image(image_tile(x, min_size=112), caption=f"what the model sees ({h}×{w})")
        with right:
            if x is None:
                st.info("Draw something on the canvas: its score appears here as soon as you lift the pen.")
            else:
                show_result(x, "draw")
    with upload_tab:
        file = st.file_uploader("One image (PNG, JPEG, …)", type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
                                key="score.upload", help=f"Resized to {h}×{w} pixels and made "
                                f"{'grayscale' if c == 1 else 'RGB'}; nothing in it is executed.")
        if file is not None:
            try:
                _, inverted = scoring.image_to_input(file.getvalue(), file.name, shape)
            except DeepADError as exc:
                st.error(str(exc))
            else:
                invert = st.checkbox("Invert it (dark ink on a light background becomes light on dark, as "
                                     "the training images are)", value=inverted, key=f"score.invert.{file.name}")
                x = scoring.image_to_input(file.getvalue(), file.name, shape, invert=invert)[0]
                left, right = st.columns([1, 2])
                left.image(image_tile(x, min_size=112), caption=f"what the model sees ({h}×{w})")
                with right:
                    show_result(x, "upload")
elif shape == (2,):
    st.caption("Click anywhere in the plane to score that point; the thick line is the decision boundary "
               "at the current threshold.")
    grid = decision_grid(run, results, thr, resolution=80)
    key = f"score.point.{run.run_id}"
    point = st.session_state.get(key, (float(np.median(grid.points[:, 0])), float(np.median(grid.points[:, 1]))))
    fig = mark_own_input(clickable_plane(grid), *point, label="your point")
    event = st.plotly_chart(fig, key="score.plane", on_select="rerun", selection_mode="points")
    picked = [p for p in (event.selection.points if event else []) if "x" in p and "y" in p]
    if picked and (picked[-1]["x"], picked[-1]["y"]) != point:
        st.session_state[key] = (float(picked[-1]["x"]), float(picked[-1]["y"]))
        st.rerun()
    c1, c2 = st.columns(2)
    x1 = c1.number_input("x₁", value=float(point[0]), format="%.3f")
    x2 = c2.number_input("x₂", value=float(point[1]), format="%.3f")
    if (x1, x2) != point:  # typed: move the star there too
        st.session_state[key] = (float(x1), float(x2))
        st.rerun()
    show_result(np.array(point, dtype=np.float32), "point")
else:
    try:
        ds = run_dataset(run)
    except DeepADError as exc:
        st.warning(f"The run's data cannot be read: {exc}")
        st.stop()
    names = ds.feature_names if len(ds.feature_names) == shape[0] else [f"x{i}" for i in range(shape[0])]
    normal_rows = results["train_index"][results["train_target"] == 0]
    start = pd.DataFrame([np.median(ds.x[normal_rows].reshape(len(normal_rows), -1), axis=0)], columns=names)
    st.caption("One row of feature values, starting at the median of the normal training samples; change "
               "any value and the score follows.")
    row = st.data_editor(start, key=f"score.row.{run.run_id}", hide_index=True, num_rows="fixed")
    values = row.to_numpy(dtype=np.float64)[0]
    if not np.isfinite(values).all():
        st.error("Every feature needs a number.")
    else:
        show_result(values.astype(np.float32), "row")
