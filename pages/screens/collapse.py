"""Collapse: the verdict and its numbers over epochs for the current run (for methods that pull
embeddings to a centre; every other method shows its own training curves), two runs side by side
with their config difference, and what collapse is in plain words."""

import streamlit as st

from deepad.diagnostics import EXPLANATION, NOT_APPLICABLE
from deepad.figures.training import collapse_gauges, history_figure
from deepad.presets import load_presets
from deepad.views.collapse import latest_collapse, representation_dim, verdict_applies
from deepad.views.common import run_title
from deepad.views.runs import diagnostic_columns, diagnostics, history_frame, loss_columns, loss_names
from pages.figures.training import compare_figure
from pages.ui.current import current_run, get_run, results_of, run_heading
from pages.ui.live import LIVE_REFRESH_S, live_fragment
from pages.ui.look import badge, esc, plot_text
from pages.ui.own_embeddings import own_embeddings_section
from pages.ui.singletons import all_runs
from pages.ui.widgets import download_figures
from pages.views.collapse import VERDICT_RULE, config_rows, verdict_reasons
from pages.views.common import is_live, run_label
from pages.views.lesson import lesson_pair, lesson_pairs_on_disk
from pages.views.runs import RANGES, headline, phase_words

st.title("Hypersphere collapse")
st.caption("Has the network learned to map every input to the same point? Then all scores are alike "
           "and anomalies go unnoticed. These numbers are measured after every epoch on a fixed probe "
           "of the training samples.")

with st.expander("What is collapse, and why does it happen?", expanded=False):
    st.markdown(EXPLANATION)
    st.markdown(VERDICT_RULE)

def own_curves(run, df, key: str) -> list:
    """A method the verdict does not apply to: its own losses, one panel per training phase."""
    method = run.config.get("method")
    names = loss_names(method)
    figs = []
    phases = [p for p in df["phase"].dropna().unique()  # the phases that record losses
              if any(c in names for c in loss_columns(df[df["phase"] == p]))]
    cols = st.columns(max(1, len(phases)))
    for col, phase in zip(cols, phases):
        part = df[df["phase"] == phase]
        losses = [c for c in loss_columns(part) if c in names]
        figs.append(history_figure(part, losses, names, f"Losses: {phase_words(method, phase)}",
                                           log_y=False, height=300))
        col.plotly_chart(figs[-1], key=f"{key}.{phase}")
    if len(phases) > 1:
        st.caption("Each phase counts its own epochs, so each has its own panel.")
    return figs


def run_section(run_id: str) -> None:
    """The verdict and the diagnostics over epochs of one run (refreshed while it trains)."""
    run = get_run(run_id)
    if run is None:
        st.warning(f"Run {esc(run_id)} is gone (deleted?).")
        return
    run_heading(run, live=False)  # this section redraws itself while the run trains
    history = run.history()
    df = history_frame(history)
    if not verdict_applies(run):
        st.info(NOT_APPLICABLE)
        if len(df):
            figs = own_curves(run, df, "collapse.own")
            download_figures(figs, f"Training curves of {run.run_id}", f"{run.run_id}-curves.html",
                                key="collapse.dl")
        return
    dim = representation_dim(run, results_of(run))
    latest = latest_collapse(run, history, dim)
    if not latest:
        st.info("No collapse numbers for this run yet" + (" (they come after its first training epoch)."
                if is_live(run) else "."))
        return
    verdict = latest.get("verdict") or "not judged"
    when = ("final, on the training probe" if latest.get("final")
            else f"epoch {latest.get('epoch')}, while it trains")
    st.markdown(f"### Verdict: {badge(verdict, 'verdict')} ({when})")
    for reason in verdict_reasons(latest, dim):
        st.markdown(f"- {reason}")
    st.plotly_chart(collapse_gauges(latest.get("spread_ratio"), latest.get("eff_rank"), dim,
                                            latest.get("const_dims")), key="collapse.gauges")
    diag_names = {k: v[0] for k, v in diagnostics(run.config.get("method")).items()}
    diag_info = diagnostics(run.config.get("method"))
    diags = [c for c in ("spread_ratio", "eff_rank", "const_dims") if c in diagnostic_columns(df)]
    figs = []
    for col, name in zip(st.columns(max(1, len(diags))), diags):
        fig = history_figure(df, [name], diag_names, diag_names[name], log_y=diag_info[name][2],
                                     height=280, y_range=RANGES.get(name))
        figs.append(fig)
        with col:
            st.plotly_chart(fig, key=f"collapse.{name}")
            st.caption(diag_info[name][1].capitalize() + ".")
    names = loss_names(run.config.get("method"))
    losses = [c for c in loss_columns(df) if c in names]
    others = [c for c in headline(run.config.get("method")) if c in diagnostic_columns(df)]
    left, right = st.columns(2)
    with left:
        figs.append(history_figure(df, losses, names, "Loss by component", log_y=True))
        st.plotly_chart(figs[-1], key="collapse.loss")
        st.caption("A loss racing to 0 with a falling spread ratio is the signature of collapse: the "
                   "trivial solution is reached.")
    if others:
        with right:
            title = " and ".join(diag_names[c] for c in others)
            figs.append(history_figure(df, others, diag_names, title[:1].upper() + title[1:],
                                               log_y=True))
            st.plotly_chart(figs[-1], key="collapse.ct")
    download_figures(figs, f"Collapse diagnostics of {run.run_id}", f"{run.run_id}-collapse.html",
                        key="collapse.dl")


