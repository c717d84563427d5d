"""Pure helpers behind the dashboard's pages: every number a page shows is computed here.

The pages in `pages/` only read runs, call these functions and draw the results (with the figure
builders in `deepad.figures`). Nothing here imports Streamlit, so all of it can be tested and
reused from scripts.
"""

from __future__ import annotations

import io
import json
import math
import re
import shlex
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from deepad import metrics
from deepad.data import generators
from deepad.store import LIVE_STATES, RunRecord

NORMAL, ANOMALY = "normal", "anomaly"


# --- the server -------------------------------------------------------------------------------
def warm_up_server() -> None:
    """In background threads: compile UMAP (tens of seconds; `embedding.Projector.warm_up`, once
    per process) and load the default dataset (seconds), so that no page waits on them later."""
    import threading

    from deepad.data.datasets import load_dataset
    from deepad.embedding import projector

    projector().warm_up()
    threading.Thread(target=load_dataset, args=("mnist5k",), daemon=True, name="deepad-load-default").start()


# --- runs ------------------------------------------------------------------------------------
def run_title(run: RunRecord) -> str:
    """A short human name: the title when given, else method · dataset · normal classes."""
    cfg = run.config
    if cfg.get("title"):
        return cfg["title"]
    normal = ",".join(str(c) for c in (cfg.get("setup") or {}).get("normal", []))
    return f"{cfg.get('method')} · {cfg.get('dataset')} · normal {normal}"


def run_label(run: RunRecord) -> str:
    """One line for pickers: title, when it was created and the end of its id (unique). It never
    changes while the run trains, so a picker showing it keeps its selection."""
    m = re.match(r"^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})", run.run_id)
    when = f"{m[1]}-{m[2]}-{m[3]} {m[4]}:{m[5]}" if m else ""
    return f"{run_title(run)} · {when} [{run.run_id[-6:]}]"


def planned_records(config: dict) -> dict[str, int] | None:
    """Epoch records a run will write, per phase, as its detector declares them; None when the
    method or its parameters are unknown."""
    from deepad.detectors import registry

    specs = registry.specs()
    method = config.get("method")
    return specs[method].planned_records(config.get("params") or {}) if method in specs else None


PHASE_WORDS = {"pretrain": "pretraining (autoencoder)", "train": "training", "target": "target autoencoder",
               "features": "gradient features", "meta": "meta-training", "adapt": "adaptation"}


@dataclass
class Progress:
    fraction: float  # 0..1
    text: str  # "pretraining epoch 3 / 10" ...


def progress(run: RunRecord, n_records: int) -> Progress:
    plan = planned_records(run.config)
    total = sum(plan.values()) if plan else None
    last = run.status.get("last") or {}
    phase = last.get("phase", "train")
    epoch = last.get("epoch", 0)
    phase_word = PHASE_WORDS.get(phase, phase)
    if run.state == "queued":
        return Progress(0.0, "waiting for its turn")
    if run.state == "finished":
        return Progress(1.0, f"finished after {n_records} epoch records")
    if not n_records:
        return Progress(0.0, "loading data and building the network")
    if total:
        phase_total = plan.get(phase)
        of = f" / {phase_total}" if phase_total else ""
        return Progress(min(1.0, n_records / total), f"{phase_word}: epoch {epoch}{of}")
    return Progress(0.5, f"{phase_word}: epoch {epoch}")


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


def status_text(run: RunRecord, queue_position: int | None = None) -> str:
    """What the run is doing, in one sentence."""
    s, st = run.status, run.state
    if st == "queued":
        where = f" (position {queue_position} in the queue)" if queue_position else ""
        return f"Queued{where}: runs train one at a time so they do not compete for the device."
    if st == "running":
        return f"Training on {s.get('device', 'the device')}, epoch {s.get('epoch', 0)}."
    if st == "finished":
        return f"Finished in {s.get('seconds', 0):.1f} s."
    if st == "failed":
        epoch = s.get("failed_epoch") or s.get("epoch")
        at = f" at epoch {epoch}" if epoch else ""
        hint = f" Hint: {s['hint']}" if s.get("hint") else ""
        return f"Failed{at}: {str(s.get('error') or 'unknown error').rstrip('.')}.{hint}"
    if st == "cancelled":
        return f"Cancelled at epoch {s.get('epoch', 0)}; the curves up to then are kept."
    if st == "interrupted":
        return ("Interrupted: the process that trained it stopped (server restart or crash) "
                f"at epoch {s.get('epoch', 0)}; its curves up to then are kept.")
    return st


def is_live(run: RunRecord) -> bool:
    return run.state in LIVE_STATES


def runs_frame(runs: list[RunRecord]) -> pd.DataFrame:
    """One row per run: what it is, how it went."""
    rows = []
    for r in runs:
        s, cfg = r.summary, r.config
        params = cfg.get("params") or {}
        rows.append({
            "run": r.run_id, "state": r.state,
            "title": run_title(r), "method": cfg.get("method"), "dataset": cfg.get("dataset"),
            "normal": ",".join(map(str, (cfg.get("setup") or {}).get("normal", []))),
            "epoch": r.status.get("epoch", 0), "AUC": _num(s.get("auc")), "AP": _num(s.get("ap")),
            "F1": _num(s.get("f1")),
            "collapse": s.get("verdict") or "",
            "seconds": round(r.status.get("seconds", 0.0) or 0.0, 1),
            "params": ", ".join(f"{k}={_short(v)}" for k, v in params.items()),
        })
    return pd.DataFrame(rows, columns=["run", "state", "title", "method", "dataset", "normal", "epoch",
                                       "AUC", "AP", "F1", "collapse", "seconds", "params"])


