"""A process-wide, thread-safe run manager: starts runs in background threads, queues them so
that at most `max_parallel` train at once (one device is not shared by two runs by default),
cancels them, and hands out snapshots of their progress. It never calls any UI code."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field

from deepad.store import RunRecord, RunStore
from deepad.training.config import RunConfig
from deepad.training.runner import create_run, execute


@dataclass
class LiveRun:
    run: RunRecord
    config: RunConfig
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class RunManager:
    def __init__(self, store: RunStore | None = None, max_parallel: int = 1):
        self.store = store or RunStore()
        self.max_parallel = max_parallel
        self._lock = threading.Lock()
        self._live: dict[str, LiveRun] = {}
        self._queue: deque[str] = deque()
        self._running = 0

    def start(self, config: RunConfig | dict) -> str:
        """Validate and create the run (raises DeepADError on bad input), queue it, return its id."""
        run, cfg = create_run(config, self.store)
        live = LiveRun(run, cfg)
        with self._lock:
            self._live[run.run_id] = live
            self._queue.append(run.run_id)
        self._pump()
        return run.run_id

    def _pump(self) -> None:
        with self._lock:
            while self._running < self.max_parallel and self._queue:
                run_id = self._queue.popleft()
                live = self._live[run_id]
                self._running += 1
                live.thread = threading.Thread(target=self._work, args=(live,), daemon=True,
                                               name=f"deepad-run-{run_id}")
                live.thread.start()

    def _work(self, live: LiveRun) -> None:
        try:
            execute(live.run, live.config, self.store, should_stop=live.stop.is_set)
        finally:
            with self._lock:
                self._running -= 1
            self._pump()

    def cancel(self, run_id: str) -> bool:
        with self._lock:
            live = self._live.get(run_id)
        if live is None:
            return False
        live.stop.set()
        with self._lock:
            queued = run_id in self._queue
            if queued:
                self._queue.remove(run_id)
        if queued:
            self.store.update_status(live.run, state="cancelled")
        return True

    def is_active(self, run_id: str) -> bool:
        with self._lock:
            live = self._live.get(run_id)
        return live is not None and (live.thread is None and run_id in self._queue
                                     or live.thread is not None and live.thread.is_alive())

    def queue_position(self, run_id: str) -> int | None:
        with self._lock:
            return list(self._queue).index(run_id) + 1 if run_id in self._queue else None

    def active_ids(self) -> list[str]:
        with self._lock:
            ids = list(self._live)
        return [i for i in ids if self.is_active(i)]

    def wait(self, run_id: str, timeout: float | None = None) -> RunRecord:
        """Block until the run has ended (used by tests and scripts); returns it as on disk."""
        import time

        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_active(run_id):
            with self._lock:
                live = self._live.get(run_id)
            t = live.thread if live else None
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if t is not None:
                t.join(timeout=min(0.2, remaining) if remaining is not None else 0.2)
            else:
                time.sleep(0.05)
            if deadline is not None and time.monotonic() >= deadline:
                break
        return self.store.get(run_id)

    def shutdown(self, timeout: float = 10.0) -> None:
        """Cancel everything and wait for the threads (tests, server shutdown)."""
        with self._lock:
            lives = list(self._live.values())
            self._queue.clear()
        for live in lives:
            live.stop.set()
        for live in lives:
            if live.thread is not None:
                live.thread.join(timeout)
