"""What several pages show about a run: its names, the two kinds of sample, its config."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from deepad.runs.listing import RunRecord
from deepad.runs.records import LIVE_STATES

__all__ = ["NORMAL", "ANOMALY", "run_title", "dataset_label", "run_label", "is_live", "config_json", "class_names",
           "distances", "image_tile"]


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


def run_label(run: RunRecord) -> str:
    """One line for pickers: title, when it was created and the end of its id (unique). It never
    changes while the run trains, so a picker showing it keeps its selection."""
    m = re.match(r"^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})", run.run_id)
    when = f"{m[1]}-{m[2]}-{m[3]} {m[4]}:{m[5]}" if m else ""
    return f"{run_title(run)} · {when} [{run.run_id[-6:]}]"


def is_live(run: RunRecord) -> bool:
    return run.state in LIVE_STATES


def _num(v: Any) -> float:
    """A number for a table column; NaN (shown empty) when there is none."""
    return float(v) if isinstance(v, (int, float)) else float("nan")


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def config_json(run: RunRecord) -> str:
    return json.dumps(run.config, indent=2)


def class_names(run: RunRecord) -> list[str]:
    return list(run.split_info().get("classes") or [])


def distances(results: dict) -> np.ndarray | None:
    """‖φ(x) − c‖ for the test samples, when the method has a centre."""
    if "center" not in results:
        return None
    emb = results["test_emb"].reshape(len(results["test_emb"]), -1).astype(np.float64)
    return np.sqrt(((emb - results["center"].astype(np.float64)) ** 2).sum(axis=1))


def image_tile(x: np.ndarray, min_size: int = 56, border: int = 3) -> np.ndarray:
    """One image (C, H, W) in [0, 1] -> uint8 RGB (H, W, 3), enlarged by whole pixels so that
    8×8 digits stay sharp, with a white border that separates neighbours in a grid."""
    img = np.clip(np.asarray(x, dtype=np.float32), 0, 1)
    img = np.repeat(img[:1], 3, axis=0) if img.shape[0] == 1 else img[:3]
    img = np.transpose(img, (1, 2, 0))
    f = max(1, math.ceil(min_size / img.shape[0]))
    if f > 1:
        img = np.repeat(np.repeat(img, f, axis=0), f, axis=1)
    if border:
        img = np.pad(img, ((border, border), (border, border), (0, 0)), constant_values=1.0)
    return (img * 255).round().astype(np.uint8)
