"""Where Rt-BiGAN's self-training goes wrong on polluted data, and what EGBAD's stabilisation does
to it. For each normal digit and seed (the rt-bigan-polluted set-up moved to that digit: 20 %
unlabelled other digits, 10 known normals), one Rt-BiGAN is meta-trained and adapted per BiGAN
(plain, or with the spectrally normalised discriminator), then self-trained from that same adapted
model with and without the weights' moving average, under each pseudo-label rule. EGBAD on the
same data is the reference.

    PYTHONPATH=. python bench/rt_bigan_stability.py [--classes 0] [--seeds 1,0,2] [--threads 1]

Prints one markdown row per digit and seed: validation / test AUC of EGBAD, of each adapted model
and of each self-trained one, with the share of anomalies in its last pseudo-normal set.
"""

from __future__ import annotations

import argparse
import copy

import torch

from bench.paper_tables import rt_bigan_split
from deepad import metrics
from deepad.data.datasets import load_dataset
from deepad.detectors import registry

RULES = {"share 0.5": {"pseudo_label": "share", "threshold_quantile": 0.5},
         "known normals, max": {"pseudo_label": "known-normals", "known_normal_quantile": 1.0}}


def aucs(det, split) -> tuple[float, float]:
    return (metrics.auc(split.val.target, det.score(split.val.x)),
            metrics.auc(split.test.target, det.score(split.test.x)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classes", default="0")
    ap.add_argument("--seeds", default="1,0,2")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    dataset = load_dataset("mnist5k")
    rounds = registry.get("rt-bigan").Config().rounds
    cols = ["EGBAD"] + [f"{bigan}: {what}" for bigan in ("plain", "spectral norm")
                        for what in ["adapted"] + [f"{avg}, {rule}" for avg in ("last weights", "average 0.99")
                                                   for rule in RULES]]
    print("Validation AUC / test AUC (kept pollution) per run.\n")
    print("| normal | seed | " + " | ".join(cols) + " |\n|---|---|" + "---|" * len(cols))
    for c in (int(v) for v in args.classes.split(",")):
        for seed in (int(v) for v in args.seeds.split(",")):
            _, split = rt_bigan_split(c, seed, dataset)
            cells = ["%.3f / %.3f" % aucs(registry.get("egbad")({}, seed=seed).fit(split.train), split)]
            for sn in (False, True):
                base = registry.get("rt-bigan")({"spectral_norm": sn, "rounds": 0}, seed=seed).fit(split.train)
                cells.append("%.3f / %.3f" % aucs(base, split))
                for average in (0.0, 0.99):
                    for rule in RULES.values():
                        det = copy.deepcopy(base)
                        det.config = det.config.model_copy(update={**rule, "rounds": rounds,
                                                                   "weight_average": average})
                        det.self_train(split.train)
                        kept = split.train.target[det.pseudo_normal_rows].mean()
                        cells.append("%.3f / %.3f (%.3f)" % (*aucs(det, split), kept))
            print(f"| {c} | {seed} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
