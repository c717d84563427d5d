"""Throughput of the dashboard's run manager: a grid of 4 short Deep SVDD runs (normal classes
0-3 of MNIST-5k), one at a time with every core's thread, against the concurrent default (as
many runs at once as the cores hold at the default threads per run). Wall time from the first
start to the last end, worker start-up included.

    PYTHONPATH=. python bench/throughput.py [--epochs 10] [--pretrain-epochs 5]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from deepad.runs.listing import RunStore
from deepad.training.manager import RunManager, default_parallel_runs, default_threads_per_run


def grid_seconds(manager: RunManager, params: dict) -> float:
    t0 = time.perf_counter()
    ids = [manager.start({"dataset": "mnist5k", "setup": {"normal": [c]}, "params": params}) for c in range(4)]
    for run_id in ids:
        run = manager.wait(run_id)
        assert run.state == "finished", run.status
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--pretrain-epochs", type=int, default=5)
    args = ap.parse_args()
    params = {"epochs": args.epochs, "pretrain_epochs": args.pretrain_epochs}
    cores = os.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        one = RunManager(RunStore(os.path.join(tmp, "one")), max_parallel=1, threads_per_run=cores)
        many = RunManager(RunStore(os.path.join(tmp, "many")))
        try:
            sequential = grid_seconds(one, params)
            concurrent = grid_seconds(many, params)
        finally:
            one.shutdown()
            many.shutdown()
    print(f"4 runs one at a time ({cores} threads each): {sequential:.1f} s; concurrent default "
          f"({default_parallel_runs()} at once x {default_threads_per_run()} thread(s)): {concurrent:.1f} s; "
          f"speed-up {sequential / concurrent:.2f}x (goal >= 1.7 on 2 cores)")


if __name__ == "__main__":
    main()
