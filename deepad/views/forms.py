"""Widgets generated from a detector's typed config, and reading their values back."""

from __future__ import annotations

import json
import math
import re
import typing
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldSpec", "field_label", "log_options", "field_specs", "params_from_widgets"]


@dataclass(frozen=True)
class FieldSpec:
    """How to draw one config field as a widget whose values are always valid."""

    name: str
    kind: str  # "slider" | "log" | "int" | "float" | "select" | "bool" | "text" | "json"
    label: str
    help: str
    default: Any
    lo: float | None = None  # inclusive bounds of the widget
    hi: float | None = None
    step: float | None = None
    options: tuple = ()


def _bounds(info) -> tuple[float | None, float | None, bool, bool]:
    lo = hi = None
    lo_open = hi_open = False
    for m in info.metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi, hi_open = m.lt, True
    return lo, hi, lo_open, hi_open


def field_label(name: str, description: str) -> str:
    """A widget label: "nu" described as "ν: share of ..." -> "ν (nu)"; a short cryptic name
    gets the start of its description ("lr" -> "lr (learning rate)"); else the name in words."""
    description = description or ""
    words = name.replace("_", " ")
    m = re.match(r"^(\S{1,3}):\s", description)
    if m and m.group(1) != name:
        return f"{m.group(1)} ({words})"
    head = re.split(r"[:;(]", description)[0].strip()
    if len(name) <= 3 and head and len(head) <= 30:
        return f"{words} ({head})"
    return words


def _nice_step(value: float) -> float:
    if not value or not math.isfinite(value):
        return 0.01
    mag = 10 ** math.floor(math.log10(abs(value)))
    return mag / 10 if abs(value) / mag < 2 else mag


def log_options(lo: float, hi: float, default: float | None = None) -> list[float]:
    """1-2-5 steps from lo to hi (inclusive, from 1e-6 at least), plus the default; for learning
    rates and the like."""
    lo = max(lo, 1e-6)
    out = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = float(f"{m}e{e}")
            if lo <= v <= hi:
                out.append(v)
    if default is not None and default not in out:
        out.append(float(default))
    return sorted(out)


def field_specs(config_cls) -> list[FieldSpec]:
    """One widget description per field of a pydantic config, from its type, bounds, description
    and `json_schema_extra` hints ({"widget": "slider" | "log", "step": ...})."""
    specs = []
    for name, info in config_cls.model_fields.items():  # (in the config's order)
        ann, default = info.annotation, info.default
        desc = info.description or ""
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        hint = extra.get("widget")
        lo, hi, lo_open, hi_open = _bounds(info)
        label = field_label(name, desc)
        origin = typing.get_origin(ann)
        if ann is bool:
            specs.append(FieldSpec(name, "bool", label, desc, bool(default)))
        elif origin is typing.Literal:
            specs.append(FieldSpec(name, "select", label, desc, default, options=typing.get_args(ann)))
        elif ann is int:
            step = int(extra.get("step", 1))
            wlo = None if lo is None else int(math.floor(lo)) + (1 if lo_open else 0)
            whi = None if hi is None else int(math.ceil(hi)) - (1 if hi_open else 0)
            kind = "slider" if hint == "slider" and wlo is not None and whi is not None else "int"
            specs.append(FieldSpec(name, kind, label, desc, int(default), wlo, whi, step))
        elif ann is float:
            bounded = lo is not None and hi is not None
            small = bounded and lo >= 0 and default and default < (hi - lo) / 100
            if hint == "log" or (hint is None and small):
                opts = log_options(lo if lo is not None else 1e-6, hi if hi is not None else 10.0, default)
                specs.append(FieldSpec(name, "log", label, desc, float(default), opts[0], opts[-1],
                                       options=tuple(opts)))
            elif bounded and (hint == "slider" or (lo >= 0 and hi <= 1)):
                step = float(extra.get("step", 0.01))
                wlo = float(lo + step if lo_open else lo)
                whi = float(hi - step if hi_open else hi)
                specs.append(FieldSpec(name, "slider", label, desc, float(default), wlo, whi, step))
            else:
                step = float(extra.get("step", _nice_step(default)))
                wlo = None if lo is None else float(lo + min(step, 1e-9) if lo_open else lo)
                whi = None if hi is None else float(hi - min(step, 1e-9) if hi_open else hi)
                specs.append(FieldSpec(name, "float", label, desc, float(default), wlo, whi, step))
        elif ann is str:
            specs.append(FieldSpec(name, "text", label, desc, default))
        else:  # lists, optionals, anything else: JSON text checked by the config itself
            specs.append(FieldSpec(name, "json", label, desc + " (JSON)", json.dumps(default)))
    return specs


def params_from_widgets(config_cls, values: dict[str, Any]) -> tuple[dict | None, str | None]:
    """Widget values -> validated params dict, or (None, message) naming what is wrong."""
    from pydantic import ValidationError

    from deepad.training.config import format_validation_error

    params = {}
    for spec in field_specs(config_cls):
        if spec.name not in values:
            continue
        v = values[spec.name]
        if spec.kind == "json":
            try:
                v = json.loads(v)
            except (TypeError, json.JSONDecodeError):
                return None, f"{spec.name}: {v!r} is not valid JSON"
        params[spec.name] = v
    try:
        return config_cls(**params).model_dump(), None
    except ValidationError as err:
        return None, format_validation_error(err)
