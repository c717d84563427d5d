"""Start a sweep's Ray driver in a separate process (for the dashboard), watch it, cancel it.

The caller validates the trials and creates their run folders (so they show at once as queued);
the process (`python -m deepad.sweeps SPEC.json`) connects to Ray, trains them and lands them.
Keeping Ray out of the server process keeps the server light and lets Ctrl-C-like cancelling
(SIGINT) take the same path as on the command line. If the process dies, the trials it left
queued or running are marked failed with the end of its log, so nothing waits forever.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from deepad.runs.listing import RunStore
from deepad.runs.write import RunWriter
from deepad.sweeps import ENV_ADDRESS

PACKAGE_PARENT = Path(__file__).resolve().parents[2]


@dataclass
class SweepProcess:
    sweep_id: str
    run_ids: list[str]
    store: RunStore
    proc: subprocess.Popen
    log: Path
    cancelled: bool = False
    ended: threading.Event = field(default_factory=threading.Event)

    def running(self) -> bool:
        return self.proc.poll() is None

    def cancel(self) -> None:
        """Like Ctrl-C: cancel what has not started, stop what trains, keep what finished."""
        self.cancelled = True
        if self.running():
            self.proc.send_signal(signal.SIGINT)

    def log_tail(self, lines: int = 5) -> str:
        try:
            return "\n".join(self.log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait(self, timeout: float | None = None) -> int | None:
        self.ended.wait(timeout)
        return self.proc.poll()


class SweepLauncher:
    """Process-wide registry of the Ray sweeps this process started (thread-safe)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._sweeps: dict[str, SweepProcess] = {}

    def start(self, sweep_id: str, run_ids: list[str], store: RunStore, address: str | None = None,
              max_concurrent: int | None = None) -> SweepProcess:
        folder = Path(tempfile.mkdtemp(prefix=f"deepad-sweep-{sweep_id}-"))
        spec = folder / "spec.json"
        spec.write_text(json.dumps({"sweep_id": sweep_id, "runs_dir": str(store.root), "run_ids": run_ids,
                                    "address": address, "max_concurrent": max_concurrent}))
        log = folder / "sweep.log"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(
            p for p in (str(PACKAGE_PARENT), os.environ.get("PYTHONPATH", "")) if p)}
        if not address:  # "Ray on this machine" means a local instance, whatever the environment names
            env[ENV_ADDRESS] = ""
        with open(log, "w") as out:
            proc = subprocess.Popen([sys.executable, "-m", "deepad.sweeps", str(spec)], stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True)
        sp = SweepProcess(sweep_id, list(run_ids), store, proc, log)
        with self._lock:
            self._sweeps[sweep_id] = sp
        threading.Thread(target=self._watch, args=(sp,), daemon=True, name=f"deepad-sweep-{sweep_id}").start()
        return sp

    def _watch(self, sp: SweepProcess) -> None:
        rc = sp.proc.wait()
        try:
            for run_id in sp.run_ids:  # trials the process could not end itself
                try:
                    run = sp.store.get(run_id)
                except Exception:
                    continue
                if run.state in ("queued", "running", "interrupted") and run.status.get("ended") is None:
                    if sp.cancelled:
                        RunWriter(run).status(state="cancelled", ended=time.time(),
                                              error="the sweep was cancelled")
                    else:
                        RunWriter(run).status(state="failed", ended=time.time(),
                                              error=f"the sweep's process ended (exit status {rc}) before "
                                                    f"this trial did: {sp.log_tail(1)}",
                                              hint=f"see {sp.log}")
        finally:
            sp.ended.set()

    def get(self, sweep_id: str) -> SweepProcess | None:
        with self._lock:
            return self._sweeps.get(sweep_id)

    def shutdown(self, timeout: float = 30.0) -> None:
        with self._lock:
            sweeps = list(self._sweeps.values())
        for sp in sweeps:
            sp.cancel()
        for sp in sweeps:
            sp.wait(timeout)


_LAUNCHER = SweepLauncher()


def launcher() -> SweepLauncher:
    """The process-wide launcher (the dashboard's server keeps its sweeps here)."""
    return _LAUNCHER
