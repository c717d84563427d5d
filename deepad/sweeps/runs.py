"""A sweep's trials on disk: every config validated and every distinct split built first, then one
queued run folder per trial, created with its split (`deepad.runs.create`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from deepad.data.parts import Split
from deepad.runs.create import create_run, make_run_split, split_key
from deepad.runs.listing import RunStore
from deepad.runs.read import RunRecord
from deepad.training.config import RunConfig, validate_config


@dataclass
class CheckedTrial:
    """A trial's validated config, with the split built to check it (None: a split equal to an
    earlier trial's, or one of another seed of a set-up already checked)."""

    config: RunConfig
    split: Split | None = None


def validate_all(configs: list[dict]) -> list[CheckedTrial]:
    """Validate every trial's config and check once per distinct data set-up that the data can
    supply it (the checks `train` makes), by building its split. Raises DeepADError, with `train`'s
    message, before anything is written. The splits built are handed on to `create_runs`."""
    cfgs = [validate_config(c) for c in configs]
    checked: set[tuple] = set()
    out = []
    for cfg in cfgs:
        setup_key = (cfg.dataset, cfg.data_dir, cfg.setup.model_dump_json(), cfg.method)  # the seed aside
        split = None
        if setup_key not in checked:
            split = make_run_split(cfg)
            checked.add(setup_key)
        out.append(CheckedTrial(cfg, split))
    return out


def create_runs(trials: list[Union[CheckedTrial, RunConfig]], store: RunStore) -> list[tuple[RunRecord, RunConfig]]:
    """One run folder (state "queued") per trial, each created with its split: every distinct split
    (same data, set-up, seed and method) is built once and handed to each run that shares it, and
    let go once no later trial needs it. When a split cannot be made, the runs created so far are
    deleted and DeepADError is raised."""
    trials = [t if isinstance(t, CheckedTrial) else CheckedTrial(t) for t in trials]
    keys = [split_key(t.config) for t in trials]
    built = {key: t.split for key, t in zip(keys, trials) if t.split is not None}
    last_use = {key: i for i, key in enumerate(keys)}
    out: list[tuple[RunRecord, RunConfig]] = []
    try:
        for i, (trial, key) in enumerate(zip(trials, keys)):
            if key not in built:
                built[key] = make_run_split(trial.config)
            new = create_run(trial.config, store, built[key])
            out.append((new.run, new.config))
            if last_use[key] == i:
                del built[key]
    except BaseException:
        for run, _ in out:  # a sweep is created whole or not at all
            try:
                store.delete(run.run_id)
            except Exception:  # noqa: BLE001  (already gone)
                pass
        raise
    return out
