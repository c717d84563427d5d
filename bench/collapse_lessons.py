"""Do the collapse lessons hold on every digit and seed? Each lesson's trigger and fix presets
(deepad/detectors/deep_svdd/presets/collapse-*.json, matched pairs) trained on MNIST-5k with every digit as the normal
class and several seeds; the final verdict on the training probe (deepad.diagnostics) of each.

    PYTHONPATH=. python bench/collapse_lessons.py                 # 10 digits x seeds 0-2
    PYTHONPATH=. python bench/collapse_lessons.py --digits 0 3 --seeds 0 --jobs 1
    PYTHONPATH=. python bench/collapse_lessons.py --jobs 2 --cache runs.jsonl   # resumable

Prints one line per (preset, digit, seed), then the table: for each lesson the share of
(digit, seed) cases where the trigger ends collapsed, where the fix ends healthy, where both do,
and where the lesson holds as a lesson (trigger collapsed, fix healthy with a test AUC of at least
0.80 and at least 0.15 above its trigger's), with the spread ratios' range and the test AUCs. Then
the same for each demo (kind "demo": the same network without and with one setting, both meant
to stay healthy): how often each is healthy and how often "with" detects better, and by how much. Every run trains on one torch thread,
`--jobs` of them at once (separate processes); presets that share their settings are trained once.
With `--cache FILE` every finished case is appended to FILE (one JSON line) and a case already
there is not trained again, so an interrupted bench resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from deepad.presets import demos, lesson_holds, lessons, load_presets  # noqa: E402


def run_case(job: tuple[dict, int, int]) -> dict:
    """Train one preset's config with `digit` as the normal class and `seed`; its final verdict."""
    import torch

    from deepad import metrics
    from deepad.data import SetupConfig, load_dataset, make_split
    from deepad.detectors import registry
    from deepad.diagnostics import final_report

    torch.set_num_threads(1)
    cfg, digit, seed = job
    split = make_split(load_dataset("mnist5k"), SetupConfig(**{**cfg.get("setup", {}), "normal": [digit]}),
                       seed=seed)
    det = registry.get(cfg["method"])(cfg["params"], seed=seed)
    t0 = time.perf_counter()
    det.fit(split.train)
    seconds = time.perf_counter() - t0
    rep = final_report(det, split.train)
    return {"verdict": rep["verdict"], "spread_ratio": rep["spread_ratio"], "seconds": seconds,
            "auc": metrics.auc(split.test.target, det.score(split.test.x))}


