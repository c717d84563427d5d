"""One config object per run, validated at the edge (CLI, dashboard, presets) and saved with it."""

from __future__ import annotations

from typing import Any, Literal, Optional

import annotated_types
import torch
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deepad.data.setups import SetupConfig
from deepad.errors import DeepADError
from deepad.sweeps import SweepTag


class RunConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str = Field("mnist5k", description="dataset name (see `python -m deepad datasets`)")
    data_dir: Optional[str] = Field(None, description="folder with torchvision datasets")
    download: bool = Field(False, description="download a torchvision dataset when missing")
    setup: SetupConfig = Field(default_factory=SetupConfig)
    method: str = Field("deep-svdd", description="detector name (see `python -m deepad methods`)")
    params: dict[str, Any] = Field(default_factory=dict, description="the detector's hyperparameters")
    seed: int = Field(0, ge=0)
    device: Literal["auto", "cpu", "cuda"] = "auto"
    title: str = ""
    sweep: Optional[SweepTag] = Field(None, description="the sweep this run is a trial of (None: a single run)")

    def resolved_device(self) -> str:
        if self.device == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return self.device

    def detector_config(self):
        from deepad.detectors import registry

        return registry.get(self.method).Config(**self.params)


def allowed_range(model: type[BaseModel] | None, loc: tuple) -> str | None:
    """The interval a numeric field of `model` (nested fields by their path `loc`) accepts, as
    "(0, 1]" from its gt / ge / lt / le constraints; None when the field has no bound."""
    field = None
    for part in loc:
        if not (isinstance(model, type) and issubclass(model, BaseModel)) or part not in model.model_fields:
            return None
        field = model.model_fields[part]
        model = field.annotation
    if field is None:
        return None
    lo = hi = None
    for m in field.metadata:
        if isinstance(m, annotated_types.Gt):
            lo = f"({m.gt:g}"
        elif isinstance(m, annotated_types.Ge):
            lo = f"[{m.ge:g}"
        elif isinstance(m, annotated_types.Lt):
            hi = f"{m.lt:g})"
        elif isinstance(m, annotated_types.Le):
            hi = f"{m.le:g}]"
    if lo is None and hi is None:
        return None
    return f"{lo or '(-inf'}, {hi or 'inf)'}"


_BOUND_ERRORS = {"greater_than", "greater_than_equal", "less_than", "less_than_equal"}


def format_validation_error(err: ValidationError, prefix: str = "",
                            model: type[BaseModel] | None = None) -> str:
    """One line per problem: `name=value: what is allowed` (a bound broken on a field of `model`
    names the whole interval, e.g. "nu=1.5: allowed values are in (0, 1]")."""
    lines = []
    for e in err.errors():
        loc = ".".join(str(p) for p in e["loc"] if p != "__root__")
        name = (prefix + loc) if loc else prefix.rstrip(".")
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            lines.append(f"{name}: not a parameter of this method")
        elif e["type"] == "value_error" or not loc:
            lines.append(msg)
        else:
            value = e.get('input')
            interval = allowed_range(model, e["loc"]) if e["type"] in _BOUND_ERRORS else None
            what = f"allowed values are in {interval}" if interval else msg.lower()
            lines.append(f"{name}={value if isinstance(value, str) else repr(value)}: {what}")
    return "; ".join(lines)


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
    det_cls = registry.get(cfg.method)
    try:
        params = det_cls.Config(**cfg.params)
    except ValidationError as err:
        raise DeepADError(f"method {cfg.method}: " + format_validation_error(err, model=det_cls.Config)) from None
    cfg = cfg.model_copy(update={"params": params.model_dump()})
    if cfg.device == "cuda" and not torch.cuda.is_available():
        raise DeepADError("device='cuda' but no CUDA GPU is available here; use device 'cpu' or 'auto'")
    if info.embedded:
        from deepad.data.datasets import load_dataset
        from deepad.data.setups import check_classes

        check_classes(cfg.setup, load_dataset(cfg.dataset))
    if det_cls.needs_known_anomalies and cfg.setup.known_anomalies == 0:
        raise DeepADError(f"method {cfg.method} needs labelled anomalies in training: set known "
                          "anomalies to at least 1 (CLI: --known-anomalies N)")
    return cfg
