"""Following a run while it trains, at the cost of what changed since the last look.

- `HistoryReader` keeps a run's `history.jsonl` (append-only) parsed so far and, on each `read()`,
  reads from the byte offset where it stopped and parses only the new complete lines. A line
  still being written is left for the next look; a file that was replaced or shortened is read
  again from the start; a line that is not JSON (a damaged file) ends the history there, as
  `RunFolder.read_history` does.
- `FileStamp` tells whether a file (e.g. `snapshots.npz`, rewritten whole) changed since it was
  last seen, from its size and modification time, so that it is loaded only when it did.
- `refresh_seconds` picks how often a live view looks again, from how fast records arrive.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from deepad.runs.files import open_read
from deepad.runs.layout import HISTORY, MAX_HISTORY_BYTES
from deepad.runs.read import RunFolder
from deepad.runs.records import DamagedFile, history_record_problem


class HistoryReader:
    """The records of one run's history file, read incrementally. Not thread-safe: one per viewer."""

    def __init__(self, run_path: str | Path):
        self.path = RunFolder(run_path).file(HISTORY)
        self.records: list[dict] = []
        self.offset = 0  # bytes of the file parsed into `records` (complete lines only)
        self.parsed_lines = 0  # lines parsed so far, all reads together (for tests and benches)
        self.bytes_read = 0
        self.damaged = False  # a line that is not JSON was met; nothing after it is read
        self._identity: tuple[int, int] | None = None

    def read(self) -> list[dict]:
        """Take in what was appended since the last call; returns every record so far (the same
        list, grown: callers must not change it)."""
        try:
            f = open_read(self.path)  # a regular file only: a named pipe is never opened
        except (OSError, DamagedFile):
            if self.offset:
                self._reset()
            return self.records
        with f:
            st = os.fstat(f.fileno())
            identity = (st.st_dev, st.st_ino)
            if identity != self._identity or st.st_size < self.offset:  # replaced or cut: start again
                self._reset()
                self._identity = identity
            if self.damaged or st.st_size == self.offset:
                return self.records
            start = self.offset
            if st.st_size - start > MAX_HISTORY_BYTES:  # only the tail of a long file
                start = st.st_size - MAX_HISTORY_BYTES
            f.seek(start)
            new = f.read(min(st.st_size - start, MAX_HISTORY_BYTES))
        self.bytes_read += len(new)
        skip = 0
        if start > self.offset:  # begin at the first whole line of the tail
            skip = new.find(b"\n") + 1
            if skip == 0:
                return self.records
        end = new.rfind(b"\n")
        if end < skip:
            return self.records  # only a line still being written
        for line in new[skip:end].split(b"\n"):
            self.parsed_lines += 1
            try:
                rec = json.loads(line)
            except (ValueError, RecursionError):
                rec = None
            if rec is None or history_record_problem(rec):
                self.damaged = True
                break
            self.records.append(rec)
        self.offset = start + end + 1
        return self.records

    def _reset(self) -> None:
        self.records = []
        self.offset = 0
        self.damaged = False
        self._identity = None


class FileStamp:
    """Whether a file changed since `changed()` last said so (size and modification time)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._seen: tuple | None = ("never looked",)

    def current(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def changed(self) -> bool:
        now = self.current()
        if now == self._seen:
            return False
        self._seen = now
        return True


def refresh_seconds(records: list[dict], state: str, fastest: float = 2.0, slowest: float = 5.0) -> float | None:
    """How long a live view's numbers wait before they are looked at again: None once the run has
    ended; while it is queued or loading, every couple of seconds; while it trains, about half the
    time an epoch record takes to arrive (from the last few), between `fastest` and `slowest`
    seconds. Charts wait longer (`curves_refresh_seconds`)."""
    if state not in ("queued", "running"):
        return None
    if state == "queued" or not records:
        return 2.0
    recent = [r.get("seconds") for r in records[-5:]]
    recent = sorted(s for s in recent if isinstance(s, (int, float)) and s > 0)
    if not recent:
        return 2.0
    return min(slowest, max(fastest, recent[len(recent) // 2] / 2))


CURVES_EVERY = 2  # a live view's charts are drawn again on every second look at its numbers


def curves_refresh_seconds(records: list[dict], state: str) -> float | None:
    """How long a live view's charts wait before they are drawn again: `CURVES_EVERY` times the
    numbers' wait (4–10 s; None once the run has ended, when everything is drawn once more).
    Drawing the charts afresh is most of what a look costs the browser, and on a 2-core machine
    whatever the browser uses is taken from the training (`bench/live_view.py`)."""
    wait = refresh_seconds(records, state)
    return None if wait is None else CURVES_EVERY * wait
