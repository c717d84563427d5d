"""Training helpers shared by the deep detectors: device-resident batching and per-epoch records.

Small datasets live on the device as whole tensors and are batched by index: a DataLoader's
per-sample Python overhead would dominate the cost of a LeNet step.

The per-epoch extras (validation AUC and the probe-set snapshot) get a
budget: at most EXTRAS_SHARE of the time since the first of them, so that they never cost more
than a small part of a run whose epochs are short. The first and the last epoch always have them;
an epoch that has none simply lacks those keys in its record (and has no snapshot). So that a
short run still plays back as an animation, SNAPSHOT_FRAMES epochs spread evenly over the planned
epochs always have at least the probe snapshot (the cheap part: one forward pass of PROBE_SIZE
samples, a few milliseconds); their cost counts against the budget, so the other extras give way
to them.
"""

from __future__ import annotations

import functools
import inspect
import random
import time
from typing import Callable, Iterator

import numpy as np
import torch

from deepad import metrics

PROBE_SIZE = 256  # validation samples whose embeddings are snapshot
EXTRAS_SHARE = 0.1  # the per-epoch extras take at most this share of the training time
SNAPSHOT_FRAMES = 12  # epochs spread over a run's planned epochs that have a probe snapshot


def _eager_optimizers() -> None:
    """Keep torch's compiler stack out of a training process.

    torch 2.14's optimizers import `torch._dynamo` (seconds, about as long as torch itself) the
    first time they are built or stepped, only to mark their own code as not to be compiled
    (`torch._disable_dynamo`, and a graph break around `step`). Nothing here compiles, so the
    optimizers used are marked as already excluded and their `step` runs as torch's does in eager
    mode (gradients off), without the graph breaks. The arithmetic is torch's own, unchanged. Where
    torch's internals differ from what is expected, nothing is changed."""
    from torch.optim import adam, optimizer, rmsprop

    def exclude(wrapper) -> None:
        fn = getattr(wrapper, "__wrapped__", None)
        if fn is not None and getattr(fn, "__dynamo_disable", None) is None:
            fn.__dynamo_disable = fn  # what torch._disable_dynamo caches after importing dynamo

    base = optimizer.Optimizer
    for name in ("add_param_group", "zero_grad", "state_dict", "load_state_dict"):
        exclude(base.__dict__.get(name))
    for module, cls, fn_name in ((adam, torch.optim.Adam, "adam"), (rmsprop, torch.optim.RMSprop, "rmsprop")):
        exclude(getattr(module, fn_name, None))
        step = cls.__dict__.get("step")
        if step is None or getattr(step, "_deepad_eager", False):
            continue
        eager = inspect.unwrap(step)
        if eager is step:
            continue

        @functools.wraps(eager)
        def eager_step(self, *args, _step=eager, **kwargs):
            with torch.set_grad_enabled(bool(self.defaults.get("differentiable", False))):
                return _step(self, *args, **kwargs)

        eager_step._deepad_eager = True
        cls.step = eager_step


_eager_optimizers()


class _ExtrasBudget:
    """How much time a detector's fit has spent on the per-epoch extras, and since when."""

    def __init__(self, planned: int | None = None) -> None:
        self.start = time.monotonic()
        self.spent = 0.0
        self.calls = 0
        self.planned = planned
        self.frames = frame_epochs(planned) if planned else frozenset()

    def due(self, last: bool) -> bool:
        self.calls += 1
        return self.calls == 1 or last or self.spent <= EXTRAS_SHARE * (time.monotonic() - self.start)

    def frame_due(self) -> bool:
        """The epoch just counted by `due` is one of the scheduled snapshot frames."""
        return self.calls - 1 in self.frames


def frame_epochs(planned: int, frames: int = SNAPSHOT_FRAMES) -> frozenset[int]:
    """The epochs (from 0) of a run of `planned` epochs that have a scheduled probe snapshot:
    `frames` of them spread evenly, the first and the last included."""
    if planned <= 0:
        return frozenset()
    return frozenset(int(round(e)) for e in np.linspace(0, planned - 1, min(planned, frames)))


def seed_everything(seed: int) -> torch.Generator:
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def as_tensor(x: np.ndarray, device: torch.device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(x), dtype=torch.float32, device=device)


