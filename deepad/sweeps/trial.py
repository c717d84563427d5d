"""What runs on a Ray worker: one trial of a sweep, and the channel it reports through.

A trial is an ordinary run: the runner's `execute` trains it and writes its folder. The worker may
be on another machine, so by default it writes into a temporary folder on its own node and
- streams every status change and per-epoch record to the sweep's `Channel` actor while it trains
  (the driver mirrors them into the local run folder, so the dashboard follows the run live), and
- returns the folder's files when it ends (the driver writes them into the local run folder).
When the runs folder is on a disk every node shares, the trial writes there directly instead.
Ray is imported only here and in the engine, never by the light parts of the project.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
from pathlib import Path

from deepad.runs.layout import CONFIG, SPLIT_PARTS

STOP_POLL_S = 1.0  # how often a running trial asks whether the sweep was cancelled
NOT_SHIPPED = (CONFIG, SPLIT_PARTS)  # the driver wrote them (the node's config may name node-local paths)


class Channel:
    """A Ray actor (one per sweep) between the driver and its trials: trials push records, the
    driver drains them; the driver raises the stop flag, trials poll it."""

    def __init__(self):
        self._events: list[tuple] = []
        self._stop_all = False
        self._stopped: set[str] = set()

    def push(self, run_id: str, kind: str, payload: dict) -> None:
        self._events.append((run_id, kind, payload))

    def drain(self) -> list[tuple]:
        events, self._events = self._events, []
        return events

    def stop(self, run_id: str | None = None) -> None:
        if run_id is None:
            self._stop_all = True
        else:
            self._stopped.add(run_id)

    def should_stop(self, run_id: str) -> bool:
        return self._stop_all or run_id in self._stopped


def _streaming_writer(run, channel, run_id: str):
    """A RunWriter whose status changes and history records are also pushed to the channel."""
    from deepad.runs.write import RunWriter

    class StreamingWriter(RunWriter):
        def status(self, **fields):
            status = super().status(**fields)
            channel.push.remote(run_id, "status", {k: v for k, v in fields.items() if k != "owner"})
            return status

        def history(self, record):
            super().history(record)
            channel.push.remote(run_id, "history", record)

    return StreamingWriter(run)


class _StopWatcher:
    """Polls the channel's stop flag in a thread, so `should_stop` is a cheap local check."""

    def __init__(self, channel, run_id: str):
        import ray

        self._flag = threading.Event()
        self._done = threading.Event()

        def poll():
            while not self._done.wait(STOP_POLL_S):
                try:
                    if ray.get(channel.should_stop.remote(run_id), timeout=10):
                        self._flag.set()
                        return
                except Exception:  # the driver (and its channel) is gone: stop training
                    self._flag.set()
                    return

        threading.Thread(target=poll, daemon=True, name=f"deepad-stop-{run_id}").start()

    def is_set(self) -> bool:
        return self._flag.is_set()

    def close(self) -> None:
        self._done.set()


def node_info() -> dict:
    """Where this trial runs: the Ray node and cluster, the machine and the worker process."""
    import ray

    ctx = ray.get_runtime_context()
    return {"node_id": ctx.get_node_id(), "node_ip": ray.util.get_node_ip_address(),
            "host": socket.gethostname(), "pid": os.getpid(), "cluster": ctx.gcs_address}


def run_trial(run_id: str, config: dict, status: dict, files: dict[str, bytes], channel,
              driver_path: str, shared_root: str | None = None) -> dict:
    """Train one trial on this worker. `files` are the run folder's files as the driver created
    them (relative path -> bytes: its split, a user's data copy under data/) and `driver_path` is where that
    folder is on the driver's machine. Returns {"node": ...,
    "files": relative path -> bytes} (no files when writing into a shared runs folder)."""
    import ray
    import torch

    from deepad.runs.listing import RunStore
    from deepad.runs.read import RunRecord
    from deepad.training.config import RunConfig
    from deepad.training.runner import execute

    cpus = ray.get_runtime_context().get_assigned_resources().get("CPU", 1)
    torch.set_num_threads(max(1, int(cpus)))
    node = node_info()
    channel.push.remote(run_id, "node", node)
    cfg = RunConfig.model_validate(config)
    stop = _StopWatcher(channel, run_id)
    tmp = None
    try:
        if shared_root is not None:
            path = RunStore(shared_root).run_path(run_id)
        else:
            tmp = Path(tempfile.mkdtemp(prefix="deepad-trial-"))
            path = tmp / run_id
            path.mkdir()
        run = RunRecord(run_id, path, config, {**status, "ray": node})
        writer = None
        if shared_root is None:  # this node's copy of the run folder
            writer = _streaming_writer(run, channel, run_id)
            for rel, data in files.items():
                writer.received_file(rel, data)
            cfg = _local_data_path(cfg, Path(driver_path), path)
        execute(run, cfg, writer=writer, should_stop=stop.is_set)  # on the split made at creation
        out = {} if shared_root is not None else _collect(path)
        return {"node": node, "files": out}
    finally:
        stop.close()
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)


def _local_data_path(cfg, driver_path: Path, node_path: Path):
    """A user's file kept in the run folder (data/...) is read from this node's copy of it."""
    if not cfg.dataset.startswith("file:"):
        return cfg
    from deepad.data.uploads import parse_user_dataset_name, user_dataset_name

    path, options = parse_user_dataset_name(cfg.dataset)
    try:
        rel = Path(path).resolve().relative_to(driver_path.resolve())
    except ValueError:
        return cfg  # a file outside the run folder: it must be at the same path on this node
    return cfg.model_copy(update={"dataset": user_dataset_name(node_path / rel, **options)})


def _collect(path: Path) -> dict[str, bytes]:
    out = {}
    for f in sorted(path.rglob("*")):
        rel = f.relative_to(path).as_posix()
        if f.is_file() and not f.name.startswith(".") and rel not in NOT_SHIPPED and not rel.startswith("data/"):
            out[rel] = f.read_bytes()
    return out
