"""Zhou et al.'s comparison: Deep SVDD-VAE against Deep SVDD and a CAE (Table 3, one-vs-all)."""

import numpy as np

from deepad.detectors.papers import Arm, PaperPlan

# Zhou et al., Table 3 (AUC %, full MNIST, ten seeds), per normal digit: One-Class Deep SVDD, CAE,
# Deep VAE-SVDD (the baselines' numbers are Ruff et al.'s, as Zhou et al. quote them).
ZHOU_TABLE_3 = {0: (98.0, 97.6, 98.8), 1: (99.7, 98.3, 99.5), 2: (91.7, 85.4, 93.7), 3: (91.9, 86.7, 93.7),
                4: (94.9, 86.5, 95.8), 5: (88.5, 78.2, 92.7), 6: (98.3, 94.6, 98.6), 7: (94.6, 92.3, 95.0),
                8: (93.9, 86.5, 94.7), 9: (96.5, 90.4, 96.6)}


def _zhou_table_3(i: int):
    """The mean of Zhou et al.'s Table 3 column i over the classes run, as a fraction."""
    def value(classes):
        ok = bool(classes) and all(c in ZHOU_TABLE_3 for c in classes)
        return float(np.mean([ZHOU_TABLE_3[c][i] for c in classes])) / 100 if ok else None
    return value


PLAN = PaperPlan(
    "001", "Zhou et al.", "deep-svdd-vae", "Zhou et al.: Deep SVDD-VAE against Deep SVDD and a CAE (Table 3, one-vs-all)",
    {}, (Arm("Deep SVDD", "deep-svdd", paper=_zhou_table_3(0)),
         Arm("CAE", "ae", paper=_zhou_table_3(1)),
         Arm("Deep SVDD-VAE (α = 0.1)", "deep-svdd-vae", {"alpha": 0.1}, paper=_zhou_table_3(2),
             beats=("Deep SVDD", "CAE")),
         Arm("Deep SVDD-VAE (α = 1, per-dimension)", "deep-svdd-vae",
             {"alpha": 1.0, "vae_scale": "per-dimension"}, paper=_zhou_table_3(2), beats=("Deep SVDD", "CAE")),
         Arm("Deep SVDD-VAE, paper recipe (α = 1 per image, 50 epochs)", "deep-svdd-vae",
             {"alpha": 1.0, "epochs": 50}, paper=_zhou_table_3(2))),
    chosen=(("Deep SVDD-VAE (α by validation AUC)",
             ("Deep SVDD-VAE (α = 0.1)", "Deep SVDD-VAE (α = 1, per-dimension)",
              "Deep SVDD-VAE, paper recipe (α = 1 per image, 50 epochs)"), _zhou_table_3(2), ("Deep SVDD", "CAE")),),
    note="Paper: full MNIST, ten seeds; the paper's values are the mean of Table 3 over the classes run. "
         "The paper-recipe row measures α = 1 on the per-image VAE term, which drowns the distance.")
