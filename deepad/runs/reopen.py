"""A run opened again from its folder: the dataset it trained on and its trained detector (the
data loaders and the detector registry turn its files into them)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from deepad.data.datasets import Dataset, load_dataset
from deepad.data.uploads import parse_user_dataset_name, user_dataset_name
from deepad.errors import DeepADError
from deepad.runs.read import RunRecord


def run_dataset_name(run: RunRecord) -> str:
    """The run's dataset name, safe to load. A user's file ("file:PATH") is always the copy kept in
    the run's own `data/` folder, whatever PATH its config.json says: a run file never makes deepad
    read a file outside the run (DeepADError when the run has no such copy)."""
    name = run.config.get("dataset")
    if not isinstance(name, str) or not name:
        raise DeepADError(f"run {run.run_id}: its config names no dataset ({'; '.join(run.damage)})")
    if not name.startswith("file:"):
        return name
    path, options = parse_user_dataset_name(name)
    data_dir = run.files.data_dir
    kept = data_dir / Path(path).name
    try:
        inside = (not data_dir.is_symlink() and data_dir.is_dir() and not kept.is_symlink()
                  and stat.S_ISREG(os.lstat(kept).st_mode) and kept.resolve().parent == data_dir.resolve())
    except OSError:
        inside = False
    if not inside:
        raise DeepADError(f"run {run.run_id}: its data file {Path(path).name!r} is not in the run's own "
                          f"data folder ({data_dir}); deepad reads a run's data only from there")
    return user_dataset_name(kept, **options)


def run_dataset(run: RunRecord) -> Dataset:
    """The run's dataset, for showing its samples again (a user's file: the copy kept with the run,
    see `run_dataset_name`). Raises DeepADError when it cannot be loaded."""
    return load_dataset(run_dataset_name(run), data_dir=run.config.get("data_dir"))


def run_detector(run: RunRecord, device: str = "cpu"):
    """The run's trained detector, loaded from its saved model (tensors and plain data only, never
    unpickled); DeepADError when there is none or the file is not one deepad wrote."""
    from deepad.detectors import registry

    try:
        return run.files.load_model(registry.get(run.config.get("method")), device=device)
    except FileNotFoundError:
        raise DeepADError(f"run {run.run_id} has no saved model (state: {run.state})") from None