def _num(v: Any) -> float:
    """A number for a table column; NaN (shown empty) when there is none."""
    return float(v) if isinstance(v, (int, float)) else float("nan")


def _short(v: Any) -> str:
    return f"{v:.4g}" if isinstance(v, float) else str(v)


# --- widgets generated from a detector's config ------------------------------------------------
@dataclass(frozen=True)
class FieldSpec:
    """How to draw one config field as a widget whose values are always valid."""

    name: str
    kind: str  # "slider" | "log" | "int" | "float" | "select" | "bool" | "text" | "json"
    label: str
    help: str
    default: Any
    lo: float | None = None  # inclusive bounds of the widget
    hi: float | None = None
    step: float | None = None
    options: tuple = ()


def _bounds(info) -> tuple[float | None, float | None, bool, bool]:
    lo = hi = None
    lo_open = hi_open = False
    for m in info.metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, lo_open = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
        if getattr(m, "lt", None) is not None:
            hi, hi_open = m.lt, True
    return lo, hi, lo_open, hi_open


def field_label(name: str, description: str) -> str:
    """A widget label: "nu" described as "ν: share of ..." -> "ν (nu)"; a short cryptic name
    gets the start of its description ("lr" -> "lr (learning rate)"); else the name in words."""
    description = description or ""
    words = name.replace("_", " ")
    m = re.match(r"^(\S{1,3}):\s", description)
    if m and m.group(1) != name:
        return f"{m.group(1)} ({words})"
    head = re.split(r"[:;(]", description)[0].strip()
    if len(name) <= 3 and head and len(head) <= 30:
        return f"{words} ({head})"
    return words


def _nice_step(value: float) -> float:
    if not value or not math.isfinite(value):
        return 0.01
    mag = 10 ** math.floor(math.log10(abs(value)))
    return mag / 10 if abs(value) / mag < 2 else mag


def log_options(lo: float, hi: float, default: float | None = None) -> list[float]:
    """1-2-5 steps from lo to hi (inclusive, from 1e-6 at least), plus the default; for learning
    rates and the like."""
    lo = max(lo, 1e-6)
    out = []
    for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        for m in (1, 2, 5):
            v = float(f"{m}e{e}")
            if lo <= v <= hi:
                out.append(v)
    if default is not None and default not in out:
        out.append(float(default))
    return sorted(out)


def field_specs(config_cls) -> list[FieldSpec]:
    """One widget description per field of a pydantic config, from its type, bounds, description
    and `json_schema_extra` hints ({"widget": "slider" | "log", "step": ...})."""
    specs = []
    for name, info in config_cls.model_fields.items():  # (in the config's order)
        ann, default = info.annotation, info.default
        desc = info.description or ""
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        hint = extra.get("widget")
        lo, hi, lo_open, hi_open = _bounds(info)
        label = field_label(name, desc)
        origin = typing.get_origin(ann)
        if ann is bool:
            specs.append(FieldSpec(name, "bool", label, desc, bool(default)))
        elif origin is typing.Literal:
            specs.append(FieldSpec(name, "select", label, desc, default, options=typing.get_args(ann)))
        elif ann is int:
            step = int(extra.get("step", 1))
            wlo = None if lo is None else int(math.floor(lo)) + (1 if lo_open else 0)
            whi = None if hi is None else int(math.ceil(hi)) - (1 if hi_open else 0)
            kind = "slider" if hint == "slider" and wlo is not None and whi is not None else "int"
            specs.append(FieldSpec(name, kind, label, desc, int(default), wlo, whi, step))
        elif ann is float:
            bounded = lo is not None and hi is not None
            small = bounded and lo >= 0 and default and default < (hi - lo) / 100
            if hint == "log" or (hint is None and small):
                opts = log_options(lo if lo is not None else 1e-6, hi if hi is not None else 10.0, default)
                specs.append(FieldSpec(name, "log", label, desc, float(default), opts[0], opts[-1],
                                       options=tuple(opts)))
            elif bounded and (hint == "slider" or (lo >= 0 and hi <= 1)):
                step = float(extra.get("step", 0.01))
                wlo = float(lo + step if lo_open else lo)
                whi = float(hi - step if hi_open else hi)
                specs.append(FieldSpec(name, "slider", label, desc, float(default), wlo, whi, step))
            else:
                step = float(extra.get("step", _nice_step(default)))
                wlo = None if lo is None else float(lo + min(step, 1e-9) if lo_open else lo)
                whi = None if hi is None else float(hi - min(step, 1e-9) if hi_open else hi)
                specs.append(FieldSpec(name, "float", label, desc, float(default), wlo, whi, step))
        elif ann is str:
            specs.append(FieldSpec(name, "text", label, desc, default))
        else:  # lists, optionals, anything else: JSON text checked by the config itself
            specs.append(FieldSpec(name, "json", label, desc + " (JSON)", json.dumps(default)))
    return specs


