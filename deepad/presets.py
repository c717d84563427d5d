"""Named run configs shipped in assets/presets/*.json: the papers' set-ups and the collapse lessons.

Each file: {"title", "description", "group", "config": <RunConfig fields>}. `group` sorts them in
the dashboard ("collapse" lessons, "papers" set-ups, ...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from deepad.errors import DeepADError

PRESET_DIR = Path(__file__).resolve().parent.parent / "assets" / "presets"


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    group: str
    config: dict


def load_presets(folder: Path = PRESET_DIR) -> dict[str, Preset]:
    out = {}
    for f in sorted(folder.glob("*.json")):
        d = json.loads(f.read_text())
        out[f.stem] = Preset(f.stem, d["title"], d.get("description", ""), d.get("group", "other"),
                             d["config"])
    return out


def get_preset(name: str) -> Preset:
    presets = load_presets()
    if name not in presets:
        raise DeepADError(f"unknown preset {name!r}; choose one of: {', '.join(presets)}")
    return presets[name]
