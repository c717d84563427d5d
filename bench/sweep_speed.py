"""The same 8-trial grid trained one run at a time, then as a sweep on a local Ray instance with
this machine's cores; prints both wall times, their ratio and Ray's start-up cost.

    PYTHONPATH=. python bench/sweep_speed.py [--epochs 20] [--pretrain-epochs 5] [--baseline-threads 1]
        [--dataset mnist5k]

One at a time is how a single process trains a grid (the dashboard's server queue): each run in
turn, torch on one thread as each trial's (more threads help these small networks little, and on
a busy machine two threads were several times slower than one). The sweep trains the trials side
by side as Ray tasks, one CPU each. Both write ordinary run folders (into a temporary folder).
Timings on a shared machine are noisy: only the ratio, measured side by side in this one script,
means anything.
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
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--pretrain-epochs", type=int, default=5)
    ap.add_argument("--baseline-threads", type=int, default=1,
                    help="torch threads of the one-at-a-time runs (a sweep's trials use one each)")
    args = ap.parse_args()
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private, short-lived local instance

    from deepad.data.setups import SetupConfig
    from deepad.detectors import registry
    from deepad.runs.listing import RunStore
    from deepad.sweeps import expand, new_sweep_id
    from deepad.sweeps.engine import local_cpus, run_sweep
    from deepad.sweeps.runs import create_runs, validate_all
    from deepad.training.runner import execute

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

        threads = args.baseline_threads
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        one_by_one = create_runs(validate_all(configs), store)
        for run, cfg in one_by_one:
            execute(run, cfg)  # on the split its creation made
        t_seq = time.perf_counter() - t0
        done = [store.get(r.run_id) for r, _ in one_by_one]
        per_seq = sum(r.status["seconds"] for r in done) / len(done)
        print(f"one at a time: {t_seq:.1f} s ({sum(r.state == 'finished' for r in done)} finished, "
              f"{per_seq:.1f} s per run)", file=sys.stderr)

        sweep_id = new_sweep_id()
        t0 = time.perf_counter()
        trials = create_runs(validate_all(expand(base, axes, sweep_id, fields, SetupConfig.model_fields)), store)
        outcome = run_sweep(trials, store, sweep_id)
        t_ray = time.perf_counter() - t0
        per_ray = sum(store.get(r.run_id).status["seconds"] for r, _ in trials) / len(trials)
        print(f"Ray sweep: {t_ray:.1f} s ({outcome.finished} finished, {per_ray:.1f} s per run inside its task), "
              f"of which Ray start-up {outcome.ray_start_s:.1f} s", file=sys.stderr)

    load = os.getloadavg()[0]
    print("| trials | cores | one at a time (torch threads) | Ray sweep | speed-up | Ray start-up | "
          "s per run: alone / in a task | load average |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {len(configs)} | {cores} | {t_seq:.1f} s ({threads}) | {t_ray:.1f} s | {t_seq / t_ray:.2f}× "
          f"({t_seq / max(1e-9, t_ray - outcome.ray_start_s):.2f}× without start-up) | "
          f"{outcome.ray_start_s:.1f} s | {per_seq:.1f} / {per_ray:.1f} | {load:.1f} |")


if __name__ == "__main__":
    main()
