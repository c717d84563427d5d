"""A user's own data as a `Dataset`: a CSV, an NPZ, or images in one sub-folder per class (a folder
or a zip). Every problem is a DeepADError that names the file, what is wrong and what would be
right. Nothing from an upload is unpickled or executed, and loading never writes anything: archives
are read in memory, entry by entry, after their paths have been checked.

Accepted inputs (`load_user_data(path, ...)`, or `load_user_bytes(data, filename, ...)` for an
upload held in memory):
- CSV (.csv, .tsv, .txt; UTF-8; the delimiter is detected): one label column (`label_column`,
  default: a column named label / labels / y / class / target) and numeric feature columns. Text
  columns that are not mostly numbers are skipped; cells that are empty, NaN, infinite or not
  numbers in a numeric column are refused with their rows, unless `drop_bad_rows=True`.
- NPZ: arrays `x` and `y` (read with allow_pickle=False). x (n, d) is tabular; x (n, H, W),
  (n, C, H, W) or (n, H, W, C) with C in {1, 3} are images with values in [0, 1] (or 0..255).
- Images (.png .jpg .jpeg .bmp .gif .tif .tiff .webp .ppm .pgm) in `<class>/<file>`, possibly
  under one wrapping folder. All grayscale → 1 channel, otherwise RGB. Mixed sizes are refused
  with the list of sizes unless `image_size` asks to resize every image.

Classes: the distinct label values (or sub-folder names) as text, in natural order (numerically
when every value is a number, e.g. "2" before "10"; alphabetically otherwise). Class number i is
`dataset.classes[i]`; the order does not depend on which values are normal.
`normal_classes(dataset, normal_values)` turns label values into those class numbers, for
`SetupConfig.normal`.

Datasets by name: `"file:PATH"` or `"file:PATH?label_column=diagnosis&normal_values=B"` (see
`user_dataset_name`) is understood by `deepad.data.datasets.load_dataset` and `dataset_info`;
the options can also come as a dict through their `options` argument. A relative PATH is taken
from the current folder. `store_upload` copies a validated upload into a run folder.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import tempfile
import warnings
import zipfile
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO, Callable, Iterable, Sequence
from urllib.parse import parse_qsl, urlencode

import numpy as np

from deepad.data.types import Dataset, DatasetInfo
from deepad.errors import BadValuesError, DeepADError, MixedImageSizesError

DEFAULT_MAX_BYTES = 200 * 2 ** 20
MAX_CLASSES = 100
MAX_FILES = 200_000
MAX_COLUMNS = 10_000
MAX_IMAGE_PIXELS = 4096 * 4096
MAX_DECODED_BYTES = 2 ** 30  # decoded images of one upload, as float32
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
LABEL_NAMES = ("label", "labels", "y", "class", "target")
ACCEPTED = ".csv, .npz, .zip of images (one sub-folder per class) or a folder of images"
_PICKLE_LIKE = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".sav", ".dill")
_IGNORED_NAMES = ("__MACOSX", "Thumbs.db", "desktop.ini")
_SYMLINK = 0o120000
_EMPTY_CELLS = ["", "nan", "NaN", "NA", "N/A", "null", "None"]
_READ_ERRORS = (ValueError, TypeError, OSError, EOFError, KeyError, IndexError, OverflowError,
                RuntimeError, NotImplementedError, UnicodeError, zipfile.BadZipFile,
                zipfile.LargeZipFile, zlib.error, csv.Error, MemoryError)


# --- sources: a file, a folder or bytes in memory -----------------------------------------------
@dataclass
class _Source:
    label: str  # the name used in messages
    suffix: str
    path: Path | None = None
    data: bytes | None = None

    @property
    def display_name(self) -> str:
        """The dataset's name: the file or folder name without its location."""
        return Path(self.label).name or self.label

    @property
    def is_dir(self) -> bool:
        return self.path is not None and self.path.is_dir()

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        if self.is_dir:
            return sum(f.stat().st_size for f in _walk_folder(self))
        return self.path.stat().st_size

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data) if self.data is not None else open(self.path, "rb")


def _source_from_path(path: str | os.PathLike) -> _Source:
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise DeepADError(f"data path {path!r}: give the path of a {ACCEPTED}")
    p = Path(path).expanduser()
    if not p.exists():
        raise DeepADError(f"{p}: no such file or folder; give the path of a {ACCEPTED}")
    if not (p.is_file() or p.is_dir()):
        raise DeepADError(f"{p}: not a regular file or folder; give the path of a {ACCEPTED}")
    return _Source(label=str(p), suffix="" if p.is_dir() else p.suffix.lower(), path=p)


def _source_from_bytes(data: bytes, filename: str) -> _Source:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DeepADError(f"upload {filename!r}: expected the file's bytes, got {type(data).__name__}")
    name = PurePosixPath(str(filename).replace("\\", "/")).name
    if not name:
        raise DeepADError(f"upload file name {filename!r}: give the file's name with its extension")
    return _Source(label=name, suffix=PurePosixPath(name).suffix.lower(), data=bytes(data))


def _file_kind(src: _Source) -> str:
    """"csv" | "npz" | "zip" | "folder", or DeepADError for anything else."""
    if src.is_dir:
        return "folder"
    s = src.suffix
    if s in CSV_SUFFIXES:
        return "csv"
    if s in (".npz", ".zip"):
        return s[1:]
    if s == ".npy":
        raise DeepADError(f"{src.label}: a .npy file holds one array and no labels; save features and "
                          "labels together with np.savez('data.npz', x=x, y=y)")
    if s in _PICKLE_LIKE:
        raise DeepADError(f"{src.label}: {s} files are Python pickles, which can run code when loaded, "
                          f"so deepad never opens them; export your data as a {ACCEPTED}")
    shown = f"file type {s!r}" if s else "a file without an extension"
    raise DeepADError(f"{src.label}: {shown} is not supported; use a {ACCEPTED}")


def _check_size(src: _Source, max_bytes: int) -> None:
    size = src.size()
    if size > max_bytes:
        raise DeepADError(f"{src.label}: {_mb(size)} is over the size limit of {_mb(max_bytes)} "
                          "(max_bytes); use a smaller file or raise the limit")


def _mb(n: int) -> str:
    return f"{n / 2 ** 20:.1f} MB"