def params_from_widgets(config_cls, values: dict[str, Any]) -> tuple[dict | None, str | None]:
    """Widget values -> validated params dict, or (None, message) naming what is wrong."""
    from pydantic import ValidationError

    from deepad.training.config import format_validation_error

    params = {}
    for spec in field_specs(config_cls):
        if spec.name not in values:
            continue
        v = values[spec.name]
        if spec.kind == "json":
            try:
                v = json.loads(v)
            except (TypeError, json.JSONDecodeError):
                return None, f"{spec.name}: {v!r} is not valid JSON"
        params[spec.name] = v
    try:
        return config_cls(**params).model_dump(), None
    except ValidationError as err:
        return None, format_validation_error(err)


# --- run configs and their command line --------------------------------------------------------
def train_command(config) -> str:
    """The `python -m deepad train ...` command line that trains the same run."""
    from deepad.detectors import registry
    from deepad.training.config import RunConfig

    cfg = config if isinstance(config, RunConfig) else RunConfig(**config)
    s = cfg.setup
    args = ["python", "-m", "deepad", "train", "--dataset", cfg.dataset]
    if cfg.data_dir:
        args += ["--data-dir", cfg.data_dir]
    if cfg.download:
        args.append("--download")
    args += ["--normal", ",".join(map(str, s.normal))]
    if s.anomaly:
        args += ["--anomaly", ",".join(map(str, s.anomaly))]
    if s.known_anomalies:
        k = s.known_anomalies
        args += ["--known-anomalies", str(int(k)) if k >= 1 else repr(float(k))]
    if s.known_classes:
        args += ["--known-classes", ",".join(map(str, s.known_classes))]
    if s.known_normals:
        args += ["--known-normals", str(s.known_normals)]
    if s.pollution:
        args += ["--pollution", repr(float(s.pollution))]
    if s.preprocess != "auto":
        args += ["--preprocess", s.preprocess]
    for name in ("alteration", "alteration_param", "train_alteration", "train_alteration_param",
                 "val_alteration", "val_alteration_param"):
        value = getattr(s, name)
        if value is not None and value != "none":
            args += ["--" + name.replace("_", "-"), _short_number(value)]
    args += ["--method", cfg.method]
    defaults = registry.get(cfg.method).Config().model_dump()
    for name, value in cfg.params.items():
        if name in defaults and value == defaults[name]:
            continue
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            args.append(flag if value else "--no-" + name.replace("_", "-"))
        elif isinstance(value, (int, float, str)):
            args += [flag, repr(value) if isinstance(value, float) else str(value)]
        else:
            args += [flag, json.dumps(value)]
    if cfg.seed:
        args += ["--seed", str(cfg.seed)]
    if cfg.device != "auto":
        args += ["--device", cfg.device]
    if cfg.title:
        args += ["--title", cfg.title]
    return " ".join(shlex.quote(a) for a in args)


def _short_number(value: Any) -> str:
    """A whole float as an integer ("2.0" -> "2"), other values as they are."""
    if isinstance(value, float) and value == int(value):
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


def command_caveats(config) -> list[str]:
    """Set-up fields the command line cannot set (they keep their defaults there)."""
    from deepad.data.setups import SetupConfig
    from deepad.training.config import RunConfig

    cfg = config if isinstance(config, RunConfig) else RunConfig(**config)
    base = SetupConfig()
    return [f"{f}={getattr(cfg.setup, f)} (the command line uses {getattr(base, f)})"
            for f in ("val_fraction", "test_fraction") if getattr(cfg.setup, f) != getattr(base, f)]


def config_json(run: RunRecord) -> str:
    return json.dumps(run.config, indent=2)


# --- scores, ROC, threshold --------------------------------------------------------------------
def class_names(run: RunRecord) -> list[str]:
    return list(run.split_info().get("classes") or [])


def default_threshold(run: RunRecord, results: dict) -> float:
    """The method's own threshold when it has one (e.g. R for soft-boundary Deep SVDD, the 95th
    percentile of training scores otherwise), else that percentile computed here."""
    thr = run.summary.get("threshold")
    if thr is not None and np.isfinite(thr):
        return float(thr)
    ref = results.get("train_scores")
    if ref is None or not len(ref):
        ref = results["test_scores"]
    return float(np.percentile(ref, 95))


def threshold_options(scores: np.ndarray, default: float, n: int = 201) -> list[float]:
    """Candidate thresholds evenly spread over the score distribution (quantiles), plus the
    default: heavy-tailed scores still give a slider that moves smoothly."""
    qs = np.quantile(np.asarray(scores, dtype=np.float64), np.linspace(0, 1, n))
    below = float(np.min(scores)) - 1e-9 * (abs(float(np.min(scores))) + 1)
    vals = np.unique(np.r_[below, qs, default])
    return [float(v) for v in vals]


def flagged_share(scores: np.ndarray, threshold: float) -> float:
    return float(np.mean(np.asarray(scores) > threshold)) if len(scores) else 0.0


@dataclass
class Curves:
    label: str
    fpr: np.ndarray
    tpr: np.ndarray
    precision: np.ndarray
    recall: np.ndarray
    auc: float | None
    ap: float | None
    base_rate: float


def curves(label: str, results: dict) -> Curves | None:
    """ROC and PR curves of a run's test scores; None when the test part has a single class."""
    y, s = results["test_target"], results["test_scores"]
    if len(np.unique(y)) < 2:
        return None
    roc, pr = metrics.roc_curve(y, s), metrics.pr_curve(y, s)
    return Curves(label, roc["fpr"], roc["tpr"], pr["precision"], pr["recall"],
                  metrics.auc(y, s), metrics.average_precision(y, s), float(np.mean(y)))


