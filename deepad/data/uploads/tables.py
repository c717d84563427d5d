"""Tables: a CSV (a label column and numeric feature columns), an NPZ with arrays `x` (or ADBench's
`X`) and `y`, or an ODDS MATLAB file (`benchmarks`)."""

from __future__ import annotations

import csv
import io

import numpy as np

from deepad.data.types import Dataset
from deepad.data.uploads.benchmarks import load_mat, npz_feature_key
from deepad.data.uploads.labels import bad_value_message, drop_or_refuse, encode_classes, label_text
from deepad.data.uploads.sources import (EMPTY_CELLS, LABEL_NAMES, MAX_COLUMNS, MAX_FILES, Source,
                                         check_archive, mb, open_zip, reading_errors, source_from_bytes)
from deepad.errors import BadValuesError, DeepADError


def _sniff_delimiter(head: str) -> str:
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        return "\t" if head.count("\t") > head.count(",") else ","


def csv_columns(data: bytes, filename: str) -> list[str]:
    """The column names of a CSV held in memory (to let a user pick the label column);
    DeepADError when it cannot be read as a table."""
    return [str(c) for c in read_table(source_from_bytes(data, filename)).columns]


MAX_CELL_CHARS = 1000  # a CSV cell longer than this is refused before anything is converted


def _check_utf8(src: Source, raw: bytes) -> None:
    """UTF-8 or a one-line refusal, checked piece by piece (no decoded copy of the file is kept)."""
    import codecs

    decoder = codecs.getincrementaldecoder("utf-8")()
    step = 1 << 20
    for start in range(0, len(raw), step):
        try:
            decoder.decode(raw[start:start + step], final=start + step >= len(raw))
        except UnicodeDecodeError as exc:
            raise DeepADError(f"{src.label}: is not UTF-8 text (byte {start + exc.start}); save the CSV with "
                              "UTF-8 encoding") from None


def read_table(src: Source, label_column: str | None = None, pick_label: bool = False):
    """The CSV as a DataFrame: numeric columns parsed straight to numbers (empty, NaN-like cells
    as NaN), other columns as text; the label column (named, or picked as `_pick_label_column`
    does when `pick_label`) always as text. No array of the whole table as text is ever made, and
    every text cell is checked against `MAX_CELL_CHARS` before it is converted."""
    import pandas as pd

    with src.open() as f:
        raw = f.read()
    if b"\x00" in raw[:65536]:
        raise DeepADError(f"{src.label}: looks like a binary file, not CSV text; save the table as "
                          "CSV (UTF-8 text)")
    _check_utf8(src, raw)
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    if not raw.strip():
        raise DeepADError(f"{src.label}: the file is empty; a CSV needs a header line and data rows")
    head = raw[:65536].decode("utf-8", errors="ignore")
    sep = _sniff_delimiter(head)
    with reading_errors(src, "CSV"):
        end = raw.find(b"\n")
        first = raw[:end if end >= 0 else len(raw)].decode("utf-8", errors="replace").rstrip("\r")
        header = next(csv.reader([first], delimiter=sep), [])
    if len(header) > MAX_COLUMNS:
        raise DeepADError(f"{src.label}: has {len(header)} columns, more than {MAX_COLUMNS}; keep the "
                          "features that matter (or reduce them, e.g. with PCA) before uploading")
    longest = max((len(h) for h in header), default=0)
    if longest > MAX_CELL_CHARS:
        raise DeepADError(f"{src.label}: a column name has {longest} characters, over the limit of "
                          f"{MAX_CELL_CHARS} characters per cell; shorten it")
    names = [h.strip() for h in header]
    dtypes = {}
    if label_column is not None or pick_label:
        label = _pick_label_column(src, names, label_column)
        dtypes = {header[names.index(label)]: object}
    with reading_errors(src, "CSV"):
        df = pd.read_csv(io.BytesIO(raw), sep=sep, engine="c", skipinitialspace=True, dtype=dtypes or None,
                         na_values=EMPTY_CELLS, keep_default_na=False, encoding="utf-8")
    del raw
    if len(df) == 0:
        raise DeepADError(f"{src.label}: has a header but no data rows")
    df.columns = [str(c).strip() for c in df.columns]
    for j, column in enumerate(df.columns):
        if df.dtypes.iloc[j] != object:
            continue
        lengths = df.iloc[:, j].map(lambda v: len(v) if isinstance(v, str) else 0, na_action="ignore")
        if len(lengths) and lengths.max() > MAX_CELL_CHARS:
            row = int(np.argmax(lengths.to_numpy(dtype=np.float64, na_value=0)))
            raise DeepADError(f"{src.label}: row {row + 1}, column {column[:60]!r} holds a cell of "
                              f"{int(lengths.max())} characters, over the limit of {MAX_CELL_CHARS} "
                              "characters per cell; a number or a label needs far fewer, fix the file")
    return df


