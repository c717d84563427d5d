"""One config object per run, validated at the edge (CLI, dashboard, presets) and saved with it."""

from __future__ import annotations

import re
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deepad.configbase import ConfigModel
from deepad.data.setups import SetupConfig
from deepad.detectors.registry import DEFAULT_METHOD
from deepad.errors import DeepADError
from deepad.validation import format_validation_error

SWEEP_ID = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_-]{0,63}$")


class SweepTag(BaseModel):
    """What a run records about the sweep it belongs to (saved in its config; `deepad.sweeps`
    makes the sweeps, the run config only carries the tag)."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(..., pattern=SWEEP_ID.pattern, description="the sweep's id")
    axes: list[str] = Field(default_factory=list, description="the settings the sweep varies")
    trial: int = Field(0, ge=0, description="this run's number in the sweep, from 0")
    trials: int = Field(1, ge=1, description="how many trials the sweep has")


def _cuda_available() -> bool:
    import torch  # here, not at the top: making sweeps and reading run configs need no PyTorch

    return torch.cuda.is_available()


class RunConfig(ConfigModel):
    dataset: str = Field("mnist5k", min_length=1, description="dataset name (see `python -m deepad datasets`)")
    data_dir: Optional[str] = Field(None, description="folder with torchvision datasets")
    download: bool = Field(False, description="download a torchvision dataset when missing")
    setup: SetupConfig = Field(default_factory=SetupConfig)
    method: str = Field(DEFAULT_METHOD, description="detector name (see `python -m deepad methods`)")
    params: dict[str, Any] = Field(default_factory=dict, description="the detector's hyperparameters")
    seed: int = Field(0, ge=0, le=2 ** 32 - 1)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    title: str = ""
    sweep: Optional[SweepTag] = Field(None, description="the sweep this run is a trial of (None: a single run)")

    def resolved_device(self) -> str:
        if self.device == "auto":
            return "cuda" if _cuda_available() else "cpu"
        return self.device

    def detector_config(self):
        from deepad.detectors import registry

        return registry.spec(self.method).Config(**self.params)


def validate_config(data: dict | RunConfig) -> RunConfig:
    """Check everything that can be checked without training: the run config, the method's own
    config, the dataset name and its classes. Raises DeepADError with a message for the user."""
    from deepad.data.datasets import dataset_info
    from deepad.detectors import registry

    try:
        cfg = data if isinstance(data, RunConfig) else RunConfig(**data)
    except ValidationError as err:
        raise DeepADError(format_validation_error(err, model=RunConfig)) from None
    info = dataset_info(cfg.dataset)
    spec = registry.spec(cfg.method)
    try:
        params = spec.Config(**cfg.params)
    except ValidationError as err:
        raise DeepADError(f"method {cfg.method}: " + format_validation_error(err, model=spec.Config)) from None
    cfg = cfg.model_copy(update={"params": params.model_dump()})
    if cfg.device == "cuda" and not _cuda_available():
        raise DeepADError("device='cuda' but no CUDA GPU is available here; use device 'cpu' or 'auto'")
    if info.embedded:
        from deepad.data.datasets import load_dataset
        from deepad.data.setups import check_classes

        check_classes(cfg.setup, load_dataset(cfg.dataset))
    for requirement in spec.requires:
        problem = requirement.problem(cfg.method, cfg.setup, params)
        if problem:
            raise DeepADError(problem)
    return cfg