def minibatches(n: int, batch_size: int, generator: torch.Generator, device: torch.device,
                shuffle: bool = True) -> Iterator[torch.Tensor]:
    """Index tensors covering 0..n-1; a last batch of a single sample is merged into the previous
    one (BatchNorm needs two samples)."""
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    order = order.to(device)
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] < 2:
        starts.pop()
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else n
        yield order[s:e]


@torch.no_grad()
def batched(fn: Callable[[torch.Tensor], torch.Tensor], x: np.ndarray | torch.Tensor,
            device: torch.device, batch_size: int = 1024) -> np.ndarray:
    """Apply `fn` to x in evaluation batches and return a numpy array."""
    outs = []
    for s in range(0, len(x), batch_size):
        xb = x[s:s + batch_size]
        xb = xb if isinstance(xb, torch.Tensor) else as_tensor(xb, device)
        outs.append(fn(xb).detach().float().cpu())
    return torch.cat(outs).numpy() if outs else np.zeros((0,), np.float32)


def probe_indices(n: int, seed: int, size: int = PROBE_SIZE) -> np.ndarray:
    """The rows of the validation part whose embeddings are snapshot (`size`: as many as a run's
    snapshots hold, for runs written with another probe size)."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n)[:size])


def epoch_extras(detector, val, probe_x: np.ndarray | None, last: bool | None = None) -> tuple[dict, np.ndarray | None]:
    """Validation AUC for an epoch record, plus the probe-set snapshot (the Latent page plays them
    back; the collapse numbers of centre methods come from `CollapseWatch`, every epoch); only the
    snapshot on a scheduled frame epoch over the budget; or nothing (see the module docstring). `last`: this is
    the fit's last epoch (by default: as many calls as the config's `epochs`; a detector whose
    config has no `epochs` gets the extras on every call)."""
    budget = detector.__dict__.get("_extras_budget")
    epochs = getattr(getattr(detector, "config", None), "epochs", None)
    if budget is None:
        budget = detector._extras_budget = _ExtrasBudget(epochs if isinstance(epochs, int) else None)
    if last is None:  # one call per epoch of the config's `epochs`; without it, every call has them
        last = not isinstance(epochs, int) or budget.calls + 1 >= epochs
    full = budget.due(last)
    if not full and not budget.frame_due():
        return {}, None
    t0 = time.monotonic()
    try:
        return _extras(detector, val if full else None, probe_x)
    finally:
        budget.spent += time.monotonic() - t0


def _extras(detector, val, probe_x: np.ndarray | None) -> tuple[dict, np.ndarray | None]:
    extras: dict = {}
    if val is not None and len(val) and len(np.unique(val.target)) == 2:
        extras["val_auc"] = metrics.auc(val.target, detector.score(val.x))
    snapshot = None
    if probe_x is not None and len(probe_x) > 1:
        snapshot = detector.embed(probe_x).astype(np.float32)
    return extras, snapshot


def extras_from(val_target: np.ndarray | None, val_scores: np.ndarray | None) -> dict:
    """The validation AUC `epoch_extras` records, from scores the caller already computed (for
    detectors whose features are costly to recompute every epoch, e.g. R2-AD2's per-sample
    gradients, which are computed once for the validation set and cached)."""
    extras: dict = {}
    if val_target is not None and val_scores is not None and len(np.unique(val_target)) == 2:
        extras["val_auc"] = metrics.auc(val_target, val_scores)
    return extras


class CollapseWatch:
    """The hypersphere collapse numbers of a centre method, measured on a fixed probe of the
    training samples it pulls to c (see `deepad.diagnostics`): `start()` once c is set (the
    reference), `record()` after every epoch (numbers and verdict for the epoch record)."""

    def __init__(self, detector, train):
        from deepad.diagnostics import CollapseMonitor, probe_rows

        pulled = train.x[train.semi != -1]
        self.detector = detector
        self.probe = pulled[probe_rows(len(pulled), detector.seed)]
        detector.collapse_monitor = self.monitor = CollapseMonitor()

    def start(self) -> None:
        self.monitor.start(self.detector.embed(self.probe), self.detector.center)

    def record(self) -> dict:
        rep = self.monitor.epoch(self.detector.embed(self.probe), self.detector.center)
        return {k: rep[k] for k in ("spread_ratio", "spread", "eff_rank", "const_dims", "verdict")}
