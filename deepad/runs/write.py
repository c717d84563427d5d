"""Writing a run: the one door through which a run's files change.

`RunWriter` is what the process that owns a run writes through: the process that created it, the
one that trains it, and one that supervises it (the dashboard's run manager, a sweep's driver
mirroring its trials). Every file is written atomically (`deepad.runs.files`) except the history,
which is appended to line by line; the status carries the owner process while the run is live. A
run's files are written nowhere else (`request_stop` is the one write anyone may make: a request
to stop)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path, PurePosixPath

import numpy as np

from deepad.errors import describe_os_error
from deepad.runs.files import (_json_default, atomic_save_npz, atomic_write, atomic_write_bytes, atomic_write_json,
                               json_bytes)
from deepad.runs.layout import (CONFIG, DATA, DIAGNOSTICS, HISTORY, MODEL, RESULTS, SNAPSHOTS, SPLIT, SPLIT_PARTS, STATUS,
                                STOP_REQUEST, TRACEBACK, run_file)
from deepad.runs.read import RunRecord
from deepad.runs.records import LIVE_STATES, current_owner


class RunWriter:
    """Every write to the folder of `run` (a `RunRecord`, whose `status` is kept in step with the
    file). Subclass it to hear of status changes and history records as they are written (a sweep's
    trial streams them to its driver)."""

    def __init__(self, run: RunRecord):
        self.run = run

    def _file(self, name: str) -> Path:
        return run_file(self.run.path, name)

    # -- status ---------------------------------------------------------------------------------------
    def status(self, **fields) -> dict:
        """Change fields of the run's status (the owner is this process while the run is live)."""
        status = {**self.run.status, **fields, "updated": time.time()}
        if fields.get("state") in LIVE_STATES:
            status["owner"] = current_owner()
        self.replace_status(status)
        return status

    def replace_status(self, status: dict) -> None:
        """Write `status` as it is (a status a sweep's trial sent back, a supervisor's verdict)."""
        atomic_write_json(self._file(STATUS), status)
        self.run.status = status

    def final_status(self, **fields) -> dict:
        """The run's last status. When it cannot be written (a full disk, say), a short "failed"
        status naming why takes its place: in the folder next to it if there is room for it, else
        over the old one; the error is raised only when even that fails (the folder is gone)."""
        try:
            return self.status(**fields)
        except OSError as exc:
            reason = f"the run's final state could not be written: {describe_os_error(exc)}"
        short = {"state": "failed", "error": reason, "hint": "", "epoch": self.run.status.get("epoch"),
                 "created": self.run.status.get("created"), "ended": time.time(), "updated": time.time()}
        self.run.status = short
        try:
            atomic_write_json(self._file(STATUS), short)
        except OSError:
            self._status_in_place(short)
        return short

    def _status_in_place(self, status: dict) -> None:
        """The last resort when a new status cannot be written next to the old one (a full disk):
        the file is cut to nothing and the (small) status written into its place."""
        fd = os.open(self._file(STATUS), os.O_WRONLY | os.O_NOFOLLOW | os.O_CREAT, 0o644)
        with os.fdopen(fd, "wb") as f:
            f.truncate(0)
            f.write(json_bytes(status))
            f.flush()
            os.fsync(f.fileno())

    # -- what training writes ---------------------------------------------------------------------------
    def history(self, record: dict) -> None:
        """Append one epoch record to history.jsonl."""
        line = (json.dumps(record, default=_json_default) + "\n").encode()
        fd = os.open(self._file(HISTORY), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def config(self, config: dict) -> None:
        atomic_write_json(self._file(CONFIG), config)
        self.run.config = config

    def split(self, record: dict, parts: dict[str, np.ndarray] | None = None) -> None:
        """split.json (what a reader needs) and split.npz (the parts, for the process that trains
        the run: `deepad.runs.split`)."""
        if parts is not None:
            atomic_save_npz(self._file(SPLIT_PARTS), **parts)
        atomic_write_json(self._file(SPLIT), record)

    def snapshots(self, emb: np.ndarray, step: np.ndarray, center: np.ndarray | None = None) -> None:
        arrays = {"emb": emb, "step": step} if center is None else {"emb": emb, "step": step, "center": center}
        atomic_save_npz(self._file(SNAPSHOTS), **arrays)

    def results(self, **arrays: np.ndarray) -> None:
        atomic_save_npz(self._file(RESULTS), **arrays)

    def diagnostics(self, report: dict) -> None:
        atomic_write_json(self._file(DIAGNOSTICS), report)

    def model(self, detector) -> None:
        atomic_write(self._file(MODEL), detector.save)

    def traceback(self, text: str) -> None:
        atomic_write_bytes(self._file(TRACEBACK), text.encode())

    def received_file(self, rel: str, data: bytes) -> None:
        """A file sent from another copy of this run's folder (a sweep's driver sends a trial its
        split and data; the trial sends its files back): a run file by its name, or a data file
        directly under data/. ValueError for any other path, so nothing lands outside the folder."""
        parts = PurePosixPath(rel).parts
        if len(parts) == 2 and parts[0] == DATA and parts[1] not in (".", ".."):
            dest = self.run.path / DATA / parts[1]
            dest.parent.mkdir(exist_ok=True)
        else:
            dest = self._file(rel)
        atomic_write_bytes(dest, data)

    def remove_temporaries(self) -> None:
        """Remove the temporary files of writes that never finished (a process killed mid-write)."""
        self.run.files.remove_temporaries()


def request_stop(run_path: str | Path) -> None:
    """Ask whichever process trains the run in `run_path` to stop after its current minibatch."""
    run_file(run_path, STOP_REQUEST).touch()  # its presence asks the process to stop