class _reading:
    """Context manager: a parser's own exception becomes a DeepADError naming the file."""

    def __init__(self, src: _Source, what: str):
        self.src, self.what = src, what

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, DeepADError) or not isinstance(exc, _READ_ERRORS):
            return False
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DeepADError(f"{self.src.label}: could not be read as {self.what} ({detail})") from None


# --- labels and classes -------------------------------------------------------------------------
def _label_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Labels as text (whole numbers without '.0') and a mask of missing labels."""
    if values.dtype.kind == "S":
        values = np.array([v.decode("utf-8", "replace") for v in values], dtype=object)
    if values.dtype.kind in "biuf":
        v = values.astype(np.float64)
        missing = ~np.isfinite(v)
        whole = np.all(np.mod(v[~missing], 1) == 0) if (~missing).any() else True
        text = np.array([("" if m else (str(int(x)) if whole else repr(float(x))))
                         for x, m in zip(v, missing)], dtype=object)
        return text, missing
    text = np.array(["" if _is_missing(x) else str(x).strip() for x in values], dtype=object)
    missing = np.isin(text, _EMPTY_CELLS)
    numbers = [_as_number(t) for t in text[~missing]]
    if numbers and all(v is not None for v in numbers):
        return _label_text(np.where(missing, np.nan, np.array([_as_number(t) or 0.0 for t in text])))
    return np.where(missing, "", text), missing


def _is_missing(x: Any) -> bool:
    if x is None:
        return True
    try:
        return bool(x != x)  # NaN, pandas NA
    except (TypeError, ValueError):
        return True


def _as_number(text: str) -> float | None:
    try:
        v = float(text)
    except (TypeError, ValueError):
        return None
    return v if np.isfinite(v) else None


def natural_order(values: Iterable[str]) -> list[str]:
    """Distinct values, numerically sorted when all are numbers, else alphabetically."""
    distinct = sorted(set(values))
    if distinct and all(_as_number(v) is not None for v in distinct):
        return sorted(distinct, key=lambda v: (_as_number(v), v))
    return distinct


def _encode_classes(src: _Source, text: np.ndarray, max_classes: int, where: str) -> tuple[np.ndarray, list[str]]:
    classes = natural_order(text)
    if len(classes) < 2:
        only = f"only the value {classes[0]!r}" if classes else "no values"
        raise DeepADError(f"{src.label}: {where} holds {only}: a single class; anomaly detection here "
                          "needs at least two classes (normal and anomalous samples, to train and to "
                          "evaluate)")
    if len(classes) == len(text) > 20:
        raise DeepADError(f"{src.label}: {where} has a different value in every one of its "
                          f"{len(text)} rows, so it cannot be a class label; choose the column that "
                          "names the class")
    if len(classes) > max_classes:
        raise DeepADError(f"{src.label}: {where} has {len(classes)} distinct values, more than "
                          f"{max_classes} classes (max_classes); is it really the label? Choose a "
                          "column with a few class values")
    index = {c: i for i, c in enumerate(classes)}
    return np.array([index[t] for t in text], dtype=np.int64), classes


def normal_classes(dataset: Dataset, normal_values: Sequence[Any] | str) -> list[int]:
    """Class numbers of the label values `normal_values` (a list, or one text with values
    separated by commas). Values match a class by their text or as equal numbers ("1.0" = "1")."""
    values = _split_values(normal_values)
    if not values:
        raise DeepADError(f"normal_values={normal_values!r}: name at least one label value; "
                          f"the classes are {', '.join(dataset.classes)}")
    out: list[int] = []
    for v in values:
        idx = _match_class(str(v).strip(), dataset.classes)
        if idx is None:
            shown = ", ".join(dataset.classes[:30]) + (" ..." if len(dataset.classes) > 30 else "")
            raise DeepADError(f"normal_values: {v!r} is not a label value of {dataset.name}; its "
                              f"values are: {shown}")
        if idx not in out:
            out.append(idx)
    return sorted(out)


def _split_values(values: Sequence[Any] | str | None) -> list[str]:
    if values is None:
        return []
    if isinstance(values, str):
        values = [values]
    out: list[str] = []
    for v in values:
        out += [p.strip() for p in str(v).split(",") if p.strip() != ""] if isinstance(v, str) else [str(v)]
    return out


def _match_class(value: str, classes: list[str]) -> int | None:
    if value in classes:
        return classes.index(value)
    num = _as_number(value)
    if num is None:
        return None
    for i, c in enumerate(classes):
        if _as_number(c) == num:
            return i
    return None


# --- bad values ---------------------------------------------------------------------------------
def _bad_value_message(src: _Source, bad: np.ndarray, columns: list[str], label_bad: np.ndarray,
                       label_name: str, unit: str, first: int) -> str:
    """How many bad cells, in how many rows, and where (a few columns, a few rows each)."""
    n_rows = int((bad.any(axis=1) | label_bad).sum())
    parts = []
    for j in np.flatnonzero(bad.any(axis=0))[:5]:
        parts.append(f"{columns[j]} {_rows_text(np.flatnonzero(bad[:, j]), unit, first)}")
    n_cols = int(bad.any(axis=0).sum())
    if n_cols > 5:
        parts.append(f"and {n_cols - 5} more columns")
    if label_bad.any():
        parts.append(f"{label_name} empty {_rows_text(np.flatnonzero(label_bad), unit, first)}")
    where = "; ".join(parts)
    hint = " (row 1 = the first line after the header)" if unit == "row" else ""
    return (f"{src.label}: {int(bad.sum()) + int(label_bad.sum())} missing, NaN, infinite or "
            f"non-numeric values in {n_rows} of {len(bad)} {unit}s: {where}{hint}; fix the file or "
            f"set drop_bad_rows=True (CLI --drop-bad-rows) to drop these {unit}s")


def _rows_text(rows: np.ndarray, unit: str, first: int) -> str:
    shown = ", ".join(str(int(r) + first) for r in rows[:5])
    more = f" and {len(rows) - 5} more" if len(rows) > 5 else ""
    return f"in {unit}{'s' if len(rows) > 1 else ''} {shown}{more}"


def _drop_or_refuse(src: _Source, x: np.ndarray, bad: np.ndarray, text: np.ndarray, label_bad: np.ndarray,
                    columns: list[str], label_name: str, unit: str, first: int,
                    drop_bad_rows: bool) -> tuple[np.ndarray, np.ndarray]:
    rows_bad = bad.reshape(len(bad), -1).any(axis=1) | label_bad
    if not rows_bad.any():
        return x, text
    if not drop_bad_rows:
        raise BadValuesError(_bad_value_message(src, bad.reshape(len(bad), -1), columns, label_bad,
                                                label_name, unit, first))
    if rows_bad.all():
        raise DeepADError(f"{src.label}: every {unit} has a missing or bad value, so dropping them "
                          "leaves nothing; fix the file")
    return x[~rows_bad], text[~rows_bad]


# --- CSV ----------------------------------------------------------------------------------------
def _sniff_delimiter(head: str) -> str:
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        return "\t" if head.count("\t") > head.count(",") else ","


def csv_columns(data: bytes, filename: str) -> list[str]:
    """The column names of a CSV held in memory (to let a user pick the label column);
    DeepADError when it cannot be read as a table."""
    return [str(c) for c in _read_table(_source_from_bytes(data, filename)).columns]


def _read_table(src: _Source):
    import pandas as pd

    with src.open() as f:
        raw = f.read()
    if b"\x00" in raw[:65536]:
        raise DeepADError(f"{src.label}: looks like a binary file, not CSV text; save the table as "
                          "CSV (UTF-8 text)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DeepADError(f"{src.label}: is not UTF-8 text (byte {exc.start}); save the CSV with "
                          "UTF-8 encoding") from None
    if not text.strip():
        raise DeepADError(f"{src.label}: the file is empty; a CSV needs a header line and data rows")
    sep = _sniff_delimiter(text[:65536])
    with _reading(src, "CSV"):
        end = text.find("\n")
        header = next(csv.reader([text[:end if end >= 0 else len(text)]], delimiter=sep), [])
    if len(header) > MAX_COLUMNS:
        raise DeepADError(f"{src.label}: has {len(header)} columns, more than {MAX_COLUMNS}; keep the "
                          "features that matter (or reduce them, e.g. with PCA) before uploading")
    with _reading(src, "CSV"):
        df = pd.read_csv(io.StringIO(text), sep=sep, engine="c",
                         skipinitialspace=True, dtype=str, keep_default_na=False).fillna("")
    if len(df) == 0:
        raise DeepADError(f"{src.label}: has a header but no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    return df


def _pick_label_column(src: _Source, columns: list[str], label_column: str | None) -> str:
    shown = ", ".join(repr(c) for c in columns[:20]) + (" ..." if len(columns) > 20 else "")
    if label_column is None:
        found = [c for c in columns if c.lower() in LABEL_NAMES]
        if len(found) == 1:
            return found[0]
        raise DeepADError(f"{src.label}: name the label column with label_column (CLI --label-column); "
                          f"the columns are: {shown}")
    if str(label_column) not in columns:
        raise DeepADError(f"label_column={label_column!r}: {src.label} has no such column; its columns "
                          f"are: {shown}")
    return str(label_column)


def _numeric_columns(df, features: list[str]) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(numeric columns, skipped text columns, values (n, d) float64, bad-cell mask (n, d)).
    A column is numeric when at least half of its non-empty cells are numbers. Every cell is
    converted in one vectorised pass."""
    import pandas as pd

    if not features:
        return [], [], np.zeros((len(df), 0)), np.zeros((len(df), 0), bool)
    cells = np.char.strip(df[features].to_numpy(dtype=str))
    empty = np.isin(cells, _EMPTY_CELLS)
    values = pd.to_numeric(pd.Series(cells.ravel()), errors="coerce").to_numpy(dtype=np.float64, copy=True)
    values = values.reshape(cells.shape)
    values[empty] = np.nan
    n_nonempty = (~empty).sum(axis=0)
    numbers = (~np.isnan(values) & ~empty).sum(axis=0)
    unnamed = np.array([name == "" or name.startswith("Unnamed: ") for name in features])
    keep = ~unnamed & (n_nonempty > 0) & (numbers >= 0.5 * n_nonempty)
    x = values[:, keep]
    with np.errstate(over="ignore", invalid="ignore"):
        bad = ~np.isfinite(x) | (np.abs(x) > np.finfo(np.float32).max)
    names = [f for f, k in zip(features, keep) if k]
    return names, [f for f, k in zip(features, keep) if not k], x, bad


