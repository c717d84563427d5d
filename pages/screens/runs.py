"""Runs / live: follow the current run while it trains, cancel, delete or export it; all runs."""

import os

import streamlit as st

from deepad.cli import train_command
from deepad.errors import DeepADError
from deepad.figures.training import collapse_gauges, history_figure
from deepad.views.collapse import latest_collapse, representation_dim, verdict_applies
from deepad.views.runs import diagnostic_columns, diagnostics, history_frame, loss_columns, loss_names
from pages.figures.training import history_grid
from pages.ui.current import current_run, get_run, results_of, run_heading, select_run, state_of, status_box
from pages.ui.live import curves_refresh, history_of, live_fragment
from pages.ui.look import esc
from pages.ui.singletons import all_runs, manager, store
from pages.ui.widgets import download_figures
from pages.views.common import config_json, is_live
from pages.views.evaluate import scores_csv
from pages.views.runs import last_value, log_axes, loss_caption, runs_frame
from pages.views.train import command_caveats

st.title("Runs")
st.caption("The current run's training, live while it trains (the page refreshes itself), and a "
           "table of every run on this server.")


def _curves(run, history: list[dict], df):
    """The loss and diagnostics figures, built again only when a record has arrived (or the run's
    state or the log-scale switch changed) since this session last drew them."""
    memo = st.session_state.setdefault("_runs_curves", {})
    key = (run.run_id, len(history), run.state, st.session_state.get("runs.logloss", True))
    if memo.get("key") != key:
        losses = loss_columns(df)
        diags = [c for c in diagnostic_columns(df) if c not in ("spread_ratio", "eff_rank", "const_dims")]
        mark = run.summary.get("checkpoint_epoch") if run.state == "finished" else None
        loss_fig = history_figure(df, losses, loss_names(run.config.get("method")), "Loss by component",
                                          log_y=key[-1], checkpoint_epoch=mark,
                                          checkpoint=run.summary.get("checkpoint"))
        diag_fig = (history_grid(df, diags, {k: v[0] for k, v in diagnostics().items()},
                                         log_y=log_axes(), row_height=170,
                                         checkpoint_epoch=mark) if diags else None)
        memo.update(key=key, figs=(loss_fig, diag_fig))
    return memo["figs"]


def live_numbers(run_id: str) -> None:
    """Status, progress and the latest numbers of one run, looked at every couple of seconds."""
    run = get_run(run_id)
    if run is None:
        st.warning(f"Run {esc(run_id)} is gone (deleted?).")
        return
    history = history_of(run)  # only the records appended since the last look are parsed
    state = state_of(run)
    status_box(run, state)
    if state.live:
        st.progress(state.progress.fraction, text=state.progress.text)

    s = run.summary
    latest = latest_collapse(run, history, representation_dim(run, results_of(run)))
    cols = st.columns(5)
    loss, val_auc = last_value(history, "loss"), last_value(history, "val_auc")
    cols[0].metric("epoch records", len(history))
    cols[1].metric("last loss", f"{loss:.4g}" if loss is not None else "–")
    cols[2].metric("validation AUC", f"{val_auc:.3f}" if val_auc is not None else "–",
                   help="AUC on held-out validation data, measured after the first and the last epoch "
                        "and, in between, as often as a tenth of the training time allows.")
    cols[3].metric("test AUC", f"{s['auc']:.3f}" if s.get("auc") is not None else "–",
                   help="On the test part, once the run has finished.")
    applies = verdict_applies(run)
    verdict = latest.get("verdict")
    # a short value: a metric cuts what does not fit its column ("does n…"); the help says why
    cols[4].metric("collapse" if applies else "collapse (n/a)", (verdict or "–") if applies else "n/a",
                   help="Is the network mapping every input to the same point? See the Collapse page."
                   if applies else "The method does not pull its embeddings to a centre, so the hypersphere "
                   "collapse verdict does not apply.")


def live_curves(run_id: str) -> None:
    """Loss curves, regularizer numbers and collapse gauges of one run, drawn again less often than
    the numbers above them while it trains (drawing charts is what a look costs the browser)."""
    run = get_run(run_id)
    if run is None:
        return
    history = history_of(run)
    df = history_frame(history)
    if not len(df):
        return
    if is_live(run):
        st.caption("The charts are drawn again every few seconds, less often than the numbers above.")
    dim = representation_dim(run, results_of(run))
    latest = latest_collapse(run, history, dim)
    loss_fig, diag_fig = _curves(run, history, df)
    left, right = st.columns(2)
    with left:
        st.plotly_chart(loss_fig, key="runs.loss")
        st.caption(loss_caption(run.config.get("method")))
    with right:
        if diag_fig is not None:
            st.plotly_chart(diag_fig, key="runs.diag")
            st.caption("Numbers the method reports every epoch, e.g. the regularizer weight c_t, the "
                       "variance of φ within a minibatch, the radius R, the validation AUC.")
    if latest.get("spread_ratio") is not None:
        st.plotly_chart(collapse_gauges(latest.get("spread_ratio"), latest.get("eff_rank"), dim,
                                                latest.get("const_dims")),
                        key="runs.gauges")
        st.caption("The spread ratio decides the collapse verdict (red: collapsed, orange: at risk); the "
                   "effective rank and the constant dimensions are shown as numbers. See the Collapse page.")


