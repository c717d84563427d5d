"""The files of one run folder, in one place: their names, and typed, validated reading and writing.

    config.json       the validated RunConfig (written first)
    status.json       state, epoch, error, owner process, summary (replaced atomically, last)
    history.jsonl     one JSON record per epoch, appended as training goes
    snapshots.npz     probe-set embeddings per epoch, with the centre c of each (for watching collapse happen)
    split.json        classes, preprocessing parameters, sample indices
    results.npz       test (and training) scores, labels, embeddings
    diagnostics.json  the collapse report of the final embeddings
    model.pt          the detector's weights: tensors and plain data only, never a pickle
    umap.npz          the cached 2-D projection of the test embeddings
    traceback.txt     what went wrong, when a run failed on an unexpected error
    worker.log        the output of the worker process that trained it (in the dashboard)
    stop.request      present while someone asks the process training the run to stop
    data/             the user's own data file, when the run trained on one

Every write goes to a temporary name in the folder and is renamed into place; the temporary file
is removed when the write fails (a full disk, a folder removed meanwhile). Nothing here follows a
symbolic link: a run file that is a link is reported as damaged and is replaced, never written
through. Every read checks the type and shape of what it reads and raises `DamagedFile` (naming the
file and what is wrong) instead of handing on something a page would trip over.

The typed records these files hold (status, config, split, the arrays' shapes) are in
`deepad.runrecords`."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Any, BinaryIO, Callable

import numpy as np
from pydantic import BaseModel, ValidationError

from deepad.errors import DeepADError
from deepad.runrecords import (NPZ_ERRORS, RESULTS_REQUIRED, RESULTS_SPEC, SNAPSHOTS_SPEC, UMAP_SPEC,
                               ConfigRecord, DamagedFile, SplitRecord, Status, check_arrays, check_npz,
                               npz_reason, open_read, validation_reason)


CONFIG = "config.json"
STATUS = "status.json"
HISTORY = "history.jsonl"
SNAPSHOTS = "snapshots.npz"
SPLIT = "split.json"
RESULTS = "results.npz"
DIAGNOSTICS = "diagnostics.json"
MODEL = "model.pt"
UMAP = "umap.npz"
TRACEBACK = "traceback.txt"
WORKER_LOG = "worker.log"
STOP_REQUEST = "stop.request"
DATA = "data"
FILES = (CONFIG, STATUS, HISTORY, SNAPSHOTS, SPLIT, RESULTS, DIAGNOSTICS, MODEL, UMAP, TRACEBACK, WORKER_LOG,
         STOP_REQUEST)
TMP_SUFFIX = ".tmp"
MAX_JSON_BYTES = 64 * 2 ** 20  # a config, status or split larger than this is not one deepad wrote


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


class RunFolder:
    """The files of the run folder at `path` (which the caller has checked is a real folder)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # -- names -------------------------------------------------------------------------------------
    def file(self, name: str) -> Path:
        if name not in FILES:
            raise ValueError(f"{name!r} is not a run file; run files are {', '.join(FILES)}")
        return self.path / name

    @property
    def data_dir(self) -> Path:
        """Where a user's own data file is kept with the run."""
        return self.path / DATA

    def has(self, name: str) -> bool:
        return os.path.lexists(self.file(name))

    def stamp(self, name: str) -> int:
        """A file's version for cache keys (its modification time; 0 when absent)."""
        try:
            return os.lstat(self.file(name)).st_mtime_ns
        except OSError:
            return 0

    # -- JSON files ---------------------------------------------------------------------------------
    def _read_json(self, name: str) -> Any:
        f = self.file(name)
        try:
            with open_read(f) as fh:
                raw = fh.read(MAX_JSON_BYTES + 1)
        except FileNotFoundError:
            raise
        except OSError as exc:
            if os.path.islink(f):
                raise DamagedFile(name, "is a symbolic link; run files must be regular files") from None
            raise DamagedFile(name, f"cannot be read ({exc.strerror or exc})") from None
        if len(raw) > MAX_JSON_BYTES:
            raise DamagedFile(name, f"is larger than {MAX_JSON_BYTES // 2 ** 20} MB")
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            reason = "is empty" if not raw.strip() else f"is not valid JSON ({exc})"
            raise DamagedFile(name, f"{reason}; it may have been cut short") from None

    def _read_model(self, name: str, model: type[BaseModel]) -> dict:
        obj = self._read_json(name)
        if not isinstance(obj, dict):
            raise DamagedFile(name, f"holds a JSON {type(obj).__name__}, expected an object")
        try:
            return model.model_validate(obj).model_dump(exclude_unset=True)
        except ValidationError as exc:
            raise DamagedFile(name, validation_reason(exc)) from None

    def read_config(self) -> dict:
        """config.json (FileNotFoundError when absent, DamagedFile when unusable)."""
        self._read_model(CONFIG, ConfigRecord)
        return self._read_json(CONFIG)

    def write_config(self, config: dict) -> None:
        atomic_write_json(self.file(CONFIG), config)

    def read_status(self) -> dict:
        """status.json as written (FileNotFoundError when absent, DamagedFile when unusable)."""
        return self._read_model(STATUS, Status)

    def write_status(self, status: dict) -> None:
        atomic_write_json(self.file(STATUS), status)

    def write_status_in_place(self, status: dict) -> None:
        """The last resort when a new status cannot be written next to the old one (a full disk):
        the file is cut to nothing and the (small) status written into its place."""
        fd = os.open(self.file(STATUS), os.O_WRONLY | os.O_NOFOLLOW | os.O_CREAT, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.truncate(0)
            f.write(json_bytes(status))
            f.flush()
            os.fsync(f.fileno())

    def read_split(self) -> dict:
        """split.json, or {} before the split is written."""
        try:
            self._read_model(SPLIT, SplitRecord)
            return self._read_json(SPLIT)
        except FileNotFoundError:
            return {}

    def write_split(self, info: dict) -> None:
        atomic_write_json(self.file(SPLIT), info)

    def read_diagnostics(self) -> dict:
        try:
            obj = self._read_json(DIAGNOSTICS)
        except FileNotFoundError:
            return {}
        if not isinstance(obj, dict):
            raise DamagedFile(DIAGNOSTICS, f"holds a JSON {type(obj).__name__}, expected an object")
        return obj

    def write_diagnostics(self, report: dict) -> None:
        atomic_write_json(self.file(DIAGNOSTICS), report)

    # -- history --------------------------------------------------------------------------------------
    def append_history(self, record: dict) -> None:
        line = (json.dumps(record, default=_json_default) + "\n").encode()
        fd = os.open(self.file(HISTORY), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def read_history(self) -> list[dict]:
        """The epoch records up to the first line that is not a JSON object: a line cut short by a
        crash ends the history there (as `deepad.live.HistoryReader` reads it while a run trains)."""
        return self.history_since(0)[0]

    def history_since(self, offset: int) -> tuple[list[dict], int]:
        """The records of complete lines from byte `offset` on, and the offset after the last one
        taken (to read only what was appended since)."""
        try:
            with open_read(self.file(HISTORY)) as fh:
                fh.seek(offset)
                raw = fh.read()
        except FileNotFoundError:
            return [], offset
        except OSError as exc:
            raise DamagedFile(HISTORY, f"cannot be read ({exc.strerror or exc})") from None
        out, pos = [], 0
        while (end := raw.find(b"\n", pos)) >= 0:
            try:
                rec = json.loads(raw[pos:end])
            except (json.JSONDecodeError, UnicodeDecodeError):
                rec = None
            if not isinstance(rec, dict):
                break
            out.append(rec)
            pos = end + 1
        return out, offset + pos

    # -- arrays ----------------------------------------------------------------------------------------
    def _read_npz(self, name: str, spec: dict, required: tuple[str, ...]) -> dict[str, np.ndarray] | None:
        f = self.file(name)
        try:
            with open_read(f) as fh, np.load(fh, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except FileNotFoundError:
            return None
        except NPZ_ERRORS as exc:
            raise DamagedFile(name, npz_reason(f, exc)) from None
        check_arrays(name, {k: (v.shape, v.dtype) for k, v in arrays.items()}, spec, required)
        return arrays

    def read_results(self) -> dict[str, np.ndarray] | None:
        """results.npz (None before the run has finished)."""
        return self._read_npz(RESULTS, RESULTS_SPEC, RESULTS_REQUIRED)

    def write_results(self, **arrays: np.ndarray) -> None:
        atomic_save_npz(self.file(RESULTS), **arrays)

    def read_snapshots(self) -> dict[str, np.ndarray] | None:
        """snapshots.npz: {"emb": (records, probes, d), "step": (records,)} and, for a method with a
        centre, "center": (records, d), the centre c when each snapshot was taken; or None."""
        return self._read_npz(SNAPSHOTS, SNAPSHOTS_SPEC, ("emb", "step"))

    def write_snapshots(self, emb: np.ndarray, step: np.ndarray, center: np.ndarray | None = None) -> None:
        arrays = {"emb": emb, "step": step} if center is None else {"emb": emb, "step": step, "center": center}
        atomic_save_npz(self.file(SNAPSHOTS), **arrays)

    def read_umap(self) -> dict[str, np.ndarray] | None:
        return self._read_npz(UMAP, UMAP_SPEC, ("xy", "index", "stamp"))

    def write_umap(self, xy: np.ndarray, index: np.ndarray, stamp: int) -> None:
        atomic_save_npz(self.file(UMAP), xy=xy, index=index, stamp=np.int64(stamp))

    # -- the model and the traceback -----------------------------------------------------------------------
    def save_model(self, detector) -> None:
        atomic_write(self.file(MODEL), detector.save)

    def load_model(self, detector_cls, device: str = "cpu"):
        """The trained detector; DamagedFile when the file is not one deepad wrote (it is never
        unpickled), FileNotFoundError when there is none."""
        f = self.file(MODEL)
        try:
            fh = open_read(f)
        except FileNotFoundError:
            raise
        except OSError as exc:
            raise DamagedFile(MODEL, f"cannot be read ({exc.strerror or exc})") from None
        with fh:
            try:
                return detector_cls.load(fh, device=device)
            except DeepADError as exc:
                raise DamagedFile(MODEL, str(exc)) from None

    def write_traceback(self, text: str) -> None:
        atomic_write_bytes(self.file(TRACEBACK), text.encode())

    def write_file(self, name: str, data: bytes) -> None:
        """One run file by its name (e.g. the files a sweep's trial sends back); ValueError for a
        name that is not a run file, so nothing is ever written outside the folder."""
        atomic_write_bytes(self.file(name), data)

    # -- checks ------------------------------------------------------------------------------------------
    def check_arrays(self) -> None:
        """Check results.npz and snapshots.npz from their headers (cheap; cached per file version);
        DamagedFile for the first that is unusable."""
        check_npz(self.file(RESULTS), RESULTS, RESULTS_SPEC, RESULTS_REQUIRED)
        check_npz(self.file(SNAPSHOTS), SNAPSHOTS, SNAPSHOTS_SPEC, ("emb", "step"))

    def temporaries(self) -> list[Path]:
        """Temporary files left by writes that never finished (a process killed mid-write)."""
        try:
            return [p for p in self.path.iterdir() if p.name.startswith(".") and p.name.endswith(TMP_SUFFIX)]
        except OSError:
            return []

    def remove_temporaries(self) -> None:
        """Called by the process that owns the run, never by a reader."""
        for p in self.temporaries():
            try:
                p.unlink()
            except OSError:
                pass