def _load_csv(src: _Source, label_column: str | None, drop_bad_rows: bool, max_classes: int) -> Dataset:
    df = _read_table(src)
    columns = list(df.columns)
    label = _pick_label_column(src, columns, label_column)
    features = [c for c in columns if c != label]
    numeric, skipped, x, bad = _numeric_columns(df, features)
    if not numeric:
        text_cols = ", ".join(repr(c) for c in skipped[:10]) or "none"
        raise DeepADError(f"{src.label}: no numeric feature columns besides the label {label!r} "
                          f"(text columns: {text_cols}); a CSV for deepad needs numbers in its "
                          "feature columns")
    text, label_bad = _label_text(df[label].to_numpy(dtype=object))
    x, text = _drop_or_refuse(src, x, bad, text, label_bad, [f"column {c!r}" for c in numeric],
                              f"label column {label!r}", "row", 1, drop_bad_rows)
    y, classes = _encode_classes(src, text, max_classes, f"label column {label!r}")
    return Dataset(src.display_name, x.astype(np.float32), y, classes, "tabular", numeric)


# --- NPZ ----------------------------------------------------------------------------------------
def _check_archive(src: _Source, zf: zipfile.ZipFile, max_bytes: int, max_files: int) -> list[zipfile.ZipInfo]:
    """Refuse entries that leave the extraction folder (.., absolute paths, drive letters),
    symbolic links, encrypted entries, too many entries, and contents over `max_bytes`."""
    infos = zf.infolist()
    if len(infos) > max_files:
        raise DeepADError(f"{src.label}: holds {len(infos)} entries, more than {max_files} (max_files)")
    total = 0
    for info in infos:
        name = info.filename
        norm = name.replace("\\", "/")
        parts = [p for p in norm.split("/") if p not in ("", ".")]
        if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or ".." in parts:
            raise DeepADError(f"{src.label}: entry {name!r} points outside the archive's folder "
                              "(absolute path or '..'); such archives are refused, pack the files "
                              "with paths relative to the archive")
        if (info.external_attr >> 16) & 0o170000 == _SYMLINK:
            raise DeepADError(f"{src.label}: entry {name!r} is a symbolic link; such archives are "
                              "refused, pack the files themselves")
        if info.flag_bits & 0x1:
            raise DeepADError(f"{src.label}: entry {name!r} is encrypted; pack the files without a password")
        total += info.file_size
    if total > max_bytes:
        raise DeepADError(f"{src.label}: unpacks to {_mb(total)}, over the size limit of {_mb(max_bytes)} "
                          "(max_bytes); use a smaller archive or raise the limit")
    return infos


