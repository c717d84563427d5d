"""What several pages show of a run: its label in a list, whether it is live, its config as
JSON and an input drawn as an image tile."""

from __future__ import annotations

import json
import math
import re

import numpy as np

from deepad.runs.read import RunRecord
from deepad.runs.records import LIVE_STATES
from deepad.views.common import run_title


def run_label(run: RunRecord) -> str:
    """One line for pickers: title, when it was created and the end of its id (unique). It never
    changes while the run trains, so a picker showing it keeps its selection."""
    m = re.match(r"^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})", run.run_id)
    when = f"{m[1]}-{m[2]}-{m[3]} {m[4]}:{m[5]}" if m else ""
    return f"{run_title(run)} · {when} [{run.run_id[-6:]}]"


def is_live(run: RunRecord) -> bool:
    return run.state in LIVE_STATES


def config_json(run: RunRecord) -> str:
    return json.dumps(run.config, indent=2)


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
