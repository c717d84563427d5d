"""Turning pydantic's validation errors into one line a user can act on (torch-free)."""

from __future__ import annotations

import annotated_types
from pydantic import BaseModel, ValidationError


def _bound(v) -> str:
    return str(v) if isinstance(v, int) else f"{v:g}"


def allowed_range(model: type[BaseModel] | None, loc: tuple) -> str | None:
    """The interval a numeric field of `model` (nested fields by their path `loc`) accepts, as
    "(0, 1]" from its gt / ge / lt / le constraints; None when the field has no bound."""
    field = None
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        field = model.model_fields[part]
        model = field.annotation
    if field is None:
        return None
    lo = hi = None
    for m in field.metadata:
        if isinstance(m, annotated_types.Gt):
            lo = f"({_bound(m.gt)}"
        elif isinstance(m, annotated_types.Ge):
            lo = f"[{_bound(m.ge)}"
        elif isinstance(m, annotated_types.Lt):
            hi = f"{_bound(m.lt)})"
        elif isinstance(m, annotated_types.Le):
            hi = f"{_bound(m.le)}]"
    if lo is None and hi is None:
        return None
    return f"{lo or '(-inf'}, {hi or 'inf)'}"


_BOUND_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def format_validation_error(err: ValidationError, prefix: str = "",
                            model: type[BaseModel] | None = None) -> str:
    """One line per problem: `name=value: what is allowed` (a bound broken on a field of `model`
    names the whole interval, e.g. "nu=1.5: allowed values are in (0, 1]")."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"] if p != "__root__")
        name = (prefix + loc) if loc else prefix.rstrip(".")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            lines.append(f"{name}: not a parameter of this method")
        elif e["type"] == "value_error" or not loc:
            lines.append(msg)
        else:
            value = e.get('input')
            interval = allowed_range(model, e["loc"]) if e["type"] in _BOUND_ERRORS else None
            what = f"allowed values are in {interval}" if interval else msg.lower()
            lines.append(f"{name}={value if isinstance(value, str) else repr(value)}: {what}")
    return "; ".join(lines)
