"""The anomaly benchmarks' own file formats, read as they are published:

- ADBench's NPZ files hold `X` (n, d) and `y` (n,) with y = 1 for an anomaly and 0 for a normal
  sample; `X` is read like `x` (a file holding both is refused: which is meant is unclear).
- ODDS's MATLAB files (.mat) hold `X` and `y` the same way (y of shape (n, 1)). MATLAB v4 to v7
  files are read with scipy.io (no code runs; only the two numeric arrays are read, and their
  size is checked from the file's directory before any is decompressed). A v7.3 file is HDF5,
  which scipy does not read: it is refused with how to convert it.

Labels 0 / 1 become the classes "0" and "1", class 0 first, so without a normal class named
(`--normal`), 0 is normal and 1 anomalous: the benchmarks' convention.
"""

from __future__ import annotations

import numpy as np

from deepad.data.types import Dataset
from deepad.data.uploads.sources import Source, reading_errors
from deepad.errors import DeepADError

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_NUMERIC_MAT = ("double", "single", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                "logical")
_V73_ADVICE = ("save it again in MATLAB with save(name, 'X', 'y', '-v7'), or in Python read it with h5py "
               "and write np.savez('data.npz', X=X, y=y)")


class _mat_errors:
    """scipy's own MatReadError (not one of the parsers' usual exceptions) as a DeepADError."""

    def __init__(self, src: Source):
        self.src = src

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        from scipy.io.matlab import MatReadError

        if isinstance(exc, (MatReadError, AssertionError)):
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
            raise DeepADError(f"{self.src.label}: could not be read as a MATLAB .mat file ({detail})") from None
        return False


def npz_feature_key(src: Source, keys: list[str]) -> str | None:
    """'x' (the project's own NPZ), 'X' (ADBench's), or None when neither is there."""
    if "x" in keys and "X" in keys:
        raise DeepADError(f"{src.label}: holds both 'x' and 'X'; keep one array of samples "
                          "(np.savez('data.npz', x=x, y=y))")
    return "x" if "x" in keys else "X" if "X" in keys else None


def load_mat(src: Source, max_bytes: int, need_y: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """(X, y) of an ODDS-style MATLAB file (see the module docstring); y is None when not
    `need_y` (inputs to score) and the file has none."""
    from scipy.io import loadmat, whosmat

    with src.open() as f:
        head = f.read(1024)
        if head.startswith(HDF5_SIGNATURE) or HDF5_SIGNATURE in head[512:520] or b"MATLAB 7.3" in head[:128]:
            raise DeepADError(f"{src.label}: a MATLAB v7.3 file (HDF5), which deepad does not read; "
                              + _V73_ADVICE)
        f.seek(0)
        with reading_errors(src, "a MATLAB .mat file"), _mat_errors(src):
            found = {name: (tuple(shape), cls) for name, shape, cls in whosmat(f)}
            keys = {k.lower(): k for k in found}
            x_key, y_key = keys.get("x"), keys.get("y")
            if x_key is None or (y_key is None and need_y) or len([k for k in found if k.lower() in ("x", "y")]) > 2:
                raise DeepADError(f"{src.label}: needs one array 'X' (samples) and one 'y' (labels, 1 = "
                                  f"anomaly), as the ODDS files hold; found "
                                  f"{', '.join(repr(k) for k in found) or 'no arrays'}")
            wanted = [k for k in (x_key, y_key) if k is not None]
            for key in wanted:
                shape, cls = found[key]
                if cls not in _NUMERIC_MAT:
                    raise DeepADError(f"{src.label}: array {key!r} is a MATLAB {cls}; it must hold numbers")
                if int(np.prod(shape, dtype=np.int64)) * 8 > 10 * max_bytes:
                    raise DeepADError(f"{src.label}: array {key!r} of shape {shape} would take "
                                      f"{np.prod(shape, dtype=np.int64) * 8 / 2 ** 30:.1f} GiB in memory, over "
                                      f"the limit; use a smaller file")
            f.seek(0)
            arrays = loadmat(f, variable_names=wanted, squeeze_me=False, chars_as_strings=False)
    return np.asarray(arrays[x_key]), (np.asarray(arrays[y_key]) if y_key is not None else None)
