"""Widgets generated from a detector's typed config, and reading their values back."""

from __future__ import annotations

import json
import math
import re
import typing
from dataclasses import dataclass
from typing import Any

from deepad.detectors.settings import GROUPS as FORM_GROUPS
from deepad.detectors.settings import Setting, setting
from deepad.detectors.settings import inactive_reason as _inactive_reason

__all__ = ["FieldSpec", "FORM_GROUPS", "field_label", "log_options", "field_specs",
           "inactive_reason", "field_errors", "params_from_widgets"]


@dataclass(frozen=True)
class FieldSpec:
    """How to draw one config field as a widget, where it goes in the form and when it matters."""

    name: str
    kind: str  # "slider" | "log" | "int" | "float" | "select" | "bool" | "text" | "json"
    label: str
    help: str
    default: Any
    lo: float | None = None  # inclusive bounds of the widget
    hi: float | None = None
    step: float | None = None
    options: tuple = ()
    group: str = "method"  # one of FORM_GROUPS
    lesson: bool = False  # one of the few settings a lesson varies: shown first, not under "advanced"
    when: tuple = ()  # ((name, rule), ...): the setting matters only when every rule holds
    why: str = ""  # declared reason shown while the setting cannot matter
    allowed: str = ""  # what the config accepts, e.g. "a whole number in [1, 10000]"


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
    """One widget description per field of a pydantic config, from its title (else its name in
    words), type, bounds, description and `json_schema_extra` hints: {"widget": "slider" | "log" | "number" (a typed number, bounded or not), "step": ..., "group": one of
    FORM_GROUPS, "lesson": True, "when": {other field: [values it must have] or {"not": [...]}},
    "why": "..."} (see `inactive_reason`)."""
    from deepad.validation import allowed_range

    specs = []
    for name, info in config_cls.model_fields.items():  # (in the config's order)
        specs.append(_decorate(_field_spec(name, info), setting(config_cls, name), allowed_range(config_cls, (name,))))
    return specs


def _decorate(spec: FieldSpec, declared: Setting, interval: str | None) -> FieldSpec:
    """Add the form's grouping, dependencies (as the detector declares them, see
    `deepad.detectors.settings`) and the allowed values to a widget description."""
    import dataclasses

    kind = ("a whole number" if isinstance(spec.default, int) and not isinstance(spec.default, bool)
            else "a number") if spec.kind in ("int", "slider", "float", "log") else None
    allowed = f"{kind} in {interval}" if kind and interval else (kind or "")
    return dataclasses.replace(spec, group=declared.group, lesson=declared.lesson, when=declared.when,
                               why=declared.why, allowed=allowed)


def _field_spec(name: str, info) -> FieldSpec:
    """How one field is drawn: from its type, bounds and widget hints."""
    ann, default = info.annotation, info.get_default(call_default_factory=True)
    desc = info.description or ""
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    hint = extra.get("widget")
    lo, hi, lo_open, hi_open = _bounds(info)
    label = info.title or field_label(name, desc)  # a field may name itself for the form
    origin = typing.get_origin(ann)
    if ann is bool:
        return FieldSpec(name, "bool", label, desc, bool(default))
    if origin is typing.Literal:
        return FieldSpec(name, "select", label, desc, default, options=typing.get_args(ann))
    if ann is int:
        step = int(extra.get("step", 1))
        wlo = None if lo is None else int(math.floor(lo)) + (1 if lo_open else 0)
        whi = None if hi is None else int(math.ceil(hi)) - (1 if hi_open else 0)
        kind = "slider" if hint == "slider" and wlo is not None and whi is not None else "int"
        return FieldSpec(name, kind, label, desc, int(default), wlo, whi, step)
    if ann is float:
        bounded = lo is not None and hi is not None
        small = bounded and lo >= 0 and default and default < (hi - lo) / 100
        if hint == "log" or (hint is None and small):
            opts = log_options(lo if lo is not None else 1e-6, hi if hi is not None else 10.0, default)
            return FieldSpec(name, "log", label, desc, float(default), opts[0], opts[-1], options=tuple(opts))
        if bounded and hint != "number" and (hint == "slider" or (lo >= 0 and hi <= 1)):
            step = float(extra.get("step", 0.01))
            wlo = float(lo + step if lo_open else lo)
            whi = float(hi - step if hi_open else hi)
            return FieldSpec(name, "slider", label, desc, float(default), wlo, whi, step)
        step = float(extra.get("step", _nice_step(default)))
        wlo = None if lo is None else float(lo + min(step, 1e-9) if lo_open else lo)
        whi = None if hi is None else float(hi - min(step, 1e-9) if hi_open else hi)
        return FieldSpec(name, "float", label, desc, float(default), wlo, whi, step)
    if ann is str:
        return FieldSpec(name, "text", label, desc, default)
    # lists, optionals, anything else: JSON text checked by the config itself
    return FieldSpec(name, "json", label, desc + " (JSON)", json.dumps(default))


def inactive_reason(spec: FieldSpec, values: dict[str, Any]) -> str | None:
    """Why a setting cannot matter for the other values of the form (its declared `when` rules),
    or None when it matters. `values` holds the other fields' values and the set-up's facts
    (`deepad.detectors.settings.setup_facts`: "labelled", whether the set-up gives any labelled
    samples)."""
    return _inactive_reason(Setting(spec.name, when=spec.when, why=spec.why), values)


def field_errors(config_cls, values: dict[str, Any]) -> tuple[dict | None, dict[str, str]]:
    """Widget values -> (validated params, {}) or (None, {field: message}); a message names the
    field, the value and what is allowed, in the words of the command line (`format_validation_error`
    on the method's config); rules across fields come under "" (the config's own message)."""
    from pydantic import ValidationError

    from deepad.validation import format_validation_error

    params, errors = {}, {}
    for spec in field_specs(config_cls):
        if spec.name not in values:
            continue
        v = values[spec.name]
        if v is None or (isinstance(v, str) and not v.strip() and spec.kind != "text"):
            errors[spec.name] = f"{spec.name} is empty: give {spec.allowed or 'a value'}"
            continue
        if spec.kind == "json":
            try:
                v = json.loads(v)
            except (TypeError, json.JSONDecodeError):
                errors[spec.name] = f"{spec.name}={v}: not valid JSON"
                continue
        params[spec.name] = v
    try:
        cfg = config_cls(**params)
    except ValidationError as err:
        for e in err.errors():
            name = str(e["loc"][0]) if e["loc"] else ""
            one = ValidationError.from_exception_data(err.title, [e])
            errors.setdefault(name if name in config_cls.model_fields else "",
                              format_validation_error(one, model=config_cls))
        return None, errors
    if errors:
        return None, errors
    return cfg.model_dump(), {}


def params_from_widgets(config_cls, values: dict[str, Any]) -> tuple[dict | None, str | None]:
    """Widget values -> validated params dict, or (None, message) naming what is wrong."""
    params, errors = field_errors(config_cls, values)
    return params, ("; ".join(errors.values()) if errors else None)
