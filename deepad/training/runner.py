"""Execute one run: its split -> detector.fit -> scores, embeddings, diagnostics -> disk.

The run has been created (`deepad.runs.create`) and its split built and checked then, once;
`execute` trains on that split, handed to it in memory or read back from the run folder, and writes
the run through its one door (`deepad.runs.write.RunWriter`). It is what the CLI calls in the
foreground and what the dashboard's worker processes (`deepad.training.worker`) and a sweep's
trials call. It never raises for a training problem: the outcome is the run's state on disk
("finished", "failed" with the epoch and a hint, or "cancelled"), and the history so far is kept
in every case. A stop file in the run's folder (`deepad.runs.write.request_stop`) cancels the run
whichever process trains it, so the dashboard can stop a run started from the command line too.
"""

from __future__ import annotations

import time
import traceback
from typing import Callable

import numpy as np
import torch

from deepad import metrics
from deepad.data.parts import Split
from deepad.detectors import registry
from deepad.detectors.base import Cancelled
from deepad.diagnostics import collapse_summary, final_report
from deepad.errors import DeepADError, TrainingFailed, describe_os_error
from deepad.runs.create import create_run, load_data
from deepad.runs.layout import SPLIT_PARTS, STOP_REQUEST
from deepad.runs.listing import RunStore
from deepad.runs.read import RunRecord
from deepad.runs.split import split_from_parts
from deepad.runs.write import RunWriter
from deepad.training.config import RunConfig, validate_config

EventCallback = Callable[[str, dict], None]  # (run_id, epoch record)
SNAPSHOT_SAVE_S = 2.0  # while training, the per-epoch probe embeddings are written at most this often
SNAPSHOT_CAP = 256  # at most this many per-epoch snapshots are kept (evenly thinned beyond)
STOP_POLL_S = 0.2  # how often the stop file is looked for


def _stop_flag(run: RunRecord, should_stop: Callable[[], bool] | None) -> Callable[[], bool]:
    """`should_stop`, or the run's stop file (looked for at most every STOP_POLL_S seconds)."""
    stop_file = run.files.file(STOP_REQUEST)
    next_look, seen = 0.0, False

    def flag() -> bool:
        nonlocal next_look, seen
        if seen or (should_stop is not None and should_stop()):
            return True
        now = time.monotonic()
        if now >= next_look:
            next_look = now + STOP_POLL_S
            seen = stop_file.exists()
        return seen

    return flag


def execute(run: RunRecord, cfg: RunConfig, split: Split | None = None, writer: RunWriter | None = None,
            on_event: EventCallback | None = None, should_stop: Callable[[], bool] | None = None) -> RunRecord:
    """Train the run on `split` (None: the split its creation wrote into the folder) and write its
    folder through `writer` (None: a plain `RunWriter`). A file that cannot be written while
    training (a full disk) fails the run with the reason; when even its final status cannot be
    written the run's status is replaced by a short "failed" one (see `RunWriter.final_status`).
    OSError is raised only when the run's folder itself is gone."""
    t0 = time.perf_counter()
    write = writer or RunWriter(run)
    should_stop = _stop_flag(run, should_stop)
    device = cfg.resolved_device()
    write.remove_temporaries()  # left by an earlier process killed mid-write
    kept = _Snapshots(SNAPSHOT_CAP)
    n_records = 0
    last_snapshot_save, snapshot_save_cost = time.monotonic(), 0.0
    det = None  # the detector, once built: its centre c is kept with each snapshot

    def on_epoch(record: dict, snapshot: np.ndarray | None = None) -> None:
        nonlocal n_records, last_snapshot_save, snapshot_save_cost
        n_records += 1
        record = {k: v for k, v in record.items() if v is not None}
        record["step"] = n_records
        write.history(record)
        if snapshot is not None:
            kept.add(snapshot, n_records, getattr(det, "center", None))
            # live views watch them grow; the file is rewritten whole, so at most every
            # SNAPSHOT_SAVE_S seconds and never for more than a tenth of the training time
            if time.monotonic() - last_snapshot_save > max(SNAPSHOT_SAVE_S, 10 * snapshot_save_cost):
                t_save = time.monotonic()
                save_snapshots()
                last_snapshot_save = time.monotonic()
                snapshot_save_cost = last_snapshot_save - t_save
        write.status(epoch=record.get("epoch", 0), phase=record.get("phase", "train"), last=record)
        if on_event:
            on_event(run.run_id, record)

    def save_snapshots() -> None:
        if kept.emb:
            write.snapshots(np.stack(kept.emb), np.asarray(kept.steps), kept.centre_array())

    def keep_snapshots() -> None:
        try:
            save_snapshots()
        except OSError:
            pass  # the run's outcome matters more; the last snapshots written stay

    final: dict
    try:
        write.status(state="running", started=time.time(), device=device)
        if should_stop():
            raise Cancelled()
        if split is None:
            split = _handed_split(run, cfg)
        with torch.random.fork_rng(devices=[]):
            det = registry.get(cfg.method)(cfg.params, device=device, seed=cfg.seed)
            det.fit(split.train, split.val, on_epoch=on_epoch, should_stop=should_stop)
            if should_stop():
                raise Cancelled()
            summary = _finish(write, det, split)
        save_snapshots()
        summary["seconds"] = time.perf_counter() - t0
        final = {"state": "finished", "summary": summary, "seconds": summary["seconds"]}
    except Cancelled:
        keep_snapshots()
        final = {"state": "cancelled", "seconds": time.perf_counter() - t0}
    except TrainingFailed as exc:
        keep_snapshots()
        final = {"state": "failed", "error": str(exc), "hint": exc.hint, "failed_epoch": exc.epoch,
                 "seconds": time.perf_counter() - t0}
    except DeepADError as exc:
        final = {"state": "failed", "error": str(exc), "hint": "", "seconds": time.perf_counter() - t0}
    except OSError as exc:  # a full disk, the run's folder removed: say which file and why
        final = {"state": "failed", "error": describe_os_error(exc),
                 "hint": "the run's files could not be written", "seconds": time.perf_counter() - t0}
    except Exception as exc:  # a bug or an exhausted resource: keep the run, say what happened
        final = {"state": "failed", "error": f"{type(exc).__name__}: {exc}",
                 "hint": "see traceback.txt in the run folder", "seconds": time.perf_counter() - t0}
        try:
            write.traceback(traceback.format_exc())
        except OSError:
            final["hint"] = ""
    write.final_status(ended=time.time(), **final)
    return run


