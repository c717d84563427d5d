"""Collapse: the collapse diagnostics over epochs for the current run and for several runs side by
side, the verdict, and what collapse is in plain words."""

import streamlit as st

from deepad import figures
from deepad import views as vm
from deepad.diagnostics import EXPLANATION
from pages import _ui as ui

ui.require_app(__file__)

st.title("Hypersphere collapse")
st.caption("Has the network learned to map every input to the same point? Then all scores are alike "
           "and anomalies go unnoticed. These numbers are measured on the embeddings after every epoch.")

with st.expander("What is collapse, and why does it happen?", expanded=True):
    st.markdown(EXPLANATION)
    st.markdown(vm.VERDICT_RULE)

DIAG_NAMES = {k: v[0] for k, v in vm.diagnostics().items()}


def run_section(run_id: str) -> None:
    """The verdict and the diagnostics over epochs of one run (refreshed while it trains)."""
    run = ui.get_run(run_id)
    if run is None:
        st.warning(f"Run `{run_id}` is gone (deleted?).")
        return
    seen = st.session_state.setdefault("_collapse_live_seen", {})
    if seen.get(run_id) and not vm.is_live(run):  # it just ended: redraw with the final verdict
        seen[run_id] = False
        st.rerun()
    seen[run_id] = vm.is_live(run)
    ui.run_heading(run)
    history = ui.history_of(run)
    df = vm.history_frame(history)
    dim = vm.representation_dim(run, ui.results_of(run))
    latest = vm.latest_collapse(run, history, dim)
    if not latest:
        st.info("No collapse numbers for this run yet" + (" (they come after its first training epoch)."
                if vm.is_live(run) else ": the method has no embedding that changes over epochs."))
    else:
        verdict = latest.get("verdict") or "not judged"
        when = "final embeddings" if run.summary.get("verdict") else "latest epoch, while it trains"
        st.markdown(f"### Verdict: {ui.badge(verdict, 'verdict')} ({when})")
        for reason in vm.verdict_reasons(latest, dim):
            st.markdown(f"- {reason}")
        st.plotly_chart(figures.collapse_gauges(latest.get("rel_spread"), latest.get("eff_rank"), dim,
                                                latest.get("const_share")), key="collapse.gauges")
    diags = [c for c in ("rel_spread", "eff_rank", "const_share") if c in vm.diagnostic_columns(df)]
    if not diags:
        return
    figs = []
    for col, name in zip(st.columns(len(diags)), diags):
        fig = figures.history_figure(df, [name], DIAG_NAMES, DIAG_NAMES[name], log_y=vm.diagnostics()[name][2],
                                     height=280, y_range=vm.RANGES.get(name))
        figs.append(fig)
        with col:
            st.plotly_chart(fig, key=f"collapse.{name}")
            st.caption(vm.diagnostics()[name][1].capitalize() + ".")
    losses = vm.loss_columns(df)
    others = [c for c in ("c_t", "batch_var") if c in vm.diagnostic_columns(df)]
    left, right = st.columns(2)
    with left:
        figs.append(figures.history_figure(df, losses, vm.loss_names(), "Loss by component", log_y=True))
        st.plotly_chart(figs[-1], key="collapse.loss")
        st.caption("A loss racing to 0 with a shrinking spread is the signature of collapse: the "
                   "trivial solution is reached.")
    if others:
        with right:
            title = " and ".join(DIAG_NAMES[c] for c in others)
            figs.append(figures.history_figure(df, others, DIAG_NAMES, title[:1].upper() + title[1:],
                                               log_y=True))
            st.plotly_chart(figs[-1], key="collapse.ct")
            st.caption("The regularizer's adaptive weight c_t (when there is a regularizer) and the "
                       "variance of φ within a minibatch (the variance regularizer keeps it above a floor).")
    ui.download_figures(figs, f"Collapse diagnostics of {run.run_id}", f"{run.run_id}-collapse.html",
                        key="collapse.dl")


run = ui.current_run()
if run is not None:
    st.fragment(run_section, run_every=ui.refresh_every(run))(run.run_id)

st.divider()
st.subheader("Compare runs side by side")
st.caption("Pick runs that differ in one thing (bias terms on or off, a regularizer or none) and see "
           "which keep their spread.")
runs = [r for r in ui.store().list() if r.history()]
by_id = {r.run_id: r for r in runs}
if not runs:
    st.info("No runs with training records yet. The collapse presets on **Train** make a good pair: "
            "a trigger and its fix.")
    st.stop()
if "collapse.compare" not in st.session_state:
    st.session_state["collapse.compare"] = list(by_id)[:3]
st.session_state["collapse.compare"] = [i for i in st.session_state["collapse.compare"] if i in by_id]
chosen = st.multiselect("Runs to compare", list(by_id), key="collapse.compare",
                        format_func=lambda i: f"{vm.run_title(by_id[i])} [{i[-6:]}]")
if chosen:
    frames = {f"{vm.run_title(by_id[i])} [{i[-6:]}]": vm.history_frame(by_id[i].history()) for i in chosen}
    metrics = [("rel_spread", True), ("eff_rank", False), ("const_share", False),
               ("loss_svdd", True), ("val_auc", False), ("batch_var", True)]
    shown = [(m, log) for m, log in metrics if any(m in f and f[m].notna().any() for f in frames.values())]
    cols = st.columns(2)
    for k, (m, log) in enumerate(shown):
        title = DIAG_NAMES.get(m, vm.loss_names().get(m, m))
        cols[k % 2].plotly_chart(figures.compare_figure(frames, m, title, log_y=log, y_range=vm.RANGES.get(m)),
                                 key=f"collapse.cmp.{m}")
    st.dataframe(vm.runs_frame([by_id[i] for i in chosen])[["title", "AUC", "collapse", "state", "run"]]
                 .style.format({"AUC": "{:.3f}"}, na_rep=""), hide_index=True)
    if len(chosen) > 1:
        diff = vm.config_diff([by_id[i] for i in chosen])
        st.markdown("**Where their settings differ**")
        if len(diff):
            st.dataframe(diff)
        else:
            st.caption("Nowhere: these runs have the same settings (differences come from chance alone).")
