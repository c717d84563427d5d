"""The typed records of a run folder's files: the run states, status.json, what a reader needs of
config.json and split.json, the arrays results.npz, snapshots.npz and umap.npz must hold, and
`DamagedFile`, raised for a file that exists but cannot be used."""

from __future__ import annotations

import os
import threading
import zipfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO, Literal, Optional

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError

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
    summary: Optional[dict] = None
    last: Optional[dict] = None


class ConfigRecord(BaseModel):
    """What a reader needs of config.json (the full RunConfig is checked when a run is created)."""

    model_config = ConfigDict(extra="allow")
    method: str
    dataset: str
    title: str = ""
    seed: Optional[int] = None
    setup: dict = {}
    params: dict = {}


class SplitRecord(BaseModel):
    model_config = ConfigDict(extra="allow")
    dataset: Optional[str] = None
    kind: Optional[str] = None
    classes: list[str] = []
    normal: list[int] = []
    anomaly: list[int] = []
    input_shape: list[int] = []
    preprocess: Any = None
    sizes: dict[str, int] = {}
    feature_names: Optional[list[str]] = None


def validation_reason(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err.get("loc", ())) or "the file"
    return f"{where}: {err.get('msg', 'invalid')}"


# npz contents: name -> (ndim, length group or None); arrays of one group share their first length
RESULTS_SPEC = {"test_scores": (1, "test"), "test_target": (1, "test"), "test_y": (1, "test"),
                 "test_index": (1, "test"), "test_emb": (2, "test"), "test_raw": (None, "test"),
                 "train_scores": (1, "train"), "train_target": (1, "train"), "train_semi": (1, "train"),
                 "train_index": (1, "train"), "center": (1, None)}
RESULTS_REQUIRED = ("test_scores", "test_target")
SNAPSHOTS_SPEC = {"emb": (3, "step"), "step": (1, "step"), "center": (2, "step")}
UMAP_SPEC = {"xy": (2, "point"), "index": (1, "point"), "stamp": (0, None)}


def check_arrays(file: str, shapes: dict[str, tuple[tuple[int, ...], np.dtype]], spec: dict,
                  required: tuple[str, ...]) -> None:
    for name in required:
        if name not in shapes:
            raise DamagedFile(file, f"the array {name!r} is missing")
    lengths: dict[str, tuple[str, int]] = {}
    for name, (shape, dtype) in shapes.items():
        if dtype.hasobject:
            raise DamagedFile(file, f"the array {name!r} holds Python objects")
        if name not in spec:
            continue
        ndim, group = spec[name]
        if ndim is not None and len(shape) != ndim:
            raise DamagedFile(file, f"the array {name!r} has shape {shape}, expected {ndim} dimension(s)")
        if dtype.kind not in "biuf":
            raise DamagedFile(file, f"the array {name!r} is of type {dtype}, expected numbers")
        if group is not None:
            n = shape[0] if shape else 0
            if group in lengths and lengths[group][1] != n:
                other, m = lengths[group]
                raise DamagedFile(file, f"the arrays {other!r} ({m}) and {name!r} ({n}) differ in length")
            lengths.setdefault(group, (name, n))


def npz_reason(path: Path, exc: BaseException) -> str:
    if os.path.islink(path):
        return "is a symbolic link; run files must be regular files"
    if isinstance(exc, zipfile.BadZipFile):
        return "is not a complete .npz archive; it may have been cut short"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot be read ({exc.strerror})"
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    return f"cannot be read as arrays ({detail})"


def open_read(path: Path) -> BinaryIO:
    """Open a run file for reading; a symbolic link is refused (OSError ELOOP)."""
    return os.fdopen(os.open(path, os.O_RDONLY | os.O_NOFOLLOW), "rb")


def npz_shapes(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Array names, shapes and types of an .npz from its headers alone (no array is decoded)."""
    out = {}
    with open_read(path) as fh, zipfile.ZipFile(fh) as zf:
        for info in zf.infolist():
            name = info.filename.removesuffix(".npy")
            with zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read(f)
            expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if not dtype.hasobject and info.file_size < expected:
                raise DamagedFile(path.name, f"the array {name!r} is cut short")
            out[name] = (tuple(shape), dtype)
    return out


_CHECK_CACHE: dict[tuple[str, int, int], str | None] = {}
_CHECK_LOCK = threading.Lock()


def check_npz(f: Path, name: str, spec: dict, required: tuple[str, ...]) -> None:
    """DamagedFile when the .npz at `f` (run file `name`) does not hold the arrays `spec` names,
    read from its headers alone and cached per file version; nothing when it is absent."""
    try:
        st = os.lstat(f)
    except FileNotFoundError:
        return
    key = (str(f), st.st_mtime_ns, st.st_size)
    with _CHECK_LOCK:
        if key in _CHECK_CACHE:
            reason = _CHECK_CACHE[key]
            if reason:
                raise DamagedFile(name, reason)
            return
    reason = None
    try:
        check_arrays(name, npz_shapes(f), spec, required)
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
