"""The maths of Deep SVDD-VAE (Zhou et al.) as small pure functions.

The objective (Eq. 12) for a minibatch of n samples is

    L = α · 1/n Σ_i [ KL(q(z|x_i) ‖ N(0, I)) − log p(x_i | z_i) ]  +  1/n Σ_i ‖μ(x_i) − c‖

- q(z|x) = N(μ(x), diag σ²(x)) is the encoder's Gaussian; z_i = μ_i + σ_i ⊙ ε, ε ~ N(0, I) is one
  reparametrised sample per input (L = 1 in Eq. 4).
- KL has the closed form of Eq. 5: ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²).
- −log p(x|z) is the decoder's negative log-likelihood: Bernoulli (binary cross-entropy summed over
  the pixels) for data in [0, 1], or a unit-variance Gaussian (½‖x − x̂‖² + D/2·log 2π).
- The SVDD term is the plain (not squared) Euclidean distance of the latent mean to the centre c.

Shapes: `mu`, `logvar`, `z` are (n, d); `x`, `x_hat` are (n, ...) and are flattened per sample.
Every per-sample function returns a vector of shape (n,).
"""

from __future__ import annotations

import math

import torch

LOG_EPS = 1e-7  # keeps log p and log(1 − p) finite when the decoder saturates


def reparametrize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
    """z = μ + σ ⊙ ε with σ = exp(½ log σ²); `eps` is drawn by the caller so seeding stays explicit."""
    return mu + torch.exp(0.5 * logvar) * eps


def kl_to_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(μ, diag σ²) ‖ N(0, I)) = ½ Σ_j (μ_j² + σ_j² − 1 − log σ_j²), per sample (Eq. 5)."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=1)


def bernoulli_nll(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """−log p(x|z) for a Bernoulli decoder with means x̂ ∈ (0, 1): the binary cross-entropy
    −Σ [x log x̂ + (1 − x) log(1 − x̂)], summed over the features. Valid for x in [0, 1]."""
    x_hat, x = x_hat.flatten(1), x.flatten(1)
    return -(x * torch.log(x_hat.clamp_min(LOG_EPS))
             + (1 - x) * torch.log((1 - x_hat).clamp_min(LOG_EPS))).sum(dim=1)


def gaussian_nll(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """−log p(x|z) for a Gaussian decoder N(x̂, I): ½‖x − x̂‖² + D/2 · log 2π, D = features."""
    x_hat, x = x_hat.flatten(1), x.flatten(1)
    return 0.5 * (x - x_hat).pow(2).sum(dim=1) + 0.5 * x.shape[1] * math.log(2 * math.pi)


def batch_center(mu: torch.Tensor) -> torch.Tensor:
    """c for this minibatch: the mean of the latent means (Algorithm 1, line 5), detached.

    Algorithm 1 computes c from the batch and then differentiates Eq. 12 with respect to the
    network weights only (line 8), so c is treated as a constant of the step: gradients pull
    each μ(x_i) towards the batch centre rather than also moving the centre towards the outliers.
    """
    return mu.detach().mean(dim=0)


def center_distance(mu: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """‖μ(x) − c‖ per sample: the SVDD term of Eq. 12 and the anomaly score of Eq. 13."""
    return torch.linalg.vector_norm(mu - c, dim=1)


def svdd_vae_loss(rec_nll: torch.Tensor, kl: torch.Tensor, dist: torch.Tensor,
                  alpha: float, vae_scale: float = 1.0) -> dict[str, torch.Tensor]:
    """Eq. 12 from its per-sample parts: α·s·mean(KL + NLL) + mean(‖μ − c‖), where s = 1 is the
    paper's (the negative ELBO per input) and s = 1/D expresses it per input dimension (`vae_scale`
    "per-dimension"). Returns the total and its three batch means, unscaled (for the records)."""
    loss_rec, loss_kl, loss_svdd = rec_nll.mean(), kl.mean(), dist.mean()
    return {"loss": alpha * vae_scale * (loss_kl + loss_rec) + loss_svdd, "loss_rec": loss_rec,
            "loss_kl": loss_kl, "loss_svdd": loss_svdd}
