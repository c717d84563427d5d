"""The Explore page: the settings a sweep varies and its table of results."""

from __future__ import annotations

import re

import pandas as pd

from deepad.runs.read import RunRecord
from deepad.views.common import _num

__all__ = ["explorable_fields", "suggested_range", "explore_grids", "val_auc", "GRID_METRICS",
           "grid_frame"]


_GRID_TITLE = re.compile(r"^explore (?P<gid>[0-9a-f]{6}): (?P<axes>.*)$")


def explorable_fields(method: str) -> list[str]:
    """The settings detector `method` declares worth exploring (see `DetectorSpec.explorable`)."""
    from deepad.detectors import registry

    return list(registry.spec(method).explorable)


def suggested_range(method: str, name: str) -> tuple[float, float] | None:
    """The (low, high) range a sweep over setting `name` of `method` starts from, as the detector
    declares it; None when it declares none for that setting."""
    from deepad.detectors import registry

    return registry.spec(method).explorable.get(name)


def explore_grids(runs: list[RunRecord]) -> dict[str, dict]:
    """Sweeps found among the runs on disk, newest first: id -> {"axes": [names], "runs": [...],
    "trials": planned count}. Grids launched before sweeps existed are found by their title."""
    from deepad.sweeps import group_runs

    grids = group_runs(runs)
    for r in runs:
        m = _GRID_TITLE.match(r.config.get("title") or "")
        if not m or r.config.get("sweep"):
            continue
        axes = [a.split("=")[0].strip() for a in m.group("axes").split(",") if "=" in a]
        g = grids.setdefault(m.group("gid"), {"axes": axes, "runs": [], "created": r.run_id, "trials": 0})
        g["runs"].append(r)
        g["trials"] = len(g["runs"])
        g["created"] = min(g["created"], r.run_id)
    return dict(sorted(grids.items(), key=lambda kv: kv[1]["created"], reverse=True))


def val_auc(run: RunRecord) -> float | None:
    """The validation AUC of a run's trained model: its last record that has one."""
    last = run.status.get("last") or {}
    if isinstance(last.get("val_auc"), (int, float)):
        return float(last["val_auc"])
    for rec in reversed(run.history()):
        if isinstance(rec.get("val_auc"), (int, float)):
            return float(rec["val_auc"])
    return None


GRID_METRICS = {"val AUC": "validation AUC (the validation split: choose settings by it)",
                "test AUC": "test AUC (the held-out test split: report it, do not choose settings by it)"}


def grid_frame(runs: list[RunRecord], axes: list[str]) -> pd.DataFrame:
    """One row per trial: its axis values, state, validation and test AUC, collapse verdict, run."""
    from deepad.sweeps import axis_values

    rows = []
    for r in runs:
        s = r.summary
        rows.append({**{a: axis_values(r.config, a) for a in axes}, "state": r.state,
                     "val AUC": _num(val_auc(r)), "test AUC": _num(s.get("auc")),
                     "collapse": s.get("verdict") or "", "run": r.run_id})
    df = pd.DataFrame(rows, columns=[*axes, "state", "val AUC", "test AUC", "collapse", "run"])
    return df.sort_values(axes).reset_index(drop=True) if len(df) else df
