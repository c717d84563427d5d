"""What a detector's config fields declare about themselves beyond type and bounds, read in one
place for the Train form, the Explore page, the CLI and the sweeps: the form group a setting goes
in, whether a lesson varies it (shown first), and when it matters at all.

A field declares these in `json_schema_extra` (torch-free, in its detector's folder):

- `"group"`: one of `GROUPS` (left out: "method");
- `"lesson": True`: one of the few settings a lesson varies;
- `"when": {other: [values]}` or `{other: {"not": [values]}}`: the setting matters only while
  every named setting (or set-up fact, see `setup_facts`) has one of the values (or none of them);
- `"why"`: the reason shown while it cannot matter (else one made from the rule);
- `"what"`: what the setting is, in words, for the sweeps' refusal ("the noise regularizer's
  number of random labels"); `"noun"`: how other settings' messages name it ("regularizer").

This is the ONE rule set: the form greys a setting out with `inactive_reason`, and a sweep (the
CLI's `--grid`, Explore's axes) refuses an axis that cannot change any trial with `irrelevant`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

GROUPS = {  # the form's groups of a method's settings, in this order
    "network": "Network", "objective": "Objective", "regularizer": "Collapse regularizer",
    "optimisation": "Optimisation", "method": "Method",
}


@dataclass(frozen=True)
class Setting:
    """What one config field declares about itself (see the module docstring)."""

    name: str
    group: str = "method"
    lesson: bool = False
    when: tuple = ()  # ((other, ("in" | "not", values)), ...)
    why: str = ""
    what: str = ""
    noun: str = ""

    @property
    def words(self) -> str:
        """How messages about other settings name this one."""
        return self.noun or self.name.replace("_", " ")


def _rule(value) -> tuple:
    """A `when` rule as ("in", values) or ("not", values)."""
    if isinstance(value, dict):
        return ("not", tuple(value["not"]))
    return ("in", tuple(value) if isinstance(value, (list, tuple)) else (value,))


def setting(config_cls, name: str) -> Setting:
    """The declarations of field `name` of `config_cls`; a group not in `GROUPS` is a ValueError."""
    info = config_cls.model_fields[name]
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    group = extra.get("group") or "method"
    if group not in GROUPS:
        raise ValueError(f"{name}: group {group!r} is not one of {', '.join(GROUPS)}")
    when = tuple((k, _rule(v)) for k, v in (extra.get("when") or {}).items())
    return Setting(name, group, bool(extra.get("lesson", False)), when, str(extra.get("why", "")),
                   str(extra.get("what", "")), str(extra.get("noun", "")))


def settings(config_cls) -> dict[str, Setting]:
    """Every field's declarations, in the config's order."""
    return {name: setting(config_cls, name) for name in config_cls.model_fields}


def setup_facts(setup: Mapping[str, Any] | Any | None) -> dict[str, Any]:
    """The set-up facts a `when` rule may name: "labelled", whether the set-up gives any labelled
    samples (known anomalies or labelled normals)."""
    if setup is None:
        return {}
    get = setup.get if isinstance(setup, Mapping) else (lambda k, d=None: getattr(setup, k, d))
    return {"labelled": bool(get("known_anomalies", 0) or get("known_normals", 0))}


def unmet(when: tuple, values: Mapping[str, Any]) -> tuple[str, str, tuple, Any] | None:
    """The first rule of `when` that `values` break, as (other, op, values, its value); None when
    every rule naming a known value holds (a rule on a value not given is not judged)."""
    for other, (op, allowed) in when:
        if other not in values:
            continue
        if (values[other] in allowed) != (op == "in"):
            return other, op, allowed, values[other]
    return None


def _show(v: Any) -> str:
    return {True: "on", False: "off"}.get(v, str(v)) if isinstance(v, bool) else str(v)


def inactive_reason(s: Setting, values: Mapping[str, Any]) -> str | None:
    """Why a setting cannot matter for the other values of the form, or None when it matters (the
    form's words: "only used when reg is noise")."""
    broken = unmet(s.when, values)
    if broken is None:
        return None
    if s.why:
        return s.why
    other, op, allowed, _ = broken
    shown = " or ".join(_show(v) for v in allowed)
    return f"only used when {other} is {'not ' if op == 'not' else ''}{shown}"


def irrelevant(config_cls, name: str, params: Mapping[str, Any] | None,
               facts: Mapping[str, Any] | None = None) -> str | None:
    """Why a sweep over `name` cannot change anything with these base settings (the rest of the
    config at its defaults), or None. `facts`: the set-up's (`setup_facts`), when known."""
    if name not in config_cls.model_fields:
        return None
    every = settings(config_cls)
    s = every[name]
    values = {k: f.default for k, f in config_cls.model_fields.items()}
    values.update(params or {})
    values.update(facts or {})
    broken = unmet(s.when, values)
    if broken is None:
        return None
    other, op, allowed, value = broken
    words = every[other].words if other in every else other.replace("_", " ")
    if other not in config_cls.model_fields:  # a set-up fact
        return f"{name} does nothing here: {s.why or _when_words(words, op, allowed)}; vary something else"
    what = f"{name} is {s.what}" if s.what else f"{name} matters only when {_when_words(words, op, allowed)}"
    wanted = (" or ".join(repr(v) for v in allowed) if op == "in"
              else "anything but " + " or ".join(repr(v) for v in allowed))
    return (f"{what}; with {words} {value!r} it does nothing: set the base run's {words} to {wanted} "
            "or vary something else")


def _when_words(words: str, op: str, allowed: tuple) -> str:
    return f"{words} is {'not ' if op == 'not' else ''}{' or '.join(_show(v) for v in allowed)}"
