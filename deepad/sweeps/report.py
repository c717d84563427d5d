"""A sweep trained on Ray and reported as it goes: a JSON line per ended trial (the line `train`
prints for a run), a progress bar on stderr, the summary last. The command line's `sweep` and
`reproduce` and the dashboard's sweep process (`python -m deepad.sweeps`) all report this way."""

from __future__ import annotations

import json
import signal
import sys
import threading


def run_line(run) -> dict:
    """The JSON object `train` prints last (and `sweep` once per trial) for a run as on disk."""
    s, cfg = run.summary, run.config
    out = {"run_id": run.run_id, "state": run.state, "method": cfg.get("method"), "dataset": cfg.get("dataset"),
           "normal": (cfg.get("setup") or {}).get("normal"), "auc": s.get("auc"), "ap": s.get("ap"),
           "f1": s.get("f1"), "n_test": s.get("n_test"), "n_test_anomalies": s.get("n_test_anomalies"),
           "collapsed": s.get("collapsed"), "verdict": s.get("verdict"),
           "checkpoint": s.get("checkpoint"), "checkpoint_epoch": s.get("checkpoint_epoch"),
           "seconds": round(run.status.get("seconds", 0.0), 3), "path": str(run.path)}
    if s.get("verdict") is not None:  # null where the hypersphere verdict does not apply
        from deepad.diagnostics import rule

        out.update(spread_ratio=s.get("spread_ratio"), verdict_rule=rule())
    if run.state != "finished":
        out.update(error=run.status.get("error"), hint=run.status.get("hint"),
                   epoch=run.status.get("failed_epoch", run.status.get("epoch")))
    return out


def run_and_report(trials: list, store, sweep_id: str, *, address: str | None = None,
                   max_concurrent: int | None = None, shared: bool = False, quiet: bool = False) -> int:
    """Train prepared trials on Ray: a JSON line per ended trial, a progress bar on stderr, the
    summary line last. Ctrl-C (SIGINT) or SIGTERM cancels; a second Ctrl-C stops running trials
    at once. Exit status 0: all finished; 1: some failed; 130: cancelled."""
    from deepad.sweeps import axis_values, engine  # engine imports Ray

    stop, force = threading.Event(), threading.Event()

    def on_sigint(*_):
        (force if stop.is_set() else stop).set()
        print("\ncancelling the sweep (Ctrl-C again to stop running trials at once)", file=sys.stderr, flush=True)

    print(f"sweep {sweep_id}: {len(trials)} trials in {store.root}", file=sys.stderr, flush=True)
    bar = None
    if not quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(trials), unit="trial", file=sys.stderr, dynamic_ncols=True,
                   desc=f"sweep {sweep_id}", postfix={"failed": 0})

    def on_trial_end(run, _cfg):
        print(json.dumps({**run_line(run), "sweep_id": sweep_id,
                          "grid": {a: axis_values(run.config, a) for a in run.config["sweep"]["axes"]},
                          "node": (run.status.get("ray") or {}).get("node_id")}), flush=True)

    def on_progress(outcome):
        if bar is not None:
            bar.n = outcome.finished + outcome.failed + outcome.cancelled
            bar.set_postfix(failed=outcome.failed, cancelled=outcome.cancelled)

    previous = {sig: signal.signal(sig, on_sigint) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        outcome = engine.run_sweep(trials, store, sweep_id, address=address, max_concurrent=max_concurrent,
                                   shared=shared, should_stop=stop.is_set, force_stop=force.is_set,
                                   on_trial_end=on_trial_end, on_progress=on_progress)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if bar is not None:
            bar.close()
    print(json.dumps({**outcome.summary(), "runs_dir": str(store.root)}), flush=True)
    if outcome.cancelled:
        return 130
    return 1 if outcome.failed else 0