run = current_run()
if run is not None:
    run_heading(run)
    live = is_live(run)
    c1, c2, c3, _ = st.columns([1, 1, 2, 3])
    if live:
        if c1.button("Cancel", icon=":material/stop:", key="runs.cancel"):
            if manager().cancel(run.run_id):
                st.toast("Cancelling: the run stops after its current minibatch; its curves are kept.")
            else:
                st.warning("This run has already ended.")
    else:
        with c1.popover("Delete", icon=":material/delete:"):
            st.write("Delete this run's folder and everything in it?")
            if st.button("Yes, delete", type="primary", key="runs.delete"):
                try:
                    store().delete(run.run_id)
                except DeepADError as exc:
                    st.error(esc(exc))
                else:
                    remaining = all_runs()
                    select_run(remaining[0].run_id if remaining else None)
                    st.toast(f"Deleted {esc(run.run_id)}.")
                    st.rerun()
    c2.checkbox("log scale", value=True, key="runs.logloss", help="Loss curves on a log scale.")

    live_fragment(live_numbers, run.run_id)
    live_fragment(live_curves, run.run_id, every=curves_refresh)

    with st.expander("Export this run: config, command line, scores, figures"):
        st.caption("The same run from a terminal (the CLI drives the same library):")
        st.code(train_command(run.config), language="bash", wrap_lines=True)
        for note in command_caveats(run.config):
            st.caption(f"Not expressible on the command line: {esc(note)}.")
        c1, c2, c3 = st.columns(3)
        c1.download_button("Config (JSON)", config_json(run), file_name=f"{run.run_id}-config.json",
                           mime="application/json", icon=":material/download:", on_click="ignore",
                           key="runs.dl.config")
        results = results_of(run)
        if results is not None:
            c2.download_button("Scores (CSV)", lambda: scores_csv(run, results),
                               file_name=f"{run.run_id}-scores.csv", mime="text/csv",
                               icon=":material/download:", on_click="ignore", key="runs.dl.scores")
        df = history_frame(history_of(run))
        if len(df):
            with c3:
                download_figures([history_figure(df, loss_columns(df),
                                                            loss_names(run.config.get("method")),
                                                            "Loss by component", log_y=True),
                                     history_figure(df, diagnostic_columns(df),
                                                            {k: v[0] for k, v in diagnostics().items()},
                                                            "Diagnostics", log_y=False)],
                                    f"Training of {run.run_id}", f"{run.run_id}-training.html",
                                    key="runs.dl.figs")

st.subheader("All runs")


def _set_parallel():
    manager().max_parallel = st.session_state["runs.parallel"]


mgr = manager()
st.session_state["runs.parallel"] = mgr.max_parallel
st.number_input("Runs training at once", min_value=1, max_value=max(8, mgr.max_parallel), step=1,
                key="runs.parallel", on_change=_set_parallel,
                help=f"Each run trains in a process of its own with {mgr.threads_per_run} torch thread(s); "
                     "more runs than this wait in a queue, in the order they were started. The default "
                     f"fills this machine's {os.cpu_count()} cores. Runs started from the command line "
                     "are not counted.")
queued = [i for i in mgr.active_ids() if mgr.queue_position(i)]
if queued:
    st.caption("Waiting: " + ", ".join(f"{mgr.queue_position(i)}. `{i}`" for i in
                                       sorted(queued, key=mgr.queue_position)))
runs = all_runs()
if not runs:
    st.info(f"No runs in {esc(store().root)} yet. Start one on the **Train** page.")
else:
    st.caption("Click a row to make it the current run. AUC: area under the ROC curve on the test "
               "part (1 = perfect, 0.5 = chance); collapse: the verdict on the final embeddings.")
    table = runs_frame(runs)
    ids = list(table["run"])

    def pick_from_table():
        rows = st.session_state["runs.table"]["selection"]["rows"]
        if rows:
            select_run(ids[rows[0]])

    shown = table.style.format({c: "{:.3f}" for c in ("AUC", "AP", "F1")}, na_rep="")  # no "None" cells
    st.dataframe(shown, hide_index=True, on_select=pick_from_table, selection_mode="single-row",
                 key="runs.table",
                 column_config={"title": st.column_config.TextColumn(width="medium", pinned=True),
                                "AUC": st.column_config.NumberColumn(width="small"),
                                "AP": st.column_config.NumberColumn(width="small"),
                                "F1": st.column_config.NumberColumn(width="small"),
                                "collapse": st.column_config.TextColumn(width="small"),
                                "test anomalies": st.column_config.TextColumn(
                                    help="Share of anomalies in the test part, which AP and F1 depend on"),
                                "params": st.column_config.TextColumn(width="large")})
