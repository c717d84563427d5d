"""What several views of a run share: its title, the two kinds of test sample, its class names and
the distances to its centre."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from deepad.runs.read import RunRecord

NORMAL, ANOMALY = "normal", "anomaly"


def run_title(run: RunRecord) -> str:
    """A short human name: the title when given, else method · dataset · normal classes."""
    cfg = run.config
    if cfg.get("title"):
        return cfg["title"]
    normal = ",".join(str(c) for c in (cfg.get("setup") or {}).get("normal", []))
    return f"{cfg.get('method')} · {dataset_label(cfg.get('dataset') or '')} · normal {normal}"


def dataset_label(name: str) -> str:
    """A dataset as a person names it: a user's file by its own file name (not the folder it is
    kept in, nor the content prefix it is stored under)."""
    if not name.startswith("file:"):
        return name
    from deepad.data.uploads import parse_user_dataset_name
    from deepad.errors import DeepADError

    try:
        path, _ = parse_user_dataset_name(name)
    except (DeepADError, ValueError):
        return name
    return re.sub(r"^[0-9a-f]{16}-", "", Path(path).name)


def _num(v: Any) -> float:
    """A number for a table column; NaN (shown empty) when there is none."""
    return float(v) if isinstance(v, (int, float)) else float("nan")


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def class_names(run: RunRecord) -> list[str]:
    return list(run.split_info().get("classes") or [])


def distances(results: dict) -> np.ndarray | None:
    """‖φ(x) − c‖ for the test samples, when the method has a centre."""
    if "center" not in results:
        return None
    emb = results["test_emb"].reshape(len(results["test_emb"]), -1).astype(np.float64)
    return np.sqrt(((emb - results["center"].astype(np.float64)) ** 2).sum(axis=1))
