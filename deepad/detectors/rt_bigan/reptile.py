"""The Reptile maths (Nichol, Achiam & Schulman 2018), as small pure functions on lists of tensors,
in the spirit of openai/supervised-reptile's `variables.py`.

Reptile learns an initialisation Φ that adapts quickly to a new task. One meta-iteration:
copy Φ into W, take K optimiser steps on one task's few samples (W → W_t), then move Φ towards
W_t. Rt-BiGAN's Algorithm 1 makes that move an Adam step whose "gradient" is Φ − W_t (lines
17–22): `meta_gradient`. The original Reptile update is the interpolation Φ ← Φ + ε(W_t − Φ) with
a step size ε annealed linearly over training: `interpolate` and `annealed_step_size`. With a
batch of tasks, W_t is replaced by the average of the adapted weights: `average`.

Tasks are few-sample subsets of the training data; `sample_task` draws one from groups of
similar samples (clusters), the way few-shot tasks are drawn from one class.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

Weights = list[torch.Tensor]


def clone(weights: Sequence[torch.Tensor]) -> Weights:
    """Detached copies (W ← Φ, Algorithm 1 lines 5–7)."""
    return [w.detach().clone() for w in weights]


def subtract(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> Weights:
    """a − b, weight by weight."""
    return [x - y for x, y in zip(a, b)]


def average(many: Sequence[Sequence[torch.Tensor]]) -> Weights:
    """Weight-by-weight mean of several weight lists (the adapted weights of a batch of tasks)."""
    return [torch.stack(ws).mean(0) for ws in zip(*many)]


def meta_gradient(meta: Sequence[torch.Tensor], adapted: Sequence[torch.Tensor]) -> Weights:
    """Φ − W: the direction an optimiser *descends* to move Φ towards the adapted weights W
    (Algorithm 1: "set Φ's gradient to Φ − W, perform a step of Adam")."""
    return subtract(meta, adapted)


def interpolate(meta: Sequence[torch.Tensor], adapted: Sequence[torch.Tensor], step: float) -> Weights:
    """Φ + ε(W − Φ): plain Reptile's meta-update; ε = 1 jumps to W, ε = 0 stays at Φ."""
    return [m + step * (a - m) for m, a in zip(meta, adapted)]


def annealed_step_size(iteration: int, total: int, start: float, final: float) -> float:
    """ε decayed linearly from `start` (iteration 0) to `final` (iteration `total`), as in
    supervised-reptile's `meta_step_size * (1 − frac_done) + meta_step_size_final * frac_done`."""
    frac = min(max(iteration / max(total, 1), 0.0), 1.0)
    return (1 - frac) * start + frac * final


def relative_distance(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> float:
    """‖a − b‖ / ‖b‖ over all weights together (how far meta-training moved Φ from Φ₀)."""
    num = sum(float(((x.detach() - y.detach()) ** 2).sum()) for x, y in zip(a, b))
    den = sum(float((y.detach() ** 2).sum()) for y in b)
    return (num / max(den, 1e-30)) ** 0.5


def sample_task(groups: Sequence[np.ndarray], task_size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of one task: a group chosen with probability proportional to its size (so every
    sample is equally likely to seed a task), then `task_size` of its members, without replacement
    when the group is large enough, else with."""
    sizes = np.array([len(g) for g in groups], dtype=np.float64)
    group = groups[rng.choice(len(groups), p=sizes / sizes.sum())]
    return rng.choice(group, size=task_size, replace=len(group) < task_size)
