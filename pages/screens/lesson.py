"""Lesson: a collapse lesson's trigger and fix (or a demo's run without and with one setting) side by
side, laid out for a projector. The first screen (1920×1080 in presenter mode) holds both verdicts,
both test AUCs, the two latent snapshots at the same epoch and their spread-ratio curves on shared
axes; the trigger (or "without") is always on the left. The explanation is one line, the why under
it closed; ROC and validation-AUC curves follow below."""

import streamlit as st

from deepad.diagnostics import EXPLANATION
from deepad.figures.scores import roc_figure
from deepad.figures.style import PRESENTER, presenter
from deepad.presets import load_presets
from deepad.runs.layout import SNAPSHOTS
from deepad.views import evaluate as evaluate_view
from deepad.views.collapse import latest_collapse, verdict_applies
from deepad.views.common import run_title
from deepad.views.runs import history_frame
from pages.figures.latent import snapshot_scatter
from pages.figures.training import compare_figure
from pages.ui.current import get_run, results_of, state_of
from pages.ui.live import LIVE_REFRESH_S, history_of, live_fragment
from pages.ui.look import badge, esc
from pages.ui.singletons import all_runs
from pages.ui.snapshots import snapshot_view
from pages.views.collapse import VERDICT_RULE
from pages.views.common import is_live
from pages.views.lesson import (KIND_WORDS, ROLE_WORDS, common_epoch, lesson_line, lesson_outcome, lesson_pair,
                                lesson_pairs_on_disk, pair_param, parse_pair, start_scale_limits)
from pages.views.runs import RANGES

ss = st.session_state
PAIR_KEY = "lesson.pair"  # the pair this session last opened (also in the address: ?pair=ID,ID)

st.title("Lesson")


def pair_ids() -> list[str]:
    """The two runs to show: the address's ?pair=, else the pair this session opened last, else the
    newest lesson or demo with runs of both roles on disk."""
    ids = parse_pair(st.query_params.get("pair"))
    if ids:
        ss[PAIR_KEY] = ids
        return ids
    if len(ss.get(PAIR_KEY) or []) == 2:
        return list(ss[PAIR_KEY])
    found = lesson_pairs_on_disk(all_runs(), presets)
    return list(found[0]) if found else []


presets = load_presets()
ids = pair_ids()
if not ids:
    st.info("No lesson yet. On **Train**, one click on a lesson's button trains its trigger and its fix "
            "(or a demo's run without and with the setting) and opens them here side by side.")
    st.stop()
runs = [get_run(i) for i in ids]
if any(r is None for r in runs):
    st.warning("One of the lesson's runs is gone (deleted?): "
               + ", ".join(esc(i) for i, r in zip(ids, runs) if r is None) + ". Start the lesson again on **Train**.")
    st.stop()
pair = lesson_pair(runs, presets)
if pair is None:
    st.warning("These two runs are not the two halves of one lesson or demo, so neither side can be called "
               "trigger or fix. Compare any two runs on **Collapse**.")
    st.stop()
if st.query_params.get("pair") != pair_param(pair.left.run_id, pair.right.run_id):
    st.query_params["pair"] = pair_param(pair.left.run_id, pair.right.run_id)  # a link that reopens it
left_word, right_word = (ROLE_WORDS[r] for r in pair.roles)
if ss.get("collapse.pair") != [pair.left.run_id, pair.right.run_id]:  # Collapse compares the same two
    ss["collapse.pair"] = [pair.left.run_id, pair.right.run_id]
    for side in ("left", "right"):
        ss.pop(f"collapse.cmp.{side}", None)

line, why = st.columns([5, 2], vertical_alignment="center")
line.markdown(f"**{KIND_WORDS[pair.kind]}: {esc(pair.title)}.** {lesson_line(pair)}")
with why.expander("Why?", expanded=False):
    for p, word in ((pair.left_preset, left_word), (pair.right_preset, right_word)):
        if p is not None and p.description:
            st.markdown(f"**{word}.** {esc(p.description)}")
    if pair.kind == "lesson":
        st.markdown(EXPLANATION)
        st.markdown(VERDICT_RULE)
    else:
        st.markdown("A demo, not a collapse lesson: neither run collapses, so neither is a fix. What the "
                    "setting changes is how well the detector separates anomalies from normal samples.")


def side_card(run, word: str, side: str) -> None:
    """Role, title, state, verdict and test AUC of one side, in a container the page's tests find
    by its key (st-key-lesson-left / -right)."""
    with st.container(key=f"lesson-{side}", border=True):
        state = state_of(run)
        where = f" · {esc(state.progress.text)}" if state.live else ""
        st.markdown(f"**{word}** · {badge(state.state)}{where}", help=esc(run_title(run)))
        applies = verdict_applies(run)
        verdict = (latest_collapse(run, history_of(run)).get("verdict") if applies else None)
        c1, c2 = st.columns([3, 2])
        c1.metric("verdict", verdict or ("not yet" if applies else "n/a"),
                  help="The collapse verdict: the spread ratio of the training probe against the thresholds "
                       "(see Why?). While the run trains it is the newest epoch's.")
        auc = run.summary.get("auc")
        c2.metric("test AUC", f"{auc:.3f}" if auc is not None else "–",
                  help="Area under the ROC curve on the test part (1 perfect, 0.5 chance), once the run has "
                       "finished.")


