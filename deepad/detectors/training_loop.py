"""The training loop every deep detector shares, as a template with hooks (as PyOD's
BaseDeepLearningDetector owns its loop).

`DeepDetector.fit` validates (`check`), seeds every generator and opens the run's random streams
(one per purpose, `torch_utils.RandomStreams`), builds the networks (`build`), draws
the probe set whose embeddings are snapshot, then runs the method's `phases` one epoch at a time and
sets the decision threshold (`finish`). Each epoch of a `Phase` is one call of its `run_epoch` (the
method's pass over the data, returning the epoch's mean losses), then the loop checks the losses
are finite, adds the record's phase and epoch, the method's numbers (`after`), the per-epoch extras
(validation AUC and the probe snapshot), the collapse numbers of centre methods and the epoch's
seconds, and hands the record to `on_epoch`. `batches` yields minibatch indices and checks the stop
flag before each one; `batch_means` averages a step's numbers over an epoch.

Checkpoint (`config.checkpoint`): "last" scores with the weights of the last epoch; "best-val"
computes the validation AUC on every epoch of the method's "train" phases (the phases that fit the
model that scores; pretraining and feature phases are not candidates), keeps a copy of the
detector's state (`state()`, its centre and radius, and `CHECKPOINT_ATTRS`) at each new best
(ties: the earliest) and restores the best before `finish`, so scores and the threshold are that
epoch's. Only the validation part's labels are read; the test part never reaches `fit`.
`checkpoint_epoch` is the epoch (as in the records) whose weights score.

The per-epoch extras get a budget: at most EXTRAS_SHARE of the time since the first of them, so
that they never cost more than a small part of a run whose epochs are short. A phase's first and
last epoch always have them; an epoch that has none simply lacks those keys in its record (and has
no snapshot). So that a short run still plays back as an animation, SNAPSHOT_FRAMES epochs spread
evenly over a phase's epochs always have at least the probe snapshot (the cheap part); their cost
counts against the budget, so the other extras give way to them.
"""

from __future__ import annotations

import time
from abc import abstractmethod
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Callable, Iterator, Literal, Mapping, Sequence, Union

import numpy as np
import torch

from deepad import metrics
from deepad.data.parts import Part
from deepad.detectors.base import Detector, EpochCallback, StopFlag
from deepad.detectors.torch_utils import RandomStreams, frame_epochs, minibatches, probe_indices, seed_everything
from deepad.errors import DeepADError, TrainingFailed

__all__ = ["CollapseWatch", "DeepDetector", "EpochClock", "Phase", "extras_from"]

EXTRAS_SHARE = 0.1  # the per-epoch extras take at most this share of the training time

Extras = Callable[[int], tuple[dict, Union[np.ndarray, None]]]


@dataclass
class Phase:
    """`epochs` records named `name`; epoch e (from 0) runs `run_epoch(e)`, which returns the
    epoch's numbers (its losses first). `finite` names the numbers that must be finite (a mapping
    from the name an error message uses to the record's key, or the keys themselves); `after(e)`,
    called once they are, returns further numbers for the record. `extras`: "budget" (validation
    AUC and probe snapshot within the budget), "every" (on every epoch), None, or a function of the
    epoch returning (numbers, snapshot). `collapse` adds a centre method's collapse numbers,
    `fields` the same numbers to every record of the phase (a self-training round's number).
    Records count epochs from `first_epoch` + 1."""

    name: str
    epochs: int
    run_epoch: Callable[[int], dict]
    finite: Union[Mapping[str, str], Sequence[str]] = ("loss",)
    after: Callable[[int], dict] | None = None
    extras: Union[Literal["budget", "every"], Extras, None] = "budget"
    collapse: "CollapseWatch | None" = None
    first_epoch: int = 0
    fields: dict = field(default_factory=dict)


