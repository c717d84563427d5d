"""Tabular anomaly benchmarks built from the real tables scikit-learn ships (no download), the way
ODDS and ADBench build theirs: one group of classes is normal, another is the outlier class,
downsampled to a small share. Each is a fixed, seeded function of scikit-learn's data.

- `wine-outliers` (ODDS "wine"): UCI Wine's cultivars 2 and 3 (scikit-learn's classes 1 and 2,
  71 + 48 = 119 wines) are normal; 10 wines of cultivar 1 (class 0), drawn with seed 0, are the
  outliers: 129 wines × 13 chemical measurements, 7.8 % outliers (ODDS: 129, 10, 7.7 %).
- `wdbc-outliers` (ADBench "WDBC"): UCI Breast Cancer Wisconsin (Diagnostic), scikit-learn's
  `breast_cancer`; its 357 benign tumours are normal, 10 malignant ones drawn with seed 0 are the
  outliers: 367 × 30 features, 2.7 % outliers (ADBench: 367, 10, 2.72 %). `breast-cancer` keeps
  all 212 malignant tumours (37 %).

Both have the classes "normal" (0) and "outlier" (1): class 0 is the default normal class.
"""

from __future__ import annotations

import numpy as np

from deepad.data.types import Dataset

N_OUTLIERS = 10
SEED = 0


def outlier_set(name: str, x: np.ndarray, normal: np.ndarray, outlier: np.ndarray, features: list[str]) -> Dataset:
    """Every sample where `normal`, plus N_OUTLIERS drawn (seed 0) where `outlier`, in their order."""
    picked = np.sort(np.random.default_rng(SEED).choice(np.flatnonzero(outlier), N_OUTLIERS, replace=False))
    keep = np.sort(np.r_[np.flatnonzero(normal), picked])
    y = np.isin(keep, picked).astype(np.int64)
    return Dataset(name, x[keep].astype(np.float32), y, ["normal", "outlier"], "tabular", features)


def wine_outliers(**_) -> Dataset:
    from sklearn.datasets import load_wine

    d = load_wine()
    return outlier_set("wine-outliers", d.data, d.target != 0, d.target == 0, [str(f) for f in d.feature_names])


def wdbc_outliers(**_) -> Dataset:
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()  # target 1 = benign, 0 = malignant
    return outlier_set("wdbc-outliers", d.data, d.target == 1, d.target == 0, [str(f) for f in d.feature_names])
