"""Named run configs shipped in assets/presets/*.json: the papers' set-ups and the collapse lessons.

Each file: {"title", "description", "group", "config": <RunConfig fields>}. `group` sorts them in
the dashboard ("collapse" lessons, "papers" set-ups, ...).

A collapse lesson is a matched pair of presets that share `lesson` (its name): the one with
`role` "trigger" collapses, the one with role "fix" does not, and `differs_in` lists the params
keys in which the fix differs from its trigger (every other setting is the same), so what the
student sees can be credited to that one setting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from deepad.errors import DeepADError

PRESET_DIR = Path(__file__).resolve().parent.parent / "assets" / "presets"
ROLES = ("trigger", "fix")


@dataclass(frozen=True)
class Preset:
    name: str
    title: str
    description: str
    group: str
    config: dict
    lesson: str | None = None
    role: str | None = None
    differs_in: tuple[str, ...] = ()
    pair: str | None = None  # the other preset of the lesson


def load_presets(folder: Path = PRESET_DIR) -> dict[str, Preset]:
    out = {}
    for f in sorted(folder.glob("*.json")):
        d = json.loads(f.read_text())
        out[f.stem] = Preset(f.stem, d["title"], d.get("description", ""), d.get("group", "other"),
                             d["config"], d.get("lesson"), d.get("role"), tuple(d.get("differs_in", ())))
    pairs = lessons(out)
    for lesson, (trigger, fix) in pairs.items():
        out[trigger] = _with_pair(out[trigger], fix)
        out[fix] = _with_pair(out[fix], trigger)
    return out


def _with_pair(p: Preset, other: str) -> Preset:
    return Preset(p.name, p.title, p.description, p.group, p.config, p.lesson, p.role, p.differs_in, other)


def lessons(presets: dict[str, Preset]) -> dict[str, tuple[str, str]]:
    """lesson -> (trigger preset, fix preset); a lesson without exactly one of each is an error."""
    members: dict[str, dict[str, list[str]]] = {}
    for p in presets.values():
        if p.lesson is None:
            continue
        if p.role not in ROLES:
            raise DeepADError(f"preset {p.name}: role {p.role!r} must be one of {', '.join(ROLES)}")
        members.setdefault(p.lesson, {r: [] for r in ROLES})[p.role].append(p.name)
    out = {}
    for lesson, roles in members.items():
        if any(len(roles[r]) != 1 for r in ROLES):
            raise DeepADError(f"lesson {lesson!r} needs one trigger and one fix preset, has {roles}")
        out[lesson] = (roles["trigger"][0], roles["fix"][0])
    return out


def config_difference(a: dict, b: dict) -> list[str]:
    """Keys in which two run configs differ: params keys by name, other settings as they appear
    in the config ("seed", "setup.normal"); the run title is not a setting. Params left out count
    as their defaults, so writing a default down does not make a difference."""
    from deepad.detectors import registry

    def flat(cfg: dict) -> dict:
        out = {}
        for k, v in cfg.items():
            if k == "title":
                continue
            if k == "params" and cfg.get("method") in registry.names():
                v = registry.spec(cfg["method"]).Config(**(v or {})).model_dump()
            if isinstance(v, dict):
                for kk, vv in v.items():
                    out[kk if k == "params" else f"{k}.{kk}"] = vv
            else:
                out[k] = v
        return out

    fa, fb = flat(a), flat(b)
    return sorted(k for k in set(fa) | set(fb) if fa.get(k) != fb.get(k))


def get_preset(name: str) -> Preset:
    presets = load_presets()
    if name not in presets:
        raise DeepADError(f"unknown preset {name!r}; choose one of: {', '.join(presets)}")
    return presets[name]
