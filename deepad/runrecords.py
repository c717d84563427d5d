"""The typed records of a run folder's files: the run states, status.json, what a reader needs of
config.json and split.json, the arrays results.npz, snapshots.npz and umap.npz must hold, and
`DamagedFile`, raised for a file that exists but cannot be used."""

from __future__ import annotations

import math
import os
import stat
import threading
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Literal, Optional, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from deepad.errors import DeepADError


STATES = ("queued", "running", "finished", "failed", "cancelled", "interrupted")
LIVE_STATES = ("queued", "running")
NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile,
               zipfile.LargeZipFile, zlib.error, NotImplementedError)


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


# npz contents: name -> (ndim, length group or None); arrays of one group share their first length
RESULTS_SPEC = {"test_scores": (1, "test"), "test_target": (1, "test"), "test_y": (1, "test"),
                 "test_index": (1, "test"), "test_emb": (2, "test"), "test_raw": (None, "test"),
                 "train_scores": (1, "train"), "train_target": (1, "train"), "train_semi": (1, "train"),
                 "train_index": (1, "train"), "center": (1, None)}
RESULTS_REQUIRED = ("test_scores", "test_target")
SNAPSHOTS_SPEC = {"emb": (3, "step"), "step": (1, "step"), "center": (2, "step")}
UMAP_SPEC = {"xy": (2, "point"), "index": (1, "point"), "stamp": (0, None)}
ARRAYS_MB_ENV = "DEEPAD_MAX_RUN_ARRAYS_MB"
DEFAULT_ARRAYS_MB = 512


def max_array_bytes() -> int:
    """What the arrays of one .npz run file may take once decoded (bytes): $DEEPAD_MAX_RUN_ARRAYS_MB
    megabytes, else 512 MB. A file that declares more is refused from its headers, before anything
    is decompressed (a few MB of deflated zeros can declare gigabytes)."""
    try:
        mb = int(os.environ.get(ARRAYS_MB_ENV, DEFAULT_ARRAYS_MB))
    except ValueError:
        mb = DEFAULT_ARRAYS_MB
    return max(1, mb) * 2 ** 20


def _mb(n: int) -> str:
    return f"{n / 2 ** 20:.1f} MB"


def check_arrays(file: str, shapes: dict[str, tuple[tuple[int, ...], np.dtype]], spec: dict,
                  required: tuple[str, ...], expected: dict[str, int] | None = None,
                  row_shapes: dict[str, tuple[int, ...]] | None = None) -> None:
    """DamagedFile unless the arrays (name -> (shape, dtype), from the headers) are those `spec`
    names, of numbers, their lengths agreeing within each group and with `expected` (group ->
    length, from the run's split), rows of `row_shapes`, and their decoded size under the limit."""
    for name in required:
        if name not in shapes:
            raise DamagedFile(file, f"the array {name!r} is missing")
    lengths: dict[str, tuple[str, int]] = {}
    total = 0
    for name, (shape, dtype) in shapes.items():
        if dtype.hasobject:
            raise DamagedFile(file, f"the array {name!r} holds Python objects")
        total += math.prod(shape) * dtype.itemsize
        if name not in spec:
            continue
        ndim, group = spec[name]
        if ndim is not None and len(shape) != ndim:
            raise DamagedFile(file, f"the array {name!r} has shape {shape}, expected {ndim} dimension(s)")
        if dtype.kind not in "biuf":
            raise DamagedFile(file, f"the array {name!r} is of type {dtype}, expected numbers")
        if row_shapes and name in row_shapes and tuple(shape[1:]) != tuple(row_shapes[name]):
            raise DamagedFile(file, f"the array {name!r} has rows of shape {tuple(shape[1:])}, the run's "
                                    f"samples are of shape {tuple(row_shapes[name])}")
        if group is not None:
            n = shape[0] if shape else 0
            if expected and group in expected and expected[group] != n:
                raise DamagedFile(file, f"the array {name!r} has {n} entries, the run's split has "
                                        f"{expected[group]} {group} samples")
            if group in lengths and lengths[group][1] != n:
                other, m = lengths[group]
                raise DamagedFile(file, f"the arrays {other!r} ({m}) and {name!r} ({n}) differ in length")
            lengths.setdefault(group, (name, n))
    limit = max_array_bytes()
    if total > limit:
        raise DamagedFile(file, f"declares arrays of {_mb(total)} in all, over the limit of {_mb(limit)} "
                                f"for a run file (raise it with {ARRAYS_MB_ENV}=<megabytes>)")


