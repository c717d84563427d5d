"""A run brought back from its folder: the dataset it trained on and its trained detector.

The run store only reads and writes a run's files; turning them into a dataset or a detector needs
the data loaders and the detector registry, which sit above it.
"""

from __future__ import annotations

from pathlib import Path

from deepad.data.datasets import Dataset, load_dataset
from deepad.data.uploads import parse_user_dataset_name, user_dataset_name
from deepad.errors import DeepADError
from deepad.store import RunRecord


def run_dataset(run: RunRecord) -> Dataset:
    """The run's dataset, for showing its samples again. A user's file is read from the copy kept
    in the run's `data/` folder when the path in the config no longer leads to it (the runs folder
    was moved). Raises DeepADError when it cannot be loaded."""
    name = run.config.get("dataset")
    if not isinstance(name, str) or not name:
        raise DeepADError(f"run {run.run_id}: its config names no dataset ({'; '.join(run.damage)})")
    if name.startswith("file:"):
        path, options = parse_user_dataset_name(name)
        kept = run.files.data_dir / Path(path).name
        if not Path(path).exists() and kept.is_file() and not kept.is_symlink():
            name = user_dataset_name(kept, **options)
    return load_dataset(name, data_dir=run.config.get("data_dir"))


def run_detector(run: RunRecord, device: str = "cpu"):
    """The run's trained detector, loaded from its saved model (tensors and plain data only, never
    unpickled); DeepADError when there is none or the file is not one deepad wrote."""
    from deepad.detectors import registry

    try:
        return run.files.load_model(registry.get(run.config.get("method")), device=device)
    except FileNotFoundError:
        raise DeepADError(f"run {run.run_id} has no saved model (state: {run.state})") from None
