"""Quick default recipe against the paper recipe (`<method>-paper` preset), on the same set-up:
the paper preset's set-up moved to each normal class, the detector's defaults in one run and the
preset's hyperparameters in the other. Where one setting's effect is in question, the quick
default with only that setting changed to the paper's value runs too (VARIANTS: Deep SVDD's
weight decay and batch size). Prints test AUC, AP (anomaly positive, at the set-up's test
share) and fit seconds per class and seed, and their means, one thread.

    PYTHONPATH=. python bench/paper_recipes.py --methods deep-svdd,ae [--classes 0,3,8] [--seeds 0]

rt-bigan-paper (100 000 meta-iterations) takes hours on a CPU; it is not among the defaults.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from bench.paper_tables import one_vs_all
from deepad import metrics
from deepad.data.datasets import load_dataset
from deepad.detectors import registry
from deepad.presets import get_preset
from deepad.training.config import validate_config
from deepad.runs.create import build_split


def measure(method: str, setup: dict, params: dict, seed: int, dataset) -> tuple[float, float, float]:
    cfg = validate_config({"dataset": dataset.name, "setup": setup, "method": method, "params": params,
                           "seed": seed, "device": "cpu"})
    split = build_split(cfg, dataset)
    det = registry.get(method)(cfg.params, device="cpu", seed=seed)
    t0 = time.perf_counter()
    det.fit(split.train, split.val)
    seconds = time.perf_counter() - t0
    s = det.score(split.test.x)
    return metrics.auc(split.test.target, s), metrics.average_precision(split.test.target, s), seconds


# quick default with one setting at the paper's value: label -> the params changed
VARIANTS = {"deep-svdd": {"quick, paper weight decay": {"weight_decay": 5e-4},
                          "quick, paper batch": {"batch_size": 50}}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", default="deep-svdd,deep-svdd-vae,ae,anoean,egbad")
    ap.add_argument("--classes", default="0,3,8")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset("mnist5k")
    seeds = [int(v) for v in args.seeds.split(",")]
    print("| method | recipe | normal | seed | test AUC | test AP | fit s |")
    print("|---|---|---|---|---|---|---|")
    with threadpool_limits(args.threads):
        for method in args.methods.split(","):
            preset = get_preset(f"{method}-paper").config
            recipes = {"quick": {}, **VARIANTS.get(method, {}), "paper": preset["params"]}
            rows = {r: [] for r in recipes}
            for c in (int(v) for v in args.classes.split(",")):
                setup = preset["setup"]
                if len(setup["normal"]) == 1 and not setup.get("anomaly"):
                    setup = one_vs_all(setup, c)
                for seed in seeds:
                    for recipe, params in recipes.items():
                        auc, ap_, sec = measure(method, setup, params, seed, dataset)
                        rows[recipe].append((auc, ap_, sec))
                        print(f"| {method} | {recipe} | {','.join(map(str, setup['normal']))} | {seed} | "
                              f"{auc:.3f} | {ap_:.3f} | {sec:.1f} |", flush=True)
            for recipe, values in rows.items():
                v = np.asarray(values)
                spread = f" ± {v[:, 0].std(ddof=1):.3f}" if len(v) > 1 else ""
                print(f"| {method} | {recipe} | mean | {args.seeds} | {v[:, 0].mean():.3f}{spread} | "
                      f"{v[:, 1].mean():.3f} | {v[:, 2].mean():.1f} |", flush=True)


if __name__ == "__main__":
    main()