def _open_zip(src: _Source, f: BinaryIO, what: str) -> zipfile.ZipFile:
    if not zipfile.is_zipfile(f):
        raise DeepADError(f"{src.label}: is not a valid {what} (not a zip archive)")
    f.seek(0)
    with _reading(src, what):
        return zipfile.ZipFile(f)


def _npz_array(src: _Source, npz, key: str) -> np.ndarray:
    try:
        arr = npz[key]
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise DeepADError(f"{src.label}: array {key!r} holds Python objects, which would need "
                              "unpickling; deepad never unpickles uploads, store numbers (or text "
                              "labels) instead") from None
        raise
    if arr.dtype.kind not in "biuf" + ("US" if key == "y" else ""):
        allowed = "numbers or text" if key == "y" else "numbers"
        raise DeepADError(f"{src.label}: array {key!r} has dtype {arr.dtype}; it must hold {allowed}")
    return arr


def _load_npz(src: _Source, drop_bad_rows: bool, max_bytes: int, max_classes: int) -> Dataset:
    with src.open() as f:
        zf = _open_zip(src, f, "NPZ file")
        with zf:
            _check_archive(src, zf, max_bytes, MAX_FILES)
        f.seek(0)
        with _reading(src, "NPZ file"):
            with np.load(f, allow_pickle=False) as npz:
                keys = list(npz.files)
                if "x" not in keys or "y" not in keys:
                    raise DeepADError(f"{src.label}: needs arrays named 'x' (samples) and 'y' (labels); "
                                      f"found {', '.join(repr(k) for k in keys) or 'no arrays'}; save "
                                      "with np.savez('data.npz', x=x, y=y)")
                x, y = _npz_array(src, npz, "x"), _npz_array(src, npz, "y")
    return _npz_dataset(src, x, y, drop_bad_rows, max_classes)


def _npz_dataset(src: _Source, x: np.ndarray, y: np.ndarray, drop_bad_rows: bool, max_classes: int) -> Dataset:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise DeepADError(f"{src.label}: 'y' must be one label per sample, shape (n,); got {y.shape}")
    if x.ndim < 2 or x.ndim > 4 or len(x) != len(y) or x.size == 0:
        raise DeepADError(f"{src.label}: 'x' must have shape (n, d) for tabular data or (n, H, W), "
                          f"(n, C, H, W), (n, H, W, C) for images, with n = len(y) = {len(y)} >= 1; "
                          f"got {x.shape}")
    kind = "tabular" if x.ndim == 2 else "image"
    if kind == "image":
        x = _as_nchw(src, x)
    bad = np.zeros(x.shape, dtype=bool)
    if x.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            bad = ~np.isfinite(x) | (np.abs(x) > np.finfo(np.float32).max)
    values = x
    text, label_bad = _label_text(y)
    columns = [f"feature {j}" for j in range(values.shape[1])] if kind == "tabular" else ["pixels"]
    flat_bad = bad.reshape(len(bad), -1) if kind == "tabular" else bad.reshape(len(bad), -1).any(1, keepdims=True)
    rows_bad = flat_bad.any(axis=1) | label_bad
    if rows_bad.any():
        if not drop_bad_rows:
            raise BadValuesError(_bad_value_message(src, flat_bad, columns, label_bad, "'y'", "sample", 0))
        if rows_bad.all():
            raise DeepADError(f"{src.label}: every sample has a missing or bad value, so dropping "
                              "them leaves nothing; fix the file")
        values, text = values[~rows_bad], text[~rows_bad]
    values = values.astype(np.float32)
    if kind == "image":
        values = _image_range(src, values, x.dtype)
    y_idx, classes = _encode_classes(src, text, max_classes, "'y'")
    names = [f"x{j}" for j in range(values.shape[1])] if kind == "tabular" else []
    return Dataset(src.display_name, values, y_idx, classes, kind, names)


def _as_nchw(src: _Source, x: np.ndarray) -> np.ndarray:
    if x.ndim == 3:
        return x[:, None]
    if x.shape[1] in (1, 3):
        return x
    if x.shape[3] in (1, 3):
        return x.transpose(0, 3, 1, 2)
    raise DeepADError(f"{src.label}: 4-D 'x' of shape {x.shape} is not (n, C, H, W) or (n, H, W, C) "
                      "with C = 1 (grayscale) or 3 (RGB) channels")


