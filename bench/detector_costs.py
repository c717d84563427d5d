"""What each registered detector costs with its DEFAULT recipe on MNIST-5k, one thread: epochs (from
the on_epoch records), seconds per epoch, total fit seconds, and the test AUC and AP it buys.
Prints a markdown table.

    PYTHONPATH=. python bench/detector_costs.py [--classes 0] [--seed 0] [--methods all|m1,m2]
        [--threads 1]

Set-ups: one-vs-all with the given normal class, except where a method needs labelled data; those
take the set-up of their paper's preset (r2ad2: r2ad2-semi, a fixed 0-3 vs 4-9 set-up run once;
anoean: anoean-one-vs-all, rt-bigan: rt-bigan-polluted, both moved to the given normal class). The
split is built as the runner builds it (the detector's preferred preprocessing), and fit gets the
validation part as in the runner, so the times include the per-epoch validation records.
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from bench.paper_tables import one_vs_all
from deepad import metrics
from deepad.data.datasets import load_dataset
from deepad.detectors import registry
from deepad.presets import declared_presets, get_preset
from deepad.training.config import RunConfig, validate_config
from deepad.runs.create import build_split


def setup_for(method: str, c: int) -> tuple[dict, str]:
    """(set-up, where it comes from). A method whose set-up needs more than plain one-vs-all data
    (known anomalies, known normals) takes the set-up of the first preset it suggests; a preset's
    single-normal-class set-up moves to class c, one with several normal classes is fixed."""
    spec = registry.spec(method)
    declared = declared_presets(method)
    preset = declared[0] if spec.requires and declared else None
    if preset is None:
        return {"normal": [c]}, "one-vs-all"
    setup = get_preset(preset).config["setup"]
    if len(setup["normal"]) == 1 and not setup.get("anomaly"):
        return one_vs_all(setup, c), f"{preset} preset"
    return setup, f"{preset} preset (fixed)"


def describe(setup: dict) -> str:
    parts = ["normal " + ",".join(map(str, setup["normal"]))]
    if setup.get("anomaly"):
        parts[0] += " vs " + ",".join(map(str, setup["anomaly"]))
    k = setup.get("known_anomalies", 0)
    if k:
        amount = f"{k:.0%}" if k < 1 else f"{int(k)}"
        src = setup.get("known_classes")
        parts.append(f"{amount} known anomalies" + (f" from {','.join(map(str, src))}" if src else ""))
    if setup.get("pollution"):
        parts.append(f"{setup['pollution']:.0%} pollution")
    if setup.get("known_normals"):
        parts.append(f"{setup['known_normals']} known normals")
    return "; ".join(parts)


def measure(cfg: RunConfig, dataset) -> dict:
    """Fit on one split as the runner does, timing the fit and keeping the epoch records."""
    split = build_split(cfg, dataset)
    det = registry.get(cfg.method)(cfg.params, device="cpu", seed=cfg.seed)
    records: list[dict] = []
    t0 = time.perf_counter()
    det.fit(split.train, split.val, on_epoch=lambda rec, snap=None: records.append(rec))
    fit_s = time.perf_counter() - t0
    secs = [r["seconds"] for r in records if r.get("seconds") is not None]
    return {"records": records, "fit_s": fit_s, "epoch_s": float(np.mean(secs)) if secs else None,
            **metrics.summary(split.test.target, det.score(split.test.x))}


def epochs_text(records: list[dict]) -> str:
    phases = Counter(r.get("phase", "train") for r in records)
    if len(phases) <= 1:
        return str(len(records))
    return f"{len(records)} ({', '.join(f'{p} {n}' for p, n in phases.items())})"


def fmt(v, digits: int) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classes", default="0", help="normal classes, e.g. 0,1,2")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default="all", help="comma-separated registry names, or all")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    methods = registry.names() if args.methods == "all" else args.methods.split(",")
    for m in methods:
        registry.get(m)  # an unknown name fails here, before any training
    dataset = load_dataset("mnist5k")

    print(f"default recipes, mnist5k, seed {args.seed}, {args.threads} thread(s); seconds per epoch = "
          "mean of the records' `seconds`; fit seconds include the per-epoch validation records\n")
    print("| method | set-up | epochs (records) | s / epoch | fit s | test AUC | AP |")
    print("|---|---|---|---|---|---|---|")
    for method in methods:
        done = set()
        for c in map(int, args.classes.split(",")):
            setup, source = setup_for(method, c)
            if repr(setup) in done:  # a fixed set-up runs once
                continue
            done.add(repr(setup))
            cfg = validate_config({"dataset": "mnist5k", "setup": setup, "method": method, "params": {},
                                   "seed": args.seed, "device": "cpu"})
            with threadpool_limits(args.threads):
                r = measure(cfg, dataset)
            print(f"| {method} | {source}: {describe(setup)} | {epochs_text(r['records'])} | "
                  f"{fmt(r['epoch_s'], 3)} | {r['fit_s']:.1f} | {fmt(r['auc'], 3)} | {fmt(r['ap'], 3)} |",
                  flush=True)


if __name__ == "__main__":
    main()
