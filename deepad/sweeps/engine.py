"""The Ray engine: trains a sweep's trials as Ray tasks (one CPU each) and brings them home.

Without an address it starts a local Ray instance sized to this machine and shuts it down at the
end; with one (or $DEEPAD_RAY_ADDRESS) it connects to that cluster and never starts its own. The
run folders live on the driver's machine (the one running the sweep): each trial trains in a
temporary folder on its node, its status and per-epoch records stream back through a `Channel`
actor while it trains (so the local run folder grows live, as a local run's does), and its files
come back as the task's result. With `shared=True` the runs folder is one every node sees, and the
trials write into it directly.

Cancelling (`should_stop` turns true, e.g. on Ctrl-C): trials not yet started are cancelled in
Ray's queue, running ones are asked to stop and come back "cancelled" with their records so far
(forced after `STOP_GRACE_S`), and what had finished is kept.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import ray

from deepad.errors import DeepADError
from deepad.runs.layout import FILES, SPLIT, SPLIT_PARTS, STATUS
from deepad.runs.listing import RunStore
from deepad.runs.read import RunRecord
from deepad.runs.write import RunWriter
from deepad.sweeps import check_address, resolve_address  # noqa: F401  (part of this module's interface)
from deepad.sweeps import trial as trial_mod
from deepad.training.config import RunConfig

POLL_S = 0.25
STOP_GRACE_S = 15.0
PACKAGE_DIR = Path(__file__).resolve().parents[1]  # .../deepad

TrialCallback = Callable[[RunRecord, RunConfig], None]


@dataclass
class SweepOutcome:
    sweep_id: str
    address: str  # as given, or the local instance's
    gcs_address: str  # as the cluster reports it (a loopback address appears as the node's IP)
    started_ray: bool
    trials: int
    finished: int = 0
    failed: int = 0
    cancelled: int = 0
    seconds: float = 0.0
    ray_start_s: float = 0.0
    nodes: set = field(default_factory=set)

    def summary(self) -> dict:
        return {"sweep_id": self.sweep_id, "engine": "ray", "address": self.address, "gcs_address": self.gcs_address,
                "local_instance": self.started_ray, "trials": self.trials, "finished": self.finished,
                "failed": self.failed, "cancelled": self.cancelled, "nodes": len(self.nodes),
                "seconds": round(self.seconds, 3), "ray_start_seconds": round(self.ray_start_s, 3)}


def local_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def connect(address: str | None) -> tuple[str, bool]:
    """Start or join Ray for this process; returns (the cluster's address, whether we started it)."""
    if ray.is_initialized():
        return ray.get_runtime_context().gcs_address, False
    quiet = dict(log_to_driver=False, logging_level=logging.WARNING, configure_logging=True)
    if address:
        check_address(address)
        # the cluster's nodes need not have this project installed: ship the package with the job
        runtime_env = {"py_modules": [str(PACKAGE_DIR)], "excludes": ["__pycache__", "*.pyc"]}
        ray.init(address=address, runtime_env=runtime_env, **quiet)
        return ray.get_runtime_context().gcs_address, False
    # "local": a new instance of our own, never one that happens to run on this machine already.
    # Its workers inherit this process's environment: make sure they find this package (a runtime
    # env would work too, but its workers are not started ahead and each costs seconds to start).
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(PACKAGE_DIR.parent) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_DIR.parent), *paths])
    # its servers listen on the loopback interface only: nothing outside this machine can reach
    # them. Ray takes the loopback address as the node's own (and binds its servers to it) where it
    # runs without clusters, which its setting below asks for; this process and its workers only.
    os.environ[_NO_CLUSTER_ENV] = "0"
    from ray._private import ray_constants

    ray_constants.ENABLE_RAY_CLUSTER = False
    with _engine_start():
        ray.init(address="local", num_cpus=local_cpus(), include_dashboard=False, **quiet)
    return ray.get_runtime_context().gcs_address, True


_NO_CLUSTER_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"


@contextlib.contextmanager
def _engine_start():
    """Start the engine with its native output held back: when it cannot start, one line saying
    why (a DeepADError) instead of the native trace it prints; when it starts, nothing."""
    import tempfile

    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as held:
        os.dup2(held.fileno(), 2)
        try:
            yield
        except Exception as exc:
            os.dup2(saved, 2)
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise DeepADError(f"the Ray engine could not start on this machine ({detail}); check that "
                              "/tmp (or $RAY_TMPDIR) is writable and has room, or give a running cluster "
                              "with --ray-address") from None
        finally:
            os.dup2(saved, 2)
            os.close(saved)


@dataclass
class _Trial:
    run: RunRecord
    cfg: RunConfig
    ref: object = None
    node: dict | None = None
    done: bool = False


def run_sweep(trials: list[tuple[RunRecord, RunConfig]], store: RunStore, sweep_id: str, *,
              address: str | None = None, max_concurrent: int | None = None, shared: bool = False,
              should_stop: Callable[[], bool] = lambda: False, force_stop: Callable[[], bool] = lambda: False,
              on_trial_end: TrialCallback | None = None, on_progress: Callable[[SweepOutcome], None] | None = None,
              ) -> SweepOutcome:
    """Train the prepared trials (run folders already created, state "queued") on Ray."""
    t0 = time.perf_counter()
    address = resolve_address(address)
    try:
        gcs_address, started = connect(address)
    except Exception as exc:  # nothing was submitted: say so in every trial's folder
        for run, _cfg in trials:
            RunWriter(run).status(state="failed", ended=time.time(), error=f"Ray did not start: {_one_line(exc)}")
        if isinstance(exc, DeepADError):
            raise
        raise DeepADError(f"could not start or reach Ray ({_one_line(exc)})") from None
    outcome = SweepOutcome(sweep_id, address or gcs_address, gcs_address, started, len(trials),
                           ray_start_s=time.perf_counter() - t0)
    try:
        _drive(trials, store, outcome, max_concurrent, shared, should_stop, force_stop, on_trial_end,
               on_progress)
    finally:
        ray.shutdown()  # a local instance stops; a cluster is only disconnected from
        outcome.seconds = time.perf_counter() - t0
    return outcome


