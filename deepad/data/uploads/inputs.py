"""Samples to score with a trained run (labels optional), in the file's own order."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath

import numpy as np

from deepad.data.uploads.benchmarks import load_mat, npz_feature_key
from deepad.data.uploads.images import (GRAY_MODES, ImageFile, _image_header, decode_image, folder_files,
                                        image_array, max_decoded_bytes, zip_files)
from deepad.data.uploads.labels import bad_value_message, natural_order
from deepad.data.uploads.sources import (DEFAULT_MAX_BYTES, IMAGE_SUFFIXES, MAX_FILES, Source, check_archive,
                                         check_size, file_kind, mb, open_zip, reading_errors,
                                         source_from_bytes, source_from_path)
from deepad.data.uploads.tables import as_nchw, image_range, npz_array, npz_headers, numeric_columns, read_table
from deepad.errors import DeepADError


@dataclass
class Inputs:
    """Samples to score with a trained run, in the file's own order."""

    x: np.ndarray  # (n, d) table rows or (n, C, H, W) images in [0, 1], float32
    names: list[str]  # one per sample: "row 3", "sample 0", "digits/7.png"
    kind: str  # "tabular" | "image"
    columns: list[str]  # a CSV's numeric columns (tabular inputs)


def read_inputs(path: str | os.PathLike | None = None, *, data: bytes | None = None, filename: str = "",
                max_bytes: int = DEFAULT_MAX_BYTES, image_shape: tuple[int, ...] | None = None) -> Inputs:
    """Samples to score, labels optional: a CSV (every numeric column; a label column may be
    there), an NPZ with an array `x` (a `y` is ignored), one image, or a zip / folder of images in
    any layout (sorted by their paths). Images are checked from their headers before any is
    decoded: one size, `image_shape` (C, H, W) when given, and the memory they would take.
    Raises DeepADError naming the problem."""
    src = source_from_path(path) if data is None else source_from_bytes(data, filename)
    check_size(src, max_bytes)
    if src.suffix in IMAGE_SUFFIXES:
        f = ImageFile((src.display_name,), src.size(), lambda: src.open().read())
        return _input_images(src, [f], max_bytes, image_shape)
    kind = file_kind(src)
    if kind == "csv":
        df = read_table(src)
        numeric, _, x, bad = numeric_columns(df, list(df.columns))
        if not numeric:
            raise DeepADError(f"{src.label}: no numeric columns to score")
        if bad.any():
            message = bad_value_message(src, bad, [f"column {c!r}" for c in numeric],
                                         np.zeros(len(x), bool), "", "row", 1)
            raise DeepADError(message.split("; fix the file")[0] + "; every value to score must be a number")
        return Inputs(x.astype(np.float32), [f"row {i + 1}" for i in range(len(x))], "tabular", numeric)
    if kind == "mat":  # an ODDS file: its X (its y, if any, is not needed to score)
        x, _ = load_mat(src, max_bytes, need_y=False)
        if x.ndim != 2 or x.size == 0 or x.dtype.kind not in "biuf":
            raise DeepADError(f"{src.label}: 'X' must be numbers of shape (n, d); got {x.shape}")
        return Inputs(x.astype(np.float32), [f"sample {i}" for i in range(len(x))], "tabular",
                      [f"x{j}" for j in range(x.shape[1])])
    if kind == "npz":
        with src.open() as fh:
            with open_zip(src, fh, "NPZ file") as zf:
                check_archive(src, zf, max_bytes, MAX_FILES)
                npz_headers(src, zf, max_bytes)
            fh.seek(0)
            with reading_errors(src, "NPZ file"), np.load(fh, allow_pickle=False) as npz:
                key = npz_feature_key(src, list(npz.files))  # 'x', or ADBench's 'X'
                if key is None:
                    raise DeepADError(f"{src.label}: needs an array named 'x' (the samples; 'X' as in ADBench); "
                                      f"found {', '.join(repr(k) for k in npz.files) or 'no arrays'}")
                x = npz_array(src, npz, key)
        if x.ndim < 2 or x.ndim > 4 or x.size == 0:
            raise DeepADError(f"{src.label}: 'x' must have shape (n, d) or (n, H, W), (n, C, H, W), "
                              f"(n, H, W, C); got {x.shape}")
        names = [f"sample {i}" for i in range(len(x))]
        if x.ndim == 2:
            return Inputs(x.astype(np.float32), names, "tabular", [f"x{j}" for j in range(x.shape[1])])
        x = as_nchw(src, x)
        return Inputs(image_range(src, x.astype(np.float32), x.dtype), names, "image", [])
    if kind == "zip":
        with src.open() as fh:
            with open_zip(src, fh, "zip archive") as zf, reading_errors(src, "zip archive of images"):
                return _input_images(src, zip_files(src, zf, max_bytes), max_bytes, image_shape)
    return _input_images(src, folder_files(src), max_bytes, image_shape)


def _input_images(src: Source, files: list[ImageFile], max_bytes: int,
                  image_shape: tuple[int, ...] | None) -> Inputs:
    """Every image's header first (size and mode, nothing decoded), as `load_images` does for
    training: mixed sizes, a size other than the run's and a set that would not fit in memory
    are refused before a pixel is decoded; then each image is decoded into its place."""
    files = [f for f in files if PurePosixPath(f.parts[-1]).suffix.lower() in IMAGE_SUFFIXES]
    if not files:
        raise DeepADError(f"{src.label}: holds no images ({' '.join(IMAGE_SUFFIXES)})")
    order = {n: i for i, n in enumerate(natural_order("/".join(f.parts) for f in files))}
    files.sort(key=lambda f: order["/".join(f.parts)])
    headers = [_image_header(src, f) for f in files]
    sizes = {wh for wh, _ in headers}
    if len(sizes) > 1:
        shown = ", ".join(f"{w}×{h}" for w, h in sorted(sizes))
        raise DeepADError(f"{src.label}: the images have {len(sizes)} different sizes ({shown}); "
                          "give images of one size")
    (w, h), = sizes
    if image_shape is not None and len(image_shape) == 3 and (h, w) != tuple(image_shape[1:]):
        raise DeepADError(f"{src.label}: the images are {w}×{h} pixels; the run expects images of "
                          f"{image_shape[2]}×{image_shape[1]} pixels (width×height); resize them first")
    gray = all(mode in GRAY_MODES for _, mode in headers)
    channels = 1 if gray else 3
    decoded = len(files) * channels * h * w * 4 + w * h * 4 * 4
    limit = max_decoded_bytes(max_bytes)
    if decoded > limit:
        raise DeepADError(f"{src.label}: {len(files)} images of {w}×{h} pixels × {channels} channel"
                          f"{'s' if channels > 1 else ''} would take {mb(decoded)} in memory, over the limit "
                          f"of {mb(limit)} (max_bytes); give fewer or smaller images")
    x = np.empty((len(files), channels, h, w), dtype=np.float32)
    for i, f in enumerate(files):
        img = decode_image(src, f)
        x[i] = image_array(img, gray, None)
        img.close()
    return Inputs(x, ["/".join(f.parts) for f in files], "image", [])
