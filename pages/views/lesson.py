"""The Lesson page: a preset pair's two runs side by side, for a projector. A collapse lesson
shows its trigger on the left and its fix on the right; a demo (`"kind": "demo"`, such as paper
000's noise regularizer) the run without the setting on the left and the run with it on the right,
whichever order the runs are named in (a button, a link, the address)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from deepad.runs.read import RunRecord

__all__ = ["ROLE_WORDS", "KIND_WORDS", "LessonPair", "preset_candidates", "preset_of", "lesson_pair", "lesson_pairs_on_disk",
           "parse_pair", "pair_param", "common_epoch", "lesson_line", "start_scale_limits"]

# what each side is called on the page: a demo's runs are never a "fix" (nothing was broken)
ROLE_WORDS = {"trigger": "Trigger", "fix": "Fix", "without": "Without", "with": "With"}
NUMBER_WORDS = {2: "Two", 3: "Three", 4: "Four"}
KIND_WORDS = {"lesson": "Collapse lesson", "demo": "Regularizer demo"}
_IGNORED = {"title", "device", "data_dir", "download", "sweep"}  # how and where it ran, not what it is


@dataclass
class LessonPair:
    name: str  # the lesson's (or demo's) name, e.g. "bias-terms"
    kind: str  # "lesson" or "demo"
    left: RunRecord  # the trigger, or the run without the setting
    right: RunRecord  # the fix, or the run with it
    left_preset: object | None  # the presets they were started from (None: not recognised)
    right_preset: object | None

    @property
    def roles(self) -> tuple[str, str]:
        return ("trigger", "fix") if self.kind == "lesson" else ("without", "with")

    @property
    def title(self) -> str:
        from deepad.presets import lesson_title

        return lesson_title(self.left_preset or self.right_preset, self.name)

    @property
    def differs_in(self) -> tuple[str, ...]:
        p = self.right_preset or self.left_preset
        return tuple(getattr(p, "differs_in", ()) or ())


def _comparable(config: dict) -> dict:
    from deepad.training.config import validate_config

    try:
        data = validate_config({k: v for k, v in config.items() if k not in _IGNORED}).model_dump()
    except Exception:  # noqa: BLE001 (a run whose config no longer validates matches no preset)
        return {}
    return {k: v for k, v in data.items() if k not in _IGNORED}


def preset_candidates(run: RunRecord, presets: dict) -> list:
    """The lesson or demo presets a run may have been started from, most likely first: the one whose
    title it carries and whose settings it has, then the others whose settings it has (two lessons
    may share a run's settings), then the one whose title it carries (a run started from a preset
    that has since been retuned); [] for any other run."""
    from deepad.presets import config_difference

    paired = [p for p in presets.values() if p.lesson is not None and p.role is not None]
    mine = _comparable(run.config)
    same = []
    if mine:
        for p in paired:
            theirs = _comparable(p.config)
            if theirs and not config_difference(mine, theirs):
                same.append(p)
    title = run.config.get("title")
    titled = {p.name for p in paired if title and p.title == title}
    names = {p.name for p in same}
    found = {p.name: p for p in same + [p for p in paired if p.name in titled]}
    return sorted(found.values(), key=lambda p: (not (p.name in titled and p.name in names), p.name not in names))


def preset_of(run: RunRecord, presets: dict) -> object | None:
    """The lesson or demo preset a run was most likely started from (see `preset_candidates`)."""
    found = preset_candidates(run, presets)
    return found[0] if found else None


def lesson_pair(runs: list[RunRecord], presets: dict) -> LessonPair | None:
    """Two runs as a lesson (or demo) pair in its fixed order, the trigger (or "without") on the
    left, whatever order they come in; None unless they are the two roles of one lesson or demo."""
    if len(runs) != 2:
        return None
    options = [preset_candidates(r, presets) for r in runs]
    for a in options[0]:
        for b in options[1]:
            if a.lesson == b.lesson and a.kind == b.kind and a.role != b.role:
                first_role = "trigger" if a.kind == "lesson" else "without"
                if a.role == first_role:
                    return LessonPair(a.lesson, a.kind, runs[0], runs[1], a, b)
                return LessonPair(a.lesson, a.kind, runs[1], runs[0], b, a)
    return None


def lesson_pairs_on_disk(runs: list[RunRecord], presets: dict) -> list[tuple[str, str]]:
    """For each lesson and demo with runs of both roles on disk: the newest run of each role, as
    (left id, right id); the lesson run most recently first."""
    newest: dict[tuple[str, str], dict[str, RunRecord]] = {}
    for r in runs:  # newest first (as the store lists them)
        p = preset_of(r, presets)
        if p is not None:
            newest.setdefault((p.kind, p.lesson), {}).setdefault(p.role, r)
    out = []
    for (kind, _), by_role in newest.items():
        roles = ("trigger", "fix") if kind == "lesson" else ("without", "with")
        if all(role in by_role for role in roles):
            out.append((by_role[roles[0]].run_id, by_role[roles[1]].run_id))
    return sorted(out, key=lambda ids: max(ids), reverse=True)  # run ids start with their creation time


def parse_pair(value: str | None) -> list[str]:
    """The two run ids of an address's ?pair=ID,ID (in either order); [] when it names no two."""
    ids = [i.strip() for i in str(value or "").split(",") if i.strip()]
    return ids if len(ids) == 2 and ids[0] != ids[1] else []