def _image_range(src: _Source, values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    if lo >= 0 and hi <= 1 and dtype.kind != "u":
        return values
    if lo >= 0 and hi <= 255:
        return values / np.float32(255.0)
    raise DeepADError(f"{src.label}: image values must lie in [0, 1] (or 0..255 for 8-bit images); "
                      f"found {lo:.4g}..{hi:.4g}; scale 'x' first")


# --- images: folder or zip ------------------------------------------------------------------------
@dataclass
class _ImageFile:
    parts: tuple[str, ...]  # path inside the folder / archive
    size: int
    read: Callable[[], bytes]


def _ignored(parts: Sequence[str]) -> bool:
    return any(p.startswith(".") or p in _IGNORED_NAMES for p in parts)


def _walk_folder(src: _Source) -> list[Path]:
    """Every regular file under the folder; symbolic links are refused."""
    files = []
    for root, dirs, names in os.walk(src.path, followlinks=False):
        for n in sorted(dirs) + sorted(names):
            p = Path(root) / n
            if p.is_symlink():
                raise DeepADError(f"{src.label}: {p.relative_to(src.path)} is a symbolic link; links "
                                  "are refused, copy the files themselves into the folder")
        files += [Path(root) / n for n in sorted(names)]
    return files


def _folder_files(src: _Source) -> list[_ImageFile]:
    out = []
    for p in _walk_folder(src):
        rel = p.relative_to(src.path).parts
        if not _ignored(rel):
            out.append(_ImageFile(rel, p.stat().st_size, p.read_bytes))
    return out


def _zip_files(src: _Source, zf: zipfile.ZipFile, max_bytes: int) -> list[_ImageFile]:
    out = []
    for info in _check_archive(src, zf, max_bytes, MAX_FILES):
        parts = tuple(p for p in info.filename.replace("\\", "/").split("/") if p not in ("", "."))
        if info.is_dir() or not parts or _ignored(parts):
            continue
        out.append(_ImageFile(parts, info.file_size, lambda info=info: zf.read(info)))
    return out


def _class_layout(src: _Source, files: list[_ImageFile]) -> list[tuple[str, _ImageFile]]:
    """(class name, file) pairs from `<class>/<file>`, below at most a few wrapping folders."""
    if not files:
        raise DeepADError(f"{src.label}: holds no files; put images in one sub-folder per class, e.g. "
                          "normal/001.png and defect/002.png")
    depth = 0
    while all(len(f.parts) - depth >= 3 for f in files) and len({f.parts[depth] for f in files}) == 1:
        depth += 1
    pairs = []
    for f in files:
        rel = f.parts[depth:]
        if len(rel) != 2:
            where = "at the top level" if len(rel) == 1 else "in a nested folder"
            raise DeepADError(f"{src.label}: {'/'.join(f.parts)} is {where}; images must sit directly "
                              "in one sub-folder per class, e.g. normal/001.png and defect/002.png")
        if PurePosixPath(rel[1]).suffix.lower() not in IMAGE_SUFFIXES:
            raise DeepADError(f"{src.label}: {'/'.join(f.parts)} is not an image; allowed: "
                              f"{' '.join(IMAGE_SUFFIXES)}")
        pairs.append((rel[0], f))
    return pairs


def _decode_image(src: _Source, f: _ImageFile):
    from PIL import Image

    name = "/".join(f.parts)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(f.read()))
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise DeepADError(f"{src.label}: {name} is {img.width}×{img.height} pixels, over the "
                                  f"limit of {MAX_IMAGE_PIXELS} pixels per image")
            img.load()
    except DeepADError:
        raise
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) + _READ_ERRORS as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise DeepADError(f"{src.label}: {name} could not be read as an image ({detail})") from None
    return img


def _image_array(img, gray: bool, size: tuple[int, int] | None) -> np.ndarray:
    from PIL import Image

    if img.mode in ("I", "I;16", "I;16B", "I;16L") and gray:  # 16-bit grayscale
        arr = np.asarray(img, dtype=np.float32)
        arr = arr / (65535.0 if img.mode != "I" or arr.max() > 255 else 255.0)
        if size is not None:
            arr = np.asarray(Image.fromarray(arr, mode="F").resize((size[1], size[0]), Image.BILINEAR))
        return np.clip(arr, 0, 1)[None]
    img = img.convert("L" if gray else "RGB")
    if size is not None and img.size != (size[1], size[0]):
        img = img.resize((size[1], size[0]), Image.BILINEAR)
    arr = np.asarray(img, dtype=np.float32) / 255.0
    return arr[None] if gray else arr.transpose(2, 0, 1)


def _parse_image_size(image_size: Any) -> tuple[int, int] | None:
    if image_size is None:
        return None
    text = str(image_size).strip().lower()
    if isinstance(image_size, (tuple, list)) and len(image_size) == 2:
        text = f"{image_size[0]}x{image_size[1]}"
    m = re.fullmatch(r"(\d+)(?:\s*[x×,]\s*(\d+))?", text)
    if not m or isinstance(image_size, bool):
        raise DeepADError(f"image_size={image_size!r}: give a side in pixels (e.g. 32) or height×width "
                          "(e.g. 32x48)")
    h = int(m.group(1))
    w = int(m.group(2)) if m.group(2) else h
    if not (4 <= h <= 1024 and 4 <= w <= 1024):
        raise DeepADError(f"image_size={image_size!r}: each side must lie in 4..1024 pixels")
    return h, w


def _sizes_message(src: _Source, sizes: dict[tuple[int, int], list[str]]) -> str:
    listed = sorted(sizes.items(), key=lambda kv: -len(kv[1]))
    shown = "; ".join(f"{w}×{h} ({len(files)} file{'s' if len(files) > 1 else ''}, e.g. {files[0]})"
                      for (w, h), files in listed[:8])
    more = f"; and {len(listed) - 8} more sizes" if len(listed) > 8 else ""
    (w0, h0) = listed[0][0]
    return (f"{src.label}: the images have {len(sizes)} different sizes (width×height): {shown}{more}; "
            f"give image_size (CLI --image-size), e.g. {h0} or {h0}x{w0}, to resize them all")


def _load_images(src: _Source, files: list[_ImageFile], image_size: Any, max_bytes: int,
                 max_classes: int) -> Dataset:
    """Two passes: every image's header first (its size and mode, nothing decoded), so a set that
    would not fit in memory is refused before any pixel is decoded; then each image is decoded into
    its place in one preallocated array."""
    size = _parse_image_size(image_size)
    pairs = _class_layout(src, files)
    labels = np.array([c for c, _ in pairs], dtype=object)
    y, classes = _encode_classes(src, labels, max_classes, "the class sub-folders")
    headers = [_image_header(src, f) for _, f in pairs]
    sizes: dict[tuple[int, int], list[str]] = {}
    for (_, f), (wh, _) in zip(pairs, headers):
        sizes.setdefault(wh, []).append("/".join(f.parts))
    if size is None and len(sizes) > 1:
        (w0, h0) = max(sizes, key=lambda s: len(sizes[s]))
        raise MixedImageSizesError(_sizes_message(src, sizes), suggested=(h0, w0))
    gray = all(mode in _GRAY_MODES for _, mode in headers)
    (w1, h1) = headers[0][0]
    h, w = size or (h1, w1)
    channels = 1 if gray else 3
    decoded = len(pairs) * channels * h * w * 4 + max(a * b for (a, b), _ in headers) * 4 * 4
    limit = max_decoded_bytes(max_bytes)
    if decoded > limit:
        raise DeepADError(f"{src.label}: {len(pairs)} images of {h}×{w} pixels × {channels} channel"
                          f"{'s' if channels > 1 else ''} would take {_mb(decoded)} in memory, over the "
                          f"limit of {_mb(limit)}; choose a smaller image_size (CLI --image-size) or "
                          "fewer images")
    x = np.empty((len(pairs), channels, h, w), dtype=np.float32)
    for i, (_, f) in enumerate(pairs):
        img = _decode_image(src, f)
        x[i] = _image_array(img, gray, size)
        img.close()
    return Dataset(src.display_name, x, y, classes, "image")


_GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


def max_decoded_bytes(max_bytes: int) -> int:
    """How much memory decoded images may take: ten times the file size limit, at most 1 GiB."""
    return min(10 * max_bytes, MAX_DECODED_BYTES)


def _image_header(src: _Source, f: _ImageFile) -> tuple[tuple[int, int], str]:
    """((width, height), mode) from the image's header alone (PIL's open decodes no pixels)."""
    from PIL import Image

    name = "/".join(f.parts)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(f.read())) as img:
                wh, mode = img.size, img.mode
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) + _READ_ERRORS as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise DeepADError(f"{src.label}: {name} could not be read as an image ({detail})") from None
    if wh[0] * wh[1] > MAX_IMAGE_PIXELS:
        raise DeepADError(f"{src.label}: {name} is {wh[0]}×{wh[1]} pixels, over the limit of "
                          f"{MAX_IMAGE_PIXELS} pixels per image")
    return wh, mode


def _load_image_zip(src: _Source, image_size: Any, max_bytes: int, max_classes: int) -> Dataset:
    with src.open() as f:
        zf = _open_zip(src, f, "zip archive")
        with zf:
            with _reading(src, "zip archive of images"):
                return _load_images(src, _zip_files(src, zf, max_bytes), image_size, max_bytes, max_classes)


# --- public loaders -------------------------------------------------------------------------------
def _check_options(src: _Source, kind: str, label_column: Any, image_size: Any) -> None:
    if label_column is not None and kind != "csv":
        raise DeepADError(f"label_column={label_column!r} applies to CSV files only; {src.label} is "
                          f"{'a folder of images' if kind == 'folder' else 'an ' + kind.upper() + ' file'}"
                          + ("" if kind != "npz" else " (its labels are the array 'y')"))
    if image_size is not None and kind not in ("zip", "folder"):
        raise DeepADError(f"image_size={image_size!r} applies to image folders and zips only; "
                          f"{src.label} is a{'n' if kind == 'npz' else ''} {kind.upper()} file")


def _load(src: _Source, label_column: str | None, normal_values: Sequence[Any] | str | None,
          image_size: Any, drop_bad_rows: bool, max_bytes: int, max_classes: int) -> Dataset:
    if not isinstance(max_bytes, int) or max_bytes < 1:
        raise DeepADError(f"max_bytes={max_bytes!r}: give the size limit in bytes, e.g. {DEFAULT_MAX_BYTES}")
    kind = _file_kind(src)
    _check_options(src, kind, label_column, image_size)
    _check_size(src, max_bytes)
    if kind == "csv":
        ds = _load_csv(src, label_column, drop_bad_rows, max_classes)
    elif kind == "npz":
        ds = _load_npz(src, drop_bad_rows, max_bytes, max_classes)
    elif kind == "zip":
        ds = _load_image_zip(src, image_size, max_bytes, max_classes)
    else:
        ds = _load_images(src, _folder_files(src), image_size, max_bytes, max_classes)
    if normal_values is not None:
        normal_classes(ds, normal_values)
    return ds


def load_user_data(path: str | os.PathLike, label_column: str | None = None,
                   normal_values: Sequence[Any] | str | None = None, image_size: Any = None,
                   drop_bad_rows: bool = False, max_bytes: int = DEFAULT_MAX_BYTES,
                   max_classes: int = MAX_CLASSES) -> Dataset:
    """Load a user's CSV, NPZ, image zip or image folder as a Dataset (see the module docstring).

    label_column: the CSV's label column (default: one named label / labels / y / class / target).
    normal_values: label values that count as normal; only checked here (they must exist), turn
        them into class numbers with `normal_classes`.
    image_size: resize every image to this side (32) or height×width ("32x48", (32, 48)); None
        refuses images of mixed sizes.
    drop_bad_rows: drop rows / samples with missing, NaN or infinite values instead of refusing.
    max_bytes: size limit for the file, a folder's files together, and an archive's contents.
    Raises DeepADError for every problem; writes nothing."""
    return _load(_source_from_path(path), label_column, normal_values, image_size, drop_bad_rows,
                 max_bytes, max_classes)


def load_user_bytes(data: bytes, filename: str, label_column: str | None = None,
                    normal_values: Sequence[Any] | str | None = None, image_size: Any = None,
                    drop_bad_rows: bool = False, max_bytes: int = DEFAULT_MAX_BYTES,
                    max_classes: int = MAX_CLASSES) -> Dataset:
    """`load_user_data` for an upload held in memory (the dashboard's file uploader); the file
    type comes from `filename`'s extension."""
    return _load(_source_from_bytes(data, filename), label_column, normal_values, image_size,
                 drop_bad_rows, max_bytes, max_classes)


# --- inputs to score (no labels needed) -----------------------------------------------------------
@dataclass
class Inputs:
    """Samples to score with a trained run, in the file's own order."""

    x: np.ndarray  # (n, d) table rows or (n, C, H, W) images in [0, 1], float32
    names: list[str]  # one per sample: "row 3", "sample 0", "digits/7.png"
    kind: str  # "tabular" | "image"
    columns: list[str]  # a CSV's numeric columns (tabular inputs)