def _pick_label_column(src: Source, columns: list[str], label_column: str | None) -> str:
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


def numeric_columns(df, features: list[str]) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """(numeric columns, skipped text columns, values (n, d) float64, bad-cell mask (n, d)).
    A column is numeric when at least half of its non-empty cells are numbers. Columns the CSV
    parser read as numbers are taken as they are; a column of mixed cells is converted cell by
    cell, one column at a time (never the whole table as text)."""
    import pandas as pd

    n = len(df)
    if not features:
        return [], [], np.zeros((n, 0)), np.zeros((n, 0), bool)
    first: dict[str, int] = {}
    for j, c in enumerate(df.columns):
        first.setdefault(c, j)  # a name given twice: its first column
    keep, columns = [], []
    for name in features:
        col = df.iloc[:, first[name]]
        if col.dtype.kind in "iuf":
            values = col.to_numpy(dtype=np.float64, na_value=np.nan)
            empty = np.isnan(values)
            numbers = int((~empty).sum())
        elif col.dtype.kind == "b":
            values, empty, numbers = None, np.zeros(n, bool), 0
        else:
            text = col.astype(object).where(col.notna(), "")
            text = text.map(lambda v: v.strip() if isinstance(v, str) else str(v))
            empty = text.isin(EMPTY_CELLS).to_numpy()
            values = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan, copy=True)
            values[empty] = np.nan
            numbers = int((~np.isnan(values) & ~empty).sum())
        nonempty = int((~empty).sum())
        unnamed = name == "" or name.startswith("Unnamed: ")
        ok = values is not None and not unnamed and nonempty > 0 and numbers >= 0.5 * nonempty
        keep.append(ok)
        if ok:
            columns.append(values)
    x = np.stack(columns, axis=1) if columns else np.zeros((n, 0))
    with np.errstate(over="ignore", invalid="ignore"):
        bad = ~np.isfinite(x) | (np.abs(x) > np.finfo(np.float32).max)
    names = [f for f, k in zip(features, keep) if k]
    return names, [f for f, k in zip(features, keep) if not k], x, bad


def load_csv(src: Source, label_column: str | None, drop_bad_rows: bool, max_classes: int) -> Dataset:
    df = read_table(src, label_column, pick_label=True)
    columns = list(df.columns)
    label = _pick_label_column(src, columns, label_column)
    features = [c for c in columns if c != label]
    numeric, skipped, x, bad = numeric_columns(df, features)
    if not numeric:
        text_cols = ", ".join(repr(c) for c in skipped[:10]) or "none"
        raise DeepADError(f"{src.label}: no numeric feature columns besides the label {label!r} "
                          f"(text columns: {text_cols}); a CSV for deepad needs numbers in its "
                          "feature columns")
    text, label_bad = label_text(df[label].to_numpy(dtype=object))
    x, text = drop_or_refuse(src, x, bad, text, label_bad, [f"column {c!r}" for c in numeric],
                              f"label column {label!r}", "row", 1, drop_bad_rows)
    y, classes = encode_classes(src, text, max_classes, f"label column {label!r}")
    return Dataset(src.display_name, x.astype(np.float32), y, classes, "tabular", numeric)


def npz_headers(src: Source, zf, max_bytes: int) -> dict[str, tuple[tuple[int, ...], np.dtype]]:
    """Each array's shape and type from its header alone, before any is decompressed: a member
    that is not a NumPy array (a pickle, say) is refused, and so is one of Python objects, one
    whose header declares more than it holds, or arrays that would take more memory than
    `max_decoded_bytes(max_bytes)` once decoded."""
    from deepad.data.uploads.images import max_decoded_bytes

    out, total = {}, 0
    for info in zf.infolist():
        if info.is_dir():
            continue
        key = info.filename.removesuffix(".npy")
        with reading_errors(src, "NPZ file"), zf.open(info) as f:
            try:
                version = np.lib.format.read_magic(f)
            except ValueError:
                raise DeepADError(f"{src.label}: member {info.filename!r} is not a NumPy array (it may be "
                                  "a Python pickle, which deepad never opens); save numbers with "
                                  "np.savez('data.npz', x=x, y=y)") from None
            read = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                    else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read(f)
        if dtype.hasobject:
            raise DeepADError(f"{src.label}: array {key!r} holds Python objects, which would need "
                              "unpickling; deepad never unpickles uploads, store numbers (or text "
                              "labels) instead")
        nbytes = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
        if nbytes > info.file_size:
            raise DeepADError(f"{src.label}: array {key!r} declares {mb(nbytes)} but holds {mb(info.file_size)}; "
                              "the file is damaged or cut short")
        total += nbytes
        out[key] = (tuple(shape), dtype)
    limit = max_decoded_bytes(max_bytes)
    if total > limit:
        raise DeepADError(f"{src.label}: its arrays take {mb(total)} once decoded, over the limit of {mb(limit)} "
                          "(max_bytes); use a smaller file or raise the limit")
    return out


