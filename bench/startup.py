"""Start-up of the command line: `python -m deepad --help` and `python -m deepad list` against
`python -c "import torch"`, each a fresh process, alternating, median of --repeat runs.

    PYTHONPATH=. python bench/startup.py [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def seconds(argv: list[str], env: dict) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as runs:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "DEEPAD_RUNS_DIR": runs}
        commands = {"--help": [sys.executable, "-m", "deepad", "--help"],
                    "list": [sys.executable, "-m", "deepad", "list"],
                    "import torch": [sys.executable, "-c", "import torch"]}
        times: dict[str, list[float]] = {k: [] for k in commands}
        for _ in range(args.repeat):
            for name, argv in commands.items():
                times[name].append(seconds(argv, env))
    med = {k: statistics.median(v) for k, v in times.items()}
    for name in ("--help", "list"):
        print(f"python -m deepad {name}: {med[name]:.2f} s, {med[name] / med['import torch']:.2f} of "
              f"`import torch` ({med['import torch']:.2f} s) (goal <= 0.3)")


if __name__ == "__main__":
    main()
