"""The one small interface every detector follows, deep or shallow.

In the spirit of scikit-learn's estimators: a detector is built from a validated config, `fit`
learns from a training part of a split, `score` returns anomaly scores (higher = more anomalous)
and `embed` returns the representation the method decides in. The dashboard, the CLI and the
tests only ever use these calls.
"""

from __future__ import annotations

import pickle  # only for its error type: nothing is ever unpickled
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, BinaryIO, Callable, ClassVar, Optional

import numpy as np
import torch
from pydantic import ValidationError

from deepad.data.parts import Part
from deepad.detectors.spec import DetectorConfig, DetectorSpec
from deepad.errors import DeepADError
from deepad.validation import format_validation_error

__all__ = ["Cancelled", "Detector", "DetectorConfig", "EpochCallback", "StopFlag"]

# on_epoch(metrics, snapshot): metrics is a flat dict of numbers (see README "Epoch records"),
# snapshot an optional (n_probe, d) embedding of a fixed probe set, for watching collapse happen.
EpochCallback = Callable[[dict, Optional[np.ndarray]], None]
StopFlag = Callable[[], bool]


MODEL_FORMAT = "deepad-model-1"
_NUMPY = "__numpy__"


def _to_plain(obj):
    """numpy arrays become tensors (marked, to come back as arrays), so the file holds only what
    torch.load(weights_only=True) accepts."""
    if isinstance(obj, np.ndarray):
        return {_NUMPY: torch.from_numpy(np.ascontiguousarray(obj))}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, dict):
        return type(obj)((k, _to_plain(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_plain(v) for v in obj)
    return obj


def _from_plain(obj):
    if isinstance(obj, dict):
        if set(obj) == {_NUMPY} and isinstance(obj[_NUMPY], torch.Tensor):
            return obj[_NUMPY].cpu().numpy()
        return type(obj)((k, _from_plain(v)) for k, v in obj.items())
    if isinstance(obj, (list, tuple)):
        return type(obj)(_from_plain(v) for v in obj)
    return obj


class Cancelled(Exception):
    """Raised inside `fit` when the stop flag is set; the run ends as "cancelled"."""


class Detector(ABC):
    """An implementation class names its folder's declaration with `spec = SPEC`; its name, title,
    summary, Config and requirements are read from there."""

    spec: ClassVar[DetectorSpec]
    name: ClassVar[str]  # registry key, CLI `--method`
    title: ClassVar[str]  # human-readable name for the dashboard
    summary: ClassVar[str] = ""  # one line shown next to the method picker
    Config: ClassVar[type[DetectorConfig]]
    needs_known_anomalies: ClassVar[bool] = False  # refuses to fit without labelled anomalies

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        spec = cls.__dict__.get("spec")
        if spec is not None:
            cls.name, cls.title, cls.summary, cls.Config = spec.name, spec.title, spec.summary, spec.Config
            cls.needs_known_anomalies = spec.needs_known_anomalies

    @classmethod
    def preferred_preprocess(cls, kind: str) -> str | None:
        """Preprocessing this method wants for data of `kind` ("image", "tabular", "toy") when the
        set-up says "auto"; None leaves the default (GCN for images, standardize otherwise)."""
        return cls.spec.preferred_preprocess(kind)

    def __init__(self, config: DetectorConfig | dict | None = None, *, device: str = "cpu", seed: int = 0):
        try:
            if config is None:
                config = self.Config()
            elif isinstance(config, dict):
                config = self.Config(**config)
        except ValidationError as err:
            raise DeepADError(f"method {self.name}: " + format_validation_error(err, model=self.Config)) from None
        self.config = config
        self.device = torch.device(device)
        self.seed = int(seed)
        # Geometry in embedding space where the method has one (Deep SVDD: c and R).
        self.center: np.ndarray | None = None
        self.radius: float | None = None
        self._threshold: float | None = None

    # -- the interface ----------------------------------------------------------------------
    @abstractmethod
    def fit(self, train: Part, val: Part | None = None, on_epoch: EpochCallback | None = None,
            should_stop: StopFlag | None = None) -> "Detector":
        """Learn from `train` (only `train.x` and `train.known_label` may be used: ground truth stays
        hidden). `val`, when given with labels, is used for the validation AUC in the records."""

    @abstractmethod
    def score(self, x: np.ndarray) -> np.ndarray:
        """Anomaly scores, shape (n,), higher = more anomalous."""

    @abstractmethod
    def embed(self, x: np.ndarray) -> np.ndarray:
        """The representation the method decides in, shape (n, d)."""

    @property
    def threshold(self) -> float | None:
        """The method's own decision threshold on `score` (e.g. R² for soft-boundary Deep SVDD,
        else the 95th percentile of the training scores), set by `fit`."""
        return self._threshold

    # -- persistence --------------------------------------------------------------------------
    @abstractmethod
    def state(self) -> dict[str, Any]:
        """Everything needed to score again: tensors, arrays and plain numbers only."""

    @abstractmethod
    def load_state(self, state: dict[str, Any]) -> None:
        ...

    def save(self, file: str | Path | BinaryIO) -> None:
        """Write the trained detector: tensors, arrays and plain data in a torch file, which
        `load` reads without unpickling anything (torch.load(weights_only=True))."""
        blob = {"format": MODEL_FORMAT, "name": self.name, "config": self.config.model_dump(),
                "seed": self.seed, "center": self.center, "radius": self.radius,
                "threshold": self._threshold, "state": self.state()}
        torch.save(_to_plain(blob), file)

    @classmethod
    def load(cls, file: str | Path | BinaryIO, device: str = "cpu") -> "Detector":
        """A detector saved by `save`. DeepADError for anything else: the file is read with
        torch.load(weights_only=True), which refuses every pickled object but tensors and plain
        data, so loading a crafted file never runs its code."""
        try:
            blob = torch.load(file, map_location=device, weights_only=True)
        except Exception as exc:  # noqa: BLE001  (an UnpicklingError, a zip error, a cut-short file)
            detail = ("it holds Python objects other than tensors and plain data"
                      if isinstance(exc, pickle.UnpicklingError)
                      else (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160])
            raise DeepADError(f"not a model file deepad wrote, refused without running anything in it "
                              f"({detail})") from None
        if not isinstance(blob, dict) or blob.get("format") != MODEL_FORMAT or blob.get("name") != cls.name:
            found = blob.get("name") if isinstance(blob, dict) else type(blob).__name__
            raise DeepADError(f"not a {cls.name} model saved by this version of deepad (found {found!r}); "
                              "train the run again")
        blob = _from_plain(blob)
        try:
            det = cls(blob["config"], device=device, seed=blob["seed"])
            det.load_state(blob["state"])
            det.center, det.radius, det._threshold = blob["center"], blob["radius"], blob["threshold"]
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            raise DeepADError(f"the {cls.name} model file does not fit its detector ({type(exc).__name__}: "
                              f"{str(exc)[:160]})") from None
        return det

    # -- helpers shared by implementations -----------------------------------------------------
    def _require_known_anomalies(self, train: Part) -> None:
        if self.needs_known_anomalies and not np.any(train.known_label == -1):
            raise DeepADError(
                f"method {self.name} needs labelled anomalies in training, but the set-up has none: "
                "set known anomalies to at least 1 (CLI: --known-anomalies N)")

    @staticmethod
    def _check_stop(should_stop: StopFlag | None) -> None:
        if should_stop is not None and should_stop():
            raise Cancelled()

