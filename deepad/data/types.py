"""The two records every data source produces: a loaded dataset, and a catalog entry saying how
to load one (the built-in catalog in `datasets`, a user's file in `uploads`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Dataset:
    name: str
    x: np.ndarray
    y: np.ndarray
    classes: list[str]
    kind: str  # "image" | "tabular" | "toy"
    feature_names: list[str] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    title: str
    kind: str
    embedded: bool
    default_normal: tuple[int, ...]
    description: str
    loader: Callable[..., Dataset]
