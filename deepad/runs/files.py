"""Run files at the level of bytes: atomic writes (every write goes to a temporary name beside the
file and is renamed into place; on any failure, a full disk or the folder removed, the temporary
file is removed and the file is as it was) and opening for reading (a regular file only). Nothing
follows a symbolic link."""

from __future__ import annotations

import json
import os
import secrets
import stat
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np

from deepad.runs.records import DamagedFile

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


def _mb(n: int) -> str:
    return f"{n / 2 ** 20:.1f} MB"



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
