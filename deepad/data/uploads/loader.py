"""The public loaders: a user's file, folder or in-memory upload as a `Dataset`."""

from __future__ import annotations

import os
from typing import Any, Sequence

from deepad.data.types import Dataset
from deepad.data.uploads.images import folder_files, load_image_zip, load_images
from deepad.data.uploads.labels import normal_classes
from deepad.data.uploads.sources import (DEFAULT_MAX_BYTES, MAX_CLASSES, Source, check_size, file_kind,
                                         source_from_bytes, source_from_path)
from deepad.data.uploads.tables import load_csv, load_mat_file, load_npz
from deepad.errors import DeepADError


def _check_options(src: Source, kind: str, label_column: Any, image_size: Any) -> None:
    if label_column is not None and kind != "csv":
        raise DeepADError(f"label_column={label_column!r} applies to CSV files only; {src.label} is "
                          f"{'a folder of images' if kind == 'folder' else 'an ' + kind.upper() + ' file'}"
                          + ("" if kind not in ("npz", "mat") else " (its labels are the array 'y')"))
    if image_size is not None and kind not in ("zip", "folder"):
        raise DeepADError(f"image_size={image_size!r} applies to image folders and zips only; "
                          f"{src.label} is a{'n' if kind == 'npz' else ''} {kind.upper()} file")


def _load(src: Source, label_column: str | None, normal_values: Sequence[Any] | str | None,
          image_size: Any, drop_bad_rows: bool, max_bytes: int, max_classes: int) -> Dataset:
    if not isinstance(max_bytes, int) or max_bytes < 1:
        raise DeepADError(f"max_bytes={max_bytes!r}: give the size limit in bytes, e.g. {DEFAULT_MAX_BYTES}")
    kind = file_kind(src)
    _check_options(src, kind, label_column, image_size)
    check_size(src, max_bytes)
    if kind == "csv":
        ds = load_csv(src, label_column, drop_bad_rows, max_classes)
    elif kind == "npz":
        ds = load_npz(src, drop_bad_rows, max_bytes, max_classes)
    elif kind == "mat":
        ds = load_mat_file(src, drop_bad_rows, max_bytes, max_classes)
    elif kind == "zip":
        ds = load_image_zip(src, image_size, max_bytes, max_classes)
    else:
        ds = load_images(src, folder_files(src), image_size, max_bytes, max_classes)
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
    return _load(source_from_path(path), label_column, normal_values, image_size, drop_bad_rows,
                 max_bytes, max_classes)


def load_user_bytes(data: bytes, filename: str, label_column: str | None = None,
                    normal_values: Sequence[Any] | str | None = None, image_size: Any = None,
                    drop_bad_rows: bool = False, max_bytes: int = DEFAULT_MAX_BYTES,
                    max_classes: int = MAX_CLASSES) -> Dataset:
    """`load_user_data` for an upload held in memory (the dashboard's file uploader); the file
    type comes from `filename`'s extension."""
    return _load(source_from_bytes(data, filename), label_column, normal_values, image_size,
                 drop_bad_rows, max_bytes, max_classes)