def at_threshold(results: dict, threshold: float) -> dict:
    return metrics.at_threshold(results["test_target"], results["test_scores"], threshold)


def scores_frame(run: RunRecord, results: dict) -> pd.DataFrame:
    """One row per test sample: its row in the dataset, class, ground truth and score."""
    names = class_names(run)
    y = results["test_y"]
    df = pd.DataFrame({
        "dataset_index": results["test_index"], "class": y,
        "class_name": [names[i] if 0 <= i < len(names) else str(i) for i in y],
        "truth": np.where(results["test_target"] == 1, ANOMALY, NORMAL),
        "score": results["test_scores"],
    })
    if "center" in results and "test_emb" in results:
        df["distance_to_centre"] = distances(results)
    return df


def scores_csv(run: RunRecord, results: dict) -> str:
    buf = io.StringIO()
    scores_frame(run, results).to_csv(buf, index=False)
    return buf.getvalue()


# --- latent space ------------------------------------------------------------------------------
def distances(results: dict) -> np.ndarray | None:
    """‖φ(x) − c‖ for the test samples, when the method has a centre."""
    if "center" not in results:
        return None
    emb = results["test_emb"].reshape(len(results["test_emb"]), -1).astype(np.float64)
    return np.sqrt(((emb - results["center"].astype(np.float64)) ** 2).sum(axis=1))


def latent_frame(run: RunRecord, results: dict, xy: np.ndarray, rows: np.ndarray | None = None) -> pd.DataFrame:
    """Points of a 2-D view with what they can be coloured by and shown with on hover."""
    rows = np.arange(len(results["test_scores"])) if rows is None else rows
    names = class_names(run)
    y = results["test_y"][rows]
    df = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "row": rows,
                       "dataset_index": results["test_index"][rows],
                       "truth": np.where(results["test_target"][rows] == 1, ANOMALY, NORMAL),
                       "class": [names[i] if 0 <= i < len(names) else str(i) for i in y],
                       "score": results["test_scores"][rows]})
    d = distances(results)
    if d is not None:
        df["distance"] = d[rows]
    return df


def centre_in_pca(results: dict) -> tuple[np.ndarray, np.ndarray | None]:
    """PCA view of the test embeddings and where the centre c lands in it: None when there is no
    centre, or when it lands far outside the cloud (it would shrink the cloud to a dot)."""
    from deepad.embedding import pca_basis, pca_project

    emb = results["test_emb"]
    basis = pca_basis(emb)
    xy = pca_project(emb, basis)
    if "center" not in results or not len(xy):
        return xy, None
    c = pca_project(results["center"][None, :], basis)[0]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    margin = np.maximum(hi - lo, 1e-12) * 0.5
    inside = bool(np.all(c >= lo - margin) and np.all(c <= hi + margin))
    return xy, (c if inside else None)


@dataclass
class SnapshotView:
    steps: np.ndarray  # epoch record number of each snapshot
    epochs: np.ndarray  # training epoch of each snapshot
    xy: np.ndarray  # (n_snapshots, n_probe, 2), one fixed PCA basis for all epochs
    spread: np.ndarray  # relative spread per snapshot (collapse when it heads to 0)
    truth: np.ndarray | None  # probe samples' ground truth (1 anomaly) when it can be recovered
    centre: np.ndarray | None  # the centre in the same view
    lim: tuple[float, float, float, float]  # x0, x1, y0, y1 covering every epoch


def snapshot_view(snapshots: dict, centre: np.ndarray | None = None, truth: np.ndarray | None = None,
                  history: list[dict] | None = None) -> SnapshotView | None:
    """All per-epoch probe embeddings in one PCA basis (fitted on all epochs together), so that
    scrubbing through epochs shows the cloud shrinking, spreading or collapsing to a point."""
    from deepad.diagnostics import collapse_report
    from deepad.embedding import pca_basis, pca_project

    emb = snapshots.get("emb")
    if emb is None or emb.ndim != 3 or len(emb) == 0:
        return None
    n, p, d = emb.shape
    basis = pca_basis(emb.reshape(n * p, d))
    xy = pca_project(emb.reshape(n * p, d), basis).reshape(n, p, 2)
    c = pca_project(np.asarray(centre).reshape(1, -1), basis)[0] if centre is not None else None
    steps = np.asarray(snapshots.get("step", np.arange(1, n + 1)))
    recorded = {r.get("step"): r for r in history or []}  # the numbers measured during training
    spread = np.array([recorded.get(int(s), {}).get("rel_spread") or collapse_report(e, centre)["rel_spread"]
                       for s, e in zip(steps, emb)])
    lo, hi = xy.reshape(-1, 2).min(axis=0), xy.reshape(-1, 2).max(axis=0)
    if c is not None and np.all(c >= lo - 0.5 * (hi - lo)) and np.all(c <= hi + 0.5 * (hi - lo)):
        lo, hi = np.minimum(lo, c), np.maximum(hi, c)
    else:
        c = None  # far outside the cloud: showing it would shrink the cloud to a dot
    pad = np.maximum((hi - lo) * 0.05, 1e-9)
    if truth is not None and len(truth) != p:
        truth = None
    epochs = np.array([recorded.get(int(s), {}).get("epoch") or int(s) for s in steps])
    return SnapshotView(steps, epochs, xy, spread, truth, c,
                        (lo[0] - pad[0], hi[0] + pad[0], lo[1] - pad[1], hi[1] + pad[1]))


