"""The detectors, found by walking the folders of `deepad/detectors/`.

Each subpackage whose name does not start with "_" is one detector and declares a module-level
`SPEC` (a `DetectorSpec`) in its `__init__.py`. Listing the specs imports only those `__init__`
files (pydantic configs, no PyTorch), so the CLI's light commands, the dashboard's forms and the
config validation stay fast; `get(name)` imports the implementation class.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading

from deepad.detectors.spec import DetectorSpec
from deepad.errors import DeepADError

_SPECS: dict[str, DetectorSpec] | None = None
_LOCK = threading.Lock()


def _discover() -> dict[str, DetectorSpec]:
    import deepad.detectors as package

    found: dict[str, DetectorSpec] = {}
    for info in pkgutil.iter_modules(package.__path__):
        if not info.ispkg or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, DetectorSpec):
            raise RuntimeError(f"detector folder {module.__name__} declares no SPEC = DetectorSpec(...) "
                               "in its __init__.py")
        if spec.name in found:
            raise RuntimeError(f"two detectors named {spec.name!r}")
        found[spec.name] = spec
    return dict(sorted(found.items(), key=lambda kv: (kv[1].order, kv[0])))


def specs() -> dict[str, DetectorSpec]:
    """Every detector's declaration, name -> spec, in display order (no PyTorch import)."""
    global _SPECS
    if _SPECS is None:
        with _LOCK:
            if _SPECS is None:
                _SPECS = _discover()
    return dict(_SPECS)


def names() -> list[str]:
    return list(specs())


def spec(name: str) -> DetectorSpec:
    """The declaration of detector `name`; an unknown name is a DeepADError listing the known ones."""
    found = specs()
    if name not in found:
        raise DeepADError(f"unknown method {name!r}; choose one of: {', '.join(found)}")
    return found[name]


def get(name: str) -> type:
    """The implementation class of detector `name` (imports PyTorch)."""
    return spec(name).load()


def all_detectors() -> dict[str, type]:
    """name -> implementation class, for every detector (imports PyTorch)."""
    return {name: s.load() for name, s in specs().items()}