class EpochClock:
    """Measures an epoch and checks its losses are finite, for the per-epoch records."""

    def __init__(self, epoch: int):
        """`epoch` counts from 0 as in the training loop; messages count from 1 as in the records."""
        self.epoch = epoch + 1
        self.t0 = time.perf_counter()

    def seconds(self) -> float:
        return time.perf_counter() - self.t0

    def check_finite(self, **losses: float) -> None:
        for key, val in losses.items():
            if not np.isfinite(val):
                raise TrainingFailed(
                    f"the {key} became {val} at epoch {self.epoch}", epoch=self.epoch,
                    hint="lower the learning rate (--lr) or the regularizer weight, or enable "
                         "autoencoder pretraining")


class _ExtrasBudget:
    """How much time a fit has spent on the per-epoch extras, and since when; `planned` epochs
    have SNAPSHOT_FRAMES scheduled probe snapshots spread over them."""

    def __init__(self, planned: int | None = None) -> None:
        self.start = time.monotonic()
        self.spent = 0.0
        self.calls = 0
        self.frames = frame_epochs(planned) if planned else frozenset()

    def due(self, always: bool) -> bool:
        self.calls += 1
        return self.calls == 1 or always or self.spent <= EXTRAS_SHARE * (time.monotonic() - self.start)

    def frame_due(self) -> bool:
        """The epoch just counted by `due` is one of the scheduled snapshot frames."""
        return self.calls - 1 in self.frames


def _measure_extras(detector: Detector, val: Part | None, probe_x: np.ndarray | None, budget: _ExtrasBudget,
                    always: bool) -> tuple[dict, np.ndarray | None]:
    """Validation AUC and the probe snapshot, when `budget` allows; only the snapshot on a scheduled
    frame epoch over the budget (see the module docstring)."""
    full = budget.due(always)
    if not full and not budget.frame_due():
        return {}, None
    t0 = time.monotonic()
    try:
        extras: dict = {}
        if full and val is not None and len(val) and len(np.unique(val.target)) == 2:
            extras["val_auc"] = metrics.auc(val.target, detector.score(val.x))
        snapshot = None
        if probe_x is not None and len(probe_x) > 1:
            snapshot = detector.embed(probe_x).astype(np.float32)
        return extras, snapshot
    finally:
        budget.spent += time.monotonic() - t0


def extras_from(val_target: np.ndarray | None, val_scores: np.ndarray | None) -> dict:
    """The validation AUC of an epoch record, from scores already computed (for detectors whose
    features are costly to recompute every epoch, e.g. R2-AD2's per-sample gradients, computed once
    for the validation set and cached)."""
    extras: dict = {}
    if val_target is not None and val_scores is not None and len(np.unique(val_target)) == 2:
        extras["val_auc"] = metrics.auc(val_target, val_scores)
    return extras


class CollapseWatch:
    """The hypersphere collapse numbers of a centre method, measured on a fixed probe of the
    training samples it pulls to c (see `deepad.diagnostics`): `start()` once c is set (the
    reference), `record()` after every epoch (numbers and verdict for the epoch record)."""

    def __init__(self, detector: Detector, train: Part):
        from deepad.diagnostics import CollapseMonitor, probe_rows

        pulled = train.x[train.known_label != -1]
        self.detector = detector
        self.probe = pulled[probe_rows(len(pulled), detector.seed)]
        detector.collapse_monitor = self.monitor = CollapseMonitor()

    def start(self) -> None:
        self.monitor.start(self.detector.embed(self.probe), self.detector.center)

    def record(self) -> dict:
        rep = self.monitor.epoch(self.detector.embed(self.probe), self.detector.center)
        return {k: rep[k] for k in ("spread_ratio", "spread", "eff_rank", "const_dims", "verdict")}


def _copy_state(state):
    """A deep copy of a `state()` (tensors cloned, off the autograd graph), so that training on
    does not change it."""
    if isinstance(state, torch.Tensor):
        return state.detach().clone()
    if isinstance(state, dict):
        return {k: _copy_state(v) for k, v in state.items()}
    if isinstance(state, tuple) and hasattr(state, "_fields"):
        return type(state)(*(_copy_state(v) for v in state))
    if isinstance(state, (list, tuple)):
        return type(state)(_copy_state(v) for v in state)
    return deepcopy(state)