def probe_truth(run: RunRecord) -> np.ndarray | None:
    """Ground truth of the probe samples whose embeddings were snapshot every epoch: the split is
    a pure function of the run's config, so it is rebuilt here; None when that is not possible."""
    from deepad.detectors.torch_utils import probe_indices
    from deepad.errors import DeepADError
    from deepad.training.config import RunConfig
    from deepad.training.runner import build_split, load_data

    try:
        cfg = RunConfig(**run.config)
        split = build_split(cfg, load_data(cfg))
    except (DeepADError, ValueError, TypeError):
        return None
    return split.val.target[probe_indices(len(split.val), cfg.seed)]


def has_input_plane(run: RunRecord) -> bool:
    """2-D inputs (the toy sets) whose decision boundary can be drawn in the input plane."""
    info = run.split_info()
    return info.get("input_shape") == [2] and (run.path / "model.pt").exists()


@dataclass
class DecisionGrid:
    xs: np.ndarray
    ys: np.ndarray
    z: np.ndarray  # scores on the grid (rows: ys, columns: xs)
    threshold: float
    points: np.ndarray  # test samples in input coordinates
    truth: np.ndarray  # 1 anomaly


def score_inputs(run: RunRecord, raw_x: np.ndarray, detector=None) -> np.ndarray:
    """Anomaly scores of raw inputs (as in the dataset) by the run's trained detector: they go
    through the run's own preprocessing first, exactly as its training and test data did."""
    from deepad.data.preprocess import apply_preprocess

    det = detector or run.load_detector()
    return det.score(apply_preprocess(np.asarray(raw_x, dtype=np.float32), run.split_info()["preprocess"]))


def decision_grid(run: RunRecord, results: dict, threshold: float | None = None,
                  resolution: int = 120) -> DecisionGrid:
    """Score a grid over the input plane with the run's trained detector; the grid goes through
    the same preprocessing as the run's data, so the contour sits where the model decides."""
    ds = run.load_dataset()
    raw = ds.x.reshape(len(ds.x), -1)
    lo, hi = raw.min(axis=0), raw.max(axis=0)
    pad = (hi - lo) * 0.08
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.c_[gx.ravel(), gy.ravel()].astype(np.float32)
    z = score_inputs(run, grid).reshape(gx.shape)
    thr = default_threshold(run, results) if threshold is None else threshold
    return DecisionGrid(xs, ys, z, float(thr), raw[results["test_index"]], results["test_target"])


# --- samples -------------------------------------------------------------------------------------
def extremes(results: dict, n: int = 16) -> dict[str, np.ndarray]:
    """Rows of the test part: the n lowest scores (most normal) and n highest (most anomalous)."""
    order = np.argsort(results["test_scores"], kind="stable")
    return {"most normal": order[:n], "most anomalous": order[::-1][:n]}


def errors_at(results: dict, threshold: float, n: int = 16) -> dict[str, np.ndarray]:
    """False positives (normal but flagged; most confident first) and false negatives (anomalous
    but passed; lowest scores first) at a threshold."""
    s, y = results["test_scores"], results["test_target"]
    fp = np.flatnonzero((y == 0) & (s > threshold))
    fn = np.flatnonzero((y == 1) & (s <= threshold))
    return {"false positives": fp[np.argsort(-s[fp], kind="stable")][:n],
            "false negatives": fn[np.argsort(s[fn], kind="stable")][:n],
            "n_fp": len(fp), "n_fn": len(fn)}


def image_tile(x: np.ndarray, min_size: int = 56, border: int = 3) -> np.ndarray:
    """One image (C, H, W) in [0, 1] -> uint8 RGB (H, W, 3), enlarged by whole pixels so that
    8×8 digits stay sharp, with a white border that separates neighbours in a grid."""
    img = np.clip(np.asarray(x, dtype=np.float32), 0, 1)
    img = np.repeat(img[:1], 3, axis=0) if img.shape[0] == 1 else img[:3]
    img = np.transpose(img, (1, 2, 0))
    f = max(1, math.ceil(min_size / img.shape[0]))
    if f > 1:
        img = np.repeat(np.repeat(img, f, axis=0), f, axis=1)
    if border:
        img = np.pad(img, ((border, border), (border, border), (0, 0)), constant_values=1.0)
    return (img * 255).round().astype(np.uint8)


def sample_captions(run: RunRecord, results: dict, rows: np.ndarray) -> list[str]:
    names = class_names(run)
    out = []
    for r in rows:
        c = int(results["test_y"][r])
        name = names[c] if 0 <= c < len(names) else str(c)
        tag = "anomaly" if results["test_target"][r] == 1 else "normal"
        out.append(f"{name} · {tag} · {results['test_scores'][r]:.3g}")
    return out


