"""The whole `python -m deepad train` process, start to exit: the default Deep SVDD recipe against
Ruff et al.'s reference recipe (150 + 150 epochs, lr 1e-4, batch 200; `train_speed.REFERENCE`) on
the same normal class, with process start, data loading, the per-epoch records and writing the run
included. Also prints each process's peak memory (maximum resident set size).

    PYTHONPATH=. python bench/end_to_end.py [--classes 0,1] [--threads 1] [--repeat 1]

The two recipes run one after the other, alternating, in fresh runs folders; only ratios measured
in one run of this script mean anything on a shared machine.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from train_speed import REFERENCE  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def train_process(normal: int, params: dict, runs_dir: str, threads: int | None) -> dict:
    """Run one `python -m deepad train` process; its wall time, peak memory and final JSON line."""
    argv = [sys.executable, "-m", "deepad", "train", "--normal", str(normal), "--runs-dir", runs_dir, "--quiet"]
    for k, v in params.items():
        argv += [f"--{k.replace('_', '-')}", str(v)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if threads:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    line = json.loads(out.decode().strip().splitlines()[-1])
    return {"seconds": seconds, "peak_mb": usage.ru_maxrss / 1024, "auc": line["auc"], "state": line["state"],
            "fit_seconds": line["seconds"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--classes", default="0")
    ap.add_argument("--threads", type=int, default=None, help="torch threads in each process (default: torch's)")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    print(f"{'class':>5} {'default s':>10} {'AUC':>6} {'peak MB':>8} {'reference s':>12} {'ref AUC':>8} "
          f"{'ref peak MB':>12} {'ratio':>6}")
    ratios, rows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for c in map(int, args.classes.split(",")):
            for _ in range(args.repeat):
                d = train_process(c, {}, str(Path(tmp) / "default"), args.threads)
                print(f"  class {c}, default recipe: {d['seconds']:.1f} s, AUC {d['auc']:.3f}, "
                      f"peak {d['peak_mb']:.0f} MB", flush=True)
                r = train_process(c, REFERENCE, str(Path(tmp) / "reference"), args.threads)
                assert d["state"] == r["state"] == "finished", (d, r)
                ratio = d["seconds"] / r["seconds"]
                ratios.append(ratio)
                rows.append((d, r))
                print(f"{c:>5} {d['seconds']:>10.1f} {d['auc']:>6.3f} {d['peak_mb']:>8.0f} {r['seconds']:>12.1f} "
                      f"{r['auc']:>8.3f} {r['peak_mb']:>12.0f} {ratio:>6.2f}", flush=True)
    floor = import_torch_peak_mb()
    d_auc = statistics.mean(d["auc"] for d, _ in rows)
    r_auc = statistics.mean(r["auc"] for _, r in rows)
    print(f"default / reference time, whole processes: {statistics.mean(ratios):.2f} (goal <= 0.33); "
          f"mean AUC {d_auc:.3f} vs {r_auc:.3f}; peak memory of a default run "
          f"{max(d['peak_mb'] for d, _ in rows):.0f} MB, of which `import torch` alone takes {floor:.0f} MB")


def import_torch_peak_mb() -> float:
    """Peak memory of a process that only imports torch: the floor under any training process."""
    proc = subprocess.Popen([sys.executable, "-c", "import torch"], stdout=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return usage.ru_maxrss / 1024


if __name__ == "__main__":
    main()