def effective_params(cfg: dict) -> dict:
    """The params with defaults filled in, less those that cannot matter for the others (the
    regularizer's settings without a regularizer, ...): presets that train the same run share it."""
    from deepad.detectors import registry
    from pages.views.forms import field_specs, inactive_reason

    config_cls = registry.spec(cfg["method"]).Config
    values = config_cls(**cfg["params"]).model_dump()
    return {f.name: values[f.name] for f in field_specs(config_cls) if inactive_reason(f, values) is None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--digits", type=int, nargs="+", default=list(range(10)))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--jobs", type=int, default=1, help="runs trained at once, one process and one thread each")
    ap.add_argument("--json", help="also write every case to this file")
    ap.add_argument("--cache", help="JSON lines of finished cases: read first, appended to as cases finish")
    args = ap.parse_args(argv)
    presets = load_presets()
    pairs = lessons(presets)
    demo_pairs = demos(presets)
    cases = [(d, s) for d in args.digits for s in args.seeds]

    def key(name: str) -> str:
        cfg = presets[name].config
        return json.dumps({"method": cfg["method"], "setup": cfg.get("setup", {}),
                           "params": effective_params(cfg)}, sort_keys=True)

    members = [n for group in (pairs, demo_pairs) for names in group.values() for n in names]
    distinct = {key(n): presets[n].config for n in members}
    trained: dict[tuple, dict] = {}
    if args.cache and os.path.exists(args.cache):
        with open(args.cache) as fh:
            for line in fh:
                row = json.loads(line)
                trained[(row.pop("key"), row.pop("digit"), row.pop("seed"))] = row
    jobs = [(k, d, s) for k in distinct for d, s in cases if (k, d, s) not in trained]
    with multiprocessing.get_context("spawn").Pool(max(1, args.jobs)) as pool:
        runs = pool.imap(run_case, [(distinct[k], d, s) for k, d, s in jobs])
        for (k, d, s), r in zip(jobs, runs):
            trained[(k, d, s)] = r
            if args.cache:
                with open(args.cache, "a") as fh:
                    fh.write(json.dumps({"key": k, "digit": d, "seed": s, **r}) + "\n")
            names = ", ".join(n for n in members if key(n) == k)
            print(f"{names:36s} digit {d} seed {s}: {r['verdict']:9s} spread ratio "
                  f"{r['spread_ratio']:.2e}  AUC {r['auc']:.3f}  {r['seconds']:.1f} s", flush=True)
    results = {f"{n}|{d}|{s}": trained[(key(n), d, s)] for n in members for d, s in cases}
    n = len(cases)
    spread = lambda rs: f"{min(r['spread_ratio'] for r in rs):.1e} – {max(r['spread_ratio'] for r in rs):.1e}"  # noqa: E731
    auc = lambda rs: (f"{np.median([r['auc'] for r in rs]):.2f} ({min(r['auc'] for r in rs):.2f} – "  # noqa: E731
                      f"{max(r['auc'] for r in rs):.2f})")
    print()
    print("| lesson (differs in) | trigger collapsed | fix healthy | holds as a lesson | trigger spread ratio | "
          "fix spread ratio | test AUC trigger, median (range) | test AUC fix, median (range) | s per pair |")
    print("|---|---|---|---|---|---|---|---|---|")
    for lesson, (t, f) in sorted(pairs.items()):
        rt = [results[f"{t}|{d}|{s}"] for d, s in cases]
        rf = [results[f"{f}|{d}|{s}"] for d, s in cases]
        ok_t = [r["verdict"] == "collapsed" for r in rt]
        ok_f = [r["verdict"] == "healthy" for r in rf]
        holds = [a and b and lesson_holds(x["auc"], y["auc"]) for a, b, x, y in zip(ok_t, ok_f, rt, rf)]
        secs = np.median([a["seconds"] + b["seconds"] for a, b in zip(rt, rf)])
        print(f"| {lesson} ({', '.join(presets[f].differs_in)}) | {sum(ok_t)}/{n} | {sum(ok_f)}/{n} | "
              f"{sum(holds)}/{n} ({100 * sum(holds) / n:.0f} %) | {spread(rt)} | {spread(rf)} | "
              f"{auc(rt)} | {auc(rf)} | {secs:.0f} |")
        misses = [f"digit {d} seed {s}" for (d, s), ok in zip(cases, holds) if not ok]
        if misses:
            print(f"|  misses: {', '.join(misses)} | | | | | | | | |")
    if demo_pairs:
        print()
        print("| demo (differs in) | without: healthy | with: healthy | with detects better | "
              "test AUC without, mean | test AUC with, mean | mean gain (± std) |")
        print("|---|---|---|---|---|---|---|")
    for demo, (a, b) in sorted(demo_pairs.items()):
        ra = [results[f"{a}|{d}|{s}"] for d, s in cases]
        rb = [results[f"{b}|{d}|{s}"] for d, s in cases]
        gain = np.array([y["auc"] - x["auc"] for x, y in zip(ra, rb)])
        print(f"| {demo} ({', '.join(presets[b].differs_in)}) | "
              f"{sum(r['verdict'] == 'healthy' for r in ra)}/{n} | {sum(r['verdict'] == 'healthy' for r in rb)}/{n} | "
              f"{int(np.sum(gain > 0))}/{n} | {np.mean([r['auc'] for r in ra]):.3f} | "
              f"{np.mean([r['auc'] for r in rb]):.3f} | {gain.mean():+.3f} (± {gain.std(ddof=1) if n > 1 else 0:.3f}) |")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(results, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
