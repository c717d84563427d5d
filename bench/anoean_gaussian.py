"""AnoEAN's normal Gaussian: fitted on held-out validation normals (Gherbi et al., the default) or on
the training codes the encoder was trained towards N(0, I). One encoder is trained per class and
seed (the anoean-one-vs-all preset moved to that class, with Gherbi et al.'s 80 / 20 test set), then
both Gaussians are fitted on it and scored on the same test set, so the comparison is paired.
Prints a markdown table of test AUC and AP (anomaly positive) per class, averaged over seeds.

    PYTHONPATH=. python bench/anoean_gaussian.py [--classes 0,1,...] [--seeds 0,1,2] [--threads 1]
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from bench.paper_tables import one_vs_all
from deepad import metrics
from deepad.data.datasets import load_dataset
from deepad.detectors import registry
from deepad.detectors.torch_utils import as_tensor
from deepad.presets import get_preset
from deepad.training.config import validate_config
from deepad.runs.create import build_split


def measure(c: int, seed: int, dataset) -> dict[str, tuple[float, float]]:
    preset = get_preset("anoean-one-vs-all").config
    cfg = validate_config({**preset, "setup": {**one_vs_all(preset["setup"], c), "test_anomaly_share": 0.2},
                           "seed": seed, "device": "cpu"})
    split = build_split(cfg, dataset)
    det = registry.get("anoean")(cfg.params, device="cpu", seed=seed)
    det.fit(split.train, split.val)
    out = {}
    sources = {"validation": split.val.x[split.val.target == 0],
               "training": split.train.x[split.train.known_label != -1]}
    for name, x in sources.items():
        det._fit_gaussian(as_tensor(x, "cpu"))
        s = det.score(split.test.x)
        out[name] = (metrics.auc(split.test.target, s), metrics.average_precision(split.test.target, s))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--classes", default=",".join(map(str, range(10))))
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    classes = [int(v) for v in args.classes.split(",")]
    seeds = [int(v) for v in args.seeds.split(",")]
    dataset = load_dataset("mnist5k")
    print("| normal | AUC, validation fit | AUC, training fit | AP, validation fit | AP, training fit |")
    print("|---|---|---|---|---|")
    rows = []
    with threadpool_limits(args.threads):
        for c in classes:
            runs = [measure(c, seed, dataset) for seed in seeds]
            row = [np.mean([r[src][k] for r in runs]) for k in (0, 1) for src in ("validation", "training")]
            rows.append(row)
            print(f"| {c} | " + " | ".join(f"{v:.3f}" for v in row) + " |", flush=True)
    mean = np.mean(rows, axis=0)
    print("| mean | " + " | ".join(f"{v:.3f}" for v in mean) + " |")
    print(f"(seeds {args.seeds}; test sets 80 % normal / 20 % anomalies, AP's chance level 0.2)")


if __name__ == "__main__":
    main()
