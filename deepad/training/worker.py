"""The process that trains one run for the dashboard: `python -m deepad.training.worker RUN_FOLDER`.

The run manager starts one of these per run (a fresh interpreter, so CUDA can be used in it and
nothing of the server's is imported) and follows the run on disk. It calls the same `execute` as
`python -m deepad train`, so the run folder is the same whoever trained it. The torch thread count
is set before torch is imported, so that several workers side by side do not oversubscribe the
cores. SIGTERM (and SIGINT) is a stop request: the run ends `cancelled` after its current
minibatch, its history kept; a stop file in the run folder (`deepad.runs.write.request_stop`) does the same.
"""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys
import threading
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deepad.training.worker",
                                     description="train one queued run in this process")
    parser.add_argument("run_dir", help="the run's folder (created by the run manager)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads for this run")
    args = parser.parse_args(argv)
    faulthandler.enable()  # a crash in a native library leaves a traceback in the worker's log
    threads = max(1, args.threads)
    for var in THREAD_VARS:
        os.environ[var] = str(threads)
    os.environ["OPENBLAS_NUM_THREADS"] = "1"  # numpy's small arrays; torch's threads train

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    import torch

    torch.set_num_threads(threads)
    from deepad.runs.listing import RunStore
    from deepad.training.config import RunConfig
    from deepad.training.runner import execute

    path = Path(args.run_dir).resolve()
    store = RunStore(path.parent)
    run = store.get(path.name)
    if run.state != "queued":
        print(f"run {run.run_id} is {run.state}, not queued: nothing to do", file=sys.stderr)
        return 0
    execute(run, RunConfig.model_validate(run.config), should_stop=stop.is_set)  # on the split made at creation
    return 0


def exit_now(code: int) -> None:
    """Exit without the interpreter's teardown, which takes seconds once torch is loaded (every file
    of the run is closed and in place by then), so that a cancelled run frees its place at once."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    exit_now(main())
