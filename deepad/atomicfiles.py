"""Atomic file writes: every write goes to a temporary name beside the file and is renamed into
place; on any failure (a full disk, the folder removed) the temporary file is removed and the file
is as it was. Nothing follows a symbolic link."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np

TMP_SUFFIX = ".tmp"


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}{TMP_SUFFIX}")


def atomic_write(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Write a file through `write(f)` to a temporary name and rename it into place. On any failure
    (a full disk, the folder removed) the temporary file is removed and the error raised; the file
    at `path` is then as it was."""
    path = Path(path)
    tmp = _tmp_path(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot store {type(o).__name__} as JSON")


def json_bytes(obj: Any) -> bytes:
    return json.dumps(obj, indent=1, default=_json_default).encode()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda f: f.write(data))


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json_bytes(obj))


def atomic_save_npz(path: Path, **arrays) -> None:
    atomic_write(path, lambda f: np.savez_compressed(f, **arrays))
