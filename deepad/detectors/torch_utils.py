"""Training helpers shared by the deep detectors: device-resident batching and per-epoch records.

Small datasets live on the device as whole tensors and are batched by index: a DataLoader's
per-sample Python overhead would dominate the cost of a LeNet step.
"""

from __future__ import annotations

import random
from typing import Callable, Iterator

import numpy as np
import torch

from deepad import metrics
from deepad.diagnostics import collapse_report

PROBE_SIZE = 512  # samples whose embeddings are snapshot every epoch


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


def probe_indices(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sort(rng.permutation(n)[:PROBE_SIZE])


def epoch_extras(detector, val, probe_x: np.ndarray | None,
                 reference: float | None = None) -> tuple[dict, np.ndarray | None]:
    """Validation AUC and collapse numbers for an epoch record, plus the probe-set snapshot."""
    extras: dict = {}
    if val is not None and len(val) and len(np.unique(val.target)) == 2:
        extras["val_auc"] = metrics.auc(val.target, detector.score(val.x))
    snapshot = None
    if probe_x is not None and len(probe_x) > 1:
        snapshot = detector.embed(probe_x).astype(np.float32)
        rep = collapse_report(snapshot, detector.center, reference)
        extras.update({k: rep[k] for k in ("rel_spread", "const_share", "eff_rank")})
        extras["collapsed"] = rep["collapsed"]
    return extras, snapshot


def extras_from(val_target: np.ndarray | None, val_scores: np.ndarray | None,
                snapshot: np.ndarray | None, center: np.ndarray | None = None,
                reference: float | None = None) -> dict:
    """The numbers `epoch_extras` records, from scores and a probe embedding the caller already
    computed (for detectors whose features are costly to recompute every epoch, e.g. R2-AD2's
    per-sample gradients, which are computed once for the validation set and cached)."""
    extras: dict = {}
    if val_target is not None and val_scores is not None and len(np.unique(val_target)) == 2:
        extras["val_auc"] = metrics.auc(val_target, val_scores)
    if snapshot is not None and len(snapshot) > 1:
        rep = collapse_report(snapshot, center, reference)
        extras.update({k: rep[k] for k in ("rel_spread", "const_share", "eff_rank")})
        extras["collapsed"] = rep["collapsed"]
    return extras
