"""A sweep's trials on disk: every config validated first, then one queued run folder per trial."""

from __future__ import annotations

from deepad.runs.listing import RunRecord, RunStore
from deepad.training.config import RunConfig, validate_config


def validate_all(configs: list[dict]) -> list[RunConfig]:
    """Validate every trial's config and check once per distinct data set-up that the data can
    supply it (the checks `train` makes). Raises DeepADError, with `train`'s message, before
    anything is written."""
    import torch

    from deepad.training.runner import build_split, load_data

    cfgs = [validate_config(c) for c in configs]
    checked: set[tuple] = set()
    for cfg in cfgs:
        key = (cfg.dataset, cfg.data_dir, cfg.setup.model_dump_json(), cfg.method)
        if key in checked:
            continue
        with torch.random.fork_rng(devices=[]):  # the FGSM set-up trains a classifier
            build_split(cfg, load_data(cfg))
        checked.add(key)
    return cfgs


def create_runs(cfgs: list[RunConfig], store: RunStore) -> list[tuple[RunRecord, RunConfig]]:
    """One run folder (state "queued") per validated trial config."""
    from deepad.training.runner import _keep_user_data

    out = []
    for cfg in cfgs:
        for attempt in range(5):  # run ids carry a short random part: retry the rare clash
            try:
                run = store.create(cfg.model_dump(), cfg.method)
                break
            except FileExistsError:
                if attempt == 4:
                    raise
        if cfg.dataset.startswith("file:"):
            cfg = _keep_user_data(run, cfg)
        out.append((run, cfg))
    return out
