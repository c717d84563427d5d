"""Named run configs: the papers' set-ups and the collapse lessons. A detector's presets are the
JSON files of its folder's `presets/` (deepad/detectors/<folder>/presets/<name>.json): the folder
says the method, so a preset's config does not name it. The file's stem is the preset's name; a
stem (or a lesson) that an earlier method's folder already uses, as in a copied folder, is
prefixed with the method's name ("r2ad2-copy-r2ad2-semi"). A detector's `SPEC.presets` names
files of its own folder (`declared_presets` gives their preset names).

Each file: {"title", "description", "group", "config": <RunConfig fields but the method>}.
`group` sorts them in the dashboard ("collapse" lessons, "papers" set-ups, ...).

A collapse lesson is a matched pair of presets that share `lesson` (its name): the one with
`role` "trigger" collapses, the one with role "fix" does not, and `differs_in` lists the params
keys in which the fix differs from its trigger (every other setting is the same), so what the
student sees can be credited to that one setting.

A demo is a matched pair of the same shape that is *not* a collapse lesson: `"kind": "demo"`,
roles "without" and "with" (the same network without and with one method, such as Chong et al.'s
noise regularizer, both healthy), shown for what the setting does to detection, never called a fix.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from deepad.errors import DeepADError

ROLES = ("trigger", "fix")
# A lesson's fix must be the better detector, not only the healthier cloud:
FIX_MIN_AUC = 0.80  # the fix's test AUC at least this
FIX_MIN_GAIN = 0.15  # and at least this much above its trigger's
DEMO_ROLES = ("without", "with")


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
    kind: str = "lesson"  # "lesson" (collapse: trigger / fix) or "demo" (without / with)
    stem: str = ""  # its file's name in its folder, without .json


def lesson_title(preset: Preset | None, name: str) -> str:
    """A lesson's (or demo's) name for people: its preset title's part before ":" ("BatchNorm and
    weight decay: trigger (...)" -> "BatchNorm and weight decay"), else `name` in words."""
    title = getattr(preset, "title", "") or ""
    return title.split(":", 1)[0].strip() if ":" in title else name.replace("-", " ").capitalize()


def preset_folders() -> dict[str, Path]:
    """method -> the folder of its presets (every detector's `presets/`, there or not)."""
    from deepad.detectors import registry

    return {name: spec.folder / "presets" for name, spec in registry.specs().items()}


def load_presets(folder: Path | None = None) -> dict[str, Preset]:
    """Every detector's presets, by name; or those of one `folder` of preset files whose configs
    name their method."""
    sources = [(None, Path(folder))] if folder is not None else list(preset_folders().items())
    out: dict[str, Preset] = {}
    where: dict[str, Path] = {}
    lesson_of: dict[str, str | None] = {}  # a lesson's name -> the method whose presets hold it
    for method, place in sources:
        for f in sorted(place.glob("*.json")):
            d = json.loads(f.read_text(encoding="utf-8"))
            config = dict(d["config"])
            name, lesson = f.stem, d.get("lesson")
            if method is not None:
                if config.get("method", method) != method:
                    raise DeepADError(f"preset {f}: it is in the folder of method {method} but names method "
                                      f"{config['method']!r}; leave the method out (the folder says it)")
                config["method"] = method
                if name in out and out[name].config["method"] != method:  # a copied folder's
                    name = f"{method}-{name}"
                if lesson is not None and lesson_of.setdefault(lesson, method) != method:
                    lesson = f"{method}-{lesson}"
            if name in out:
                raise DeepADError(f"two presets named {name!r} ({where[name]} and {f}): rename one file")
            where[name] = f
            out[name] = Preset(name, d["title"], d.get("description", ""), d.get("group", "other"),
                               config, lesson, d.get("role"), tuple(d.get("differs_in", ())),
                               kind=d.get("kind", "lesson"), stem=f.stem)
    out = dict(sorted(out.items()))
    for first, second in [*lessons(out).values(), *demos(out).values()]:
        out[first] = dataclasses.replace(out[first], pair=second)
        out[second] = dataclasses.replace(out[second], pair=first)
    return out


def declared_presets(method: str, presets: dict[str, Preset] | None = None) -> tuple[str, ...]:
    """The names of the presets `method`'s SPEC.presets declares (files of its own folder), in its
    order: those that show the method at its best."""
    from deepad.detectors import registry

    presets = load_presets() if presets is None else presets
    own = {p.stem: p.name for p in presets.values() if p.config["method"] == method}
    return tuple(own[stem] for stem in registry.spec(method).presets if stem in own)


def _pairs(presets: dict[str, Preset], kind: str, roles: tuple[str, str]) -> dict[str, tuple[str, str]]:
    members: dict[str, dict[str, list[str]]] = {}
    for p in presets.values():
        if p.lesson is None or p.kind != kind:
            continue
        if p.role not in roles:
            raise DeepADError(f"preset {p.name}: role {p.role!r} must be one of {', '.join(roles)}")
        members.setdefault(p.lesson, {r: [] for r in roles})[p.role].append(p.name)
    out = {}
    for lesson, found in members.items():
        if any(len(found[r]) != 1 for r in roles):
            raise DeepADError(f"{kind} {lesson!r} needs one {' and one '.join(roles)} preset, has {found}")
        out[lesson] = (found[roles[0]][0], found[roles[1]][0])
    return out


def lessons(presets: dict[str, Preset]) -> dict[str, tuple[str, str]]:
    """Collapse lessons: lesson -> (trigger preset, fix preset); a lesson without exactly one of
    each is an error."""
    return _pairs(presets, "lesson", ROLES)


def demos(presets: dict[str, Preset]) -> dict[str, tuple[str, str]]:
    """Demos (not collapse lessons): name -> (preset without the setting, preset with it)."""
    return _pairs(presets, "demo", DEMO_ROLES)


def lesson_holds(trigger_auc: float, fix_auc: float) -> bool:
    """Whether a lesson's fix is the better detector on one case (its verdicts aside)."""
    return fix_auc >= FIX_MIN_AUC and fix_auc - trigger_auc >= FIX_MIN_GAIN


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