class _Snapshots:
    """The per-epoch probe embeddings kept for the file, with the method's centre c when each was
    taken (so the centre is drawn while the run trains, and where it was at each epoch of a run
    whose centre is learnt): every one until there are `cap`, then every second, fourth, ...
    (evenly spaced, the latest always kept), so the file stays bounded."""

    def __init__(self, cap: int):
        self.cap, self.stride, self.count = cap, 1, 0
        self.emb: list[np.ndarray] = []
        self.steps: list[int] = []
        self.centres: list[np.ndarray | None] = []
        self._k: list[int] = []

    def add(self, emb: np.ndarray, step: int, centre: np.ndarray | None = None) -> None:
        if self._k and self._k[-1] % self.stride:
            del self.emb[-1], self.steps[-1], self.centres[-1], self._k[-1]  # kept only as the latest
        self.emb.append(emb)
        self.steps.append(step)
        d = emb.shape[-1] if emb.ndim == 2 else None
        self.centres.append(np.asarray(centre, dtype=np.float32).copy()
                            if centre is not None and np.shape(centre) == (d,) else None)
        self._k.append(self.count)
        self.count += 1
        if len(self.emb) > self.cap:
            self.stride *= 2
            keep = [i for i, k in enumerate(self._k) if k % self.stride == 0 or i == len(self._k) - 1]
            self.emb = [self.emb[i] for i in keep]
            self.steps = [self.steps[i] for i in keep]
            self.centres = [self.centres[i] for i in keep]
            self._k = [self._k[i] for i in keep]

    def centre_array(self) -> np.ndarray | None:
        """(snapshots, d) when every kept snapshot has its centre, else None."""
        if not self.centres or any(c is None for c in self.centres):
            return None
        return np.stack(self.centres)


def _handed_split(run: RunRecord, cfg: RunConfig) -> Split:
    """The split the run's creation built, read back from its folder (DeepADError when it is not
    there: the run was not created by `deepad.runs.create`, or another process has trained it)."""
    parts = run.files.read_split_parts()
    if parts is None:
        raise DeepADError(f"run {run.run_id}: its folder holds no {SPLIT_PARTS} (the split made when the run "
                          "was created, which training reads); train it again as a new run")
    return split_from_parts(run.files.read_split(), parts, load_data(cfg))


def _finish(write: RunWriter, det, split: Split) -> dict:
    """Score and embed the test part, compute metrics and the collapse verdict, write results."""
    test, train = split.test, split.train
    scores = det.score(test.x)
    emb = det.embed(test.x)
    train_scores = det.score(train.x)
    report = final_report(det, train)  # None: the hypersphere verdict does not apply to the method
    threshold = det.threshold
    summary = metrics.summary(test.target, scores, threshold)
    summary.update(threshold=threshold, radius=det.radius, n_train=len(train),
                   **collapse_summary(report))
    if getattr(det.config, "checkpoint", None) is not None:  # a deep detector: which epoch scores
        summary.update(checkpoint=det.config.checkpoint, checkpoint_epoch=det.checkpoint_epoch,
                       checkpoint_val_auc=det.checkpoint_val_auc)
    arrays = {"test_scores": scores, "test_target": test.target, "test_y": test.y,
              "test_index": test.index, "test_emb": emb.astype(np.float32),
              "train_scores": train_scores, "train_target": train.target, "train_semi": train.known_label,
              "train_index": train.index}
    if test.raw is not None:  # altered copies are not rows of the dataset: keep what was scored
        arrays["test_raw"] = test.raw.astype(np.float16)
    if det.center is not None:
        arrays["center"] = np.asarray(det.center, dtype=np.float32)
    write.results(**arrays)
    if report is not None:
        write.diagnostics(report)
    write.model(det)
    return summary


def train(cfg: RunConfig | dict, store: RunStore | None = None, on_event: EventCallback | None = None,
          should_stop: Callable[[], bool] | None = None) -> RunRecord:
    """Validate, create and execute a run in the calling thread. Returns the run as on disk."""
    store = store or RunStore()
    new = create_run(validate_config(cfg), store)
    execute(new.run, new.config, new.split, on_event=on_event, should_stop=should_stop)
    return store.get(new.run.run_id)