run = current_run()
if run is not None:
    live_fragment(run_section, run.run_id)


def compare_section(_: str) -> None:
    """Two runs side by side: the settings they differ in, then their curves on shared axes."""
    runs = all_runs()
    by_id = {r.run_id: r for r in runs}
    if len(by_id) < 2:
        st.info("Start a lesson on **Train** (one click runs a trigger and its fix) or any two runs to "
                "compare them here.")
        return
    ids = list(by_id)
    pair = [i for i in st.session_state.get("collapse.pair", []) if i in by_id]
    if len(pair) < 2:  # no pair opened in this session (a link, a reload): the newest lesson on disk
        found = lesson_pairs_on_disk(runs, load_presets())
        pair = list(found[0]) if found else pair
    if len(pair) == 2:  # a lesson's or demo's halves: trigger (or "without") on the left, always
        ordered = lesson_pair([by_id[pair[0]], by_id[pair[1]]], load_presets())
        pair = [ordered.left.run_id, ordered.right.run_id] if ordered is not None else pair
    for side, default in (("left", pair[0] if pair else ids[min(1, len(ids) - 1)]),
                          ("right", pair[1] if len(pair) > 1 else ids[0])):
        key = f"collapse.cmp.{side}"
        if st.session_state.get(key) not in by_id:
            st.session_state[key] = default
    c1, c2 = st.columns(2)
    left = c1.selectbox("Left run", ids, key="collapse.cmp.left", format_func=lambda i: run_label(by_id[i]))
    right = c2.selectbox("Right run", ids, key="collapse.cmp.right",
                         format_func=lambda i: run_label(by_id[i]))
    a, b = by_id[left], by_id[right]
    rows = config_rows(a, b)
    if left == right:
        st.caption("The same run on both sides.")
    elif rows:
        st.markdown("**They differ in:** " + ", ".join(f"`{r['setting']}` {esc(r['left'])} → {esc(r['right'])}"
                                                      for r in rows))
        st.dataframe([{"setting": r["setting"], "left run": r["left"], "right run": r["right"]} for r in rows],
                     hide_index=True)
    else:
        st.markdown("**They differ in:** nothing (the same settings).")
    cols = st.columns(2)
    for col, r, side in ((cols[0], a, "left"), (cols[1], b, "right")):
        with col:
            s = r.summary
            applies = verdict_applies(r)
            verdict = s.get("verdict") or latest_collapse(r, r.history()).get("verdict")
            st.markdown(f"**{esc(run_title(r))}** · {badge(r.state, 'state')}")
            st.markdown(("Verdict: " + badge(verdict, "verdict")) if applies and verdict
                        else ("Verdict: not yet judged" if applies else "Verdict: does not apply"))
            if s.get("auc") is not None:
                st.caption(f"test AUC {s['auc']:.3f}")
    frames = {plot_text(run_label(r)): history_frame(r.history()) for r in (a, b)} if left != right \
        else {plot_text(run_label(a)): history_frame(a.history())}
    names = {**loss_names(), **{k: v[0] for k, v in diagnostics().items()}}
    metrics = [("spread_ratio", True), ("loss", True), ("eff_rank", False), ("val_auc", False)]
    shown = [(m, log) for m, log in metrics if any(m in f and f[m].notna().any() for f in frames.values())]
    cols = st.columns(2)
    for k, (m, log) in enumerate(shown):
        cols[k % 2].plotly_chart(compare_figure(frames, m, names.get(m, m), log_y=log,
                                                        y_range=RANGES.get(m)), key=f"collapse.cmp.{m}")


st.divider()
st.subheader("Compare two runs side by side")
st.caption("A lesson's trigger and fix differ only in the settings the lesson names: see which keeps its "
           "spread. Any two runs can be picked.")


def any_recent_run_live(_: str) -> float | None:
    """Compared runs are usually among the newest: look again while one of the last four trains."""
    return LIVE_REFRESH_S if any(is_live(r) for r in all_runs()[:4]) else None


live_fragment(compare_section, "", every=any_recent_run_live)

st.divider()
st.subheader("Check your own embeddings")
own_embeddings_section()