def sample_table(run: RunRecord, results: dict, rows: np.ndarray, x: np.ndarray,
                 feature_names: list[str]) -> pd.DataFrame:
    """Tabular samples: score, truth, class, then the raw feature values."""
    names = class_names(run)
    idx = results["test_index"][rows]
    feats = np.asarray(x[idx]).reshape(len(idx), -1)
    cols = feature_names if len(feature_names) == feats.shape[1] else [f"x{i}" for i in range(feats.shape[1])]
    df = pd.DataFrame(feats, columns=cols)
    y = results["test_y"][rows]
    df.insert(0, "class", [names[i] if 0 <= i < len(names) else str(i) for i in y])
    df.insert(0, "truth", np.where(results["test_target"][rows] == 1, ANOMALY, NORMAL))
    df.insert(0, "score", results["test_scores"][rows])
    df.insert(0, "dataset_index", idx)
    return df


# --- per-epoch history -----------------------------------------------------------------------
def loss_names(method: str | None = None) -> dict[str, str]:
    """Captions of the loss components: the method's own (as its detector declares them) after the
    total; every detector's when `method` is None or unknown."""
    from deepad.detectors import registry
    from deepad.detectors.spec import TOTAL_LOSS

    specs = registry.specs()
    chosen = [specs[method]] if method in specs else list(specs.values())
    out = dict(TOTAL_LOSS)
    for spec in chosen:
        for name, caption in spec.losses.items():
            out.setdefault(name, caption)
    return out


def diagnostics(method: str | None = None) -> dict[str, tuple[str, str, bool]]:
    """Per-epoch numbers besides the losses, name -> (title, caption, log axis): the collapse
    numbers every deep detector records, the method's own (every detector's when `method` is None
    or unknown), then the validation AUC."""
    from deepad.detectors import registry
    from deepad.detectors.spec import COMMON_DIAGNOSTICS, VALIDATION_DIAGNOSTICS

    specs = registry.specs()
    chosen = [specs[method]] if method in specs else list(specs.values())
    out = dict(COMMON_DIAGNOSTICS)
    for spec in chosen:
        for name, entry in spec.diagnostics.items():
            out.setdefault(name, entry)
    return {**out, **VALIDATION_DIAGNOSTICS}


def __getattr__(name: str):
    """`LOSS_NAMES` and `DIAGNOSTICS`: the captions of every detector, read from their declarations
    when first asked for (not at import)."""
    if name == "LOSS_NAMES":
        return loss_names()
    if name == "DIAGNOSTICS":
        return diagnostics()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


RANGES = {"const_share": (-0.02, 1.02), "val_auc": (0.0, 1.02)}  # fixed axes for bounded numbers


def history_frame(history: list[dict]) -> pd.DataFrame:
    """Per-epoch records as a table with a global `step` and `phase` (pretrain / train)."""
    if not history:
        return pd.DataFrame(columns=["step", "phase", "epoch"])
    df = pd.DataFrame(history)
    if "step" not in df:
        df["step"] = np.arange(1, len(df) + 1)
    if "phase" not in df:
        df["phase"] = "train"
    return df


def last_value(history: list[dict], key: str) -> float | None:
    """The most recent number recorded under `key` (None when no epoch recorded one)."""
    for rec in reversed(history):
        if isinstance(rec.get(key), (int, float)) and not isinstance(rec.get(key), bool):
            return float(rec[key])
    return None


def _informative(df: pd.DataFrame, c: str) -> bool:
    """A numeric column with at least one value that is not 0."""
    return (c in df and pd.api.types.is_numeric_dtype(df[c]) and df[c].notna().any()
            and bool((df[c].fillna(0) != 0).any()))


def loss_columns(df: pd.DataFrame) -> list[str]:
    """Loss components present in the records (a component that stays 0, e.g. the regularizer
    when there is none, is left out): the known ones first, then any other loss_*."""
    known = [c for c in loss_names() if _informative(df, c)]
    other = [c for c in df.columns if c.startswith("loss") and c not in known and _informative(df, c)]
    return known + other


def diagnostic_columns(df: pd.DataFrame) -> list[str]:
    keep_zeros = ("rel_spread", "eff_rank", "const_share", "val_auc")  # 0 is news for these
    return [c for c in diagnostics()
            if c in df and pd.api.types.is_numeric_dtype(df[c]) and df[c].notna().any()
            and (c in keep_zeros or _informative(df, c))]  # e.g. R stays 0 for one-class


def latest_collapse(run: RunRecord, history: list[dict], dim: int | None = None) -> dict:
    """The newest collapse numbers: the final report for a finished run, else the last epoch's
    (judged by the same rule when the representation's dimension is known)."""
    from deepad.diagnostics import verdict

    s = run.summary
    if s.get("verdict"):
        return {k: s.get(k) for k in ("rel_spread", "eff_rank", "const_share", "verdict")}
    for rec in reversed(history):
        if "rel_spread" in rec:
            out = {"rel_spread": rec["rel_spread"], "eff_rank": rec.get("eff_rank"),
                   "const_share": rec.get("const_share")}
            if dim and out["eff_rank"] is not None and out["const_share"] is not None:
                out["verdict"] = verdict(out["rel_spread"], out["const_share"], out["eff_rank"], dim)
            else:
                out["verdict"] = "collapsed" if rec.get("collapsed") else None
            return out
    return {}


