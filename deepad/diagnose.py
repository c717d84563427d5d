"""A collapse check for anyone's model: the verdict, spread ratio, effective rank and constant
dimensions that the project's own runs get (`deepad.diagnostics`, the same rule and thresholds),
for embeddings a user brings in an NPZ file (`deepad diagnose FILE.npz`).

Arrays the file may hold (read with allow_pickle=False):

- `snapshots` (epochs, n, d): the embeddings of the same n training samples after each epoch, the
  first being the reference point (for Deep SVDD: once the centre is set, after any
  pretraining). Each later epoch is judged against it, with the rule's hysteresis, as a run's
  epochs are; the last epoch's numbers and verdict are the result.
- or `embeddings` (n, d), the trained model's embeddings of training samples, and a reference:
  `reference` (m, d), the same kind of samples embedded at the reference point, or
  `reference_spread`, that cloud's spread (a number; `deepad.diagnostics.spread`).
- optional `center` (d,): the centre c; adds the mean distance to it (`dist_mean`).
- optional `scores` (k,): the model's anomaly scores; adds how many distinct values they take
  (a collapsed model often gives one score to every input).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from deepad import diagnostics
from deepad.errors import DeepADError

KNOWN = ("snapshots", "embeddings", "reference", "reference_spread", "center", "scores")


def _numbers(label: str, name: str, value, ndim: tuple[int, ...], what: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise DeepADError(f"{label}: array {name!r} has dtype {arr.dtype}; it must hold numbers ({what})")
    if arr.ndim not in ndim:
        raise DeepADError(f"{label}: array {name!r} must be {what}; got shape {arr.shape}")
    arr = arr.astype(np.float64)
    bad = int((~np.isfinite(arr)).sum())
    if bad:
        raise DeepADError(f"{label}: array {name!r} holds {bad} NaN or infinite value{'s' * (bad > 1)}; "
                          "every value must be a finite number")
    return arr


def diagnose_arrays(arrays: dict, label: str = "the arrays") -> dict:
    """The collapse report of the arrays described in the module docstring (a dict name -> array);
    DeepADError with one line naming what is wrong and what would be right."""
    unknown = sorted(set(arrays) - set(KNOWN))
    if unknown:
        raise DeepADError(f"{label}: unknown array {unknown[0]!r}; allowed: {', '.join(KNOWN)}")
    if ("snapshots" in arrays) == ("embeddings" in arrays):
        raise DeepADError(f"{label}: give either 'snapshots' (epochs, n, d) or 'embeddings' (n, d) with "
                          "'reference' (m, d) or 'reference_spread'")
    center = scores = None
    if "snapshots" in arrays:
        snaps = _numbers(label, "snapshots", arrays["snapshots"], (3,), "(epochs, n, d): n samples of d "
                         "dimensions after each epoch, the first the reference")
        if snaps.shape[0] < 2 or snaps.shape[1] < 2 or snaps.shape[2] < 1:
            raise DeepADError(f"{label}: 'snapshots' needs at least 2 epochs (the reference and one more) of "
                              f"at least 2 samples; got shape {snaps.shape}")
        if "reference" in arrays or "reference_spread" in arrays:
            raise DeepADError(f"{label}: with 'snapshots' the first snapshot is the reference; leave out "
                              "'reference' and 'reference_spread'")
        d = snaps.shape[2]
    else:
        emb = _numbers(label, "embeddings", arrays["embeddings"], (2,), "(n, d): n samples of d dimensions")
        if emb.shape[0] < 2 or emb.shape[1] < 1:
            raise DeepADError(f"{label}: 'embeddings' needs at least 2 samples; got shape {emb.shape}")
        d = emb.shape[1]
        if ("reference" in arrays) == ("reference_spread" in arrays):
            raise DeepADError(f"{label}: 'embeddings' needs one reference: 'reference' (m, {d}), the samples "
                              "embedded at the start, or 'reference_spread', that cloud's spread")
        if "reference" in arrays:
            ref = _numbers(label, "reference", arrays["reference"], (2,), f"(m, {d})")
            if ref.shape[1] != d or ref.shape[0] < 2:
                raise DeepADError(f"{label}: 'reference' must have shape (m, {d}) with m >= 2, like "
                                  f"'embeddings'; got {ref.shape}")
            ref_spread = diagnostics.spread(ref)
        else:
            ref_spread = float(_numbers(label, "reference_spread", arrays["reference_spread"], (0, 1),
                                        "one number").reshape(-1)[0])
        if not ref_spread > 0:
            raise DeepADError(f"{label}: the reference spread is {ref_spread:g}; the reference cloud must "
                              "be spread out (a reference of identical points cannot be compared with)")
    if "center" in arrays:
        center = _numbers(label, "center", arrays["center"], (1,), f"({d},), the centre c")
        if center.shape != (d,):
            raise DeepADError(f"{label}: 'center' must have shape ({d},), one value per dimension; got "
                              f"{center.shape}")
    if "scores" in arrays:
        scores = _numbers(label, "scores", arrays["scores"], (1,), "(k,), one score per sample")
    monitor = diagnostics.CollapseMonitor()
    trail = []
    if "snapshots" in arrays:
        monitor.start(snaps[0], center)
        if not monitor.reference_spread > 0:
            raise DeepADError(f"{label}: the first snapshot (the reference) has no spread: every sample has "
                              "the same embedding; give the snapshots from before training collapsed them")
        for epoch in range(1, len(snaps) - 1):
            rep = monitor.epoch(snaps[epoch], center)
            trail.append({"epoch": epoch, **{k: rep[k] for k in ("spread_ratio", "eff_rank", "const_dims",
                                                                    "verdict")}})
        final = monitor.final(snaps[-1], center)
        trail.append({"epoch": len(snaps) - 1, **{k: final[k] for k in ("spread_ratio", "eff_rank",
                                                                         "const_dims", "verdict")}})
        measured_on = f"snapshots: {snaps.shape[1]} samples over {snaps.shape[0]} epochs (the first the reference)"
    else:
        monitor.reference_spread = ref_spread
        final = monitor.final(emb, center)
        measured_on = f"embeddings: {emb.shape[0]} samples against the reference"
    out = {k: final.get(k) for k in ("verdict", "collapsed", "spread_ratio", "eff_rank", "const_dims", "dims",
                                    "spread", "reference_spread", "dist_mean") if k in final}
    out["measured_on"] = measured_on
    if trail:
        out["epochs"] = trail
    if scores is not None:
        out["distinct_scores"] = int(len(np.unique(scores.astype(np.float32))))
    out["rule"] = {**diagnostics.rule(), "measured_on": measured_on}
    return out


def diagnose_file(path: str | os.PathLike) -> dict:
    """`diagnose_arrays` of an NPZ file's arrays (size and archive checked as an upload's are)."""
    from deepad.data.uploads.sources import source_from_path

    _check_suffix(str(path))
    return _diagnose_source(source_from_path(Path(path)))


def diagnose_bytes(data: bytes, filename: str) -> dict:
    """`diagnose_file` for an upload held in memory (the Collapse page's "Check your own embeddings")."""
    from deepad.data.uploads.sources import source_from_bytes

    _check_suffix(filename)
    return _diagnose_source(source_from_bytes(data, filename))


def _check_suffix(name: str) -> None:
    if not name.lower().endswith(".npz"):
        raise DeepADError(f"{name}: give an .npz file holding 'snapshots' (epochs, n, d) or 'embeddings' (n, d) "
                          "with a reference, e.g. np.savez('emb.npz', snapshots=snapshots)")


def report_figures(report: dict) -> dict:
    """The Collapse page's views of a report: "gauges" (spread ratio on the verdict's dial,
    effective rank, constant dimensions) and, with per-epoch snapshots, "spread" (the spread
    ratio and effective rank per epoch)."""
    import pandas as pd

    from deepad.figures.training import collapse_gauges, history_figure

    out = {"gauges": collapse_gauges(report.get("spread_ratio"), report.get("eff_rank"), report.get("dims"),
                                             report.get("const_dims"))}
    if report.get("epochs"):
        df = pd.DataFrame([{"step": e["epoch"], "epoch": e["epoch"], "phase": "train", **e} for e in report["epochs"]])
        out["spread"] = history_figure(df, ["spread_ratio"], {"spread_ratio": "spread ratio"},
                                               "Spread ratio per epoch (the verdict's measure)", log_y=True)
        out["rank"] = history_figure(df, ["eff_rank"], {"eff_rank": "effective rank"},
                                             "Effective rank per epoch")
    return out


def _diagnose_source(src) -> dict:
    from deepad.data.uploads.sources import (DEFAULT_MAX_BYTES, MAX_FILES, check_archive, check_size, open_zip,
                                             reading_errors)

    check_size(src, DEFAULT_MAX_BYTES)
    with src.open() as f:
        with open_zip(src, f, "NPZ file") as zf:
            check_archive(src, zf, DEFAULT_MAX_BYTES, MAX_FILES)
        f.seek(0)
        with reading_errors(src, "NPZ file"):
            with np.load(f, allow_pickle=False) as npz:
                arrays = {}
                for key in npz.files:
                    try:
                        arrays[key] = npz[key]
                    except ValueError:
                        raise DeepADError(f"{src.label}: array {key!r} holds Python objects; deepad never "
                                          "unpickles files, store numbers") from None
    return diagnose_arrays(arrays, src.label)