def npz_reason(path: Path, exc: BaseException) -> str:
    if os.path.islink(path):
        return "is a symbolic link; run files must be regular files"
    if isinstance(exc, zipfile.BadZipFile):
        return "is not a complete .npz archive; it may have been cut short"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot be read ({exc.strerror})"
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    return f"cannot be read as arrays ({detail})"


def _file_kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def open_read(path: Path, max_bytes: int | None = None) -> BinaryIO:
    """Open a run file for reading. Only a regular file is opened: a symbolic link, named pipe,
    device, socket or folder is DamagedFile (checked with lstat before opening, and again on the
    open file, which is opened without blocking and without following a link); so is a file of
    more than `max_bytes`. FileNotFoundError when there is none."""
    path = Path(path)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise DamagedFile(path.name, "is a symbolic link; run files must be regular files")
    if not stat.S_ISREG(st.st_mode):
        raise DamagedFile(path.name, f"is {_file_kind(st.st_mode)}, not a regular file; run files must be "
                                     "regular files (it was not opened)")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):  # replaced between the two looks
            raise DamagedFile(path.name, f"is {_file_kind(st.st_mode)}, not a regular file; run files "
                                         "must be regular files")
        if max_bytes is not None and st.st_size > max_bytes:
            raise DamagedFile(path.name, f"is {_mb(st.st_size)}, over the limit of {_mb(max_bytes)} for "
                                         "this file; it is not one deepad wrote")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def npz_shapes(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Array names, shapes and types of an .npz from its headers alone (no array is decoded)."""
    out = {}
    with open_read(path) as fh, zipfile.ZipFile(fh) as zf:
        infos = zf.infolist()
        if len(infos) > 64:
            raise DamagedFile(path.name, f"holds {len(infos)} members; a run file holds a few arrays")
        for info in infos:
            name = info.filename.removesuffix(".npy")
            with zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read(f)
            expected = math.prod(shape) * dtype.itemsize
            if not dtype.hasobject and info.file_size < expected:
                raise DamagedFile(path.name, f"the array {name!r} is cut short")
            out[name] = (tuple(shape), dtype)
    return out


_CHECK_CACHE: dict[tuple, str | None] = {}
_CHECK_LOCK = threading.Lock()


def check_npz(f: Path, name: str, spec: dict, required: tuple[str, ...], expected: dict[str, int] | None = None,
              row_shapes: dict[str, tuple[int, ...]] | None = None) -> None:
    """DamagedFile when the .npz at `f` (run file `name`) does not hold the arrays `spec` names
    (see `check_arrays`), read from its headers alone and cached per file version; nothing when
    it is absent."""
    try:
        st = os.lstat(f)
    except FileNotFoundError:
        return
    key = (str(f), st.st_mtime_ns, st.st_size, st.st_mode, repr(sorted((expected or {}).items())),
           repr(sorted((row_shapes or {}).items())), max_array_bytes())
    with _CHECK_LOCK:
        if key in _CHECK_CACHE:
            reason = _CHECK_CACHE[key]
            if reason:
                raise DamagedFile(name, reason)
            return
    reason = None
    try:
        check_arrays(name, npz_shapes(f), spec, required, expected, row_shapes)
    except DamagedFile as exc:
        reason = exc.reason
    except NPZ_ERRORS as exc:
        reason = npz_reason(f, exc)
    with _CHECK_LOCK:
        if len(_CHECK_CACHE) > 4096:
            _CHECK_CACHE.clear()
        _CHECK_CACHE[key] = reason
    if reason:
        raise DamagedFile(name, reason)
