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
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    params = {k: json.loads(v) if v[:1].isdigit() or v[:1] in "-[{tf" else v
              for k, v in (p.split("=", 1) for p in args.param)}
    ds = load_dataset("mnist5k")
    print(f"Deep SVDD default recipe {registry.get('deep-svdd').Config(**params).model_dump()}")
    print(f"{'class':>5} {'seconds':>8} {'AUC':>6} {'iForest AUC':>12}")
    rows = []
    for c in map(int, args.classes.split(",")):
        split = make_split(ds, SetupConfig(normal=[c]), seed=args.seed)
        t0 = time.perf_counter()
        det = registry.get("deep-svdd")(params, seed=args.seed).fit(split.train)
        auc = metrics.auc(split.test.target, det.score(split.test.x))
        secs = time.perf_counter() - t0
        base = registry.get("iforest")(seed=args.seed).fit(split.train)
        iso = metrics.auc(split.test.target, base.score(split.test.x))
        rows.append((secs, auc, iso))
        print(f"{c:>5} {secs:8.2f} {auc:6.3f} {iso:12.3f}", flush=True)
    s, a, i = np.mean(rows, axis=0)
    print(f"{'mean':>5} {s:8.2f} {a:6.3f} {i:12.3f}")
    print(f"seconds per class vs the 39 s reference: {s / 39:.2f}x of its time")


if __name__ == "__main__":
    main()
