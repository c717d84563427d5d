""""file:" dataset names: a user's file with its loader options in one name that a run config
accepts, and the cached dataset and catalog entry for such a name."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from deepad.data.types import Dataset, DatasetInfo
from deepad.data.uploads.labels import normal_classes, split_values
from deepad.data.uploads.loader import load_user_data
from deepad.data.uploads.sources import DEFAULT_MAX_BYTES
from deepad.errors import DeepADError


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
            query += [(key, v) for v in split_values(value)]
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
        if key in from_name and split_values(from_name[key]) != split_values(value):
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
    return tuple(sorted((k, tuple(split_values(v)) if k == "normal_values" else
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
