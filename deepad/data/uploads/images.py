"""Images in one sub-folder per class, from a folder or a zip: their layout, sizes and decoding."""

from __future__ import annotations

import io
import re
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Callable

import numpy as np

from deepad.data.types import Dataset
from deepad.data.uploads.labels import encode_classes
from deepad.data.uploads.sources import (IMAGE_SUFFIXES, MAX_DECODED_BYTES, MAX_FILES, MAX_IMAGE_PIXELS,
                                         READ_ERRORS, Source, check_archive, ignored, mb, open_zip,
                                         reading_errors, walk_folder)
from deepad.errors import DeepADError, MixedImageSizesError


@dataclass
class ImageFile:
    parts: tuple[str, ...]  # path inside the folder / archive
    size: int
    read: Callable[[], bytes]


def folder_files(src: Source) -> list[ImageFile]:
    out = []
    for p in walk_folder(src):
        rel = p.relative_to(src.path).parts
        if not ignored(rel):
            out.append(ImageFile(rel, p.stat().st_size, p.read_bytes))
    return out


def zip_files(src: Source, zf: zipfile.ZipFile, max_bytes: int) -> list[ImageFile]:
    out = []
    for info in check_archive(src, zf, max_bytes, MAX_FILES):
        parts = tuple(p for p in info.filename.replace("\\", "/").split("/") if p not in ("", "."))
        if info.is_dir() or not parts or ignored(parts):
            continue
        out.append(ImageFile(parts, info.file_size, lambda info=info: zf.read(info)))
    return out


def _class_layout(src: Source, files: list[ImageFile]) -> list[tuple[str, ImageFile]]:
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


def decode_image(src: Source, f: ImageFile):
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
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) + READ_ERRORS as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise DeepADError(f"{src.label}: {name} could not be read as an image ({detail})") from None
    return img


def image_array(img, gray: bool, size: tuple[int, int] | None) -> np.ndarray:
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


def _sizes_message(src: Source, sizes: dict[tuple[int, int], list[str]]) -> str:
    listed = sorted(sizes.items(), key=lambda kv: -len(kv[1]))
    shown = "; ".join(f"{w}×{h} ({len(files)} file{'s' if len(files) > 1 else ''}, e.g. {files[0]})"
                      for (w, h), files in listed[:8])
    more = f"; and {len(listed) - 8} more sizes" if len(listed) > 8 else ""
    (w0, h0) = listed[0][0]
    return (f"{src.label}: the images have {len(sizes)} different sizes (width×height): {shown}{more}; "
            f"give image_size (CLI --image-size), e.g. {h0} or {h0}x{w0}, to resize them all")


def load_images(src: Source, files: list[ImageFile], image_size: Any, max_bytes: int,
                 max_classes: int) -> Dataset:
    """Two passes: every image's header first (its size and mode, nothing decoded), so a set that
    would not fit in memory is refused before any pixel is decoded; then each image is decoded into
    its place in one preallocated array."""
    size = _parse_image_size(image_size)
    pairs = _class_layout(src, files)
    labels = np.array([c for c, _ in pairs], dtype=object)
    y, classes = encode_classes(src, labels, max_classes, "the class sub-folders")
    headers = [_image_header(src, f) for _, f in pairs]
    sizes: dict[tuple[int, int], list[str]] = {}
    for (_, f), (wh, _) in zip(pairs, headers):
        sizes.setdefault(wh, []).append("/".join(f.parts))
    if size is None and len(sizes) > 1:
        (w0, h0) = max(sizes, key=lambda s: len(sizes[s]))
        raise MixedImageSizesError(_sizes_message(src, sizes), suggested=(h0, w0))
    gray = all(mode in GRAY_MODES for _, mode in headers)
    (w1, h1) = headers[0][0]
    h, w = size or (h1, w1)
    channels = 1 if gray else 3
    decoded = len(pairs) * channels * h * w * 4 + max(a * b for (a, b), _ in headers) * 4 * 4
    limit = max_decoded_bytes(max_bytes)
    if decoded > limit:
        raise DeepADError(f"{src.label}: {len(pairs)} images of {h}×{w} pixels × {channels} channel"
                          f"{'s' if channels > 1 else ''} would take {mb(decoded)} in memory, over the "
                          f"limit of {mb(limit)}; choose a smaller image_size (CLI --image-size) or "
                          "fewer images")
    x = np.empty((len(pairs), channels, h, w), dtype=np.float32)
    for i, (_, f) in enumerate(pairs):
        img = decode_image(src, f)
        x[i] = image_array(img, gray, size)
        img.close()
    return Dataset(src.display_name, x, y, classes, "image")


GRAY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "I;16L", "F")


def max_decoded_bytes(max_bytes: int) -> int:
    """How much memory decoded images may take: ten times the file size limit, at most 1 GiB."""
    return min(10 * max_bytes, MAX_DECODED_BYTES)


def _image_header(src: Source, f: ImageFile) -> tuple[tuple[int, int], str]:
    """((width, height), mode) from the image's header alone (PIL's open decodes no pixels)."""
    from PIL import Image

    name = "/".join(f.parts)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(f.read())) as img:
                wh, mode = img.size, img.mode
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) + READ_ERRORS as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise DeepADError(f"{src.label}: {name} could not be read as an image ({detail})") from None
    if wh[0] * wh[1] > MAX_IMAGE_PIXELS:
        raise DeepADError(f"{src.label}: {name} is {wh[0]}×{wh[1]} pixels, over the limit of "
                          f"{MAX_IMAGE_PIXELS} pixels per image")
    return wh, mode


def load_image_zip(src: Source, image_size: Any, max_bytes: int, max_classes: int) -> Dataset:
    with src.open() as f:
        zf = open_zip(src, f, "zip archive")
        with zf:
            with reading_errors(src, "zip archive of images"):
                return load_images(src, zip_files(src, zf, max_bytes), image_size, max_bytes, max_classes)
