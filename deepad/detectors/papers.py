"""A paper's headline comparison, declared in the folder of the paper's method (`paper.py`, with a
module-level `PLAN`): the rows of its table (`Arm`: a method and its settings), the set-up they
share and the direction the paper claims. `python -m deepad reproduce` (deepad/reproduce.py) trains
the arms and builds the table; this module only declares and finds them, without PyTorch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Arm:
    """One row of a paper's table: a method and its settings on the paper's set-up."""

    row: str
    method: str
    params: dict = field(default_factory=dict)
    setup: dict = field(default_factory=dict)  # on top of the paper's set-up
    paper: Any = None  # the paper's value: a number (AUC as a fraction), a function of the classes, or text
    beats: tuple[str, ...] = ()  # rows the paper says this one beats


@dataclass(frozen=True)
class PaperPlan:
    key: str  # what `reproduce` takes and the runs record ("000" ... "004", the papers' files' numbers)
    authors: str  # the first author, as the text names the paper: "Chong et al."
    method: str  # the paper's method, also accepted by `reproduce`
    title: str
    setup: dict  # the set-up every arm shares; `normal` is replaced per class unless `fixed_normal`
    arms: tuple[Arm, ...]
    classes: tuple[int, ...] = tuple(range(10))
    fixed_normal: bool = False  # the set-up names its own normal classes (--classes does not apply)
    note: str = ""
    # rows made from other rows' runs: per (class, seed), the candidate row whose run has the highest
    # validation AUC (name -> (candidate rows, the paper's value, rows it beats)); no run of its own
    chosen: tuple[tuple[str, tuple[str, ...], Any, tuple[str, ...]], ...] = ()


def plans() -> dict[str, PaperPlan]:
    """Every declared comparison by its key, in the registry's order: the `PLAN` of each detector
    folder that has a `paper.py` (a copied folder's plan under a key already taken is left out)."""
    from deepad.detectors import registry

    found: dict[str, PaperPlan] = {}
    for spec in registry.specs().values():
        if (spec.folder / "paper.py").is_file():
            plan = importlib.import_module(f"{spec.package}.paper").PLAN
            found.setdefault(plan.key, plan)
    return dict(sorted(found.items()))
