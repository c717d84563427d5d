"""Where an upload is kept: copied into its run's folder (validated first with the loaders of
`deepad.data.uploads`), or staged (kept once per content) until its run exists, staged files pruned
by age and total size."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

from deepad.data.uploads.images import folder_files
from deepad.data.uploads.loader import load_user_bytes, load_user_data
from deepad.data.uploads.sources import DEFAULT_MAX_BYTES, source_from_bytes, source_from_path
from deepad.errors import DeepADError
from deepad.runs.files import atomic_write
from deepad.runs.read import RunFolder


def _safe_filename(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "upload"
    return stem[:120]


def _run_data_dir(run_dir: str | os.PathLike) -> Path:
    run = RunFolder(run_dir)
    if not run.path.is_dir():
        raise DeepADError(f"run folder {run.path}: does not exist; create the run before storing its data")
    return run.data_dir


def copy_into_run(src: str | os.PathLike, run_dir: str | os.PathLike, **load_options: Any) -> str:
    """Validate `src` with `load_user_data(src, **load_options)` (DeepADError, nothing written,
    when it is unusable), then copy it into `run_dir/data/` and return its path relative to
    `run_dir` (e.g. "data/measurements.csv"). A folder of images is stored as a zip of its
    images (`data/<folder>.zip`), which loads the same way."""
    load_user_data(src, **load_options)
    source = source_from_path(src)
    data_dir = _run_data_dir(run_dir)
    data_dir.mkdir(exist_ok=True)
    if source.is_dir:
        dest = data_dir / (_safe_filename(source.path.name) + ".zip")
        files = folder_files(source)

        def write(f: BinaryIO) -> None:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
                for item in files:
                    zf.writestr("/".join(item.parts), item.read())

        atomic_write(dest, write)
    else:
        dest = data_dir / _safe_filename(source.path.name)
        with open(source.path, "rb") as fin:
            atomic_write(dest, lambda f: shutil.copyfileobj(fin, f))
    return dest.relative_to(Path(run_dir)).as_posix()


def write_into_run(data: bytes, filename: str, run_dir: str | os.PathLike, **load_options: Any) -> str:
    """`copy_into_run` for an upload held in memory: validate, then write it to `run_dir/data/`."""
    load_user_bytes(data, filename, **load_options)
    data_dir = _run_data_dir(run_dir)
    data_dir.mkdir(exist_ok=True)
    dest = data_dir / _safe_filename(source_from_bytes(data, filename).label)
    atomic_write(dest, lambda f: f.write(bytes(data)))
    return dest.relative_to(Path(run_dir)).as_posix()


def stage_upload_bytes(data: bytes, filename: str, folder: str | os.PathLike, **load_options: Any) -> Path:
    """Validate an upload held in memory, then keep it in `folder` under a name made from its
    content (`<sha256 prefix>-<filename>`), so the same upload is kept once. Returns the path: a
    place for the dashboard to put an upload before its run exists (name it with
    `user_dataset_name`). Nothing is written when the upload is refused."""
    load_user_bytes(data, filename, **load_options)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(bytes(data)).hexdigest()[:16]
    dest = folder / f"{digest}-{_safe_filename(source_from_bytes(data, filename).label)}"
    prune_staged(folder, keep_bytes=STAGED_MAX_BYTES - len(data), spare=dest)
    if dest.is_file() and not dest.is_symlink():
        os.utime(dest)  # used again: the newest
    else:
        atomic_write(dest, lambda f: f.write(bytes(data)))
    return dest


STAGED_MAX_AGE_S = 24 * 3600  # a staged upload no run has copied within a day is removed
STAGED_MAX_BYTES = 4 * DEFAULT_MAX_BYTES  # staged uploads together: the oldest go first beyond this


def prune_staged(folder: str | os.PathLike, keep_bytes: int = STAGED_MAX_BYTES,
                 max_age_s: float = STAGED_MAX_AGE_S, spare: Path | None = None) -> list[Path]:
    """Remove staged uploads older than `max_age_s`, then the oldest until the rest take at most
    `keep_bytes` (a run keeps its own copy, so a staged file is only needed until its run starts).
    Only regular files named as `stage_upload_bytes` names them are touched; returns the removed."""
    entries = []
    for p in Path(folder).iterdir():
        if p == spare or p.is_symlink() or not p.is_file() or not re.fullmatch(r"[0-9a-f]{16}-.+", p.name):
            continue
        st = p.stat()
        entries.append((st.st_mtime, st.st_size, p))
    removed, now = [], time.time()
    entries.sort()
    total = sum(size for _, size, _ in entries)
    for mtime, size, p in entries:
        if now - mtime > max_age_s or total > keep_bytes:
            p.unlink(missing_ok=True)
            removed.append(p)
            total -= size
    return removed
