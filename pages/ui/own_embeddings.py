"""The Collapse page's "Check your own embeddings": a user's NPZ of embeddings judged by the rule
the project's runs are judged by (`deepad.diagnose`, the same as `deepad diagnose FILE.npz`),
drawn with the same gauges and curves."""

import streamlit as st

from deepad.diagnose import diagnose_bytes, report_figures
from deepad.errors import DeepADError
from pages.ui.look import badge, esc


def own_embeddings_section() -> None:
    st.caption("Bring embeddings from any model (PyOD's DeepSVDD, your own network): an NPZ with "
               "`snapshots` (epochs, n, d), the same training samples embedded after each epoch with the "
               "first as the reference, or `embeddings` (n, d) with `reference` (m, d) or `reference_spread`; "
               "optionally `center` (d,) and `scores` (k,). The same as `deepad diagnose FILE.npz`.")
    file = st.file_uploader("Your embeddings (.npz)", type=["npz"], key="collapse.own")
    if file is None:
        return
    try:
        report = diagnose_bytes(file.getvalue(), file.name)
    except DeepADError as exc:
        st.error(esc(exc))
        return
    st.markdown(f"**{esc(file.name)}** · verdict: {badge(report['verdict'], 'verdict')}  \n"
                f"{esc(report['measured_on'])}")
    cols = st.columns(4)
    cols[0].metric("spread ratio", f"{report['spread_ratio']:.3g}")
    cols[1].metric("effective rank", f"{report['eff_rank']:.1f} of {report['dims']}")
    cols[2].metric("constant dimensions", str(report["const_dims"]))
    if "distinct_scores" in report:
        cols[3].metric("distinct scores", str(report["distinct_scores"]))
    figs = report_figures(report)
    st.plotly_chart(figs["gauges"], key="collapse.own.gauges")
    if "spread" in figs:
        left, right = st.columns(2)
        left.plotly_chart(figs["spread"], key="collapse.own.spread")
        right.plotly_chart(figs["rank"], key="collapse.own.rank")