def snapshot_figure(run, view, i: int, word: str):
    """The run's probe cloud at snapshot i, in its own fixed view of every epoch (so a cloud that has
    lost its spread looks small), with the spread ratio written on it."""
    fig = snapshot_scatter(view, i, height=400)
    x0, x1, y0, y1 = start_scale_limits(view, i)
    fig.update_xaxes(range=[x0, x1], title="PC 1")
    fig.update_yaxes(range=[y0, y1], scaleanchor="x", scaleratio=1)
    ratio = float(view.spread[i])
    what = "spread ratio" if view.judged else "spread vs first epoch"
    fig.update_layout(title=dict(text=f"{word}: epoch {int(view.epochs[i])}, {what} {ratio:.2g}"),
                      legend=dict(y=-0.2))
    fig.add_annotation(text=f"{what} {ratio:.2g}", xref="paper", yref="paper", x=0.02, y=0.98, showarrow=False,
                       xanchor="left", yanchor="top", bgcolor="rgba(255,255,255,0.8)",
                       font=dict(size=PRESENTER["font"] if presenter() else 14))
    return fig


def lesson_body(_: str) -> None:
    """Everything about the two runs; redrawn while either of them trains."""
    left, right = get_run(pair.left.run_id), get_run(pair.right.run_id)
    if left is None or right is None:
        st.warning("One of the lesson's runs is gone (deleted?).")
        return
    c1, c2, c3 = st.columns([5, 4, 5])
    with c1:
        side_card(left, left_word, "left")
    with c3:
        side_card(right, right_word, "right")
    with c2:
        verdicts = tuple(latest_collapse(r, history_of(r)).get("verdict") if verdict_applies(r) else None
                         for r in (left, right))
        outcome = lesson_outcome(pair.kind, verdicts, (left.summary.get("auc"), right.summary.get("auc")))
        if outcome is not None:
            st.markdown(f"**Outcome.** {esc(outcome)}")
    views = [snapshot_view(r.run_id, r.files.stamp(SNAPSHOTS)) for r in (left, right)]
    epoch, i, j = common_epoch(*(v.epochs if v is not None else None for v in views))
    at = [i, j] if epoch is not None else [len(v.steps) - 1 if v is not None else None for v in views]
    with c2:
        frames = {f"{left_word}": history_frame(history_of(left)),
                  f"{right_word}": history_frame(history_of(right))}
        metric = "spread_ratio" if any("spread_ratio" in f for f in frames.values()) else "val_auc"
        title = "Spread ratio, both runs" if metric == "spread_ratio" else "Validation AUC, both runs"
        if any(metric in f and f[metric].notna().any() for f in frames.values()):
            fig = compare_figure(frames, metric, title, log_y=metric == "spread_ratio", height=420,
                                         y_range=RANGES.get(metric))
            if metric == "spread_ratio":  # the verdict's zones, as on Collapse and Latent space
                import numpy as np

                from deepad.diagnostics import AT_RISK_BELOW, COLLAPSED_BELOW

                from deepad.figures.style import at_floor, zero_floor

                v = np.concatenate([f[metric].to_numpy(dtype=float) for f in frames.values() if metric in f])
                v = at_floor(v, zero_floor(v))  # an exact 0 is drawn at the floor compare_figure marks
                v = v[np.isfinite(v) & (v > 0)]
                lo = min(float(v.min()) / 3 if len(v) else 1.0, COLLAPSED_BELOW / 3)
                hi = max(float(v.max()) * 3 if len(v) else 1.0, 3.0)
                fig.add_hrect(y0=lo, y1=COLLAPSED_BELOW, fillcolor="#d62728", opacity=0.12, line_width=0)
                fig.add_hrect(y0=COLLAPSED_BELOW, y1=AT_RISK_BELOW, fillcolor="#ff7f0e", opacity=0.12, line_width=0)
                from deepad.figures.style import log_axis

                fig.layout.yaxis.tickvals, fig.layout.yaxis.ticktext = None, None  # ticks for the widened range
                fig.layout.yaxis.tickmode = None
                log_axis(fig, [lo, hi], height=420)
                fig.update_yaxes(range=[np.log10(lo), np.log10(hi)])
            st.plotly_chart(fig, key="lesson.spread")
        else:
            st.caption("The curves appear after the first training epoch.")
        if epoch is not None:
            st.caption(f"Both clouds below and beside are drawn at epoch {epoch}.")
    for col, r, view, k, word, side in ((c1, left, views[0], at[0], left_word, "left"),
                                        (c3, right, views[1], at[1], right_word, "right")):
        with col:
            if view is None or k is None:
                st.caption("Its latent snapshot appears after its first training epoch.")
            else:
                st.plotly_chart(snapshot_figure(r, view, k, word), key=f"lesson.snap.{side}")
    st.caption("Each cloud is a fixed set of training samples embedded by its network, drawn to the scale of "
               "that run's starting spread (±3 times it): a cloud that has fallen onto a point looks like one.")

    # below the first screen: how well each detects
    results = [results_of(r) for r in (left, right)]
    b1, b2 = st.columns(2)
    with b1:
        curves = [evaluate_view.curves(w, res) for w, res in zip((left_word, right_word), results) if res is not None]
        curves = [c for c in curves if c is not None]
        if curves:
            st.plotly_chart(roc_figure(curves), key="lesson.roc")
        else:
            st.caption("The ROC curves appear when the runs have finished.")
    with b2:
        if any("val_auc" in f and f["val_auc"].notna().any() for f in frames.values()):
            st.plotly_chart(compare_figure(frames, "val_auc", "Validation AUC while training",
                                                   y_range=RANGES.get("val_auc")), key="lesson.valauc")
    st.page_link("pages/screens/collapse.py", label="Every number of these runs on Collapse",
                 icon=":material/compress:")


def refresh(_: str) -> float | None:
    return LIVE_REFRESH_S if any(is_live(r) for r in
                                    (get_run(pair.left.run_id), get_run(pair.right.run_id))
                                    if r is not None) else None


live_fragment(lesson_body, pair_param(pair.left.run_id, pair.right.run_id), every=refresh)
