"""Time the default Deep SVDD recipe (pretraining included) end to end on MNIST-5k, one thread,
and print seconds and test AUC per normal class, beside Isolation Forest on the same split.

    PYTHONPATH=. python bench/train_speed.py [--classes 0,1,...] [--param key=value ...]

For reference, Ruff et al.'s public MNIST recipe (150 autoencoder + 150 Deep SVDD epochs, lr 1e-4,
batch 200) was measured at about 39 s per class on this machine for a mean AUC of about 0.93.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from deepad import metrics
from deepad.data import SetupConfig, load_dataset, make_split
from deepad.detectors import registry


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--param", action="append", default=[], help="override, e.g. epochs=50")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--reference", action="store_true",
                    help="also run Ruff et al.'s recipe (150 + 150 epochs, lr 1e-4, batch 200) side by side")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    params = {k: json.loads(v) if v[:1].isdigit() or v[:1] in "-[{tf" else v
              for k, v in (p.split("=", 1) for p in args.param)}
    ds = load_dataset("mnist5k")
    print(f"Deep SVDD default recipe {registry.get('deep-svdd').Config(**params).model_dump()}")
    header = f"{'class':>5} {'seconds':>8} {'AUC':>6} {'iForest AUC':>12}"
    if args.reference:
        header += f" {'ref seconds':>12} {'ref AUC':>8}"
    print(header)
    rows = []
    for c in map(int, args.classes.split(",")):
        split = make_split(ds, SetupConfig(normal=[c]), seed=args.seed)
        secs, auc = run(split, params, args.seed)
        base = registry.get("iforest")(seed=args.seed).fit(split.train)
        row = [secs, auc, metrics.auc(split.test.target, base.score(split.test.x))]
        if args.reference:
            row += run(split, REFERENCE, args.seed)
        rows.append(row)
        print(fmt(c, row), flush=True)
    mean = np.mean(rows, axis=0)
    print(fmt("mean", mean))
    if args.reference:
        print(f"default recipe time / reference recipe time: {mean[0] / mean[3]:.2f} "
              f"(AUC {mean[1]:.3f} vs {mean[4]:.3f})")
    else:
        print(f"seconds per class vs the 39 s measured for the public reference code: {mean[0] / 39:.2f}x")


def fmt(label, row) -> str:
    widths = [(8, 2), (6, 3), (12, 3), (12, 2), (8, 3)]
    return f"{label:>5} " + " ".join(f"{v:{w}.{d}f}" for v, (w, d) in zip(row, widths))


# Ruff et al.'s MNIST recipe, run by this implementation
REFERENCE = {"pretrain_epochs": 150, "epochs": 150, "lr": 1e-4, "pretrain_lr": 1e-4, "batch_size": 200,
             "weight_decay": 5e-7}


def run(split, params, seed) -> list[float]:
    t0 = time.perf_counter()
    det = registry.get("deep-svdd")(params, seed=seed).fit(split.train)
    auc = metrics.auc(split.test.target, det.score(split.test.x))
    return [time.perf_counter() - t0, auc]


if __name__ == "__main__":
    main()