VERDICT_RULE = (
    "**How the verdict is reached** (φ has p dimensions): **collapsed** when the relative spread is "
    "below 0.001 (every input lands within a thousandth of the representation's size of one "
    "point), or 95 % of the dimensions are constant, or the spread is below 0.01 *and* fewer than "
    "p/2 directions still vary; **at risk** when the spread is below 0.01, half the dimensions are "
    "constant, or fewer than p/4 directions vary; otherwise **healthy**. Shrinking alone is what "
    "Deep SVDD is meant to do; a healthy model keeps many directions of variation while it shrinks.")


def verdict_reasons(latest: dict, dim: int | None) -> list[str]:
    """Plain sentences saying which numbers drive the verdict."""
    from deepad.diagnostics import COLLAPSE_SPREAD, RISK_SPREAD

    out = []
    spread, rank, const = latest.get("rel_spread"), latest.get("eff_rank"), latest.get("const_share")
    if spread is not None:
        if spread < COLLAPSE_SPREAD:
            out.append(f"relative spread {spread:.2g} < {COLLAPSE_SPREAD:g}: everything lands on almost one point")
        elif spread < RISK_SPREAD:
            out.append(f"relative spread {spread:.2g} < {RISK_SPREAD:g}: the embeddings are squeezed together")
        else:
            out.append(f"relative spread {spread:.2g}: the embeddings are still spread out")
    if rank is not None and dim:
        word = "few" if rank < dim / 4 else ("only some" if rank < dim / 2 else "many")
        out.append(f"effective rank {rank:.1f} of {dim}: {word} directions still vary")
    if const is not None:
        out.append(f"{100 * const:.0f} % of the dimensions are constant")
    return out


def representation_dim(run: RunRecord, results: dict | None = None) -> int | None:
    if results is not None and "test_emb" in results:
        return int(results["test_emb"].reshape(len(results["test_emb"]), -1).shape[1])
    rep = (run.config.get("params") or {}).get("rep_dim")
    return rep if isinstance(rep, int) else None


# --- exploration grids -------------------------------------------------------------------------
_GRID_TITLE = re.compile(r"^explore (?P<gid>[0-9a-f]{6}): (?P<axes>.*)$")


def explorable_fields(method: str) -> list[str]:
    """The settings detector `method` declares worth exploring (see `DetectorSpec.explorable`)."""
    from deepad.detectors import registry

    return list(registry.spec(method).explorable)


def suggested_range(method: str, name: str) -> tuple[float, float] | None:
    """The (low, high) range a sweep over setting `name` of `method` starts from, as the detector
    declares it; None when it declares none for that setting."""
    from deepad.detectors import registry

    return registry.spec(method).explorable.get(name)


def explore_grids(runs: list[RunRecord]) -> dict[str, dict]:
    """Sweeps found among the runs on disk, newest first: id -> {"axes": [names], "runs": [...],
    "trials": planned count}. Grids launched before sweeps existed are found by their title."""
    from deepad.sweeps import group_runs

    grids = group_runs(runs)
    for r in runs:
        m = _GRID_TITLE.match(r.config.get("title") or "")
        if not m or r.config.get("sweep"):
            continue
        axes = [a.split("=")[0].strip() for a in m.group("axes").split(",") if "=" in a]
        g = grids.setdefault(m.group("gid"), {"axes": axes, "runs": [], "created": r.run_id, "trials": 0})
        g["runs"].append(r)
        g["trials"] = len(g["runs"])
        g["created"] = min(g["created"], r.run_id)
    return dict(sorted(grids.items(), key=lambda kv: kv[1]["created"], reverse=True))


def val_auc(run: RunRecord) -> float | None:
    """The validation AUC of a run's trained model: its last record that has one."""
    last = run.status.get("last") or {}
    if isinstance(last.get("val_auc"), (int, float)):
        return float(last["val_auc"])
    for rec in reversed(run.history()):
        if isinstance(rec.get("val_auc"), (int, float)):
            return float(rec["val_auc"])
    return None


GRID_METRICS = {"val AUC": "validation AUC (the validation split: choose settings by it)",
                "test AUC": "test AUC (the held-out test split: report it, do not choose settings by it)"}


def grid_frame(runs: list[RunRecord], axes: list[str]) -> pd.DataFrame:
    """One row per trial: its axis values, state, validation and test AUC, collapse verdict, run."""
    from deepad.sweeps import axis_values

    rows = []
    for r in runs:
        s = r.summary
        rows.append({**{a: axis_values(r.config, a) for a in axes}, "state": r.state,
                     "val AUC": _num(val_auc(r)), "test AUC": _num(s.get("auc")),
                     "collapse": s.get("verdict"), "run": r.run_id})
    df = pd.DataFrame(rows, columns=[*axes, "state", "val AUC", "test AUC", "collapse", "run"])
    return df.sort_values(axes).reset_index(drop=True) if len(df) else df


# --- image-alteration set-ups ----------------------------------------------------------------------
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
    and the known (training) / validation anomalies may use other alterations (paper 000, Table VI).
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


def check_setup(setup: dict, dataset) -> str | None:
    """What is wrong with a set-up for this dataset (one message), or None; nothing is trained."""
    from pydantic import ValidationError

    from deepad.data.setups import SetupConfig, check_classes
    from deepad.errors import DeepADError
    from deepad.training.config import format_validation_error

    try:
        check_classes(SetupConfig(**setup), dataset)
    except ValidationError as err:
        return format_validation_error(err)
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


