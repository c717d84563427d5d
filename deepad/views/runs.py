"""A run's per-epoch records as a table and the names of its loss and diagnostic columns, the
epochs it plans and its config flattened to one level (`deepad.api`, `deepad.export` and the pages)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def planned_records(config: dict) -> dict[str, int] | None:
    """Epoch records a run will write, per phase, as its detector declares them; None when the
    method or its parameters are unknown."""
    from deepad.detectors import registry

    specs = registry.specs()
    method = config.get("method")
    return specs[method].planned_records(config.get("params") or {}) if method in specs else None


def flat_config(config: dict) -> dict[str, Any]:
    """A run config as one level of settings: "dataset", "setup.normal", "params.lr", "seed", ..."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key == "title":
            continue
        if isinstance(value, dict):
            for k, v in value.items():
                out[f"{key}.{k}" if key != "params" else k] = v
        else:
            out[key] = value
    return out


def loss_names(method: str | None = None) -> dict[str, str]:
    """Captions of the loss components: the method's own (as its detector declares them) after the
    total; every detector's when `method` is None or unknown."""
    from deepad.detectors import registry
    from deepad.detectors.spec import TOTAL_LOSS

    specs = registry.specs()
    chosen = [specs[method]] if method in specs else list(specs.values())
    out = dict(TOTAL_LOSS)
    for spec in chosen:
        for name, caption in spec.losses.items():
            out.setdefault(name, caption)
    return out


def diagnostics(method: str | None = None) -> dict[str, tuple[str, str, bool]]:
    """Per-epoch numbers besides the losses, name -> (title, caption, log axis): the collapse
    numbers of the centre methods (when `method` is one, or None / unknown), the method's own
    (every detector's when `method` is None or unknown), then the validation AUC."""
    from deepad.detectors import registry
    from deepad.detectors.spec import HYPERSPHERE_DIAGNOSTICS, VALIDATION_DIAGNOSTICS

    specs = registry.specs()
    chosen = [specs[method]] if method in specs else list(specs.values())
    out = dict(HYPERSPHERE_DIAGNOSTICS) if any(s.hypersphere for s in chosen) else {}
    for spec in chosen:
        for name, entry in spec.diagnostics.items():
            out.setdefault(name, entry)
    return {**out, **VALIDATION_DIAGNOSTICS}


def history_frame(history: list[dict]) -> pd.DataFrame:
    """Per-epoch records as a table with a global `step` and `phase` (pretrain / train)."""
    if not history:
        return pd.DataFrame(columns=["step", "phase", "epoch"])
    df = pd.DataFrame(history)
    if "step" not in df:
        df["step"] = np.arange(1, len(df) + 1)
    if "phase" not in df:
        df["phase"] = "train"
    return df


def _informative(df: pd.DataFrame, c: str) -> bool:
    """A numeric column with at least one value that is not 0."""
    return (c in df and pd.api.types.is_numeric_dtype(df[c]) and df[c].notna().any()
            and bool((df[c].fillna(0) != 0).any()))


def loss_columns(df: pd.DataFrame) -> list[str]:
    """Loss components present in the records (a component that stays 0, e.g. the regularizer
    when there is none, is left out): the known ones first, then any other loss_*."""
    known = [c for c in loss_names() if _informative(df, c)]
    other = [c for c in df.columns if c.startswith("loss") and c not in known and _informative(df, c)]
    return known + other


def diagnostic_columns(df: pd.DataFrame) -> list[str]:
    keep_zeros = ("spread_ratio", "eff_rank", "const_dims", "val_auc")  # 0 is news for these
    return [c for c in diagnostics()
            if c in df and pd.api.types.is_numeric_dtype(df[c]) and df[c].notna().any()
            and (c in keep_zeros or _informative(df, c))]  # e.g. R stays 0 for one-class
