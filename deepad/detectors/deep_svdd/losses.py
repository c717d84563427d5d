"""The maths of Deep SVDD, Deep SAD and Chong et al.'s regularizers as small pure functions.

Shapes: `z` is a minibatch of representations (n, p); `dist` the squared distances ‖φ(x) − c‖² (n,).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def init_center(z: torch.Tensor, eps: float = 0.1) -> torch.Tensor:
    """Mean representation; coordinates closer to 0 than `eps` are pushed to ±eps (0 goes to +eps),
    because a zero coordinate can be matched trivially by zero weights."""
    c = z.mean(dim=0)
    small = c.abs() < eps
    return torch.where(small & (c < 0), torch.full_like(c, -eps),
                       torch.where(small, torch.full_like(c, eps), c))


def squared_distance(z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    return ((z - c) ** 2).sum(dim=1)


def svdd_loss(dist: torch.Tensor, semi: torch.Tensor, *, objective: str = "one-class",
              radius: float | torch.Tensor = 0.0, nu: float = 0.1, eta: float = 1.0,
              eps: float = 1e-6) -> torch.Tensor:
    """Deep SVDD (one-class or soft-boundary) on unlabelled samples, Deep SAD's
    η·(‖φ(x̃) − c‖² + ε)^ỹ on labelled ones (ỹ = +1 normal, −1 anomaly), averaged over the batch."""
    if objective == "soft-boundary":
        r2 = radius ** 2
        unlabelled = torch.clamp(dist - r2, min=0) / nu
    else:
        r2 = 0.0
        unlabelled = dist
    labelled = eta * (dist + eps) ** semi.to(dist.dtype)
    return r2 + torch.where(semi == 0, unlabelled, labelled).mean()


def soft_boundary_radius(dist: torch.Tensor, nu: float, semi: torch.Tensor | None = None) -> float | None:
    """R such that R² is the (1 − ν)-quantile of the squared distances of the samples treated as
    normal: labelled anomalies (semi = −1) are left out, since ν bounds the share of *normal*
    training samples outside the sphere. None when no such sample is in `dist`."""
    dist = dist.detach()
    if semi is not None:
        dist = dist[semi != -1]
    if len(dist) == 0:
        return None
    return float(torch.quantile(dist.sqrt(), 1 - nu))


def noise_regularizer(logits: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Sigmoid cross-entropy against fresh uniform random binary labels (Chong et al., Sec. IV-B).
    Its expectation converges to log 2 once g can no longer fit the noise."""
    labels = torch.randint(0, 2, logits.shape, generator=generator, device="cpu").to(logits)
    return F.binary_cross_entropy_with_logits(logits, labels)


def minibatch_variance(z: torch.Tensor) -> torch.Tensor:
    """Unbiased sample variance of the minibatch, averaged over the p features."""
    return z.var(dim=0, unbiased=True).mean()


def variance_regularizer(z: torch.Tensor, threshold: float) -> torch.Tensor:
    """Hinge max(0, d_t − minibatch variance) (Chong et al., Sec. IV-C)."""
    return torch.clamp(threshold - minibatch_variance(z), min=0)


def variance_threshold(d0: float, epoch: int, r: int) -> float:
    """d_t: d0 divided by 10 every r epochs (epochs counted from 0). Written as a product with a
    negative power, which underflows to 0 after a few hundred divisions, rather than a quotient by
    10^(epoch // r), which overflows a float once epoch // r exceeds 308."""
    return d0 * 10.0 ** -(epoch // r)


def adaptive_weight(prev: float, loss_svdd: float, loss_reg: float, alpha: float, beta: float) -> float:
    """c_t = α·c_{t−1} + β(1 − α)·L_SVDD / L_reg (Chong et al., Sec. IV-D), on detached values.
    When L_reg = 0 (an inactive hinge) the ratio is undefined and c_t keeps its value."""
    if loss_reg <= 0.0:
        return prev
    return alpha * prev + beta * (1 - alpha) * loss_svdd / loss_reg