def sample_inputs(results: dict, rows: np.ndarray, dataset_x: np.ndarray) -> np.ndarray:
    """The test samples at `rows` as they were scored, before preprocessing: the saved altered
    copies (`test_raw`) for image-alteration runs, else the dataset's rows."""
    rows = np.asarray(rows, dtype=int)
    if "test_raw" in results:
        return np.asarray(results["test_raw"][rows], dtype=np.float32)
    return np.asarray(dataset_x[results["test_index"][rows]])


def sample_tiles(results: dict, rows: np.ndarray, dataset_x: np.ndarray) -> list[np.ndarray]:
    """Image tiles of the test samples at `rows` (altered copies drawn as altered)."""
    return [image_tile(x) for x in sample_inputs(results, rows, dataset_x)]


# --- a user's own file -----------------------------------------------------------------------------
@dataclass
class UploadCheck:
    """What the Train page needs to know about an uploaded file under the chosen options."""

    kind: str  # "csv" | "npz" | "zip" | "" (refused before its type was known)
    columns: list[str]  # a CSV's columns (to pick the label column)
    label_guess: str | None  # a CSV column named label / y / class / target, if exactly one
    dataset: Any = None  # the loaded Dataset when the file is usable
    dataset_name: str | None = None  # its "file:" name for the run config (after `stage_upload`)
    error: str | None = None  # the loader's message when the file is not usable as it stands
    bad_rows: str | None = None  # the loader's message about NaN / inf / empty cells (drop offered)
    mixed_sizes: str | None = None  # the loader's message listing the image sizes (resize offered)
    size_hint: tuple[int, int] = (32, 32)  # a resize to suggest (the most common size)
    needs_label: bool = False  # a CSV without an obvious label column: the user must pick one


def upload_kind(filename: str) -> str:
    """"csv" | "npz" | "zip" by the file's suffix (the loaders' own lists), "" for anything else."""
    from deepad.data.uploads import CSV_SUFFIXES

    name = str(filename).lower()
    for kind, suffixes in (("csv", CSV_SUFFIXES), ("npz", (".npz",)), ("zip", (".zip",))):
        if name.endswith(suffixes):
            return kind
    return ""


def _ui_message(message: str) -> str:
    """The loader's message with its CLI / keyword advice replaced by the page's own controls."""
    message = re.sub(r"set drop_bad_rows=True \(CLI --drop-bad-rows\)", "tick **Drop these rows** below",
                     message)
    return re.sub(r"give image_size \(CLI --image-size\), e\.g\. [^;]*?to resize them all",
                  "tick **Resize every image** below to resize them all", message)


def check_upload(filename: str, data: bytes, label_column: str | None = None,
                 drop_bad_rows: bool = False, image_size: tuple[int, int] | None = None) -> UploadCheck:
    """Load an upload held in memory with the page's options; every problem ends up in the
    result's `error` (the loader's own message), never as an exception. Rows with bad values are
    reported in `bad_rows` (and dropped when `drop_bad_rows`); images of several sizes in
    `mixed_sizes` (and resized when `image_size` is given). Writes nothing."""
    from deepad.data import uploads
    from deepad.errors import BadValuesError, DeepADError, MixedImageSizesError

    kind = upload_kind(filename)
    out = UploadCheck(kind, [], None)
    if kind == "csv":
        try:
            out.columns = uploads.csv_columns(data, filename)
        except DeepADError as exc:
            out.error = str(exc)
            return out
        found = [c for c in out.columns if c.lower() in uploads.LABEL_NAMES]
        out.label_guess = found[0] if len(found) == 1 else None
        label_column = label_column or out.label_guess
        if label_column is None:
            out.needs_label = True
            return out
    options = {"label_column": label_column if kind == "csv" else None,
               "image_size": image_size if kind == "zip" else None}
    try:
        out.dataset = uploads.load_user_bytes(data, filename, **options)
    except BadValuesError as exc:  # NaN / inf / empty cells: say where, offer to drop those rows
        out.bad_rows = _ui_message(str(exc))
        if drop_bad_rows:
            try:
                out.dataset = uploads.load_user_bytes(data, filename, drop_bad_rows=True, **options)
            except DeepADError as exc2:
                out.error = str(exc2)
    except MixedImageSizesError as exc:  # offer to resize them all
        out.mixed_sizes = _ui_message(str(exc))
        out.size_hint = exc.suggested
    except DeepADError as exc:
        out.error = str(exc)
    return out


def stage_upload(check: UploadCheck, filename: str, data: bytes, folder, drop_bad_rows: bool = False,
                 image_size: tuple[int, int] | None = None, label_column: str | None = None) -> UploadCheck:
    """Keep a usable upload in `folder` under a name made from its content (the same file is kept
    once) and give it its "file:" dataset name, which a run config accepts; the run copies the
    file into its own folder when it starts, so it can be reopened later."""
    from deepad.data import uploads

    if check.dataset is None:
        return check
    options = {"label_column": (label_column or check.label_guess) if check.kind == "csv" else None,
               "drop_bad_rows": True if (drop_bad_rows and check.bad_rows) else None,
               "image_size": (f"{image_size[0]}x{image_size[1]}"
                              if image_size is not None and check.kind == "zip" else None)}
    options = {k: v for k, v in options.items() if v is not None}
    path = uploads.save_upload_bytes(data, filename, folder, **options)
    check.dataset_name = uploads.user_dataset_name(Path(path).resolve(), **options)
    return check
