"""Tensor helpers shared by the deep detectors: seeding and the per-purpose random streams,
device-resident batching, the probe set and the epochs whose probe snapshot is scheduled.

Small datasets live on the device as whole tensors and are batched by index: a DataLoader's
per-sample Python overhead would dominate the cost of a LeNet step.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import random
from typing import Callable, Iterator

import numpy as np
import torch

PROBE_SIZE = 256  # validation samples whose embeddings are snapshot
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


class RandomStreams:
    """One independent random stream per purpose, each derived from the run's seed, so that two
    runs that differ in one setting still share every stream that setting does not use (the
    regularized and the plain arm of a comparison see the same minibatches and start from the same
    weights).

    - "batches" (minibatch order): a torch generator seeded with the run's seed;
    - initialisation: torch's global generator, seeded with the run's seed before the networks are
      built (`seed_everything`); a module only some arms have (Deep SVDD's noise head) is built in
      `init_scope` of its own name, so it draws nothing from the others' initialisation;
    - every other purpose ("noise" for a method's random labels, latent draws and
      reparametrisation, "synthetic" for synthetic anomalies, "sampling" for subsets, "augment" for
      a method that augments its data): a child of numpy's `SeedSequence(seed)` keyed by the
      purpose's name, as a torch generator (`torch`) or a numpy one (`numpy`); each is created
      once per run and then only advances."""

    def __init__(self, seed: int):
        self.seed = int(seed)
        self._torch: dict[str, torch.Generator] = {}
        self._numpy: dict[str, np.random.Generator] = {}

    def seed_of(self, purpose: str) -> int:
        """The 63-bit seed of `purpose`'s stream ("batches": the run's seed itself)."""
        if purpose == "batches":
            return self.seed
        return stream_seed(self.seed, purpose)

    def torch(self, purpose: str) -> torch.Generator:
        if purpose not in self._torch:
            self._torch[purpose] = torch.Generator().manual_seed(self.seed_of(purpose))
        return self._torch[purpose]

    def numpy(self, purpose: str) -> np.random.Generator:
        if purpose not in self._numpy:
            self._numpy[purpose] = np.random.default_rng(self.seed_of(purpose))
        return self._numpy[purpose]


def stream_seed(seed: int, purpose: str) -> int:
    """A 63-bit seed for `purpose`: numpy's SeedSequence of the run's seed, spawned with a key
    derived from the purpose's name (stable across processes and versions)."""
    key = int.from_bytes(hashlib.sha256(purpose.encode()).digest()[:4], "little")
    ss = np.random.SeedSequence(int(seed) % 2 ** 64, spawn_key=(key,))
    return int(ss.generate_state(1, np.uint64)[0] >> np.uint64(1))


@contextlib.contextmanager
def init_scope(seed: int, part: str):
    """Build a module whose initialisation must not shift any other's: torch's global generator is
    seeded with `part`'s own stream inside, and restored afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(stream_seed(seed, "init/" + part))
        yield


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

