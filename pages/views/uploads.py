"""A user's own data file on the Train page: checking it, then staging it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["UploadCheck", "upload_kind", "check_upload", "stage_upload"]


@dataclass
class UploadCheck:
    """What the Train page needs to know about an uploaded file under the chosen options."""

    kind: str  # "csv" | "npz" | "zip" | "" (refused before its type was known)
    columns: list[str]  # a CSV's columns (to pick the label column)
    label_guess: str | None  # a CSV column named label / y / class / target, if exactly one
    dataset: Any = None  # the loaded Dataset when the file is usable
    dataset_name: str | None = None  # its "file:" name for the run config (after `stage_upload`)
    error: str | None = None  # the loader's message when the file is not usable as it stands
    bad_rows: str | None = None  # the loader's message about NaN / inf / empty cells (drop offered)
    mixed_sizes: str | None = None  # the loader's message listing the image sizes (resize offered)
    size_hint: tuple[int, int] = (32, 32)  # a resize to suggest (the most common size)
    needs_label: bool = False  # a CSV without an obvious label column: the user must pick one


def upload_kind(filename: str) -> str:
    """"csv" | "npz" | "mat" | "zip" by the file's suffix (the loaders' own lists), "" for anything else."""
    from deepad.data.uploads import CSV_SUFFIXES

    name = str(filename).lower()
    for kind, suffixes in (("csv", CSV_SUFFIXES), ("npz", (".npz",)), ("mat", (".mat",)), ("zip", (".zip",))):
        if name.endswith(suffixes):
            return kind
    return ""


def _ui_message(message: str) -> str:
    """The loader's message with its CLI / keyword advice replaced by the page's own controls."""
    message = re.sub(r"set drop_bad_rows=True \(CLI --drop-bad-rows\)", "tick \"Drop these rows\" below",
                     message)
    return re.sub(r"give image_size \(CLI --image-size\), e\.g\. [^;]*?to resize them all",
                  "tick **Resize every image** below to resize them all", message)


def check_upload(filename: str, data: bytes, label_column: str | None = None,
                 drop_bad_rows: bool = False, image_size: tuple[int, int] | None = None) -> UploadCheck:
    """Load an upload held in memory with the page's options; every problem ends up in the
    result's `error` (the loader's own message), never as an exception. Rows with bad values are
    reported in `bad_rows` (and dropped when `drop_bad_rows`); images of several sizes in
    `mixed_sizes` (and resized when `image_size` is given). Writes nothing."""
    from deepad.data import uploads
    from deepad.errors import BadValuesError, DeepADError, MixedImageSizesError

    kind = upload_kind(filename)
    out = UploadCheck(kind, [], None)
    if kind == "csv":
        try:
            out.columns = uploads.csv_columns(data, filename)
        except DeepADError as exc:
            out.error = str(exc)
            return out
        found = [c for c in out.columns if c.lower() in uploads.LABEL_NAMES]
        out.label_guess = found[0] if len(found) == 1 else None
        label_column = label_column or out.label_guess
        if label_column is None:
            out.needs_label = True
            return out
    options = {"label_column": label_column if kind == "csv" else None,
               "image_size": image_size if kind == "zip" else None}
    try:
        out.dataset = uploads.load_user_bytes(data, filename, **options)
    except BadValuesError as exc:  # NaN / inf / empty cells: say where, offer to drop those rows
        out.bad_rows = _ui_message(str(exc))
        if drop_bad_rows:
            try:
                out.dataset = uploads.load_user_bytes(data, filename, drop_bad_rows=True, **options)
            except DeepADError as exc2:
                out.error = str(exc2)
    except MixedImageSizesError as exc:  # offer to resize them all
        out.mixed_sizes = _ui_message(str(exc))
        out.size_hint = exc.suggested
    except DeepADError as exc:
        out.error = str(exc)
    return out


def stage_upload(check: UploadCheck, filename: str, data: bytes, folder, drop_bad_rows: bool = False,
                 image_size: tuple[int, int] | None = None, label_column: str | None = None) -> UploadCheck:
    """Keep a usable upload in `folder` under a name made from its content (the same file is kept
    once) and give it its "file:" dataset name, which a run config accepts; the run copies the
    file into its own folder when it starts, so it can be reopened later."""
    from deepad.data import uploads
    from deepad.runs.uploads import stage_upload_bytes

    if check.dataset is None:
        return check
    options = {"label_column": (label_column or check.label_guess) if check.kind == "csv" else None,
               "drop_bad_rows": True if (drop_bad_rows and check.bad_rows) else None,
               "image_size": (f"{image_size[0]}x{image_size[1]}"
                              if image_size is not None and check.kind == "zip" else None)}
    options = {k: v for k, v in options.items() if v is not None}
    path = stage_upload_bytes(data, filename, folder, **options)
    check.dataset_name = uploads.user_dataset_name(Path(path).resolve(), **options)
    return check
