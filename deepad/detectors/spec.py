"""What a detector declares about itself, without importing PyTorch.

Every folder under `deepad/detectors/` is one detector, and its folder is the only place that knows
it. Its `__init__.py` defines the detector's typed `Config` and a module-level
`SPEC = DetectorSpec(...)`: the words the dashboard shows, the loss components and numbers it
records (with their captions and axes), its training phases, how many epoch records a run will
write, the settings worth exploring, what the experiment set-up must provide, its smoke settings
and where the implementation class lives. The method's name (the CLI's `--method`, the runs') is
the folder's name with "-" for "_". Its presets are the JSON files of its `presets/` folder. When
a setting matters, how the form groups it and whether a lesson varies it are declared on the
config's fields (`json_schema_extra`, read by `deepad.detectors.settings`). The registry finds the
folders and reads their `SPEC`; the class (and with it PyTorch) is imported only when a run trains
or scores.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

from pydantic import BaseModel, ConfigDict

from deepad.configbase import ConfigModel


class DetectorConfig(ConfigModel):
    """Base of every detector's typed config (numbers finite, whole numbers within 64 bits). Field
    metadata drives dashboard widgets and CLI flags: `description` is the help text;
    `json_schema_extra={"widget": "slider"|"log"|...}` is a hint."""

    model_config = ConfigDict(validate_assignment=True)


@dataclass(frozen=True)
class Requirement:
    """A minimum the experiment set-up must meet before the method can train.

    `setup_field` names a count of `SetupConfig` ("known_anomalies", "known_normals"); `minimum`
    is a number, or the name of a field of the detector's config holding it (Rt-BiGAN adapts on
    `n_adapt` known normals); `noun` says what the samples are, `flag` is the CLI option."""

    setup_field: str
    minimum: int | str = 1
    noun: str = ""
    flag: str = ""

    def count(self, params: BaseModel | Mapping[str, Any]) -> int:
        if isinstance(self.minimum, int):
            return self.minimum
        value = getattr(params, self.minimum) if isinstance(params, BaseModel) else params[self.minimum]
        return int(value)

    def problem(self, method: str, setup: Any, params: BaseModel | Mapping[str, Any]) -> str | None:
        """One line saying what is missing, or None when `setup` meets the requirement (a share
        below 1, as known anomalies may be given, counts as meeting a minimum of 1)."""
        need, have = self.count(params), getattr(setup, self.setup_field)
        if have >= need or (need <= 1 and 0 < have < 1):
            return None
        words = self.setup_field.replace("_", " ")
        what = self.noun or words
        amount = f"{need} {what}" if need > 1 else what
        via = f" ({self.minimum}={need})" if isinstance(self.minimum, str) else ""
        flag = f" (CLI: {self.flag} N)" if self.flag else ""
        return f"method {method} needs {amount} in training{via}: set {words} to at least {need}{flag}"


# Per-epoch collapse numbers of the methods that declare `hypersphere=True` (see
# `deepad.diagnostics`): name -> (title, caption, log axis).
HYPERSPHERE_DIAGNOSTICS: dict[str, tuple[str, str, bool]] = {
    "spread_ratio": ("spread ratio of φ", "spread of the training probe's embeddings around their mean, "
                     "relative to the start of the centre phase; heading to 0 means everything lands "
                     "on one point", True),
    "eff_rank": ("effective rank of φ", "how many directions of variation the embeddings keep "
                 "(shown, not judged: an elongated cloud is not a collapsed one)", False),
    "const_dims": ("constant dimensions", "dimensions of φ whose spread fell below a thousandth of the "
                   "starting spread", False),
}
VALIDATION_DIAGNOSTICS: dict[str, tuple[str, str, bool]] = {
    "val_auc": ("validation AUC", "how well scores separate anomalies on held-out data", False),
}
TOTAL_LOSS = {"loss": "total loss"}
# the requirement of the semi-supervised methods that learn from labelled anomalies
LABELLED_ANOMALIES = Requirement("known_anomalies", 1, noun="labelled anomalies", flag="--known-anomalies")


def one_record_per_epoch(cfg: Any) -> dict[str, int]:
    """The planned records of a method that writes one "train" record per epoch of its config's
    `epochs`, or a single one when it has no epochs (a shallow model, fitted once)."""
    return {"train": getattr(cfg, "epochs", 1)}


DEFAULT_PHASES = {"train": "training"}
DEFAULT_LOSS_CAPTION = "The loss components this method trains on, under the names it gives them."


@dataclass(frozen=True, kw_only=True)
class DetectorSpec:
    """A detector's declaration; see the module docstring.

    - `name`: left out, the folder's name with "-" for "_" (deep_svdd -> deep-svdd), so that a
      folder copied under a new name is a new method.

    - `implementation`: "package.module:Class", imported by `load()`.
    - `losses`: loss components of its epoch records, name -> caption ("loss", the total, is common).
    - `diagnostics`: further numbers it records, name -> (title, caption, log axis).
    - `records`: config -> planned epoch records per phase ({"pretrain": 30, "train": 30}), for
      progress (by default one "train" record per epoch, see `one_record_per_epoch`); None when
      the count is not known beforehand.
    - `explorable`: settings worth a sweep on the Explore page, name -> the (low, high) range it
      starts from.
    - `requires`: what the set-up must provide (checked before anything is written).
    - `hypersphere`: the method decides by distance to a centre, so the collapse verdict applies.
    - `preprocess`: data kind ("image", "tabular", "toy", or "*" for any) -> preprocessing it
      wants when the set-up says "auto"; a kind not named keeps the default.
    - `setup_defaults`: the set-up values of the method's paper (known normals, known anomalies,
      pollution, the test set's anomaly share) that choosing the method fills in wherever the
      set-up leaves them unset: the CLI's defaults and the Train form's (see `default_setup`).
    - `phases`: the training phases its epoch records name (`phase`), phase -> words for
      progress lines and panel titles ("autoencoder pretraining"); a phase not named reads as
      itself.
    - `progress`: numbers of its epoch records that `train` prints per epoch besides the total
      loss, the validation AUC and (hypersphere methods) the spread ratio.
    - `headline`: diagnostics drawn beside the loss on the Collapse page (hypersphere methods).
    - `loss_caption`: what the Runs page says under the loss chart.
    - `presets`: presets of its `presets/` folder (file names without .json) that show the
      method at its best (`deepad.presets.declared_presets` gives the names they load under).
    - `smoke`: settings with which every phase runs in seconds on a few hundred samples (the
      contract tests train every detector with them); by default two epochs where the config has
      `epochs`.
    - `order`: position in lists (the dashboard's picker, `python -m deepad methods`).
    """

    name: str = ""
    title: str
    summary: str
    Config: type[DetectorConfig]
    implementation: str
    losses: Mapping[str, str] = field(default_factory=dict)
    diagnostics: Mapping[str, tuple[str, str, bool]] = field(default_factory=dict)
    records: Optional[Callable[[Any], dict[str, int]]] = one_record_per_epoch
    explorable: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    requires: tuple[Requirement, ...] = ()
    hypersphere: bool = False
    preprocess: Mapping[str, str] = field(default_factory=dict)
    setup_defaults: Mapping[str, Any] = field(default_factory=dict)
    phases: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PHASES))
    progress: tuple[str, ...] = ()
    headline: tuple[str, ...] = ()
    loss_caption: str = DEFAULT_LOSS_CAPTION
    presets: tuple[str, ...] = ()
    smoke: Optional[Mapping[str, Any]] = None
    order: int = 100

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", self.package.rsplit(".", 1)[-1].replace("_", "-"))
        if self.smoke is None:
            object.__setattr__(self, "smoke", {"epochs": 2} if "epochs" in self.Config.model_fields else {})

    # -- derived ----------------------------------------------------------------------------------
    @property
    def package(self) -> str:
        """The detector's package (its folder's `__init__`, where `Config` is defined)."""
        return self.Config.__module__

    @property
    def folder(self) -> Path:
        """The detector's folder (README.md, presets/, the implementation)."""
        return Path(sys.modules[self.package].__file__).resolve().parent

    def phase_words(self, phase: str) -> str:
        """A training phase in words ("autoencoder pretraining"); an undeclared one as it is."""
        return self.phases.get(phase, phase)

    @property
    def needs_known_anomalies(self) -> bool:
        return any(r.setup_field == "known_anomalies" for r in self.requires)

    def requirement(self, setup_field: str) -> Requirement | None:
        return next((r for r in self.requires if r.setup_field == setup_field), None)

    def default_setup(self, params: BaseModel | Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Set-up values to fill in where a set-up leaves them unset: `setup_defaults`, with every
        requirement's count raised to what `params` need (Rt-BiGAN's known normals follow its
        `n_adapt`), so that a set-up of defaults alone can train."""
        out = dict(self.setup_defaults)
        try:
            cfg = params if isinstance(params, self.Config) else self.Config(**dict(params or {}))
        except Exception:  # parameters that do not validate: validation reports them later
            cfg = None
        for r in self.requires:
            if cfg is None and not isinstance(r.minimum, int):
                continue
            need, have = r.count(cfg), out.get(r.setup_field, 0)
            if have < need and not (need <= 1 and 0 < have < 1):
                out[r.setup_field] = need
        return out

    def preferred_preprocess(self, kind: str) -> str | None:
        """Preprocessing for data of `kind` when the set-up says "auto"; None: the default."""
        return self.preprocess.get(kind, self.preprocess.get("*"))

    def planned_records(self, params: BaseModel | Mapping[str, Any] | None) -> dict[str, int] | None:
        """Epoch records a run of this config will write, per phase; None when unknown (no
        `records` declared, or parameters that do not validate)."""
        if self.records is None:
            return None
        try:
            cfg = params if isinstance(params, self.Config) else self.Config(**dict(params or {}))
        except Exception:  # a run folder with parameters of another version: no plan
            return None
        return {phase: int(n) for phase, n in self.records(cfg).items()}

    def load(self) -> type:
        """The implementation class (imports PyTorch)."""
        module, _, cls = self.implementation.partition(":")
        return getattr(importlib.import_module(module), cls)
