"""Clean EGBAD one-vs-all on MNIST-5k, every digit and several seeds: is the default recipe stable?

    PYTHONPATH=. python bench/egbad_stability.py [--classes 0,...,9] [--seeds 0,1,2] [--no-plain]
        [--threads 1]

For each normal digit and seed it trains EGBAD with its default recipe (spectrally normalised
discriminator, scored with the moving average of the weights) and, unless --no-plain, the same
recipe without both (the earlier default), side by side in one process so that the time ratio
means something. Prints a markdown table: test AUC per seed, the validation AUC the recipe was
chosen on (mean over seeds), and the fit seconds of each recipe. Each run gets the training and
validation parts only; the test part is scored once at the end.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from deepad import metrics
from deepad.data import SetupConfig, load_dataset, make_split
from deepad.detectors import registry

PLAIN = {"spectral_norm": False, "weight_average": 0.0}


def run(params: dict, split, seed: int) -> tuple[float, float, float]:
    """(validation AUC, test AUC, fit seconds) of one EGBAD fit."""
    t0 = time.perf_counter()
    det = registry.get("egbad")(params, seed=seed).fit(split.train)
    seconds = time.perf_counter() - t0
    return (metrics.auc(split.val.target, det.score(split.val.x)),
            metrics.auc(split.test.target, det.score(split.test.x)), seconds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--classes", default="0,1,2,3,4,5,6,7,8,9")
    ap.add_argument("--seeds", default="0,1,2")
    ap.add_argument("--no-plain", action="store_true", help="skip the recipe without SN and averaging")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    classes = [int(c) for c in args.classes.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    recipes = {"default": {}} | ({} if args.no_plain else {"plain": PLAIN})
    mnist = load_dataset("mnist5k")
    res = {r: np.zeros((len(classes), len(seeds), 3)) for r in recipes}
    for i, c in enumerate(classes):
        for j, s in enumerate(seeds):
            split = make_split(mnist, SetupConfig(normal=[c]), seed=s, preprocess="unit")
            for r, params in recipes.items():
                res[r][i, j] = run(params, split, s)
                print(f"  digit {c} seed {s} {r}: val AUC {res[r][i, j, 0]:.3f} test AUC "
                      f"{res[r][i, j, 1]:.3f} ({res[r][i, j, 2]:.1f} s)", flush=True)

    head = ["normal digit", "default: test AUC per seed", "val AUC (mean)"]
    head += [] if args.no_plain else ["plain: test AUC per seed"]
    print(f"\nClean EGBAD on MNIST-5k, seeds {args.seeds}, {args.threads} thread(s). default = spectral "
          "norm in D + weight average 0.99; plain = neither (the earlier default).\n")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for i, c in enumerate(classes):
        cols = [str(c), " ".join(f"{v:.2f}" for v in res["default"][i, :, 1]),
                f"{res['default'][i, :, 0].mean():.3f}"]
        if not args.no_plain:
            cols.append(" ".join(f"{v:.2f}" for v in res["plain"][i, :, 1]))
        print("| " + " | ".join(cols) + " |")
    for r in recipes:
        test = res[r][:, :, 1]
        print(f"\n{r}: test AUC mean {test.mean():.3f}, lowest {test.min():.3f}, runs below 0.5: "
              f"{int((test < 0.5).sum())} of {test.size}; val AUC mean {res[r][:, :, 0].mean():.3f}, "
              f"lowest {res[r][:, :, 0].min():.3f}; mean fit {res[r][:, :, 2].mean():.1f} s")
    if not args.no_plain:
        ratio = res["default"][:, :, 2].sum() / res["plain"][:, :, 2].sum()
        print(f"fit time default / plain, measured side by side: {ratio:.2f}")


if __name__ == "__main__":
    main()
