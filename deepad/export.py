"""Runs out to the tracking tools a lab already uses: `deepad export RUN [RUN...] --format
tensorboard|mlflow --out DIR`, offline.

Every run exports the same things:
- its per-epoch curves: every number of every epoch record, as `<phase>/<name>` (`train/loss`,
  `pretrain/loss`, `train/spread_ratio`, `train/val_auc`, ...) at the record's global step;
- its final metrics: every number of the run's summary (`auc`, `ap`, `f1`, `n_test`,
  `spread_ratio`, ...);
- its config, one level deep (`dataset`, `setup.normal`, `seed`, the method's hyperparameters), as
  MLflow parameters / TensorBoard hparams, and tags (`deepad.run_id`, method, dataset, state,
  verdict, sweep);
- artifacts: the ROC curve as a PNG (drawn here, no browser needed) and as the dashboard's plotly
  figure (JSON), the config, and the model file (`model.pt`) where the run saved one.

MLflow: a local file store (`DIR` is its `mlruns` folder: `mlflow ui --backend-store-uri DIR`,
with MLFLOW_ALLOW_FILE_STORE=true since MLflow 3.x, or `mlflow migrate-filestore` to a database);
one experiment per export, or the sweep's when every run comes from one sweep (exporting again
adds runs to it). TensorBoard: one event folder per run under `DIR` (`tensorboard --logdir DIR`;
the HPARAMS tab compares a sweep's runs), the artifacts beside the events in `artifacts/`.
The writers are imported only here (`pip install 'deepad[export]'` brings them).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

import numpy as np

from deepad.errors import DeepADError

FORMATS = ("tensorboard", "mlflow")
ENDED = ("finished", "failed", "cancelled")
_SKIP = {"step", "epoch"}


def _numbers(d: dict) -> dict[str, float]:
    return {k: float(v) for k, v in d.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool) and k not in _SKIP and np.isfinite(v)}


def curves(history: list[dict]) -> list[tuple[int, dict[str, float]]]:
    """(global step, {"<phase>/<name>": value}) per epoch record."""
    out = []
    for i, rec in enumerate(history, start=1):
        phase = str(rec.get("phase", "train"))
        out.append((int(rec.get("step", i)), {f"{phase}/{k}": v for k, v in _numbers(rec).items()}))
    return out


def params(config: dict) -> dict[str, str | int | float | bool]:
    """The config one level deep; lists, dicts and None as JSON text."""
    from deepad.views.runs import flat_config

    return {k: (v if isinstance(v, (str, int, float, bool)) else json.dumps(v))
            for k, v in flat_config(config).items()}


def tags(record) -> dict[str, str]:
    cfg, s = record.config, record.summary
    out = {"deepad.run_id": record.run_id, "deepad.method": str(cfg.get("method")),
           "deepad.dataset": str(cfg.get("dataset")), "deepad.state": record.state,
           "deepad.verdict": str(s.get("verdict")), "deepad.title": str(cfg.get("title") or "")}
    if isinstance(cfg.get("sweep"), dict):
        out["deepad.sweep_id"] = str(cfg["sweep"].get("id"))
    return out


def roc_png(labels: np.ndarray, scores: np.ndarray, title: str, size: int = 480) -> np.ndarray:
    """The ROC curve drawn as an RGB image (H, W, 3), uint8: axes, the chance diagonal, the curve
    and its AUC."""
    from PIL import Image, ImageDraw

    from deepad import metrics

    roc = metrics.roc_curve(labels, scores)
    auc = metrics.auc(labels, scores)
    img = Image.new("RGB", (size, size), "white")
    d = ImageDraw.Draw(img)
    left, top, right, bottom = 56, 36, size - 20, size - 48
    w, h = right - left, bottom - top

    def at(x: float, y: float) -> tuple[float, float]:
        return left + x * w, bottom - y * h

    for t in np.linspace(0, 1, 6):  # grid and ticks
        d.line([at(t, 0), at(t, 1)], fill=(232, 232, 232))
        d.line([at(0, t), at(1, t)], fill=(232, 232, 232))
        d.text((at(t, 0)[0] - 8, bottom + 6), f"{t:.1f}", fill="black")
        d.text((left - 30, at(0, t)[1] - 6), f"{t:.1f}", fill="black")
    d.rectangle([left, top, right, bottom], outline="black")
    for t0 in np.arange(0, 1, 0.04):  # the chance diagonal, dotted
        d.line([at(t0, t0), at(t0 + 0.02, t0 + 0.02)], fill=(150, 150, 150))
    d.line([at(x, y) for x, y in zip(roc["fpr"], roc["tpr"])], fill=(31, 119, 180), width=3)
    d.text((left, 10), f"ROC: {title}"[:70], fill="black")
    d.text((left + 10, top + 10), f"AUC {auc:.3f}" if auc is not None else "AUC n/a", fill=(31, 119, 180))
    d.text((left + w / 2 - 60, size - 22), "false positive rate", fill="black")
    d.text((4, top - 18), "true positive rate", fill="black")
    return np.asarray(img)


def artifacts(record, folder: Path) -> list[Path]:
    """Write the run's artifacts into `folder`: roc.png and roc.plotly.json (when the run has test
    scores of both kinds), config.json and the model file; the paths written."""
    from deepad.runs.layout import CONFIG, MODEL

    folder.mkdir(parents=True, exist_ok=True)
    out = []
    results = record.results()
    if results is not None and len(np.unique(results["test_target"])) == 2:
        from PIL import Image

        from deepad.figures.scores import roc_figure
        from deepad.views import evaluate as evaluate_view
        from deepad.views.common import run_title
        from deepad.views.evaluate import at_threshold, default_threshold

        title = run_title(record)
        Image.fromarray(roc_png(results["test_target"], results["test_scores"], title)).save(folder / "roc.png")
        point = at_threshold(results, default_threshold(record, results))
        fig = roc_figure([evaluate_view.curves(title, results)], point)
        (folder / "roc.plotly.json").write_text(fig.to_json(), encoding="utf-8")
        out += [folder / "roc.png", folder / "roc.plotly.json"]
    for name in (CONFIG, MODEL):
        if record.files.has(name):
            shutil.copyfile(record.files.file(name), folder / name)
            out.append(folder / name)
    return out


def _records(run_ids: list[str], runs_dir) -> list:
    from deepad.runs.listing import RunStore

    if not run_ids:
        raise DeepADError("give at least one run id to export (`deepad list` shows them)")
    store = RunStore(runs_dir)
    records = []
    for run_id in dict.fromkeys(run_ids):
        record = store.get(run_id)
        if record.state not in ENDED:
            raise DeepADError(f"run {run_id} is {record.state}; export runs that have ended "
                              f"({', '.join(ENDED)})")
        records.append(record)
    return records


def experiment_name(records: list) -> str:
    sweeps = {(r.config.get("sweep") or {}).get("id") if isinstance(r.config.get("sweep"), dict) else None
              for r in records}
    (only,) = sweeps if len(sweeps) == 1 else (None,)
    return f"deepad sweep {only}" if only else "deepad"


def export_runs(run_ids: list[str], fmt: str, out: str | os.PathLike, runs_dir=None) -> dict:
    """Export the runs (see the module docstring); the summary that `deepad export` prints."""
    if fmt not in FORMATS:
        raise DeepADError(f"--format {fmt!r}: choose one of {', '.join(FORMATS)}")
    if out is None or str(out).strip() == "":
        raise DeepADError("--out: give the folder to export into, e.g. --out mlruns")
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise DeepADError(f"--out {out}: a file is in the way; give a folder")
    records = _records(list(run_ids), runs_dir)
    name = experiment_name(records)
    writer = _mlflow if fmt == "mlflow" else _tensorboard
    exported = writer(records, out, name)
    return {"format": fmt, "out": str(out.resolve()), "experiment": name, "runs": exported}


def _missing(package: str, fmt: str) -> DeepADError:
    return DeepADError(f"--format {fmt} needs the package {package}, which is not installed; install it with "
                       f"pip install 'deepad[export]' (or pip install {package})")


def _tensorboard(records: list, out: Path, name: str) -> list[dict]:
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise _missing("tensorboard", "tensorboard") from None
    done = []
    for record in records:
        logdir = out / record.run_id
        with contextlib.closing(SummaryWriter(str(logdir))) as w:
            for step, values in curves(record.history()):
                for tag, value in values.items():
                    w.add_scalar(tag, value, step)
            w.add_text("config", "```\n" + json.dumps(record.config, indent=1) + "\n```")
            w.add_text("tags", "\n\n".join(f"**{k}**: {v}" for k, v in tags(record).items()))
            written = artifacts(record, logdir / "artifacts")
            roc = logdir / "artifacts" / "roc.png"
            if roc.exists():
                from PIL import Image

                w.add_image("roc", np.asarray(Image.open(roc)), 0, dataformats="HWC")
            final = {f"final/{k}": v for k, v in _numbers(record.summary).items()}
            w.add_hparams(params(record.config), final or {"final/none": 0.0}, run_name=".")
        done.append({"run_id": record.run_id, "logdir": str(logdir.resolve()),
                     "artifacts": [p.name for p in written]})
    return done


@contextlib.contextmanager
def _file_store_allowed():
    """MLflow 3 asks for an opt-in to write a file store (`MLFLOW_ALLOW_FILE_STORE`)."""
    before = os.environ.get("MLFLOW_ALLOW_FILE_STORE")
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MLFLOW_ALLOW_FILE_STORE", None)
        else:
            os.environ["MLFLOW_ALLOW_FILE_STORE"] = before


def _mlflow(records: list, out: Path, name: str) -> list[dict]:
    import tempfile

    try:
        from mlflow.entities import Metric, Param, RunTag
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise _missing("mlflow-skinny", "mlflow") from None
    done = []
    with _file_store_allowed():
        out.mkdir(parents=True, exist_ok=True)
        client = MlflowClient(tracking_uri=out.resolve().as_uri())
        experiment = client.get_experiment_by_name(name)
        experiment_id = experiment.experiment_id if experiment else client.create_experiment(name)
        for record in records:
            started = int(1000 * (record.status.get("started") or record.status.get("created") or 0)) or None
            run = client.create_run(experiment_id, start_time=started, run_name=record.config.get("title") or record.run_id,
                                    tags=tags(record))
            rid = run.info.run_id
            t = started or 0
            metrics = [Metric(tag, value, t, step) for step, values in curves(record.history())
                       for tag, value in values.items()]
            metrics += [Metric(k, v, t, 0) for k, v in _numbers(record.summary).items()]
            items = [Param(k, str(v)[:6000]) for k, v in params(record.config).items()]
            for i in range(0, max(len(metrics), len(items), 1), 900):  # log_batch's limit is 1000 entries
                client.log_batch(rid, metrics=metrics[i:i + 900], params=items[i:i + 100] if i == 0 else [])
            for i in range(100, len(items), 100):
                client.log_batch(rid, params=items[i:i + 100])
            with tempfile.TemporaryDirectory() as tmp:
                written = artifacts(record, Path(tmp))
                for path in written:
                    client.log_artifact(rid, str(path), "model" if path.name == "model.pt" else None)
            status = {"finished": "FINISHED", "failed": "FAILED"}.get(record.state, "KILLED")
            ended = record.status.get("ended")
            client.set_terminated(rid, status, end_time=int(1000 * ended) if ended else None)
            done.append({"run_id": record.run_id, "mlflow_run_id": rid, "experiment_id": experiment_id,
                         "artifacts": [p.name for p in written]})
    return done
