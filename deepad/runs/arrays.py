"""The arrays of a run's .npz files (results.npz, snapshots.npz, umap.npz): what each must hold,
checked from the headers before anything is decompressed (shapes, types, lengths, the decoded
size), and the values inside, checked once per file version while runs are listed (finite scores
and embeddings, 0/1 targets, sample indices inside the dataset)."""

from __future__ import annotations

import math
import os
import threading
import zipfile
import zlib
from pathlib import Path

import numpy as np

from deepad.runs.files import _mb, open_read
from deepad.runs.layout import RESULTS, SNAPSHOTS
from deepad.runs.records import DamagedFile

NPZ_ERRORS = (OSError, ValueError, EOFError, KeyError, TypeError, zipfile.BadZipFile,
              zipfile.LargeZipFile, zlib.error, NotImplementedError)

# npz contents: name -> (ndim, length group or None); arrays of one group share their first length
RESULTS_SPEC = {"test_scores": (1, "test"), "test_target": (1, "test"), "test_y": (1, "test"),
                 "test_index": (1, "test"), "test_emb": (2, "test"), "test_raw": (None, "test"),
                 "train_scores": (1, "train"), "train_target": (1, "train"), "train_semi": (1, "train"),
                 "train_index": (1, "train"), "center": (1, None)}
RESULTS_REQUIRED = ("test_scores", "test_target")
SNAPSHOTS_SPEC = {"emb": (3, "step"), "step": (1, "step"), "center": (2, "step")}
SPLIT_PARTS_SPEC = {f"{part}_{field}": (ndim, part) for part in ("train", "val", "test")
                    for field, ndim in (("y", 1), ("target", 1), ("known_label", 1), ("index", 1), ("raw", None))}
SPLIT_PARTS_REQUIRED = tuple(f"{part}_{field}" for part in ("train", "val", "test")
                             for field in ("y", "target", "known_label", "index"))
UMAP_SPEC = {"xy": (2, "point"), "index": (1, "point"), "stamp": (0, None)}
ARRAYS_MB_ENV = "DEEPAD_MAX_RUN_ARRAYS_MB"
DEFAULT_ARRAYS_MB = 512


def max_array_bytes() -> int:
    """What the arrays of one .npz run file may take once decoded (bytes): $DEEPAD_MAX_RUN_ARRAYS_MB
    megabytes, else 512 MB. A file that declares more is refused from its headers, before anything
    is decompressed (a few MB of deflated zeros can declare gigabytes)."""
    try:
        mb = int(os.environ.get(ARRAYS_MB_ENV, DEFAULT_ARRAYS_MB))
    except ValueError:
        mb = DEFAULT_ARRAYS_MB
    return max(1, mb) * 2 ** 20



def check_arrays(file: str, shapes: dict[str, tuple[tuple[int, ...], np.dtype]], spec: dict,
                  required: tuple[str, ...], expected: dict[str, int] | None = None,
                  row_shapes: dict[str, tuple[int, ...]] | None = None) -> None:
    """DamagedFile unless the arrays (name -> (shape, dtype), from the headers) are those `spec`
    names, of numbers, their lengths agreeing within each group and with `expected` (group ->
    length, from the run's split), rows of `row_shapes`, and their decoded size under the limit."""
    for name in required:
        if name not in shapes:
            raise DamagedFile(file, f"the array {name!r} is missing")
    lengths: dict[str, tuple[str, int]] = {}
    total = 0
    for name, (shape, dtype) in shapes.items():
        if dtype.hasobject:
            raise DamagedFile(file, f"the array {name!r} holds Python objects")
        total += math.prod(shape) * dtype.itemsize
        if name not in spec:
            continue
        ndim, group = spec[name]
        if ndim is not None and len(shape) != ndim:
            raise DamagedFile(file, f"the array {name!r} has shape {shape}, expected {ndim} dimension(s)")
        if dtype.kind not in "biuf":
            raise DamagedFile(file, f"the array {name!r} is of type {dtype}, expected numbers")
        if row_shapes and name in row_shapes and tuple(shape[1:]) != tuple(row_shapes[name]):
            raise DamagedFile(file, f"the array {name!r} has rows of shape {tuple(shape[1:])}, the run's "
                                    f"samples are of shape {tuple(row_shapes[name])}")
        if group is not None:
            n = shape[0] if shape else 0
            if expected and group in expected and expected[group] != n:
                raise DamagedFile(file, f"the array {name!r} has {n} entries, the run's split has "
                                        f"{expected[group]} {group} samples")
            if group in lengths and lengths[group][1] != n:
                other, m = lengths[group]
                raise DamagedFile(file, f"the arrays {other!r} ({m}) and {name!r} ({n}) differ in length")
            lengths.setdefault(group, (name, n))
    limit = max_array_bytes()
    if total > limit:
        raise DamagedFile(file, f"declares arrays of {_mb(total)} in all, over the limit of {_mb(limit)} "
                                f"for a run file (raise it with {ARRAYS_MB_ENV}=<megabytes>)")


