"""Creating a run: its folder in state "queued", with its config and its split.

`create_run` takes a validated config (`deepad.training.config.validate_config`), builds the run's
split (which also checks that the data can supply the set-up: enough samples for the known
anomalies, pollution and known normals asked for), and only then creates the folder: config.json,
status.json, split.json and split.npz (`deepad.runs.split`), and a copy of the user's own data
file when the run trains on one. The split is built once: the process that trains the run reads it
from the folder (or is handed it in memory), it is never built again."""

from __future__ import annotations

import secrets
import shutil
import time
from dataclasses import dataclass
from typing import Any

from deepad.data.datasets import Dataset, load_dataset
from deepad.data.parts import Split
from deepad.data.splits import make_split
from deepad.detectors import registry
from deepad.errors import DeepADError, describe_os_error
from deepad.runs.layout import check_run_id
from deepad.runs.listing import RunStore
from deepad.runs.read import RunRecord
from deepad.runs.records import current_owner
from deepad.runs.split import split_parts, split_record
from deepad.runs.write import RunWriter


@dataclass
class NewRun:
    """A run just created (state "queued"): its record, its config (pointing at the run's own copy
    of a user's data file) and its split, to be handed to `deepad.training.runner.execute`."""

    run: RunRecord
    config: Any  # the validated RunConfig
    split: Split


def load_data(cfg) -> Dataset:
    """Load the run's dataset; raises DeepADError (nothing written) when it is not available."""
    return load_dataset(cfg.dataset, data_dir=cfg.data_dir, download=cfg.download)


def build_split(cfg, dataset: Dataset) -> Split:
    """The run's split of `dataset`: its set-up, seed and the method's preferred preprocessing."""
    return make_split(dataset, cfg.setup, seed=cfg.seed,
                      preprocess=registry.spec(cfg.method).preferred_preprocess(dataset.kind))


def split_key(cfg) -> tuple:
    """What a run's split depends on: runs with equal keys have equal splits."""
    return cfg.dataset, cfg.data_dir, cfg.setup.model_dump_json(), cfg.seed, cfg.method


def make_run_split(cfg) -> Split:
    """Load the data and build the split (DeepADError, nothing written, when it cannot be made)."""
    import torch  # (here: creating a folder alone stays light)

    with torch.random.fork_rng(devices=[]):  # the FGSM set-up trains a classifier
        return build_split(cfg, load_data(cfg))


def create_run(cfg, store: RunStore, split: Split | None = None) -> NewRun:
    """Create the run of the validated config `cfg` in `store`, with `split` (built here when not
    given). Raises DeepADError, nothing written, when the split cannot be made or the folder
    cannot be created."""
    split = split if split is not None else make_run_split(cfg)
    run = new_run_folder(store, cfg.model_dump(), cfg.method)
    writer = RunWriter(run)
    try:
        if cfg.dataset.startswith("file:"):
            cfg = _keep_user_data(writer, cfg)
        writer.split(split_record(split), split_parts(split))
    except BaseException as exc:
        shutil.rmtree(run.path, ignore_errors=True)  # a half-made run is no run
        if isinstance(exc, OSError):
            raise DeepADError(f"cannot create a run in {store.root}: {describe_os_error(exc)}") from None
        raise
    return NewRun(run, cfg, split)


def _keep_user_data(writer: RunWriter, cfg):
    """Copy a user's file into the run's folder and point the config at the copy, so the run can be
    reopened after the original has moved or changed."""
    from deepad.data.uploads import parse_user_dataset_name, user_dataset_name
    from deepad.runs.uploads import copy_into_run

    run = writer.run
    path, options = parse_user_dataset_name(cfg.dataset)
    rel = copy_into_run(path, run.path, **options)
    cfg = cfg.model_copy(update={"dataset": user_dataset_name((run.path / rel).resolve(), **options)})
    writer.config(cfg.model_dump())
    return cfg


def new_run_folder(store: RunStore, config: dict, method: str) -> RunRecord:
    """A new run folder in `store` holding `config` and a "queued" status, under a fresh run id."""
    root = store.root
    try:
        root.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise store.not_a_folder() from None
    except OSError as exc:
        raise DeepADError(f"runs folder {root} cannot be created: {describe_os_error(exc)}") from None
    if not root.is_dir():
        raise store.not_a_folder()
    status = {"state": "queued", "created": time.time(), "epoch": 0, "owner": current_owner()}
    for attempt in range(5):  # run ids carry a short random part: a clash is rare, try again
        run_id = check_run_id(f"{time.strftime('%Y%m%d-%H%M%S')}-{method}-{secrets.token_hex(3)}")
        path = root / run_id
        try:
            path.mkdir()
            break
        except FileExistsError:
            if attempt == 4:
                raise DeepADError(f"cannot create a run in {root}: five new run ids were taken") from None
        except OSError as exc:
            raise DeepADError(f"cannot create a run in {root}: {describe_os_error(exc)}") from None
    run = RunRecord(run_id, path, {}, {})
    writer = RunWriter(run)
    try:
        writer.config(config)
        writer.replace_status(status)
    except OSError as exc:
        shutil.rmtree(path, ignore_errors=True)  # a half-made run is no run
        raise DeepADError(f"cannot create a run in {root}: {describe_os_error(exc)}") from None
    return run
