"""Samples: the most normal and most anomalous test samples, and the mistakes at the threshold."""

import streamlit as st

from pages import page_path
from pages.ui.current import dataset_of, page_run_results, sample_images
from pages.ui.look import esc
from pages.ui.widgets import current_threshold
from pages.views.latent import by_score
from pages.views.samples import errors_at, extremes, sample_table

st.title("Samples")
st.caption("What the detector finds most normal and most anomalous, with each sample's true class "
           "and score, and the mistakes it makes at the current threshold.")

run, results = page_run_results()
ds = dataset_of(run)
if ds is None:
    st.stop()

n = st.select_slider("Samples per group", options=[8, 16, 24, 32, 48], value=16, key="samples.n")


def show(rows, empty: str) -> None:
    if not len(rows):
        st.caption(empty)
        return
    if ds.kind == "image":
        sample_images(run, results, rows, ds)
    else:
        st.dataframe(sample_table(run, results, rows, ds.x, ds.feature_names), hide_index=True,
                     column_config={"score": st.column_config.NumberColumn(format="%.4g")})


if "test_raw" in results:
    made = esc(((run.split_info().get("alterations") or {}).get("test") or {}).get("kind", "altered"))
    st.caption(f"The anomalies of this run are {made} copies of natural images; they are shown as the "
               "detector scored them, not as the images they were made from.")
if ds.kind == "image":
    st.caption("Under each sample: its class · whether it is truly normal or an anomaly · its anomaly "
               "score (higher = more anomalous).")
else:
    st.caption("One row per sample: its row in the dataset, anomaly score (higher = more anomalous), "
               "ground truth, class, and its feature values as in the dataset.")
chosen = st.session_state.get("selection", {}).get(run.run_id, [])
if chosen:
    st.subheader(f"Selected on the Latent page ({len(chosen)})")
    st.caption("The samples selected on the latent maps or the score histogram, most anomalous first.")
    show(by_score(results, chosen)[:max(n, 48)], "No samples.")
    st.divider()
groups = extremes(results, n)
left, right = st.columns(2)
with left:
    st.subheader("Most normal")
    st.caption("The lowest scores: what the model considers typical.")
    show(groups["most normal"], "No samples.")
with right:
    st.subheader("Most anomalous")
    st.caption("The highest scores: what stands out most to the model.")
    show(groups["most anomalous"], "No samples.")

st.divider()
st.subheader("Mistakes at the threshold")
thr = current_threshold(run, results)
errors = errors_at(results, thr, n)
st.caption(f"Threshold {thr:.4g} (the method's own unless changed on **ROC & scores**): "
           f"{errors['n_fp']} false positives and {errors['n_fn']} false negatives in "
           f"{len(results['test_scores'])} test samples.")
st.page_link(page_path("roc"), label="Change the threshold", icon=":material/tune:")
left, right = st.columns(2)
with left:
    st.markdown("**False positives**: normal samples flagged as anomalies (highest scores first)")
    show(errors["false positives"], "None at this threshold.")
with right:
    st.markdown("**False negatives**: anomalies that passed as normal (lowest scores first)")
    show(errors["false negatives"], "None at this threshold.")