def npz_reason(path: Path, exc: BaseException) -> str:
    if os.path.islink(path):
        return "is a symbolic link; run files must be regular files"
    if isinstance(exc, zipfile.BadZipFile):
        return "is not a complete .npz archive; it may have been cut short"
    if isinstance(exc, OSError) and exc.strerror:
        return f"cannot be read ({exc.strerror})"
    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
    return f"cannot be read as arrays ({detail})"


def npz_shapes(path: Path) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Array names, shapes and types of an .npz from its headers alone (no array is decoded)."""
    out = {}
    with open_read(path) as fh, zipfile.ZipFile(fh) as zf:
        infos = zf.infolist()
        if len(infos) > 64:
            raise DamagedFile(path.name, f"holds {len(infos)} members; a run file holds a few arrays")
        for info in infos:
            name = info.filename.removesuffix(".npy")
            with zf.open(info) as f:
                version = np.lib.format.read_magic(f)
                read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                        else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read(f)
            expected = math.prod(shape) * dtype.itemsize
            if not dtype.hasobject and info.file_size < expected:
                raise DamagedFile(path.name, f"the array {name!r} is cut short")
            out[name] = (tuple(shape), dtype)
    return out


_CHECK_CACHE: dict[tuple, str | None] = {}
_CHECK_LOCK = threading.Lock()


def check_npz(f: Path, name: str, spec: dict, required: tuple[str, ...], expected: dict[str, int] | None = None,
              row_shapes: dict[str, tuple[int, ...]] | None = None) -> None:
    """DamagedFile when the .npz at `f` (run file `name`) does not hold the arrays `spec` names
    (see `check_arrays`), read from its headers alone and cached per file version; nothing when
    it is absent."""
    try:
        st = os.lstat(f)
    except FileNotFoundError:
        return
    key = (str(f), st.st_mtime_ns, st.st_size, st.st_mode, repr(sorted((expected or {}).items())),
           repr(sorted((row_shapes or {}).items())), max_array_bytes())
    with _CHECK_LOCK:
        if key in _CHECK_CACHE:
            reason = _CHECK_CACHE[key]
            if reason:
                raise DamagedFile(name, reason)
            return
    reason = None
    try:
        check_arrays(name, npz_shapes(f), spec, required, expected, row_shapes)
    except DamagedFile as exc:
        reason = exc.reason
    except NPZ_ERRORS as exc:
        reason = npz_reason(f, exc)
    with _CHECK_LOCK:
        if len(_CHECK_CACHE) > 4096:
            _CHECK_CACHE.clear()
        _CHECK_CACHE[key] = reason
    if reason:
        raise DamagedFile(name, reason)


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
    """The values `read_results` and `read_snapshots` check, for a run (a `deepad.runs.read.RunFolder`) being listed: the
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
