"""R2-AD2's synthetic anomalies x̃ ~ N(0.5, 1): drawn afresh for every alarm-network epoch (the
default) or once for all epochs. The r2ad2-semi preset on MNIST-5k, the same seeds side by side;
prints test AUC, AP and fit seconds (one thread), and the ratio of the fit times.

    PYTHONPATH=. python bench/r2ad2_synthetic.py [--seeds 0,1,2] [--threads 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from deepad import metrics
from deepad.data.datasets import load_dataset
from deepad.detectors import registry
from deepad.presets import get_preset
from deepad.training.config import validate_config
from deepad.runs.create import build_split


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset("mnist5k")
    preset = get_preset("r2ad2-semi").config
    print("| synthetic anomalies | seed | test AUC | test AP | fit s |")
    print("|---|---|---|---|---|")
    totals = {True: [], False: []}
    with threadpool_limits(args.threads):
        for seed in (int(v) for v in args.seeds.split(",")):
            for resample in (True, False):
                cfg = validate_config({**preset, "params": {**preset["params"], "resample_synthetic": resample},
                                       "seed": seed, "device": "cpu"})
                split = build_split(cfg, dataset)
                det = registry.get("r2ad2")(cfg.params, device="cpu", seed=seed)
                t0 = time.perf_counter()
                det.fit(split.train, split.val)
                seconds = time.perf_counter() - t0
                s = det.score(split.test.x)
                auc, ap_ = metrics.auc(split.test.target, s), metrics.average_precision(split.test.target, s)
                totals[resample].append((auc, ap_, seconds))
                label = "every epoch" if resample else "once"
                print(f"| {label} | {seed} | {auc:.3f} | {ap_:.3f} | {seconds:.1f} |", flush=True)
    for resample, label in ((True, "every epoch"), (False, "once")):
        auc, ap_, sec = np.mean(totals[resample], axis=0)
        print(f"| {label} | mean | {auc:.3f} | {ap_:.3f} | {sec:.1f} |")
    ratio = np.mean([r[2] for r in totals[True]]) / np.mean([r[2] for r in totals[False]])
    print(f"fit time, every epoch / once: {ratio:.2f}")


if __name__ == "__main__":
    main()
