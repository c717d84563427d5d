"""The same 8-trial grid trained one run at a time, then as a sweep on a local Ray instance with
this machine's cores; prints both wall times, their ratio and Ray's start-up cost.

    PYTHONPATH=. python bench/sweep_speed.py [--epochs 3] [--pretrain-epochs 1] [--dataset mnist5k]

One at a time is how a single process trains a grid (the dashboard's server queue): each run in
turn, torch using every core. The sweep trains the trials side by side as Ray tasks, one CPU each.
Both write ordinary run folders (into a temporary folder). Timings on a shared machine are noisy:
only the ratio, measured side by side in this one script, means anything.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import torch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="mnist5k")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--pretrain-epochs", type=int, default=1)
    args = ap.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private, short-lived local instance

    from deepad.store import RunStore
    from deepad.sweeps import expand, new_sweep_id
    from deepad.sweeps.engine import local_cpus, run_sweep
    from deepad.sweeps.runs import create_runs, validate_all
    from deepad.training.runner import execute

    from deepad.data.setups import SetupConfig
    from deepad.detectors import registry

    cores = local_cpus()
    base = {"dataset": args.dataset, "method": "deep-svdd", "setup": {"normal": [0]},
            "params": {"epochs": args.epochs, "pretrain_epochs": args.pretrain_epochs, "reg": "noise"}}
    axes = {"k": [5, 50], "lr": [1e-4, 1e-3], "seed": [0, 1]}
    fields = registry.get("deep-svdd").Config.model_fields

    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(os.path.join(tmp, "runs"))
        configs = expand(base, axes, new_sweep_id(), fields, SetupConfig.model_fields)
        print(f"{len(configs)} trials: deep-svdd on {args.dataset}, {args.pretrain_epochs}+{args.epochs} epochs, "
              f"grid k × lr × seed; {cores} cores", file=sys.stderr)

        torch.set_num_threads(cores)
        t0 = time.perf_counter()
        one_by_one = create_runs(validate_all(configs), store)
        for run, cfg in one_by_one:
            execute(run, cfg, store)
        t_seq = time.perf_counter() - t0
        states = [store.get(r.run_id).state for r, _ in one_by_one]
        print(f"one at a time: {t_seq:.1f} s ({states.count('finished')} finished)", file=sys.stderr)

        sweep_id = new_sweep_id()
        t0 = time.perf_counter()
        trials = create_runs(validate_all(expand(base, axes, sweep_id, fields, SetupConfig.model_fields)), store)
        outcome = run_sweep(trials, store, sweep_id)
        t_ray = time.perf_counter() - t0
        print(f"Ray sweep: {t_ray:.1f} s ({outcome.finished} finished), of which Ray start-up "
              f"{outcome.ray_start_s:.1f} s", file=sys.stderr)

    load = os.getloadavg()[0]
    print(f"| trials | cores | one at a time | Ray sweep | speed-up | Ray start-up | load average |")
    print(f"|---|---|---|---|---|---|---|")
    print(f"| {len(configs)} | {cores} | {t_seq:.1f} s | {t_ray:.1f} s | {t_seq / t_ray:.2f}× "
          f"({t_seq / max(1e-9, t_ray - outcome.ray_start_s):.2f}× without start-up) | "
          f"{outcome.ray_start_s:.1f} s | {load:.1f} |")


if __name__ == "__main__":
    main()
