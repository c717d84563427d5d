"""The detectors, found by walking the folders of `deepad/detectors/`.

Each subpackage whose name does not start with "_" is one detector and declares a module-level
`SPEC` (a `DetectorSpec`) in its `__init__.py`. Listing the specs imports only those `__init__`
files (pydantic configs, no PyTorch), so the CLI's light commands, the dashboard's forms and the
config validation stay fast; `get(name)` imports the implementation class.

Detector folders kept elsewhere join through `$DEEPAD_DETECTORS_PATH` (folders holding detector
folders, separated by the path separator; training processes inherit it) or `add_folder`, which
put them on `deepad.detectors`' search path (`deepad.detectors.<folder>`, as if they were beside
the others).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import threading
from pathlib import Path

from deepad.detectors.spec import DetectorSpec
from deepad.errors import DeepADError

DEFAULT_METHOD = "deep-svdd"  # the method a run config, a form or a command line starts from
PATH_VARIABLE = "DEEPAD_DETECTORS_PATH"

_SPECS: dict[str, DetectorSpec] | None = None
_LOCK = threading.Lock()


_OWN_PATH: list[str] = []  # deepad.detectors' own folder(s), as the import system set them
_ADDED: list[str] = []  # folders given to add_folder


def _search_path() -> list[str]:
    """Set deepad.detectors' search path: its own folder, those of $DEEPAD_DETECTORS_PATH, then
    those given to `add_folder`."""
    import deepad.detectors as package

    if not _OWN_PATH:
        _OWN_PATH.extend(package.__path__)
    extra = [str(Path(f).resolve()) for f in os.environ.get(PATH_VARIABLE, "").split(os.pathsep) if f]
    package.__path__[:] = list(dict.fromkeys([*_OWN_PATH, *extra, *_ADDED]))
    return list(package.__path__)


def add_folder(folder: str | os.PathLike) -> None:
    """Find detectors in `folder` too (a folder holding detector folders), from now on (in this
    process; `$DEEPAD_DETECTORS_PATH` reaches the training processes too)."""
    path = str(Path(folder).resolve())
    if path not in _ADDED:
        _ADDED.append(path)
    refresh()


def remove_folder(folder: str | os.PathLike) -> None:
    """Stop finding detectors in a folder given to `add_folder`."""
    path = str(Path(folder).resolve())
    if path in _ADDED:
        _ADDED.remove(path)
    refresh()


def refresh() -> None:
    """Forget the detectors found so far: the next look walks the folders again (after a change of
    `$DEEPAD_DETECTORS_PATH`, say)."""
    global _SPECS
    with _LOCK:
        _SPECS = None


def default_method() -> str:
    """`DEFAULT_METHOD`, or the first detector in display order where it is not installed."""
    found = specs()
    return DEFAULT_METHOD if DEFAULT_METHOD in found else next(iter(found))


def _discover() -> dict[str, DetectorSpec]:
    import deepad.detectors as package

    found: dict[str, DetectorSpec] = {}
    for info in pkgutil.iter_modules(_search_path()):
        if not info.ispkg or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        spec = getattr(module, "SPEC", None)
        if not isinstance(spec, DetectorSpec):
            raise RuntimeError(f"detector folder {module.__name__} declares no SPEC = DetectorSpec(...) "
                               "in its __init__.py")
        if spec.name in found:
            raise RuntimeError(f"two detectors named {spec.name!r} ({found[spec.name].folder} and {spec.folder})")
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
