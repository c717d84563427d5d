"""Grid axes from ranges (min, max, steps, linear or log), the slider ticks a setting offers, and
which axes cannot matter for a base run's settings (by the rules the detector declares). Light:
no torch, no Ray."""

from __future__ import annotations

import math

import annotated_types

SCALES = ("linear", "log")
MAX_STEPS = 12


def bounds(config_cls, name: str) -> tuple[float | None, bool, float | None, bool]:
    """(low, low included, high, high included) from a numeric field's constraints."""
    lo = hi = None
    lo_in = hi_in = True
    for m in config_cls.model_fields[name].metadata:
        if isinstance(m, annotated_types.Gt):
            lo, lo_in = m.gt, False
        elif isinstance(m, annotated_types.Ge):
            lo, lo_in = m.ge, True
        elif isinstance(m, annotated_types.Lt):
            hi, hi_in = m.lt, False
        elif isinstance(m, annotated_types.Le):
            hi, hi_in = m.le, True
    return lo, lo_in, hi, hi_in


def _allowed(v: float, b) -> bool:
    lo, lo_in, hi, hi_in = b
    return ((lo is None or v > lo or (lo_in and v == lo)) and (hi is None or v < hi or (hi_in and v == hi)))


def is_integer(config_cls, name: str) -> bool:
    return config_cls.model_fields[name].annotation is int


def default_scale(config_cls, name: str) -> str:
    """log for settings that span decades (learning rates, counts such as k), else linear."""
    extra = config_cls.model_fields[name].json_schema_extra or {}
    if isinstance(extra, dict) and extra.get("widget") == "log":
        return "log"
    return "log" if is_integer(config_cls, name) else "linear"


def ticks(config_cls, name: str) -> list:
    """The values a range slider offers for a setting, inside its allowed interval: 1-2-5 per
    decade for log settings, 1-2-3-5-7 per decade for counts, steps of 0.05 (and 0.01, 0.02 near
    0) for settings in [0, 1]."""
    b = bounds(config_cls, name)
    if is_integer(config_cls, name):
        hi = int(b[2]) if b[2] is not None else 1000
        cands = sorted({m * 10 ** e for e in range(0, 5) for m in (1, 2, 3, 5, 7)} | {hi})
        return [c for c in cands if c <= hi and _allowed(c, b)]
    if default_scale(config_cls, name) == "log":
        cands = [float(f"{m}e{e}") for e in range(-7, 1) for m in (1, 2, 5)]
        return [c for c in cands if _allowed(c, b)]
    if b[0] is not None and b[2] is not None and b[2] <= 1:
        cands = [0.0, 0.01, 0.02] + [round(0.05 * i, 2) for i in range(1, 21)]
        return [c for c in cands if _allowed(c, b)]
    default = config_cls.model_fields[name].default
    return [v for v in (default / 10, default / 2, default, default * 2, default * 10) if _allowed(v, b)]


def range_values(lo: float, hi: float, steps: int, scale: str, integer: bool = False) -> tuple[list, str | None]:
    """`steps` values from lo to hi (both included), evenly spaced on a linear or log scale;
    whole numbers for integer settings (repeats merged), 3 significant digits otherwise."""
    if scale not in SCALES:
        return [], f"scale {scale!r}: choose linear or log"
    if not 1 <= steps <= MAX_STEPS:
        return [], f"steps={steps}: choose 1 to {MAX_STEPS}"
    if hi < lo:
        lo, hi = hi, lo
    if steps == 1 or lo == hi:
        vals = [lo]
    elif scale == "log":
        if lo <= 0:
            return [], f"a log scale needs a minimum above 0 (got {lo:g}); use linear or raise the minimum"
        r = math.log(hi / lo)
        vals = [lo * math.exp(r * i / (steps - 1)) for i in range(steps)]
    else:
        vals = [lo + (hi - lo) * i / (steps - 1) for i in range(steps)]
    out = [int(round(v)) if integer else float(f"{v:.3g}") for v in vals]
    return list(dict.fromkeys(out)), None


def irrelevant(config_cls, name: str, params: dict, facts: dict | None = None) -> str | None:
    """Why a grid over `name` cannot change anything with these base settings, or None: the
    `when` rules its detector declares on the field, the same the Train form greys settings out
    by (`deepad.detectors.settings`)."""
    from deepad.detectors.settings import irrelevant as cannot_matter

    return cannot_matter(config_cls, name, params, facts)