def _drive(trials, store, outcome, max_concurrent, shared, should_stop, force_stop, on_trial_end,
           on_progress) -> None:
    channel = ray.remote(num_cpus=0)(trial_mod.Channel).remote()
    remote = ray.remote(num_cpus=1, max_retries=0)(trial_mod.run_trial)
    waiting = [_Trial(run, cfg) for run, cfg in trials]
    waiting.reverse()  # pop() from the end submits them in order
    by_id = {t.run.run_id: t for t in waiting}
    inflight: dict = {}
    stop_at = None
    forced = False

    def finish(t: _Trial) -> None:
        t.done = True
        run = store.get(t.run.run_id)
        state = run.state
        if state == "finished":
            outcome.finished += 1
        elif state == "cancelled":
            outcome.cancelled += 1
        else:
            outcome.failed += 1
        if on_trial_end is not None:
            on_trial_end(run, t.cfg)
        if on_progress is not None:
            on_progress(outcome)

    while waiting or inflight:
        if stop_at is None and should_stop():
            stop_at = time.monotonic()
            channel.stop.remote()
            for t in reversed(waiting):  # never submitted
                RunWriter(t.run).status(state="cancelled", ended=time.time(), error="the sweep was cancelled")
                finish(t)
            waiting.clear()
            for ref, t in inflight.items():
                if t.node is None:  # still in Ray's queue: drop it there
                    ray.cancel(ref)
        if stop_at is not None and not forced and (force_stop() or time.monotonic() - stop_at > STOP_GRACE_S):
            forced = True
            for ref in inflight:
                ray.cancel(ref, force=True)
        while waiting and (max_concurrent is None or len(inflight) < max_concurrent):
            t = waiting.pop()
            files = _shipped(t.run)
            t.ref = remote.remote(t.run.run_id, t.run.config, t.run.status, files, channel,
                                  str(t.run.path), str(store.root) if shared else None)
            inflight[t.ref] = t
        ready, _ = ray.wait(list(inflight), num_returns=len(inflight), timeout=POLL_S)
        _mirror(ray.get(channel.drain.remote()), by_id, store, outcome, shared)
        for ref in ready:
            t = inflight.pop(ref)
            try:
                result = ray.get(ref)
            except (ray.exceptions.TaskCancelledError, ray.exceptions.WorkerCrashedError) as exc:
                if stop_at is not None:
                    _end(store, t, state="cancelled", error="the sweep was cancelled")
                else:
                    _end(store, t, state="failed", error=f"the Ray worker stopped: {type(exc).__name__}",
                         hint="the node may have run out of memory; see the Ray logs of that node")
            except ray.exceptions.RayError as exc:
                _end(store, t, state="failed", error=_one_line(exc), hint="see the Ray logs of that node")
            else:
                t.node = result["node"]
                outcome.nodes.add(result["node"]["node_id"])
                _land(store, t, result, shared)
            finish(t)


def _mirror(events: list[tuple], by_id: dict[str, _Trial], store: RunStore, outcome: SweepOutcome,
            shared: bool) -> None:
    """Apply streamed records to the local run folders (runs that have ended are left alone; in a
    shared runs folder the trials write their own)."""
    for run_id, kind, payload in events:
        t = by_id.get(run_id)
        if t is None or t.done:
            continue
        if kind == "node":
            t.node = payload
            outcome.nodes.add(payload["node_id"])
            if not shared:
                RunWriter(t.run).status(ray=payload)
        elif kind == "history":
            RunWriter(t.run).history(payload)
        elif kind == "status":
            fields = {k: v for k, v in payload.items() if k not in ("owner",)}
            if fields.get("state") not in (None, "queued", "running"):
                continue  # the final status comes with the files
            RunWriter(t.run).status(**fields)


def _land(store: RunStore, t: _Trial, result: dict, shared: bool) -> None:
    """Write a trial's returned files into its local run folder; status.json last."""
    if shared:
        RunWriter(store.get(t.run.run_id)).status(ray=result["node"])
        return
    write = RunWriter(t.run)
    files = result["files"]
    status = files.pop(STATUS, None)
    for name, data in files.items():
        if name in FILES:  # only run files, by name: nothing a trial sends lands outside its folder
            write.received_file(name, data)
    if status is None:
        _end(store, t, state="failed", error="the trial came back without its status")
        return
    import json

    final = json.loads(status)
    final.pop("owner", None)
    final["ray"] = result["node"]
    write.replace_status(final)


def _end(store: RunStore, t: _Trial, **fields) -> None:
    run = store.get(t.run.run_id)
    if run.state in ("queued", "running", "interrupted"):
        RunWriter(run).status(ended=time.time(), **({"ray": t.node} if t.node else {}), **fields)


def _shipped(run: RunRecord) -> dict[str, bytes]:
    """The files a trial's node needs of its run folder (relative path -> bytes): the split made
    when the run was created, and a user's data copy under data/."""
    files = [run.files.file(SPLIT), run.files.file(SPLIT_PARTS),
             *sorted(f for f in run.files.data_dir.rglob("*") if f.is_file())]
    return {f.relative_to(run.path).as_posix(): f.read_bytes() for f in files if f.is_file()}


def _one_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[-1] if text else ''}"
