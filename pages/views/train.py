"""The Train page: what a method needs from the set-up, image-alteration set-ups."""

from __future__ import annotations

from typing import Any

import numpy as np

from deepad.data import generators
from pages.views.common import image_tile

__all__ = ["REQUIREMENT_WORDS", "unmet_requirements", "method_setup", "command_caveats", "ALTERATION_LABELS",
           "ALTERATION_PARAMS", "alteration_param_range", "alteration_setup",
           "setup_problem", "check_setup", "alteration_preview"]


REQUIREMENT_WORDS = {"known_anomalies": ("Known anomalies in training", "labelled anomalies"),
                     "known_normals": ("Labelled normals", "labelled normals")}


def unmet_requirements(method: str, setup: dict, params: dict) -> list[tuple[str, int]]:
    """The set-up counts detector `method` declares it needs and `setup` (a SetupConfig's fields)
    does not provide, as (field, minimum) pairs (see `DetectorSpec.requires`)."""
    from types import SimpleNamespace

    from deepad.detectors import registry

    spec = registry.spec(method)
    setup = SimpleNamespace(**{f: setup.get(f) or 0 for f in REQUIREMENT_WORDS})
    cfg = spec.Config(**params)
    return [(r.setup_field, r.count(cfg)) for r in spec.requires if r.problem(method, setup, cfg)]


def method_setup(method: str, params: dict | None, class_labels, normal: list[int]) -> dict:
    """The set-up values choosing `method` fills into the Train form: its paper's
    (`DetectorSpec.default_setup`: known anomalies, known normals, pollution, test set's anomaly
    share; each field at its plain default where the method's paper says nothing). A share of
    known anomalies becomes the count the split will draw for classes `normal` of a dataset
    with labels `class_labels`, since the form asks for a count."""
    from deepad.data.setups import SetupConfig
    from deepad.detectors import registry

    base = SetupConfig()
    values = {"known_anomalies": base.known_anomalies, "known_normals": base.known_normals,
              "pollution": base.pollution, "test_anomaly_share": base.test_anomaly_share}
    values.update(registry.spec(method).default_setup(params))
    k = values["known_anomalies"]
    if 0 < k < 1:
        labels = np.asarray(class_labels)
        n_norm = 0
        for c in normal:  # the training share of each class, as the split draws it
            n = int(np.sum(labels == c))
            n_norm += n - int(round(n * base.test_fraction)) - int(round(n * base.val_fraction))
        values["known_anomalies"] = max(1, int(round(k * n_norm)))
    return values


def command_caveats(config) -> list[str]:
    """Set-up fields the command line cannot set (they keep their defaults there)."""
    from deepad.data.setups import SetupConfig
    from deepad.training.config import RunConfig

    cfg = config if isinstance(config, RunConfig) else RunConfig(**config)
    base = SetupConfig()
    return [f"{f}={getattr(cfg.setup, f)} (the command line uses {getattr(base, f)})"
            for f in ("val_fraction", "test_fraction") if getattr(cfg.setup, f) != getattr(base, f)]


ALTERATION_LABELS = {"none": "other classes (the usual set-up)",
                     "block-permutation": "block permutation (every class normal)",
                     "strokes": "strokes (every class normal)",
                     "fgsm": "FGSM perturbations of the normal classes"}


ALTERATION_PARAMS = {  # kind -> (label, widget kind, default, lowest value)
    "block-permutation": ("N: blocks per side", "int", generators.DEFAULT_PARAMS["block-permutation"], 2),
    "strokes": ("M: stroke thickness in pixels", "int", generators.DEFAULT_PARAMS["strokes"], 1),
    "fgsm": ("ε: step size in pixel units", "float", generators.DEFAULT_PARAMS["fgsm"], 0.01),
}


def alteration_param_range(kind: str, image_shape: tuple[int, ...]) -> tuple[float, float]:
    """(lowest, highest) value a widget may offer for an alteration's parameter on these images:
    block counts and stroke widths up to the shorter image side, ε in (0, 1]."""
    if kind == "fgsm":
        return 0.01, 1.0
    return ALTERATION_PARAMS[kind][3], int(min(image_shape[-2:]))


def alteration_setup(base: dict, alteration: str, param: float | None, n_classes: int,
                     train: tuple[str, float | None] | None = None,
                     val: tuple[str, float | None] | None = None) -> dict:
    """A set-up dict for an image-alteration run from the form's values: anomalies are altered
    copies (no anomaly or known classes), every class is normal for block permutation and strokes,
    and the known (training) / validation anomalies may use other alterations (Chong et al., Table VI).
    `train` / `val` are (alteration, parameter), or None for the test alteration."""
    if alteration == "none":
        return dict(base)
    setup = {**base, "anomaly": None, "known_classes": None, "alteration": alteration,
             "alteration_param": param}
    if alteration in ("block-permutation", "strokes"):
        setup["normal"] = list(range(n_classes))
    if train is not None and base.get("known_anomalies"):
        setup["train_alteration"], setup["train_alteration_param"] = train
    if val is not None:
        setup["val_alteration"], setup["val_alteration_param"] = val
    return setup


def setup_problem(setup: dict, dataset, seed: Any = 0) -> str | None:
    """What is wrong with the form's set-up and seed (empty, out of range, or more than the
    dataset can supply), in the command line's words; None when they are fine."""
    for name, value in (("known_anomalies", setup.get("known_anomalies")),
                        ("known_normals", setup.get("known_normals")), ("seed", seed)):
        if value is None:
            return f"{name} is empty: give a whole number, 0 or more"
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        return f"seed={seed!r}: allowed values are in [0, inf)"
    return check_setup(setup, dataset)


def check_setup(setup: dict, dataset) -> str | None:
    """What is wrong with a set-up for this dataset (one message), or None; nothing is trained."""
    from pydantic import ValidationError

    from deepad.data.setups import SetupConfig, check_classes
    from deepad.errors import DeepADError
    from deepad.validation import format_validation_error

    try:
        check_classes(SetupConfig(**setup), dataset)
    except ValidationError as err:
        return format_validation_error(err, model=SetupConfig)
    except DeepADError as exc:
        return str(exc)
    return None


def alteration_preview(dataset, setup: dict, n: int = 8, seed: int = 0,
                       part: str = "test") -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Tiles of `n` natural images and of their altered copies under the set-up's alteration for
    `part` (see `deepad.data.setups.preview`)."""
    from deepad.data.setups import SetupConfig, preview

    originals, altered = preview(dataset, SetupConfig(**setup), n=n, seed=seed, part=part)
    return [image_tile(x) for x in originals], [image_tile(x) for x in altered]
