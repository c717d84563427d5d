"""The typed records of a run's files: the run states, status.json, what a reader needs of
config.json and split.json, one history line, and `DamagedFile`, raised for a file that exists but
cannot be used. Also who owns a live run (the process that writes it) and whether it still lives."""

from __future__ import annotations

import math
import os
import socket
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from deepad.errors import DeepADError


STATES = ("queued", "running", "finished", "failed", "cancelled", "interrupted")
LIVE_STATES = ("queued", "running")
DAMAGED = "damaged"
INTERRUPTED_ERROR = "the process running it stopped before it finished"


class DamagedFile(DeepADError):
    """A run file that exists but cannot be used: `file` is its name, `reason` what is wrong."""

    def __init__(self, file: str, reason: str):
        super().__init__(f"{file}: {reason}")
        self.file, self.reason = file, reason


class Owner(BaseModel):
    model_config = ConfigDict(extra="allow")
    pid: Optional[int] = None
    host: Optional[str] = None
    token: Optional[str] = None


class Summary(BaseModel):
    """status.json's summary: the run's measures, each of its type (other fields are kept)."""

    model_config = ConfigDict(extra="allow")
    auc: Optional[float] = None
    ap: Optional[float] = None
    ap_normal: Optional[float] = None
    f1: Optional[float] = None
    precision: Optional[float] = None
    recall: Optional[float] = None
    threshold: Optional[float] = None
    radius: Optional[float] = None
    test_anomaly_share: Optional[float] = None
    spread_ratio: Optional[float] = None
    eff_rank: Optional[float] = None
    n_test: Optional[int] = None
    n_test_anomalies: Optional[int] = None
    n_train: Optional[int] = None
    const_dims: Optional[int] = None
    collapsed: Optional[bool] = None
    verdict: Optional[str] = None


class Status(BaseModel):
    """status.json. Fields beyond these are kept as they are."""

    model_config = ConfigDict(extra="allow")
    state: Literal[STATES]
    epoch: Optional[int] = None
    phase: Optional[str] = None
    created: Optional[float] = None
    started: Optional[float] = None
    ended: Optional[float] = None
    updated: Optional[float] = None
    seconds: Optional[float] = None
    device: Optional[str] = None
    error: Optional[str] = None
    hint: Optional[str] = None
    failed_epoch: Optional[int] = None
    owner: Optional[Owner] = None
    summary: Optional[Summary] = None
    last: Optional[dict] = None

    @field_validator("last")
    @classmethod
    def _last_record(cls, value):
        if value is not None:
            reason = history_record_problem(value)
            if reason:
                raise ValueError(reason)
        return value


class ConfigRecord(BaseModel):
    """What a reader needs of config.json (the full RunConfig is checked when a run is created)."""

    model_config = ConfigDict(extra="allow")
    method: str
    dataset: str
    title: str = ""
    seed: Optional[int] = None
    setup: dict = {}
    params: dict = {}

    @field_validator("method")
    @classmethod
    def _known_method(cls, value: str) -> str:
        from deepad.detectors import registry  # the specs only: no PyTorch

        if value not in registry.names():
            raise ValueError(f"{value[:60]!r} is not a method deepad knows ({', '.join(registry.names())})")
        return value


class Preprocess(BaseModel):
    """split.json's preprocessing parameters (`deepad.data.preprocess`)."""

    model_config = ConfigDict(extra="allow")
    method: Literal["gcn", "unit", "standardize", "minmax"]
    min: Union[float, list[float], None] = None
    max: Optional[float] = None
    mean: Optional[list[float]] = None
    std: Optional[list[float]] = None
    range: Optional[list[float]] = None

    @field_validator("std", "range")
    @classmethod
    def _divisors(cls, value):
        if value is not None and not all(math.isfinite(v) and v != 0 for v in value):
            raise ValueError("holds a zero or non-finite divisor")
        return value

    @model_validator(mode="after")
    def _complete(self):
        needs = {"gcn": ("min", "max"), "standardize": ("mean", "std"), "minmax": ("min", "range")}
        for name in needs.get(self.method, ()):
            if getattr(self, name) is None:
                raise ValueError(f"preprocessing {self.method!r} needs {name!r}")
        if self.method == "gcn" and (isinstance(self.min, list) or not self.max > self.min):
            raise ValueError("gcn preprocessing needs numbers min < max")
        if self.method in ("standardize", "minmax"):
            a, b = (self.mean, self.std) if self.method == "standardize" else (self.min, self.range)
            if not isinstance(a, list) or len(a) != len(b):
                raise ValueError(f"{self.method} preprocessing needs two lists of one length")
        return self


class SplitRecord(BaseModel):
    model_config = ConfigDict(extra="allow")
    dataset: Optional[str] = None
    kind: Optional[str] = None
    classes: list[str] = []
    normal: list[int] = []
    anomaly: list[int] = []
    input_shape: list[int] = []
    preprocess: Optional[Preprocess] = None
    sizes: dict[str, int] = {}
    n_samples: Optional[int] = None
    feature_names: Optional[list[str]] = None

    @field_validator("input_shape")
    @classmethod
    def _shape(cls, value: list[int]) -> list[int]:
        if value and (len(value) > 3 or any(v < 1 or v > 2 ** 20 for v in value)
                      or math.prod(value) > 2 ** 24):
            raise ValueError(f"{value} is not a sample shape deepad writes")
        return value

    @field_validator("sizes")
    @classmethod
    def _sizes(cls, value: dict[str, int]) -> dict[str, int]:
        if any(v < 0 or v > 2 ** 31 for v in value.values()):
            raise ValueError("holds a negative or impossibly large count")
        return value


# history.jsonl: fields that hold text; every other field holds a number (or null), "epoch" and
# "step" whole numbers
HISTORY_TEXT = {"phase", "verdict", "note", "event", "kind", "message"}
HISTORY_INT = {"epoch", "step"}


def history_record_problem(rec: Any) -> str | None:
    """Why one history line is not a record deepad wrote, or None when it is one."""
    if not isinstance(rec, dict):
        return f"a line holds a JSON {type(rec).__name__}, expected an object"
    for key, value in rec.items():
        if value is None:
            continue
        if key in HISTORY_TEXT:
            if not isinstance(value, str):
                return f"field {key!r} is {type(value).__name__}, expected text"
        elif key in HISTORY_INT:
            if isinstance(value, bool) or not isinstance(value, int):
                return f"field {key!r} is {_shown(value)}, expected a whole number"
        elif isinstance(value, (bool, int, float)):
            continue
        elif isinstance(value, list) and len(value) <= 4096 and all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
            continue  # a short vector of numbers (per-dimension measures)
        else:
            return f"field {str(key)[:40]!r} is {_shown(value)}, expected a number"
    return None


def _shown(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def validation_reason(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "the file"
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    if "input" in err and err.get("type") != "value_error" and not isinstance(err["input"], (dict, list)):
        msg += f" (found {_shown(err['input'])})"
    return f"field {where}: {msg}"


# -- the owner of a live run ------------------------------------------------------------------------
def _process_token(pid: int) -> str | None:
    """An id for a live process that survives pid reuse: its start time from /proc when there."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def current_owner() -> dict:
    """This process, as written into the status of a run it makes live."""
    return {"pid": os.getpid(), "host": socket.gethostname(), "token": _process_token(os.getpid())}


def owner_alive(owner: dict | None) -> bool:
    if not owner:
        return False
    if owner.get("host") != socket.gethostname():
        return True  # cannot tell from here; trust the record
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    token = _process_token(pid)
    if owner.get("token") is not None:
        return token == owner["token"]
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False