def npz_array(src: Source, npz, key: str) -> np.ndarray:
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


def load_npz(src: Source, drop_bad_rows: bool, max_bytes: int, max_classes: int) -> Dataset:
    with src.open() as f:
        zf = open_zip(src, f, "NPZ file")
        with zf:
            check_archive(src, zf, max_bytes, MAX_FILES)
            npz_headers(src, zf, max_bytes)
        f.seek(0)
        with reading_errors(src, "NPZ file"):
            with np.load(f, allow_pickle=False) as npz:
                keys = list(npz.files)
                x_key = npz_feature_key(src, keys)  # 'x', or ADBench's 'X'
                if x_key is None or "y" not in keys:
                    raise DeepADError(f"{src.label}: needs arrays named 'x' (samples) and 'y' (labels); "
                                      f"found {', '.join(repr(k) for k in keys) or 'no arrays'}; save "
                                      "with np.savez('data.npz', x=x, y=y) (ADBench's X and y are read too)")
                x, y = npz_array(src, npz, x_key), npz_array(src, npz, "y")
    return _npz_dataset(src, x, y, drop_bad_rows, max_classes)


def load_mat_file(src: Source, drop_bad_rows: bool, max_bytes: int, max_classes: int) -> Dataset:
    """An ODDS-style MATLAB file (arrays X and y), checked as an NPZ's arrays are."""
    x, y = load_mat(src, max_bytes)
    return _npz_dataset(src, x, y, drop_bad_rows, max_classes)


def _npz_dataset(src: Source, x: np.ndarray, y: np.ndarray, drop_bad_rows: bool, max_classes: int) -> Dataset:
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
        x = as_nchw(src, x)
    bad = np.zeros(x.shape, dtype=bool)
    if x.dtype.kind == "f":
        with np.errstate(over="ignore", invalid="ignore"):
            bad = ~np.isfinite(x) | (np.abs(x) > np.finfo(np.float32).max)
    values = x
    text, label_bad = label_text(y)
    columns = [f"feature {j}" for j in range(values.shape[1])] if kind == "tabular" else ["pixels"]
    flat_bad = bad.reshape(len(bad), -1) if kind == "tabular" else bad.reshape(len(bad), -1).any(1, keepdims=True)
    rows_bad = flat_bad.any(axis=1) | label_bad
    if rows_bad.any():
        if not drop_bad_rows:
            raise BadValuesError(bad_value_message(src, flat_bad, columns, label_bad, "'y'", "sample", 0))
        if rows_bad.all():
            raise DeepADError(f"{src.label}: every sample has a missing or bad value, so dropping "
                              "them leaves nothing; fix the file")
        values, text = values[~rows_bad], text[~rows_bad]
    values = values.astype(np.float32)
    if kind == "image":
        values = image_range(src, values, x.dtype)
    y_idx, classes = encode_classes(src, text, max_classes, "'y'")
    names = [f"x{j}" for j in range(values.shape[1])] if kind == "tabular" else []
    return Dataset(src.display_name, values, y_idx, classes, kind, names)


def as_nchw(src: Source, x: np.ndarray) -> np.ndarray:
    if x.ndim == 3:
        return x[:, None]
    if x.shape[1] in (1, 3):
        return x
    if x.shape[3] in (1, 3):
        return x.transpose(0, 3, 1, 2)
    raise DeepADError(f"{src.label}: 4-D 'x' of shape {x.shape} is not (n, C, H, W) or (n, H, W, C) "
                      "with C = 1 (grayscale) or 3 (RGB) channels")


def image_range(src: Source, values: np.ndarray, dtype: np.dtype) -> np.ndarray:
    lo, hi = float(values.min()), float(values.max())
    if lo >= 0 and hi <= 1 and dtype.kind != "u":
        return values
    if lo >= 0 and hi <= 255:
        return values / np.float32(255.0)
    raise DeepADError(f"{src.label}: image values must lie in [0, 1] (or 0..255 for 8-bit images); "
                      f"found {lo:.4g}..{hi:.4g}; scale 'x' first")
