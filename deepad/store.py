"""Runs on disk. One folder per run under the runs directory:

    config.json      the validated RunConfig (written first)
    status.json      state, epoch, error, owner process, summary (always replaced atomically)
    history.jsonl    one JSON record per epoch, appended as training goes
    snapshots.npz    probe-set embeddings per epoch (for watching collapse happen)
    split.json       classes, preprocessing parameters, sample indices
    results.npz      test (and training) scores, labels, embeddings
    model.pt         the detector's weights (Detector.save)

Every file is written to a temporary name and renamed into place, and status.json is written last,
so a crash leaves either the last good state or a run whose owner process is gone: such a run is
reported as "interrupted" when read.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from deepad.errors import DeepADError

LIVE_STATES = ("queued", "running")


def resolve_runs_dir(arg: str | Path | None = None) -> Path:
    """`--runs-dir`, else $DEEPAD_RUNS_DIR, else ~/.deepad/runs."""
    if arg:
        return Path(arg).expanduser()
    env = os.environ.get("DEEPAD_RUNS_DIR")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".deepad" / "runs"


def _json_default(o):
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"cannot store {type(o).__name__} as JSON")


def atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def atomic_write_json(path: Path, obj: Any) -> None:
    atomic_write_bytes(path, json.dumps(obj, indent=1, default=_json_default).encode())


def atomic_save_npz(path: Path, **arrays) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)


def _process_token(pid: int) -> str | None:
    """An id for a live process that survives pid reuse: its start time from /proc when there."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except OSError:
        return None


def _owner() -> dict:
    return {"pid": os.getpid(), "host": socket.gethostname(), "token": _process_token(os.getpid())}


def _owner_alive(owner: dict | None) -> bool:
    if not owner:
        return False
    if owner.get("host") != socket.gethostname():
        return True  # cannot tell from here; trust the record
    pid = owner.get("pid")
    if pid is None:
        return False
    token = _process_token(pid)
    if owner.get("token") is not None:
        return token == owner["token"]
    try:
        os.kill(pid, 0)
        return True
    except OSError:
        return False


@dataclass
class RunRecord:
    """A run as read from disk (a snapshot; read again to see progress)."""

    run_id: str
    path: Path
    config: dict
    status: dict

    @property
    def state(self) -> str:
        return self.status.get("state", "interrupted")

    @property
    def summary(self) -> dict:
        return self.status.get("summary") or {}

    def history(self) -> list[dict]:
        return read_history(self.path)

    def results(self) -> dict[str, np.ndarray] | None:
        f = self.path / "results.npz"
        if not f.exists():
            return None
        with np.load(f, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    def snapshots(self) -> dict[str, np.ndarray] | None:
        f = self.path / "snapshots.npz"
        if not f.exists():
            return None
        with np.load(f, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}

    def split_info(self) -> dict:
        f = self.path / "split.json"
        return json.loads(f.read_text()) if f.exists() else {}

    def to_json(self) -> dict:
        return {"run_id": self.run_id, "path": str(self.path), "state": self.state,
                "config": self.config, "status": self.status}


def read_history(path: Path) -> list[dict]:
    f = path / "history.jsonl"
    if not f.exists():
        return []
    out = []
    for line in f.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut short by a crash: keep what came before it
    return out


class RunStore:
    def __init__(self, root: str | Path | None = None):
        self.root = resolve_runs_dir(root)

    # -- writing ------------------------------------------------------------------------------
    def create(self, config: dict, method: str) -> RunRecord:
        self.root.mkdir(parents=True, exist_ok=True)
        run_id = f"{time.strftime('%Y%m%d-%H%M%S')}-{method}-{secrets.token_hex(3)}"
        path = self.root / run_id
        path.mkdir()
        atomic_write_json(path / "config.json", config)
        status = {"state": "queued", "created": time.time(), "epoch": 0, "owner": _owner()}
        atomic_write_json(path / "status.json", status)
        return RunRecord(run_id, path, config, status)

    def update_status(self, run: RunRecord, **fields) -> dict:
        run.status = {**run.status, **fields, "updated": time.time()}
        if fields.get("state") in LIVE_STATES:
            run.status["owner"] = _owner()
        atomic_write_json(run.path / "status.json", run.status)
        return run.status

    @staticmethod
    def append_history(run: RunRecord, record: dict) -> None:
        with open(run.path / "history.jsonl", "a") as f:
            f.write(json.dumps(record, default=_json_default) + "\n")
            f.flush()

    # -- reading ------------------------------------------------------------------------------
    def get(self, run_id: str) -> RunRecord:
        path = self.root / run_id
        if not run_id or "/" in run_id or run_id.startswith(".") or not (path / "config.json").exists():
            raise DeepADError(f"no run {run_id!r} in {self.root}; `python -m deepad list` shows the runs")
        config = json.loads((path / "config.json").read_text())
        try:
            status = json.loads((path / "status.json").read_text())
        except (OSError, json.JSONDecodeError):
            status = {"state": "interrupted", "error": "status file missing or unreadable"}
        run = RunRecord(run_id, path, config, status)
        if run.state in LIVE_STATES and not _owner_alive(status.get("owner")):
            self.update_status(run, state="interrupted",
                               error="the process running it stopped before it finished")
        return run

    def list(self) -> list[RunRecord]:
        if not self.root.exists():
            return []
        runs = []
        for p in sorted(self.root.iterdir(), reverse=True):
            if p.is_dir() and (p / "config.json").exists():
                try:
                    runs.append(self.get(p.name))
                except (DeepADError, json.JSONDecodeError, OSError):
                    continue
        return runs

    def delete(self, run_id: str) -> None:
        run = self.get(run_id)
        shutil.rmtree(run.path)