class DeepDetector(Detector):
    """A detector trained by the template loop (see the module docstring). A method fills in
    `build` and `phases`, and where it needs them `check` and `finish`; `score`, `embed`, `state`
    and `load_state` as every detector does."""

    _should_stop: StopFlag | None = None  # while a fit runs
    CHECKPOINT_PHASES = ("train",)  # phases whose epochs best-val chooses among
    CHECKPOINT_ATTRS: tuple[str, ...] = ()  # attributes besides `state()` that a checkpoint keeps
    checkpoint_epoch: int | None = None  # the epoch whose weights score, once fitted
    checkpoint_val_auc: float | None = None  # best-val: that epoch's validation AUC
    batch_log: list | None = None  # set to a list to record every minibatch's indices

    # -- hooks --------------------------------------------------------------------------------
    def check(self, train: Part) -> None:
        """Refuse a training part the method cannot learn from (DeepADError), before any work."""

    @abstractmethod
    def build(self, train: Part) -> None:
        """Build the networks for `train`'s inputs (after seeding)."""

    @abstractmethod
    def phases(self, train: Part, val: Part | None) -> Iterator[Phase]:
        """The training phases in order; code between them runs when the previous one has ended."""

    def finish(self, train: Part) -> None:
        """After the last phase: the threshold, by default the 95th percentile of the scores of the
        training samples not labelled anomalous."""
        self._threshold = float(np.percentile(self.score(train.x[train.known_label != -1]), 95))

    # -- the template -------------------------------------------------------------------------
    def fit(self, train: Part, val: Part | None = None, on_epoch: EpochCallback | None = None,
            should_stop: StopFlag | None = None) -> "DeepDetector":
        self.check(train)
        self.start_training(val, on_epoch, should_stop)
        self.build(train)
        self.run_phases(self.phases(train, val))
        self.finish(train)
        return self

    @property
    def best_val(self) -> bool:
        return getattr(self.config, "checkpoint", "last") == "best-val"

    def _check_checkpoint(self, val: Part | None) -> None:
        if self.best_val and (val is None or len(np.unique(val.target)) != 2):
            raise DeepADError(f"checkpoint 'best-val' chooses the epoch by validation AUC, but the "
                              f"validation part has {'no samples' if val is None or not len(val) else 'one class only'}; "
                              "use checkpoint 'last' or a set-up whose validation part holds normal and "
                              "anomalous samples")

    def _keep_if_best(self, rec: dict) -> None:
        """best-val: copy the detector's state when `rec` (a candidate epoch's record) has the
        highest validation AUC so far."""
        auc = rec.get("val_auc")
        if auc is None or not np.isfinite(auc):
            return
        if self._best is None or auc > self._best["val_auc"]:
            self._best = {"val_auc": float(auc), "epoch": rec["epoch"], "state": _copy_state(self.state()),
                          "attrs": {k: deepcopy(getattr(self, k, None))
                                    for k in ("center", "radius", *self.CHECKPOINT_ATTRS)}}

    def _restore_best(self) -> None:
        best = self._best
        if best is None:
            raise DeepADError("checkpoint 'best-val' found no training epoch with a validation AUC; "
                              "use checkpoint 'last'")
        self.load_state(best["state"])
        for k, v in best["attrs"].items():
            setattr(self, k, v)
        self.checkpoint_epoch = best["epoch"]
        self.checkpoint_val_auc = best["val_auc"]

    def start_training(self, val: Part | None, on_epoch: EpochCallback | None,
                       should_stop: StopFlag | None) -> None:
        """Seed every generator and open the run's random streams (`self.streams`, one per purpose,
        see `RandomStreams`; `self.generator` is the minibatch stream), draw the probe set from `val`
        and reset the extras' budget."""
        seed_everything(self.seed)
        self.streams = RandomStreams(self.seed)
        self.generator = self.streams.torch("batches")
        self._val = val
        self._probe = val.x[probe_indices(len(val), self.seed)] if val is not None and len(val) > 1 else None
        self._emit = on_epoch or (lambda rec, snap=None: None)
        self._should_stop = should_stop
        self._budget: _ExtrasBudget | None = None
        self._check_checkpoint(val)
        self._best: dict | None = None
        self.checkpoint_epoch = self.checkpoint_val_auc = None

    def run_phases(self, phases: Iterator[Phase]) -> None:
        """Every epoch of every phase; then the stop flag, the callback and the validation part are
        let go (scoring after training is never cancelled)."""
        try:
            for phase in phases:
                for e in range(phase.epochs):
                    self._run_epoch(phase, e)
            if self.best_val:
                self._restore_best()
        finally:
            self._val = self._probe = self._emit = self._should_stop = None

    def _run_epoch(self, phase: Phase, e: int) -> None:
        epoch = phase.first_epoch + e
        candidate = self.best_val and phase.name in self.CHECKPOINT_PHASES
        clock = EpochClock(epoch)
        rec = phase.run_epoch(e)
        finite = phase.finite if isinstance(phase.finite, Mapping) else {k: k for k in phase.finite}
        clock.check_finite(**{name: rec[key] for name, key in finite.items()})
        rec.update(phase=phase.name, epoch=epoch + 1, **phase.fields)
        if phase.after is not None:
            rec.update(phase.after(e))
        snap = None
        if callable(phase.extras):
            extras, snap = phase.extras(e)
            rec.update(extras)
        elif phase.extras is not None:
            if self._budget is None:  # planned: the epochs of the first phase with budgeted extras
                self._budget = _ExtrasBudget(phase.epochs if phase.extras == "budget" else None)
            extras, snap = _measure_extras(self, self._val, self._probe, self._budget,
                                           always=candidate or phase.extras == "every" or e in (0, phase.epochs - 1))
            rec.update(extras)
        if phase.collapse is not None:
            rec.update(phase.collapse.record())
        if candidate:
            self._keep_if_best(rec)
        elif phase.name in self.CHECKPOINT_PHASES:
            self.checkpoint_epoch = rec["epoch"]  # checkpoint "last": the latest epoch scores
        rec["seconds"] = clock.seconds()
        self._emit(rec, snap)

    # -- what the hooks use -------------------------------------------------------------------
    def check_stop(self) -> None:
        self._check_stop(self._should_stop)

    def batches(self, n: int, batch_size: int, shuffle: bool = True) -> Iterator[torch.Tensor]:
        """Minibatch indices over 0..n−1 drawn with the minibatch stream (`self.generator`); the stop
        flag is checked before each. While `batch_log` is a list, each batch's indices are appended
        to it (to compare the batches two runs saw)."""
        for idx in minibatches(n, batch_size, self.generator, self.device, shuffle=shuffle):
            self.check_stop()
            if self.batch_log is not None:
                self.batch_log.append(idx.tolist())
            yield idx

    def batch_means(self, n: int, batch_size: int, step: Callable[[torch.Tensor], Mapping[str, float]]) -> dict:
        """Run `step` on every minibatch of an epoch; the mean of each number it returns."""
        sums: dict[str, float] = {}
        n_batches = 0
        for idx in self.batches(n, batch_size):
            for k, v in step(idx).items():
                sums[k] = sums.get(k, 0.0) + float(v)
            n_batches += 1
        return {k: v / n_batches for k, v in sums.items()}

    def require_normals(self, train: Part, minimum: int = 2, purpose: str = "") -> np.ndarray:
        """The training samples not labelled anomalous (known_label ≠ −1), at least `minimum` of them."""
        normal_x = train.x[train.known_label != -1]
        if len(normal_x) < minimum:
            raise DeepADError(f"the training set has {len(normal_x)} samples not labelled anomalous; "
                              f"method {self.name} needs at least {minimum}{purpose}")
        return normal_x
