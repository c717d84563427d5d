"""Schulze et al.'s comparison: R2-AD2 against Deep SAD and an autoencoder with the same known anomalies."""

from deepad.detectors.papers import Arm, PaperPlan

PLAN = PaperPlan(
    "002", "Schulze et al.", "r2ad2", "Schulze et al.: R2-AD2 against Deep SAD and an autoencoder, the same known anomalies",
    {"normal": [0, 1, 2, 3], "anomaly": [4, 5, 6, 7, 8, 9], "known_anomalies": 100,
     "known_classes": [4, 5, 6]},
    (Arm("R2-AD2", "r2ad2", paper=0.93, beats=("Deep SAD", "AE")),
     Arm("Deep SAD", "deep-svdd", {"eta": 1.0}),
     Arm("AE", "ae", paper=0.75)),
    classes=(0,), fixed_normal=True,
    note="Digits 0-3 normal, 100 known anomalies from 4-6, test anomalies 4-9 (Table 4's MNIST row; "
         "full MNIST, five runs). The AE ignores the known anomalies, as in the paper.")
