"""The Runs / live page's numbers (the Collapse and Lesson pages share some): a run's progress
and status in words, its phases, headline numbers and log axes as its detector declares them, the
table of runs and the settings in which runs differ."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pandas as pd

from deepad.runs.read import RunRecord
from deepad.views.common import _num, _short, dataset_label, run_title
from deepad.views.runs import diagnostics, flat_config, planned_records


def phase_words(method: str | None, phase: str) -> str:
    """A training phase of `method` in words, as its detector declares them ("autoencoder
    pretraining"); a phase of an unknown method, or one not declared, as it is named."""
    from deepad.detectors import registry

    specs = registry.specs()
    return specs[method].phase_words(phase) if method in specs else phase


@dataclass
class Progress:
    fraction: float  # 0..1
    text: str  # "pretraining epoch 3 / 10" ...


def progress(run: RunRecord, n_records: int) -> Progress:
    plan = planned_records(run.config)
    total = sum(plan.values()) if plan else None
    last = run.status.get("last") or {}
    phase = last.get("phase", "train")
    epoch = last.get("epoch", 0)
    phase_word = phase_words(run.config.get("method"), phase)
    if run.state == "queued":
        return Progress(0.0, "waiting for its turn")
    if run.state == "finished":
        return Progress(1.0, f"finished after {n_records} epoch records")
    if not n_records:
        return Progress(0.0, "loading data and building the network")
    if total:
        phase_total = plan.get(phase)
        of = f" / {phase_total}" if phase_total else ""
        return Progress(min(1.0, n_records / total), f"{phase_word}: epoch {epoch}{of}")
    return Progress(0.5, f"{phase_word}: epoch {epoch}")


def status_text(run: RunRecord, queue_position: int | None = None) -> str:
    """What the run is doing, in one sentence."""
    s, st = run.status, run.state
    if st == "queued":
        where = f" (position {queue_position} in the queue)" if queue_position else ""
        return (f"Queued{where}: it starts as soon as one of the runs training now ends "
                "(the Runs page sets how many train at once).")
    if st == "running":
        return f"Training on {s.get('device', 'the device')}, epoch {s.get('epoch', 0)}."
    if st == "finished":
        return f"Finished in {s.get('seconds', 0):.1f} s."
    if st == "failed":
        epoch = s.get("failed_epoch") or s.get("epoch")
        at = f" at epoch {epoch}" if epoch else ""
        hint = f" Hint: {s['hint']}" if s.get("hint") else ""
        return f"Failed{at}: {str(s.get('error') or 'unknown error').rstrip('.')}.{hint}"
    if st == "cancelled":
        return f"Cancelled at epoch {s.get('epoch', 0)}; the curves up to then are kept."
    if st == "damaged":
        return (f"Damaged: {'; '.join(run.damage)}. The other runs are not affected; what can still be "
                "read of this one is shown.")
    if st == "interrupted":
        why = str(s.get("error") or "").rstrip(".")
        if not why or why.startswith("the process running it stopped"):
            why = "the process that trained it stopped (server restart or crash)"
        return f"Interrupted at epoch {s.get('epoch', 0)}: {why}; its curves up to then are kept."
    return st


@dataclass
class RunState:
    """What a run is doing, as every part of a screen says it (heading, sidebar, status box,
    captions): read once from its status file by `run_state`, so no two parts disagree."""
    state: str  # queued, running, finished, failed, ...
    text: str  # `status_text`
    progress: Progress  # `progress`
    epoch: int  # the epoch of its newest record (0 before the first)
    live: bool  # queued or running


def run_state(run: RunRecord, n_records: int, queue_position: int | None = None) -> RunState:
    """The one reading of a run's state that a screen draws from (see `RunState`)."""
    from deepad.runs.records import LIVE_STATES

    epoch = int((run.status.get("last") or {}).get("epoch") or run.status.get("epoch") or 0)
    return RunState(run.state, status_text(run, queue_position), progress(run, n_records), epoch,
                    run.state in LIVE_STATES)


def runs_frame(runs: list[RunRecord]) -> pd.DataFrame:
    """One row per run: what it is, how it went."""
    rows = []
    for r in runs:
        s, cfg = r.summary, r.config
        params = cfg.get("params") or {}
        rows.append({
            "run": r.run_id, "state": r.state,
            "title": run_title(r), "method": cfg.get("method"), "dataset": dataset_label(cfg.get("dataset") or ""),
            "test anomalies": _share(s),
            "normal": ",".join(map(str, (cfg.get("setup") or {}).get("normal", []))),
            "epoch": r.status.get("epoch", 0), "AUC": _num(s.get("auc")), "AP": _num(s.get("ap")),
            "F1": _num(s.get("f1")),
            "collapse": s.get("verdict") or "",
            "seconds": round(r.status.get("seconds", 0.0) or 0.0, 1),
            "params": ", ".join(f"{k}={_short(v)}" for k, v in params.items()),
        })
    return pd.DataFrame(rows, columns=["title", "AUC", "AP", "F1", "collapse", "state", "method", "dataset",
                                       "normal", "test anomalies", "epoch", "seconds", "params", "run"])


def config_diff(runs: list[RunRecord]) -> pd.DataFrame:
    """The settings in which the runs differ: one row per setting, one column per run (labelled
    like `run_label`), cells as text (empty where a run has no such setting)."""
    flats = [flat_config(r.config) for r in runs]
    keys = list(dict.fromkeys(k for f in flats for k in f))
    differ = [k for k in keys if len({json.dumps(f.get(k), sort_keys=True, default=str) for f in flats}) > 1]
    cols = {f"{run_title(r)} [{r.run_id[-6:]}]": [_cell(f.get(k)) for k in differ] for r, f in zip(runs, flats)}
    return pd.DataFrame(cols, index=pd.Index(differ, name="setting"))


def _cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return ",".join(str(x) for x in v)
    if isinstance(v, str) and v.startswith("file:"):
        return dataset_label(v)
    return _short(v)


def _share(summary: dict) -> str:
    n, k = summary.get("n_test"), summary.get("n_test_anomalies")
    return f"{100 * k / n:.0f} % of {n}" if n and k is not None else ""


def log_axes(method: str | None = None) -> tuple[str, ...]:
    """The numbers drawn on a log axis, as the detectors declare them (`diagnostics`)."""
    return tuple(name for name, (_t, _c, log) in diagnostics(method).items() if log)


def headline(method: str | None) -> tuple[str, ...]:
    """The numbers its detector draws beside the loss on the Collapse page (none when unknown)."""
    from deepad.detectors import registry

    specs = registry.specs()
    return tuple(specs[method].headline) if method in specs else ()


def loss_caption(method: str | None) -> str:
    """What the loss chart of a run of `method` shows, in its detector's words."""
    from deepad.detectors import registry
    from deepad.detectors.spec import DEFAULT_LOSS_CAPTION

    specs = registry.specs()
    return specs[method].loss_caption if method in specs else DEFAULT_LOSS_CAPTION


RANGES = {"val_auc": (0.0, 1.02)}  # fixed axes for bounded numbers


def last_value(history: list[dict], key: str) -> float | None:
    """The most recent number recorded under `key` (None when no epoch recorded one)."""
    for rec in reversed(history):
        if isinstance(rec.get(key), (int, float)) and not isinstance(rec.get(key), bool):
            return float(rec[key])
    return None
