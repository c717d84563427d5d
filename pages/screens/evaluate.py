"""ROC & scores: ROC and precision-recall curves, score histograms, and a threshold that drives a
confusion matrix, precision, recall and F1. Several runs can be overlaid."""

import streamlit as st

from deepad.figures.scores import confusion_figure, pr_figure, roc_figure, score_histogram
from deepad.views.common import run_title
from deepad.views.evaluate import at_threshold, curves
from pages.ui.current import page_run_results, results_of
from pages.ui.look import plot_text
from pages.ui.singletons import all_runs
from pages.ui.widgets import current_threshold, download_figures, threshold_control
from pages.views.evaluate import flagged_share, measured_on_text, scores_csv, share_label
from pages.views.runs import config_diff

st.title("ROC curves and scores")
st.caption("How well do the anomaly scores separate normal from anomalous test samples? A detector "
           "gives every sample a score (higher = more anomalous); a threshold turns scores into "
           "decisions.")

run, results = page_run_results()


def short(r) -> str:
    return f"{run_title(r)} [{r.run_id[-6:]}]"


others = [r for r in all_runs() if r.run_id != run.run_id and r.state == "finished"]
by_id = {r.run_id: r for r in others}
st.session_state["roc.overlay"] = [i for i in st.session_state.get("roc.overlay", []) if i in by_id]
overlay = st.multiselect("Overlay other finished runs", list(by_id), key="roc.overlay",
                         format_func=lambda i: short(by_id[i]), placeholder="none",
                         help="Draw their curves on the same axes to compare methods or settings.")
positive = st.radio("Precision–recall of", ["anomaly", "normal"], key="roc.positive", horizontal=True,
                    format_func={"anomaly": "anomalies", "normal": "normal samples"}.get,
                    help="Which class the PR curve and its AP treat as positive. With normal samples, "
                         "the most normal-scored come first (Gherbi et al. report both).")
mine = curves(plot_text(short(run)), results, positive)
if mine is None:
    st.warning("The test part holds a single class, so ROC and PR curves are not defined.")
    st.stop()
if overlay:
    with st.expander("Where the overlaid runs' settings differ"):
        diff = config_diff([run] + [by_id[i] for i in overlay])
        if len(diff):
            st.dataframe(diff)
        else:
            st.caption("Nowhere: the same settings.")
all_curves = [mine]
for other_id in overlay:
    other_results = results_of(by_id[other_id])
    other = (curves(plot_text(short(by_id[other_id])), other_results, positive)
             if other_results is not None else None)
    if other is not None:
        all_curves.append(other)

share = measured_on_text(run, results)
c1, c2, c3, c4 = st.columns(4)
c1.metric("ROC AUC", f"{mine.auc:.3f}", help="Probability that a random anomaly scores higher than a "
          f"random normal sample. 1 is perfect, 0.5 is chance. Measured on {share}.")
c2.metric(f"average precision ({share_label(mine.anomaly_share)})", f"{mine.ap:.3f}",
          help=f"Area under the precision–recall curve of the {positive} class. Random scores get the "
               f"{positive} class's share of the test set, here {100 * mine.base_rate:.1f} %: AP depends "
               "on that share, AUC does not.")
c3.metric("anomalies in the test part", f"{100 * mine.anomaly_share:.1f} %")
c4.metric("test samples", len(results["test_scores"]))
st.caption(f"Both measured on the test part: {share}.")

point = at_threshold(results, current_threshold(run, results))
roc_fig, pr_fig = roc_figure(all_curves, point), pr_figure(all_curves, point)
left, right = st.columns(2)
with left:
    st.plotly_chart(roc_fig, key="roc.roc")
    st.caption("Each point is one threshold: how many anomalies it catches (up) for how many normal "
               "samples it wrongly flags (right). The black dot is the current threshold (set below). "
               "The diagonal is guessing.")
with right:
    st.plotly_chart(pr_fig, key="roc.pr")
    st.caption("Of the samples flagged, how many are truly anomalous (precision), as more anomalies "
               "are caught (recall). The black dot is the current threshold; the dotted line is what "
               "random flagging gets.")

st.subheader("Scores and the decision threshold")
thr = threshold_control(run, results, key="roc.thr")
m = at_threshold(results, thr)
c1, c2, c3, c4 = st.columns(4)
c1.metric("precision", f"{m['precision']:.3f}", help="Flagged samples that are truly anomalies.")
c2.metric("recall", f"{m['recall']:.3f}", help="Anomalies that are flagged.")
c3.metric(f"F1 ({share_label(mine.anomaly_share)})", f"{m['f1']:.3f}",
          help="Harmonic mean of precision and recall; like AP it depends on the test set's share of "
               "anomalies.")
c4.metric("flagged", f"{100 * flagged_share(results['test_scores'], thr):.1f} %",
          help="Share of test samples above the threshold.")

left, right = st.columns([3, 2])
with left:
    log_x = st.checkbox("log scale for scores", key="roc.logx",
                        help="Scores such as squared distances are often heavy-tailed.")
    hist_fig = score_histogram(results["test_scores"], results["test_target"], thr, log_x=log_x,
                                       title="Score histogram: normal vs anomalous test samples")
    st.plotly_chart(hist_fig, key="roc.hist")
    st.caption("Well separated humps mean an easy decision; overlap is where mistakes happen.")
with right:
    conf_fig = confusion_figure(m)
    st.plotly_chart(conf_fig, key="roc.conf")
    st.caption("Rows: the truth. Columns: the decision at this threshold. The Samples page shows "
               "the false positives and negatives.")

c1, c2, _ = st.columns([1, 1, 3])
c1.download_button("Scores (CSV)", lambda: scores_csv(run, results), file_name=f"{run.run_id}-scores.csv",
                   mime="text/csv", icon=":material/download:", on_click="ignore", key="roc.dl.scores")
with c2:
    download_figures([roc_fig, pr_fig, hist_fig, conf_fig], f"ROC and scores of {run.run_id}",
                        f"{run.run_id}-roc.html", key="roc.dl.figs")