def read_inputs(path: str | os.PathLike | None = None, *, data: bytes | None = None, filename: str = "",
                max_bytes: int = DEFAULT_MAX_BYTES) -> Inputs:
    """Samples to score, labels optional: a CSV (every numeric column; a label column may be
    there), an NPZ with an array `x` (a `y` is ignored), one image, or a zip / folder of images in
    any layout (sorted by their paths). Raises DeepADError naming the problem."""
    src = _source_from_path(path) if data is None else _source_from_bytes(data, filename)
    _check_size(src, max_bytes)
    if src.suffix in IMAGE_SUFFIXES:
        f = _ImageFile((src.display_name,), src.size(), lambda: src.open().read())
        return _input_images(src, [f])
    kind = _file_kind(src)
    if kind == "csv":
        df = _read_table(src)
        numeric, _, x, bad = _numeric_columns(df, list(df.columns))
        if not numeric:
            raise DeepADError(f"{src.label}: no numeric columns to score")
        if bad.any():
            message = _bad_value_message(src, bad, [f"column {c!r}" for c in numeric],
                                         np.zeros(len(x), bool), "", "row", 1)
            raise DeepADError(message.split("; fix the file")[0] + "; every value to score must be a number")
        return Inputs(x.astype(np.float32), [f"row {i + 1}" for i in range(len(x))], "tabular", numeric)
    if kind == "npz":
        with src.open() as fh:
            with _open_zip(src, fh, "NPZ file") as zf:
                _check_archive(src, zf, max_bytes, MAX_FILES)
            fh.seek(0)
            with _reading(src, "NPZ file"), np.load(fh, allow_pickle=False) as npz:
                if "x" not in npz.files:
                    raise DeepADError(f"{src.label}: needs an array named 'x' (the samples); found "
                                      f"{', '.join(repr(k) for k in npz.files) or 'no arrays'}")
                x = _npz_array(src, npz, "x")
        if x.ndim < 2 or x.ndim > 4 or x.size == 0:
            raise DeepADError(f"{src.label}: 'x' must have shape (n, d) or (n, H, W), (n, C, H, W), "
                              f"(n, H, W, C); got {x.shape}")
        names = [f"sample {i}" for i in range(len(x))]
        if x.ndim == 2:
            return Inputs(x.astype(np.float32), names, "tabular", [f"x{j}" for j in range(x.shape[1])])
        x = _as_nchw(src, x)
        return Inputs(_image_range(src, x.astype(np.float32), x.dtype), names, "image", [])
    if kind == "zip":
        with src.open() as fh:
            with _open_zip(src, fh, "zip archive") as zf, _reading(src, "zip archive of images"):
                return _input_images(src, _zip_files(src, zf, max_bytes))
    return _input_images(src, _folder_files(src))


