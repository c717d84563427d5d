"""Name -> detector class. The CLI, tests and dashboard list detectors from here, no special cases."""

from __future__ import annotations

from deepad.errors import DeepADError

_REGISTRY: dict[str, type] = {}


def register(cls):
    """Class decorator: `@register` on a Detector subclass makes it available by `cls.name`."""
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise RuntimeError(f"two detectors named {cls.name!r}")
    _REGISTRY[cls.name] = cls
    return cls


def _load_all() -> None:
    import deepad.detectors  # noqa: F401  (its __init__ imports every detector module)


def get(name: str):
    _load_all()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise DeepADError(f"unknown method {name!r}; choose one of: {', '.join(names())}") from None


def names() -> list[str]:
    _load_all()
    return list(_REGISTRY)


def all_detectors() -> dict[str, type]:
    _load_all()
    return dict(_REGISTRY)
