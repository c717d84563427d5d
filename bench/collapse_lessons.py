"""Do the collapse lessons hold on every digit and seed? Each lesson's trigger and fix presets
(assets/presets/collapse-*.json, matched pairs) trained on MNIST-5k with every digit as the normal
class and several seeds; the final verdict on the training probe (deepad.diagnostics) of each.

    PYTHONPATH=. python bench/collapse_lessons.py                 # 10 digits x seeds 0-2
    PYTHONPATH=. python bench/collapse_lessons.py --digits 0 3 --seeds 0

Prints one line per (preset, digit, seed), then the table: for each lesson the share of
(digit, seed) cases where the trigger ends collapsed, where the fix ends healthy, and where both
do, with the spread ratios' range and the median test AUC. One torch thread; presets that share
their settings are trained once.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

from deepad import metrics  # noqa: E402
from deepad.data import SetupConfig, load_dataset, make_split  # noqa: E402
from deepad.detectors import registry  # noqa: E402
from deepad.diagnostics import final_report  # noqa: E402
from deepad.presets import lessons, load_presets  # noqa: E402


def run_case(dataset, preset, digit: int, seed: int) -> dict:
    cfg = preset.config
    split = make_split(dataset, SetupConfig(**{**cfg.get("setup", {}), "normal": [digit]}), seed=seed)
    det = registry.get(cfg["method"])(cfg["params"], seed=seed)
    t0 = time.perf_counter()
    det.fit(split.train)
    seconds = time.perf_counter() - t0
    rep = final_report(det, split.train)
    return {"verdict": rep["verdict"], "spread_ratio": rep["spread_ratio"], "seconds": seconds,
            "auc": metrics.auc(split.test.target, det.score(split.test.x))}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--json", help="also write every case to this file")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    dataset = load_dataset("mnist5k")
    presets = load_presets()
    pairs = lessons(presets)
    cache: dict[str, dict] = {}
    results: dict[str, dict] = {}
    for lesson, names in sorted(pairs.items()):
        for name in names:
            p = presets[name]
            key = json.dumps({k: p.config[k] for k in ("method", "params", "setup") if k in p.config},
                             sort_keys=True)
            for d in args.digits:
                for s in args.seeds:
                    ck = f"{key}|{d}|{s}"
                    if ck not in cache:
                        cache[ck] = run_case(dataset, p, d, s)
                        r = cache[ck]
                        print(f"{name:36s} digit {d} seed {s}: {r['verdict']:9s} spread ratio "
                              f"{r['spread_ratio']:.2e}  AUC {r['auc']:.3f}  {r['seconds']:.1f} s", flush=True)
                    results[f"{name}|{d}|{s}"] = cache[ck]
    print()
    print("| lesson (differs in) | trigger collapsed | fix healthy | both | trigger spread ratio | "
          "fix spread ratio | median AUC trigger / fix | s per pair |")
    print("|---|---|---|---|---|---|---|---|")
    cases = [(d, s) for d in args.digits for s in args.seeds]
    for lesson, (t, f) in sorted(pairs.items()):
        rt = [results[f"{t}|{d}|{s}"] for d, s in cases]
        rf = [results[f"{f}|{d}|{s}"] for d, s in cases]
        ok_t = [r["verdict"] == "collapsed" for r in rt]
        ok_f = [r["verdict"] == "healthy" for r in rf]
        both = [a and b for a, b in zip(ok_t, ok_f)]
        n = len(cases)
        spread = lambda rs: f"{min(r['spread_ratio'] for r in rs):.1e} – {max(r['spread_ratio'] for r in rs):.1e}"  # noqa: E731
        secs = np.median([a["seconds"] + b["seconds"] for a, b in zip(rt, rf)])
        print(f"| {lesson} ({', '.join(presets[f].differs_in)}) | {sum(ok_t)}/{n} | {sum(ok_f)}/{n} | "
              f"{sum(both)}/{n} ({100 * sum(both) / n:.0f} %) | {spread(rt)} | {spread(rf)} | "
              f"{np.median([r['auc'] for r in rt]):.2f} / {np.median([r['auc'] for r in rf]):.2f} | {secs:.0f} |")
        misses = [f"digit {d} seed {s}" for (d, s), ok in zip(cases, both) if not ok]
        if misses:
            print(f"|  misses: {', '.join(misses)} | | | | | | | |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
