"""The Python API for notebooks and scripts: `deepad.train`, `deepad.load`, `deepad.runs`,
`deepad.sweep` and the `Run` they return.

Options are the command line's, as keyword arguments (`--known-anomalies 50` is
`known_anomalies=50`, `--no-bias` is `bias=False`), read by the same parser and validated by the
same code, so a value the CLI refuses is refused here with the same one-line message (a
`deepad.DeepADError`) before anything is written. Runs are the same folders on disk as the CLI's
and the dashboard's: a run trained here opens on the dashboard, and the other way round.

>>> import deepad
>>> run = deepad.train(dataset="blobs", method="iforest", seed=0, runs_dir=RUNS, progress=False)
>>> run.state, run.auc > 0.9
('finished', True)
>>> run.history.shape[0] >= 1, len(run.scores) == len(run.labels)
(True, True)
>>> deepad.load(run.run_id, runs_dir=RUNS).config["method"]
'iforest'
>>> run.figure("roc").layout.xaxis.title.text
'false positive rate (normal samples flagged)'
>>> deepad.train(dataset="blobs", method="no-such-method", runs_dir=RUNS)
Traceback (most recent call last):
...
deepad.errors.DeepADError: unknown method 'no-such-method'; choose one of: ...
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from deepad.errors import DeepADError

__all__ = ["FIGURES", "Run", "list_runs", "load", "sweep", "train"]

_LISTS = ("normal", "anomaly", "known_classes")
# the figures `Run.figure(name)` draws, as the dashboard's pages draw them
FIGURES = {
    "roc": "ROC curve with the operating point of the run's threshold (ROC & scores page)",
    "pr": "precision-recall curve (ROC & scores page)",
    "scores": "histogram of the test scores, normal against anomalous, with the threshold",
    "confusion": "confusion matrix at the run's threshold",
    "loss": "training loss by component, per epoch (Runs / live page)",
    "diagnostics": "the numbers the method reports every epoch (c_t, R, validation AUC, ...)",
    "collapse": "collapse gauges: spread ratio, effective rank, constant dimensions",
    "latent": "PCA of the test embeddings φ(x), coloured normal / anomaly, with the centre c",
}


def _namespace(command: str, options: dict):
    """The argparse namespace the command line would give for these options."""
    from deepad.cli.method_options import chosen_method, flag_for, not_a_setting, setting_names
    from deepad.cli.options import build_parser
    from deepad.detectors import registry

    sub = build_parser().commands[command]
    chosen = [f"--{k}={options[k]}" for k in ("method", "preset") if options.get(k) is not None]
    method = chosen_method(chosen)  # the parser holds that method's settings
    args = sub.parse_args(chosen if method in registry.specs() else [])  # (an unknown one: reported later)
    dests = {a.dest for a in sub._actions}
    for key, value in options.items():
        if key in _LISTS and value is not None:
            value = ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)
        for dest in (key, f"param_{key}", f"setup_{key}"):
            if dest in dests and dest != "help":
                setattr(args, dest, value)
                break
        else:
            if key in setting_names() and method in registry.specs():  # another method's setting
                raise DeepADError(not_a_setting(flag_for(key), method))  # the CLI's line
            known = sorted(d.removeprefix("param_").removeprefix("setup_") for d in dests if d != "help")
            raise DeepADError(f"unknown option {key!r}; the options are those of `deepad {command} --help`: "
                              + ", ".join(known))
    return args


class Run:
    """A run on disk, read again whenever one of its properties is read (a run training in the
    background shows its progress).

    `run_id`, `path`, `state` ("queued", "running", "finished", "failed", "cancelled", ...),
    `config` (the validated run config), `summary`, `auc` and `ap` (test ROC AUC and average
    precision), `verdict` (the collapse verdict, None where it does not apply), `history` (one row
    per epoch record), `scores`, `labels` (1 = anomaly) and `embeddings` of the test samples
    (None before the run has finished), `figure(name)` (the dashboard's plotly figures)."""

    def __init__(self, record, store, thread: threading.Thread | None = None):
        self._record, self._store, self._thread = record, store, thread
        self._results_key: tuple | None = None
        self._results: dict | None = None

    def __repr__(self) -> str:
        auc = self.auc
        return (f"Run({self.run_id!r}, state={self.state!r}, method={self.config.get('method')!r}, "
                f"dataset={self.config.get('dataset')!r}" + (f", auc={auc:.3f})" if auc is not None else ")"))

    # -- reading ------------------------------------------------------------------------------------
    @property
    def record(self):
        """The `deepad.runs.listing.RunRecord` as on disk now."""
        self._record = self._store.get(self._record.run_id)
        return self._record

    @property
    def run_id(self) -> str:
        return self._record.run_id

    @property
    def path(self) -> Path:
        return self._record.path

    @property
    def state(self) -> str:
        return self.record.state

    @property
    def config(self) -> dict:
        return self._record.config

    @property
    def summary(self) -> dict:
        return self.record.summary

    @property
    def auc(self) -> float | None:
        return self.summary.get("auc")

    @property
    def ap(self) -> float | None:
        return self.summary.get("ap")

    @property
    def verdict(self) -> str | None:
        return self.summary.get("verdict")

    @property
    def history(self):
        """The per-epoch records as a pandas DataFrame (columns `step`, `phase`, `epoch`, the
        losses and the method's diagnostics)."""
        from deepad.views.runs import history_frame

        return history_frame(self.record.history())

    def results(self) -> dict | None:
        """The arrays of results.npz (test scores, targets, embeddings, ...); None before the run
        has finished."""
        record = self.record
        from deepad.runs.layout import RESULTS

        key = (record.state, record.files.stamp(RESULTS))
        if key != self._results_key:
            self._results, self._results_key = record.results(), key
        return self._results

    def _array(self, name: str):
        res = self.results()
        return None if res is None or name not in res else res[name]

    @property
    def scores(self):
        """Anomaly scores of the test samples (higher = more anomalous)."""
        return self._array("test_scores")

    @property
    def labels(self):
        """Ground truth of the test samples: 1 anomaly, 0 normal."""
        return self._array("test_target")

    @property
    def embeddings(self):
        """The test samples' representations φ(x), (n, d); None for methods without one."""
        return self._array("test_emb")

    # -- following ----------------------------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> Run:
        """Wait until a run started with background=True has ended (or `timeout` seconds)."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self

    def cancel(self) -> None:
        """Stop the run after its current minibatch (whichever process trains it); its history is kept."""
        from deepad.runs.write import request_stop

        request_stop(self.path)

    # -- figures ------------------------------------------------------------------------------------
    def figure(self, name: str):
        """One of the dashboard's plotly figures for this run (a `plotly.graph_objects.Figure`):
        see `deepad.api.FIGURES` for the names."""
        from deepad.figures.latent import latent_scatter
        from deepad.figures.scores import confusion_figure, pr_figure, roc_figure, score_histogram
        from deepad.figures.training import collapse_gauges, history_figure
        from deepad.views import common as common_view
        from deepad.views import evaluate as evaluate_view
        from deepad.views import runs as runs_view
        from deepad.views.collapse import latest_collapse, representation_dim, verdict_applies
        from deepad.views.evaluate import at_threshold, default_threshold
        from deepad.views.latent import centre_in_pca, latent_frame
        from deepad.views.runs import diagnostic_columns, diagnostics, loss_columns, loss_names

        if name not in FIGURES:
            raise DeepADError(f"figure {name!r} is unknown; choose one of: {', '.join(FIGURES)}")
        record = self.record
        if name in ("loss", "diagnostics", "collapse"):
            history = record.history()
            df = runs_view.history_frame(history)
            if name == "loss":
                return history_figure(df, loss_columns(df), loss_names(record.config.get("method")),
                                              "Loss by component", log_y=True)
            if name == "diagnostics":
                return history_figure(df, diagnostic_columns(df),
                                              {k: v[0] for k, v in diagnostics().items()}, "Diagnostics")
            if not verdict_applies(record):
                raise DeepADError(f"run {self.run_id}: the collapse verdict does not apply to method "
                                  f"{record.config.get('method')}")
            dim = representation_dim(record, self.results())
            latest = latest_collapse(record, history, dim)
            return collapse_gauges(latest.get("spread_ratio"), latest.get("eff_rank"), dim,
                                           latest.get("const_dims"))
        results = self.results()
        if results is None:
            raise DeepADError(f"run {self.run_id} is {record.state}: figure {name!r} needs a finished run")
        threshold = default_threshold(record, results)
        point = at_threshold(results, threshold)
        if name in ("roc", "pr"):
            curves = evaluate_view.curves(common_view.run_title(record), results)
            if curves is None:
                raise DeepADError(f"run {self.run_id}: the test part has one class only, so there is no "
                                  f"{name.upper()} curve")
            return (roc_figure if name == "roc" else pr_figure)([curves], point)
        if name == "scores":
            return score_histogram(results["test_scores"], results["test_target"], threshold,
                                           title="Score histogram: normal vs anomalous test samples")
        if name == "confusion":
            return confusion_figure(point)
        if "test_emb" not in results:
            raise DeepADError(f"run {self.run_id}: method {record.config.get('method')} has no representation "
                              "to draw")
        xy, centre = centre_in_pca(results)
        df = latent_frame(record, results, xy)
        return latent_scatter(df, "truth", centre, f"PCA of φ ({results['test_emb'].shape[1]} dimensions)")


def _progress_bar(config: dict, enabled: bool):
    """(on_event callback, close) showing the epochs in a progress bar (a widget in a notebook)."""
    if not enabled:
        return None, lambda: None
    from tqdm.auto import tqdm

    from deepad.views.runs import planned_records

    plan = planned_records(config) or {}
    bar = tqdm(total=sum(plan.values()) or None, unit="epoch", desc=config.get("method"))

    def on_event(_run_id: str, rec: dict) -> None:
        bar.update(1)
        shown = {k: f"{rec[k]:.4g}" for k in ("loss", "val_auc", "spread_ratio") if isinstance(rec.get(k), float)}
        if shown:
            bar.set_postfix(shown, refresh=False)

    return on_event, bar.close


def train(*, background: bool = False, progress: bool = True, runs_dir: str | os.PathLike | None = None,
          **options: Any) -> Run:
    """Train a detector; the options are `deepad train`'s (see `deepad train --help`), e.g.
    `dataset="mnist5k", normal=3, method="deep-svdd", epochs=10, seed=0`, `preset="..."`, or
    `data="my.csv", label_column="status", normal="ok"` for your own file. Lists are accepted for
    `normal`, `anomaly` and `known_classes`.

    Bad options raise DeepADError (the CLI's message) before anything is written. The run trains in
    this thread with a progress bar (`progress=False`: none); `background=True` returns at once
    and trains in a background thread: read `run.state`, `run.history` as it goes, `run.wait()`
    for the end, `run.cancel()` to stop it. Returns the `Run`."""
    from deepad.cli.options import config_from_args
    from deepad.runs.create import create_run
    from deepad.runs.listing import RunStore
    from deepad.training.config import validate_config
    from deepad.training.runner import execute

    for flag in ("quiet", "runs_dir"):
        options.pop(flag, None)
    args = _namespace("train", options)
    store = RunStore(runs_dir)
    new = create_run(validate_config(config_from_args(args)), store)
    record, cfg = new.run, new.config
    on_event, close = _progress_bar(record.config, progress and not background)

    def work() -> None:
        try:
            execute(record, cfg, new.split, on_event=on_event)
        finally:
            close()

    if background:
        thread = threading.Thread(target=work, name=f"deepad-run-{record.run_id}", daemon=True)
        thread.start()
        return Run(record, store, thread)
    work()
    return Run(store.get(record.run_id), store)


def load(run_id_or_path: str | os.PathLike, runs_dir: str | os.PathLike | None = None) -> Run:
    """A saved run, by its id (in `runs_dir`, else $DEEPAD_RUNS_DIR, else ~/.deepad/runs) or by
    the path of its folder."""
    from deepad.runs.listing import RunStore

    p = Path(run_id_or_path).expanduser()
    if runs_dir is None and (os.sep in str(run_id_or_path) or p.is_dir()):
        store = RunStore(p.resolve().parent)
        return Run(store.get(p.resolve().name), store)
    store = RunStore(runs_dir)
    return Run(store.get(str(run_id_or_path)), store)


def list_runs(runs_dir: str | os.PathLike | None = None, *, method: str | None = None, dataset: str | None = None,
         state: str | None = None, sweep_id: str | None = None):
    """The saved runs, newest first, as a pandas DataFrame (one row per run: run_id, state, title,
    method, dataset, normal, auc, ap, f1, verdict, seconds, sweep_id), optionally only those of
    one method, dataset, state or sweep. `deepad.load(row.run_id)` opens one."""
    import pandas as pd

    from deepad.runs.listing import RunStore
    from deepad.views.common import run_title

    rows = []
    for r in RunStore(runs_dir).list():
        cfg, s = r.config, r.summary
        sweep = cfg["sweep"].get("id") if isinstance(cfg.get("sweep"), dict) else None
        row = {"run_id": r.run_id, "state": r.state, "title": run_title(r), "method": cfg.get("method"),
               "dataset": cfg.get("dataset"), "normal": (cfg.get("setup") or {}).get("normal"),
               "auc": s.get("auc"), "ap": s.get("ap"), "f1": s.get("f1"), "verdict": s.get("verdict"),
               "seconds": r.status.get("seconds"), "sweep_id": sweep}
        if all(v is None or row[k] == v for k, v in (("method", method), ("dataset", dataset), ("state", state),
                                                       ("sweep_id", sweep_id))):
            rows.append(row)
    return pd.DataFrame(rows, columns=["run_id", "state", "title", "method", "dataset", "normal", "auc", "ap", "f1",
                                       "verdict", "seconds", "sweep_id"])


def sweep(grid: dict[str, list] | None = None, *, seeds: list[int] | None = None, ray_address: str | None = None,
          max_concurrent: int | None = None, runs_dir: str | os.PathLike | None = None, **options: Any) -> list[Run]:
    """Train every combination of `grid` (name -> values: a method hyperparameter or set-up setting)
    times `seeds` on Ray, as `deepad sweep` does; every other option is `train`'s and fixed for all
    trials. Returns the trials' runs (read their `state`, `auc`, ...; `deepad.list_runs(sweep_id=...)`
    tabulates them)."""
    from deepad.cli.commands import sweep_configs
    from deepad.runs.listing import RunStore
    from deepad.sweeps import engine, new_sweep_id, resolve_address
    from deepad.sweeps.runs import create_runs, validate_all

    options.pop("runs_dir", None)
    args = _namespace("sweep", options)
    args.grid = [f"{k}={','.join(map(str, v)) if isinstance(v, (list, tuple)) else v}" for k, v in (grid or {}).items()]
    args.seeds = ",".join(map(str, seeds)) if isinstance(seeds, (list, tuple)) else seeds
    args.ray_address, args.max_concurrent, args.quiet = ray_address, max_concurrent, True
    if max_concurrent is not None and max_concurrent < 1:
        raise DeepADError(f"max_concurrent={max_concurrent}: give at least 1")
    sweep_id = new_sweep_id()
    cfgs = validate_all(sweep_configs(args, sweep_id))
    store = RunStore(runs_dir)
    trials = create_runs(cfgs, store)
    engine.run_sweep(trials, store, sweep_id, address=resolve_address(ray_address), max_concurrent=max_concurrent)
    return [Run(store.get(run.run_id), store) for run, _ in trials]