def pair_param(left: str, right: str) -> str:
    return f"{left},{right}"


def common_epoch(left_epochs, right_epochs) -> tuple[int | None, int | None, int | None]:
    """The latest training epoch both runs have a snapshot of, and its index in each: (epoch, i, j);
    (None, None, None) when they share none (then each is shown at its own latest)."""
    a = [int(e) for e in np.asarray(left_epochs if left_epochs is not None else [])]
    b = [int(e) for e in np.asarray(right_epochs if right_epochs is not None else [])]
    shared = sorted(set(a) & set(b))
    if not shared:
        return None, None, None
    e = shared[-1]
    return e, a.index(e), b.index(e)


def lesson_line(pair: LessonPair) -> str:
    """The explanation in one line (markdown): what differs and what to look for."""
    rows = _differences(pair)
    what = ", ".join(f"`{k}` {a} → {b}" for k, a, b in rows) if rows else "the setting named in the presets"
    if pair.kind == "lesson":
        n = len(rows) if rows else len(pair.differs_in)
        changed = "One setting changed" if n == 1 else f"{NUMBER_WORDS.get(n, n)} settings changed"
        return (f"{changed}, nothing else: {what}. Look for the trigger collapsing (left) and the fix "
                "keeping its spread and detecting better (right).")
    return (f"The same network without and with one setting: {what}. Both stay healthy; what it changes is "
            "how well anomalies are found (ROC and validation AUC below).")


def lesson_outcome(kind: str, verdicts: tuple, aucs: tuple) -> str | None:
    """What the pair shows once both runs have finished, from their own verdicts and test AUCs (left
    first): whether the lesson held on this case (`deepad.presets.lesson_holds` and the verdicts), and
    if not, why; for a demo, which run detects better. None while a test AUC is missing."""
    from deepad.presets import FIX_MIN_AUC, FIX_MIN_GAIN, lesson_holds

    if any(a is None for a in aucs):
        return None
    (v0, v1), (a0, a1) = verdicts, aucs
    if kind != "lesson":
        if abs(a1 - a0) < 0.005:
            return f"Both detect alike here (test AUC {a0:.3f} and {a1:.3f})."
        better = "with" if a1 > a0 else "without"
        return f"Here the run {better} it detects better: test AUC {a0:.3f} without, {a1:.3f} with."
    misses = []
    if v0 != "collapsed":
        misses.append(f"the trigger ended {v0 or 'without a verdict'}, not collapsed")
    if v1 != "healthy":
        misses.append(f"the fix ended {v1 or 'without a verdict'}, not healthy")
    if not lesson_holds(a0, a1):
        misses.append(f"the fix's test AUC {a1:.3f} is not at least {FIX_MIN_AUC:.2f} and {FIX_MIN_GAIN:.2f} "
                      f"above the trigger's {a0:.3f}")
    if not misses:
        return (f"It held here: the trigger collapsed (test AUC {a0:.3f}), the fix stayed healthy and "
                f"detects better ({a1:.3f}).")
    return "It did not fully hold on this case: " + "; ".join(misses) + "."


def _differences(pair: LessonPair) -> list[tuple[str, str, str]]:
    from pages.views.collapse import config_rows

    rows = config_rows(pair.left, pair.right)
    keep = set(pair.differs_in) or {r["setting"] for r in rows}
    return [(r["setting"], _word(r["left"]), _word(r["right"])) for r in rows if r["setting"] in keep]


def _word(v: str) -> str:
    return {"True": "on", "False": "off", "None": "none"}.get(v, v)


def start_scale_limits(view, i: int, sigmas: float = 3.0) -> tuple[float, float, float, float]:
    """Axes for snapshot i drawn to the scale of the run's starting spread, so that a cloud that has
    lost its spread looks small: a square of ±`sigmas` times the cloud's RMS spread at the start
    (its earliest snapshot's 2-D spread divided by that snapshot's spread ratio), around the cloud's
    mean, widened when the cloud has grown beyond it. Without spread ratios (a method the verdict does
    not apply to): the view's own limits, which cover every epoch."""
    xy = np.asarray(view.xy, dtype=np.float64)
    ratios = np.asarray(view.spread, dtype=np.float64)
    ok = [j for j in range(len(ratios)) if np.isfinite(ratios[j]) and ratios[j] > 0]
    if not view.judged or not ok:
        return tuple(view.lim)

    def rms(pts):
        return float(np.sqrt(np.mean(np.var(pts, axis=0)))) if len(pts) > 1 else 0.0

    start = rms(xy[ok[0]]) / ratios[ok[0]]
    now = rms(xy[i])
    half = sigmas * max(start, now, 1e-12)
    cx, cy = xy[i].mean(axis=0)
    return (cx - half, cx + half, cy - half, cy + half)
