"""The maths of AnoEAN (Gherbi et al.) as small pure functions.

The discriminator D outputs a logit l; D(z) = sigmoid(l) is the probability that z was drawn from
the prior p_z = N(0, I) rather than produced by the encoder E. With log D = logsigmoid(l) and
log(1 − D) = logsigmoid(−l) every term below stays finite however confident D becomes.

- Discriminator (Eq. 1):  L_D = −E_z[log D(z)] − E_xn[log(1 − D(E(x_n)))] − E_xa[log(1 − D(E(x_a)))]
  It learns to call prior samples "real" and every encoding, normal or anomalous, "fake".
- Encoder, non-saturating form (Sec. 3.3, Algorithm 1):
      L_E = −E_xn[log D(E(x_n))] − E_xa[log(1 − D(E(x_a)))]
  It makes normal encodings look like prior samples and anomalous encodings look unlike them.
  The saturating Eq. 2, E[log(1 − D(E(x_n)))] + E[log D(E(x_a))], has the same optimum but a
  vanishing gradient while D easily rejects the encodings, which is the case early in training.
- Score (Eq. 3): the Mahalanobis distance a(x) = sqrt((E(x) − μ)ᵀ Σ⁻¹ (E(x) − μ)) to a Gaussian
  N(μ, Σ) fitted on encodings of normal samples.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def discriminator_loss(logit_prior: torch.Tensor, logit_normal: torch.Tensor,
                       logit_anomaly: torch.Tensor) -> dict[str, torch.Tensor]:
    """L_D (Eq. 1) and its three terms: prior samples should get D → 1, encodings D → 0."""
    prior = -F.logsigmoid(logit_prior).mean()
    normal = -F.logsigmoid(-logit_normal).mean()
    anomaly = -F.logsigmoid(-logit_anomaly).mean()
    return {"loss_d": prior + normal + anomaly, "loss_d_prior": prior, "loss_d_normal": normal,
            "loss_d_anomaly": anomaly}


def encoder_loss(logit_normal: torch.Tensor, logit_anomaly: torch.Tensor) -> dict[str, torch.Tensor]:
    """Non-saturating L_E (Sec. 3.3): −mean log D(E(x_n)) − mean log(1 − D(E(x_a)))."""
    normal = -F.logsigmoid(logit_normal).mean()
    anomaly = -F.logsigmoid(-logit_anomaly).mean()
    return {"loss_e": normal + anomaly, "loss_e_normal": normal, "loss_e_anomaly": anomaly}


def fit_gaussian(codes: torch.Tensor, ridge: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean μ and covariance Σ of `codes` (n, d), with `ridge` · (trace Σ / d) added to the diagonal
    so that Σ stays invertible when a direction barely varies or n ≤ d. Computed in float64."""
    codes = codes.double()
    mu = codes.mean(dim=0)
    centred = codes - mu
    cov = centred.T @ centred / max(len(codes) - 1, 1)
    d = cov.shape[0]
    scale = float(torch.trace(cov)) / d
    cov = cov + (ridge * scale + 1e-12) * torch.eye(d, dtype=cov.dtype, device=cov.device)
    return mu, cov


def mahalanobis(codes: torch.Tensor, mu: torch.Tensor, cov: torch.Tensor) -> torch.Tensor:
    """sqrt((e − μ)ᵀ Σ⁻¹ (e − μ)) per row of `codes` (Eq. 3), via a Cholesky solve (no explicit
    inverse): with Σ = L Lᵀ it is the Euclidean norm of L⁻¹(e − μ)."""
    chol = torch.linalg.cholesky(cov)
    centred = (codes.to(cov.dtype) - mu).T
    white = torch.linalg.solve_triangular(chol, centred, upper=False)
    return torch.linalg.vector_norm(white, dim=0)
