"""The values inside a run's arrays, checked once per file version while runs are listed: finite
scores and embeddings, 0/1 targets, sample indices inside the dataset."""

from __future__ import annotations

import os

import numpy as np

from deepad.runrecords import NPZ_ERRORS, DamagedFile, npz_reason, open_read

RESULTS, SNAPSHOTS = "results.npz", "snapshots.npz"
_VALUE_CHECKS: dict[tuple, str | None] = {}


def check_result_values(arrays, n_samples: int | None) -> None:
    """DamagedFile unless scores and embeddings are finite, targets 0 or 1 and sample indices
    inside the dataset (`arrays`: a dict, or an open npz, whose members are read one by one)."""
    names = set(arrays.files if hasattr(arrays, "files") else arrays)
    for key in ("test_scores", "test_emb", "train_scores"):
        if key in names:
            v = arrays[key]
            if v.dtype.kind == "f" and not np.isfinite(v).all():
                raise DamagedFile(RESULTS, f"the array {key!r} holds NaN or infinite values")
    for key in ("test_target", "train_target"):
        if key in names and not np.isin(arrays[key], (0, 1)).all():
            raise DamagedFile(RESULTS, f"the array {key!r} holds values other than 0 and 1")
    for key in ("test_index", "train_index"):
        idx = arrays[key] if key in names else None
        if idx is None or not len(idx):
            continue
        if idx.dtype.kind not in "iu" or idx.min() < 0 or (n_samples is not None and idx.max() >= n_samples):
            within = f"0..{n_samples - 1}" if n_samples is not None else "whole numbers from 0"
            raise DamagedFile(RESULTS, f"the array {key!r} holds sample indices outside the dataset "
                                       f"({within})")


def check_values(run) -> None:
    """The values `read_results` and `read_snapshots` check, for a run (a RunFolder) being listed: the
    results' scores, targets, indices and embeddings (not the raw samples), each member read
    on its own, once per file version. Call after `check_arrays` (which bounds their size)."""
    for name in (RESULTS, SNAPSHOTS):
        f = run.file(name)
        try:
            st = os.lstat(f)
        except FileNotFoundError:
            continue
        key = (str(f), st.st_mtime_ns, st.st_size, st.st_mode, run._n_samples())
        if key not in _VALUE_CHECKS:
            try:
                if name == RESULTS:
                    with open_read(f) as fh, np.load(fh, allow_pickle=False) as z:
                        check_result_values(z, run._n_samples())
                else:
                    run.read_snapshots()
                problem = None
            except DamagedFile as exc:
                problem = exc.reason
            except NPZ_ERRORS as exc:
                problem = npz_reason(f, exc)
            if len(_VALUE_CHECKS) > 4096:
                _VALUE_CHECKS.clear()
            _VALUE_CHECKS[key] = problem
        if _VALUE_CHECKS[key]:
            raise DamagedFile(name, _VALUE_CHECKS[key])