def _input_images(src: _Source, files: list[_ImageFile]) -> Inputs:
    files = [f for f in files if PurePosixPath(f.parts[-1]).suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise DeepADError(f"{src.label}: holds no images ({' '.join(IMAGE_SUFFIXES)})")
    order = {n: i for i, n in enumerate(natural_order("/".join(f.parts) for f in files))}
    files.sort(key=lambda f: order["/".join(f.parts)])
    images = [_decode_image(src, f) for f in files]
    sizes = {img.size for img in images}
    if len(sizes) > 1:
        shown = ", ".join(f"{w}×{h}" for w, h in sorted(sizes))
        raise DeepADError(f"{src.label}: the images have {len(sizes)} different sizes ({shown}); "
                          "give images of one size")
    gray = all(img.mode in ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F") for img in images)
    x = np.stack([_image_array(img, gray, None) for img in images]).astype(np.float32)
    return Inputs(x, ["/".join(f.parts) for f in files], "image", [])


# --- storing an upload with a run ---------------------------------------------------------------
def _safe_filename(name: str) -> str:
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "upload"
    return stem[:120]


def _write_atomic(dest: Path, write: Callable[[BinaryIO], None]) -> None:
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".upload-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _run_data_dir(run_dir: str | os.PathLike) -> Path:
    run = Path(run_dir)
    if not run.is_dir():
        raise DeepADError(f"run folder {run}: does not exist; create the run before storing its data")
    return run / "data"


def store_upload(src: str | os.PathLike, run_dir: str | os.PathLike, **load_options: Any) -> str:
    """Validate `src` with `load_user_data(src, **load_options)` (DeepADError, nothing written,
    when it is unusable), then copy it into `run_dir/data/` and return its path relative to
    `run_dir` (e.g. "data/measurements.csv"). A folder of images is stored as a zip of its
    images (`data/<folder>.zip`), which loads the same way."""
    load_user_data(src, **load_options)
    source = _source_from_path(src)
    data_dir = _run_data_dir(run_dir)
    data_dir.mkdir(exist_ok=True)
    if source.is_dir:
        dest = data_dir / (_safe_filename(source.path.name) + ".zip")
        files = _folder_files(source)

        def write(f: BinaryIO) -> None:
            with zipfile.ZipFile(f, "w", zipfile.ZIP_DEFLATED) as zf:
                for item in files:
                    zf.writestr("/".join(item.parts), item.read())

        _write_atomic(dest, write)
    else:
        dest = data_dir / _safe_filename(source.path.name)
        with open(source.path, "rb") as fin:
            _write_atomic(dest, lambda f: shutil.copyfileobj(fin, f))
    return dest.relative_to(Path(run_dir)).as_posix()


def store_upload_bytes(data: bytes, filename: str, run_dir: str | os.PathLike, **load_options: Any) -> str:
    """`store_upload` for an upload held in memory: validate, then write it to `run_dir/data/`."""
    load_user_bytes(data, filename, **load_options)
    data_dir = _run_data_dir(run_dir)
    data_dir.mkdir(exist_ok=True)
    dest = data_dir / _safe_filename(_source_from_bytes(data, filename).label)
    _write_atomic(dest, lambda f: f.write(bytes(data)))
    return dest.relative_to(Path(run_dir)).as_posix()


def save_upload_bytes(data: bytes, filename: str, folder: str | os.PathLike, **load_options: Any) -> Path:
    """Validate an upload held in memory, then keep it in `folder` under a name made from its
    content (`<sha256 prefix>-<filename>`), so the same upload is kept once. Returns the path: a
    place for the dashboard to put an upload before its run exists (name it with
    `user_dataset_name`). Nothing is written when the upload is refused."""
    import hashlib

    load_user_bytes(data, filename, **load_options)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(bytes(data)).hexdigest()[:16]
    dest = folder / f"{digest}-{_safe_filename(_source_from_bytes(data, filename).label)}"
    prune_staged(folder, keep_bytes=STAGED_MAX_BYTES - len(data), spare=dest)
    if dest.is_file() and not dest.is_symlink():
        os.utime(dest)  # used again: the newest
    else:
        _write_atomic(dest, lambda f: f.write(bytes(data)))
    return dest


STAGED_MAX_AGE_S = 24 * 3600  # a staged upload no run has copied within a day is removed
STAGED_MAX_BYTES = 4 * DEFAULT_MAX_BYTES  # staged uploads together: the oldest go first beyond this


def prune_staged(folder: str | os.PathLike, keep_bytes: int = STAGED_MAX_BYTES,
                 max_age_s: float = STAGED_MAX_AGE_S, spare: Path | None = None) -> list[Path]:
    """Remove staged uploads older than `max_age_s`, then the oldest until the rest take at most
    `keep_bytes` (a run keeps its own copy, so a staged file is only needed until its run starts).
    Only regular files named as `save_upload_bytes` names them are touched; returns the removed."""
    import time

    entries = []
    for p in Path(folder).iterdir():
        if p == spare or p.is_symlink() or not p.is_file() or not re.fullmatch(r"[0-9a-f]{16}-.+", p.name):
            continue
        st = p.stat()
        entries.append((st.st_mtime, st.st_size, p))
    removed, now = [], time.time()
    entries.sort()
    total = sum(size for _, size, _ in entries)
    for mtime, size, p in entries:
        if now - mtime > max_age_s or total > keep_bytes:
            p.unlink(missing_ok=True)
            removed.append(p)
            total -= size
    return removed


# --- "file:" dataset names ----------------------------------------------------------------------
FILE_PREFIX = "file:"
OPTION_NAMES = ("label_column", "normal_values", "image_size", "drop_bad_rows", "max_bytes")


def user_dataset_name(path: str | os.PathLike, **options: Any) -> str:
    """The dataset name for a user file, e.g. "file:/data/tumours.csv?label_column=diagnosis&
    normal_values=B": a RunConfig `dataset` that `load_dataset` understands with no other option."""
    opts = _clean_options(options)
    query = []
    for key in OPTION_NAMES:
        if key not in opts:
            continue
        value = opts[key]
        if key == "normal_values":
            query += [(key, v) for v in _split_values(value)]
        elif key == "image_size" and isinstance(value, (tuple, list)):
            query.append((key, f"{value[0]}x{value[1]}"))
        else:
            query.append((key, str(value)))
    return FILE_PREFIX + str(path) + ("?" + urlencode(query) if query else "")


def _clean_options(options: dict | None) -> dict:
    options = {k: v for k, v in (options or {}).items() if v is not None}
    unknown = sorted(set(options) - set(OPTION_NAMES))
    if unknown:
        raise DeepADError(f"data option {unknown[0]!r} is unknown; allowed: {', '.join(OPTION_NAMES)}")
    return options


def parse_user_dataset_name(name: str, options: dict | None = None) -> tuple[str, dict]:
    """("PATH", loader options) from "file:PATH[?key=value&...]" merged with `options` (a value
    given both ways must agree)."""
    if not name.startswith(FILE_PREFIX):
        raise DeepADError(f"dataset {name!r}: a user file is named 'file:PATH'")
    body = name[len(FILE_PREFIX):]
    path, query = body, ""
    if "?" in body:
        head, _, tail = body.rpartition("?")
        keys = [k for k, _ in parse_qsl(tail, keep_blank_values=True)]
        if keys and all(k in OPTION_NAMES for k in keys):
            path, query = head, tail
    if not path:
        raise DeepADError(f"dataset {name!r}: give the file's path after 'file:', e.g. file:data.csv")
    from_name: dict[str, Any] = {}
    for key, value in parse_qsl(query, keep_blank_values=True):
        if key == "normal_values":
            from_name.setdefault(key, []).append(value)
        else:
            from_name[key] = value
    if "drop_bad_rows" in from_name:
        from_name["drop_bad_rows"] = _parse_bool(from_name["drop_bad_rows"])
    if "max_bytes" in from_name:
        try:
            from_name["max_bytes"] = int(from_name["max_bytes"])
        except ValueError:
            raise DeepADError(f"max_bytes={from_name['max_bytes']!r}: give a whole number of bytes") from None
        if from_name["max_bytes"] > DEFAULT_MAX_BYTES:  # a shared name or link must not lift the limit
            raise DeepADError(f"max_bytes={from_name['max_bytes']}: a dataset name can lower the size "
                              f"limit, not raise it above {DEFAULT_MAX_BYTES} bytes")
    extra = _clean_options(options)
    for key, value in extra.items():
        if key in from_name and _split_values(from_name[key]) != _split_values(value):
            raise DeepADError(f"dataset {name!r}: {key} is {from_name[key]!r} in the name but "
                              f"{value!r} in the options; give it once")
    return path, {**from_name, **extra}


def _parse_bool(text: Any) -> bool:
    value = str(text).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off", ""):
        return False
    raise DeepADError(f"drop_bad_rows={text!r}: give true or false")


def _file_stamp(path: str) -> tuple[str, int, int]:
    p = Path(path).expanduser()
    try:
        st = p.stat()
        return str(p.resolve()), st.st_mtime_ns, st.st_size
    except OSError:
        return str(p), 0, 0


@lru_cache(maxsize=4)
def _cached_user_dataset(stamp: tuple[str, int, int], path: str, options_key: tuple) -> Dataset:
    ds = load_user_data(path, **dict(options_key))
    ds.x.flags.writeable = False
    return ds


def _options_key(options: dict) -> tuple:
    return tuple(sorted((k, tuple(_split_values(v)) if k == "normal_values" else
                         (tuple(v) if isinstance(v, list) else v)) for k, v in options.items()))


def load_user_dataset(name: str, options: dict | None = None) -> Dataset:
    """The Dataset for a "file:PATH[?options]" name (cached while the file is unchanged; callers
    must not modify the arrays)."""
    path, opts = parse_user_dataset_name(name, options)
    return _cached_user_dataset(_file_stamp(path), path, _options_key(opts))


def user_dataset_info(name: str, options: dict | None = None) -> DatasetInfo:
    """Catalog entry for a "file:" name: kind and classes from the file, `default_normal` from
    its normal_values (class 0 when none are given)."""
    ds = load_user_dataset(name, options)
    _, opts = parse_user_dataset_name(name, options)
    values = opts.get("normal_values")
    default = tuple(normal_classes(ds, values)) if values else (0,)
    shape = "×".join(map(str, ds.input_shape))
    classes = ", ".join(ds.classes[:12]) + (" ..." if len(ds.classes) > 12 else "")
    return DatasetInfo(name, f"{Path(ds.name).name} (your data)", ds.kind, True, default,
                       f"{len(ds.y)} samples of shape {shape}; classes: {classes}",
                       lambda **_: ds)
