"""A process-wide, thread-safe run manager: each run trains in a worker process of its own
(`deepad.training.worker`), at most `max_parallel` at once, the others queued in order.

One background thread supervises the workers: it starts queued runs as places free up, ends a
cancelled worker (a stop request first, then SIGTERM, then SIGKILL after a grace period), and when
a worker dies without having ended its run (killed, out of memory, a crash in a native library) it
marks the run `interrupted` or `failed` with the reason. The server process never trains, so a
page that follows a run costs the run nothing but CPU time, and a crash costs the server nothing.
Everything else about a run is read from its folder, so a run started from the command line
beside the dashboard is listed and followed like any other. It never calls any UI code.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from deepad.errors import DeepADError
from deepad.runs.create import create_run
from deepad.runs.layout import WORKER_LOG
from deepad.runs.listing import RunStore
from deepad.runs.read import RunFolder, RunRecord
from deepad.runs.records import LIVE_STATES
from deepad.runs.write import RunWriter, request_stop
from deepad.training.config import RunConfig, validate_config
from deepad.training.worker import THREAD_VARS

CANCEL_GRACE_S = 5.0  # a cancelled worker that has not stopped by then is terminated
SUPERVISE_S = 0.2  # how often the supervisor looks at its workers


def default_threads_per_run(cores: int | None = None) -> int:
    """Torch threads per run: $DEEPAD_RUN_THREADS, else 1 on up to 4 cores, else a quarter of them
    (small networks gain little from more threads; more runs side by side use the cores better)."""
    env = os.environ.get("DEEPAD_RUN_THREADS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    cores = cores or os.cpu_count() or 1
    return 1 if cores <= 4 else cores // 4


def default_parallel_runs(cores: int | None = None, threads: int | None = None) -> int:
    """Runs that train at once: $DEEPAD_PARALLEL_RUNS, else as many as the cores hold at
    `threads` torch threads each (on 2 cores: 2 runs of 1 thread)."""
    env = os.environ.get("DEEPAD_PARALLEL_RUNS", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    cores = cores or os.cpu_count() or 1
    return max(1, cores // (threads or default_threads_per_run(cores)))


@dataclass
class LiveRun:
    run: RunRecord
    config: RunConfig
    proc: subprocess.Popen | None = None
    cancel_at: float | None = None  # when a stop was asked of its worker
    done: bool = False


class RunManager:
    def __init__(self, store: RunStore | None = None, max_parallel: int | None = None,
                 threads_per_run: int | None = None):
        self.store = store or RunStore()
        self.threads_per_run = threads_per_run or default_threads_per_run()
        self._max_parallel = max_parallel or default_parallel_runs(threads=self.threads_per_run)
        self._lock = threading.RLock()
        self._wake = threading.Event()
        self._live: dict[str, LiveRun] = {}
        self._queue: deque[str] = deque()
        self._thread: threading.Thread | None = None
        self._closed = False

    # -- settings -----------------------------------------------------------------------------
    @property
    def max_parallel(self) -> int:
        return self._max_parallel

    @max_parallel.setter
    def max_parallel(self, value: int) -> None:
        """How many runs train at once; a larger value starts queued runs at once, a smaller one
        lets the running ones finish."""
        self._max_parallel = max(1, int(value))
        self._wake.set()

    # -- starting and stopping ----------------------------------------------------------------
    def start(self, config: RunConfig | dict) -> str:
        """Validate and create the run (raises DeepADError on bad input; its split is built here,
        once, and read back by the worker that trains it), queue it, return its id."""
        new = create_run(validate_config(config), self.store)
        run, cfg = new.run, new.config
        with self._lock:
            self._live[run.run_id] = LiveRun(run, cfg)
            self._queue.append(run.run_id)
            self._closed = False  # a manager that was shut down takes runs again
            self._ensure_supervisor()
        self._wake.set()
        return run.run_id

    def cancel(self, run_id: str) -> bool:
        """Stop a run: a queued one at once, a training one after its current minibatch (its
        history kept). A run trained by another process (e.g. the command line) is asked to stop
        through its stop file. False when there is no such live run."""
        with self._lock:
            live = self._live.get(run_id)
            if live is not None and run_id in self._queue:
                self._queue.remove(run_id)
                live.done = True
                RunWriter(live.run).status(state="cancelled", ended=time.time())
                return True
            if live is not None and not live.done:
                if live.cancel_at is None:
                    live.cancel_at = time.monotonic()
                    request_stop(live.run.path)
                    if live.proc is not None:
                        _signal(live.proc, signal.SIGTERM)
                self._wake.set()
                return True
        try:
            run = self.store.get(run_id)
        except Exception:  # noqa: BLE001  (gone or unreadable: nothing to stop)
            return False
        if run.state in LIVE_STATES:
            request_stop(run.path)
            return True
        return False

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel everything and wait for the workers (tests, server shutdown)."""
        with self._lock:
            ids = list(self._live)
        for run_id in ids:
            self.cancel(run_id)
        deadline = time.monotonic() + timeout
        while self.active_ids() and time.monotonic() < deadline:
            self._wake.set()
            time.sleep(0.05)
        with self._lock:
            self._closed = True
            for live in self._live.values():
                if live.proc is not None and live.proc.poll() is None:
                    live.proc.kill()
        self._wake.set()

    # -- what the pages ask ---------------------------------------------------------------------
    def is_active(self, run_id: str) -> bool:
        with self._lock:
            live = self._live.get(run_id)
            return live is not None and not live.done

    def queue_position(self, run_id: str) -> int | None:
        with self._lock:
            return list(self._queue).index(run_id) + 1 if run_id in self._queue else None

    def active_ids(self) -> list[str]:
        with self._lock:
            return [i for i, live in self._live.items() if not live.done]

    def running_ids(self) -> list[str]:
        with self._lock:
            return [i for i, live in self._live.items() if live.proc is not None and not live.done]

    def worker_pid(self, run_id: str) -> int | None:
        with self._lock:
            live = self._live.get(run_id)
            return live.proc.pid if live is not None and live.proc is not None else None

    def worker_exit_code(self, run_id: str) -> int | None:
        """The exit status of the run's worker (negative: the signal that ended it); None while it
        runs or when it has none."""
        with self._lock:
            live = self._live.get(run_id)
            return live.proc.poll() if live is not None and live.proc is not None else None

    def wait(self, run_id: str, timeout: float | None = None) -> RunRecord:
        """Block until the run has ended (used by tests and scripts); returns it as on disk."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_active(run_id):
            if deadline is not None and time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        return self.store.get(run_id)

    # -- the supervisor thread -------------------------------------------------------------------
    def _ensure_supervisor(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._supervise, daemon=True,
                                            name="deepad-run-supervisor")
            self._thread.start()

    def _supervise(self) -> None:
        while True:
            self._wake.wait(SUPERVISE_S)
            self._wake.clear()
            with self._lock:
                if self._closed and not self.active_ids():
                    self._thread = None  # (under the lock: a later start makes a new one)
                    return
                lives = [live for live in self._live.values() if live.proc is not None and not live.done]
            for live in lives:
                code = live.proc.poll()
                if code is not None:
                    self._ended(live, code)
                elif live.cancel_at is not None and time.monotonic() - live.cancel_at > CANCEL_GRACE_S:
                    _signal(live.proc, signal.SIGKILL)
            self._launch_queued()

    def _launch_queued(self) -> None:
        with self._lock:
            while self._queue and len(self.running_ids()) < self._max_parallel and not self._closed:
                live = self._live[self._queue.popleft()]
                try:
                    live.proc = self._spawn(live.run)
                except OSError as exc:
                    live.done = True
                    RunWriter(live.run).status(state="failed", ended=time.time(),
                                               error=f"its worker process could not be started: {exc}")

    def _spawn(self, run: RunRecord) -> subprocess.Popen:
        threads = str(self.threads_per_run)
        env = {**os.environ, **{var: threads for var in THREAD_VARS}}
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        with open(run.files.file(WORKER_LOG), "ab") as log:  # the worker's own output (its crashes)
            return subprocess.Popen(
                [sys.executable, "-m", "deepad.training.worker", str(run.path), "--threads", threads],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                cwd=package_root, start_new_session=True)  # Ctrl-C on the server is not the run's

    def _ended(self, live: LiveRun, code: int) -> None:
        """The worker has exited: when it did not end its run itself, say why on the run."""
        status = _read_status(live.run.path)
        state = status.get("state")
        if state not in (*LIVE_STATES, "interrupted", None):  # finished, failed or cancelled by the worker
            live.run.status = status
        else:
            live.run.status = status or live.run.status
            fields = {"ended": time.time(), "exit_code": code}
            if live.cancel_at is not None:
                fields.update(state="cancelled", error="its worker did not stop in time and was ended")
            elif code < 0:
                name = _signal_name(-code)
                if -code in (signal.SIGKILL, signal.SIGTERM):
                    fields.update(state="interrupted",
                                  error=f"its worker process was killed ({name}), e.g. by the system "
                                        "when memory ran out or by a user",
                                  hint="the curves up to then are kept; start it again to train it anew")
                else:
                    fields.update(state="failed", error=f"its worker process crashed ({name}), a fault "
                                                        "in a native library",
                                  hint=f"see {WORKER_LOG} in the run folder")
            else:
                fields.update(state="failed", error=f"its worker process exited with status {code} "
                                                    f"before the run ended: {_last_line(live.run.path)}",
                              hint=f"see {WORKER_LOG} in the run folder")
            RunWriter(live.run).status(**fields)
        with self._lock:
            live.done = True
        self._wake.set()


def _signal(proc: subprocess.Popen, sig: int) -> None:
    try:
        proc.send_signal(sig)
    except (OSError, ProcessLookupError):
        pass


def _signal_name(num: int) -> str:
    try:
        return signal.Signals(num).name
    except ValueError:
        return f"signal {num}"


def _read_status(path: Path) -> dict:
    try:
        return RunFolder(path).read_status()
    except (OSError, DeepADError):
        return {}


def _last_line(path: Path) -> str:
    try:
        lines = RunFolder(path).read_text_tail(WORKER_LOG).strip().splitlines()
    except (OSError, DeepADError):
        return "no output"
    return lines[-1][:300] if lines else "no output"
