"""Labels and classes of an upload: label values as text, classes in natural order, the normal
values a user names, and the message for missing or bad values."""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from deepad.data.types import Dataset
from deepad.data.uploads.sources import EMPTY_CELLS, Source
from deepad.errors import BadValuesError, DeepADError


def label_text(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    missing = np.isin(text, EMPTY_CELLS)
    numbers = [_as_number(t) for t in text[~missing]]
    if numbers and all(v is not None for v in numbers):
        return label_text(np.where(missing, np.nan, np.array([_as_number(t) or 0.0 for t in text])))
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


def encode_classes(src: Source, text: np.ndarray, max_classes: int, where: str) -> tuple[np.ndarray, list[str]]:
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
    values = split_values(normal_values)
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


def split_values(values: Sequence[Any] | str | None) -> list[str]:
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


def bad_value_message(src: Source, bad: np.ndarray, columns: list[str], label_bad: np.ndarray,
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


def drop_or_refuse(src: Source, x: np.ndarray, bad: np.ndarray, text: np.ndarray, label_bad: np.ndarray,
                    columns: list[str], label_name: str, unit: str, first: int,
                    drop_bad_rows: bool) -> tuple[np.ndarray, np.ndarray]:
    rows_bad = bad.reshape(len(bad), -1).any(axis=1) | label_bad
    if not rows_bad.any():
        return x, text
    if not drop_bad_rows:
        raise BadValuesError(bad_value_message(src, bad.reshape(len(bad), -1), columns, label_bad,
                                                label_name, unit, first))
    if rows_bad.all():
        raise DeepADError(f"{src.label}: every {unit} has a missing or bad value, so dropping them "
                          "leaves nothing; fix the file")
    return x[~rows_bad], text[~rows_bad]
