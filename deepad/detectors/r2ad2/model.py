"""R2-AD2's alarm network: time-distributed batch norm → LSTM → LSTM → dense → dense → sigmoid.

Input: the gradient sequence g(x) of Eq. 1, shape (n, T, D): T autoencoder snapshots, D = number of
autoencoder parameters. Output: one logit per sample; sigmoid(logit) ∈ [0, 1] is the anomaly
probability f_R2-AD2(x) (1 = anomalous).

Sizes (paper, Sec. 4): "big" LSTM 1000 → LSTM 500 → dense 200 → dense 75; "small" 100 → 50 →
25 → 10 (the paper's choice for its smallest data set). Dense layers are ReLU-activated; the last
hidden layer (75 or 10 units) is the representation `embed` returns.
"""

from __future__ import annotations

import torch
from torch import nn

SIZES = {"big": (1000, 500, 200, 75), "small": (100, 50, 25, 10)}


class TimeDistributedBatchNorm(nn.Module):
    """One BatchNorm over the D gradient coordinates, shared by every time step.

    For an input (n, T, D), coordinate d is normalised with the mean and variance of that
    coordinate over all n·T entries of the batch, then scaled and shifted by learnable γ_d, β_d:
        BN(g)_{t,d} = γ_d · (g_{t,d} − μ_d) / sqrt(σ²_d + ε) + β_d.

    Eq. 3 of the paper fits this layer on real training data only: the statistics (μ, σ²) and the
    affine parameters (γ, β) must not see the synthetic anomalies. `batch_statistics` computes the
    statistics of a real batch (and updates the running averages used at evaluation time);
    `forward(g, stats, affine_grad=False)` then normalises synthetic samples with those same real
    statistics and with γ, β detached, so the synthetic loss term moves neither.

    ε is small because raw gradient coordinates can be tiny: a large ε would flatten exactly the
    small-gradient coordinates this layer is there to scale up (paper, Sec. 3).
    """

    def __init__(self, num_features: int, eps: float = 1e-6, momentum: float = 0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.weight = nn.Parameter(torch.ones(num_features))
        self.bias = nn.Parameter(torch.zeros(num_features))
        self.register_buffer("running_mean", torch.zeros(num_features))
        self.register_buffer("running_var", torch.ones(num_features))
        self.register_buffer("num_batches_tracked", torch.zeros((), dtype=torch.long))

    def batch_statistics(self, g: torch.Tensor, update: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ, σ²) per coordinate over batch and time of `g` (n, T, D); updates the running averages
        (unbiased variance, as torch's BatchNorm) when `update`."""
        flat = g.reshape(-1, g.shape[-1])
        mean = flat.mean(0)
        var = flat.var(0, unbiased=False)
        if update:
            with torch.no_grad():
                m = len(flat)
                unbiased = var * m / max(m - 1, 1)
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(unbiased, self.momentum)
                self.num_batches_tracked += 1
        return mean, var

    def forward(self, g: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor] | None = None,
                affine_grad: bool = True) -> torch.Tensor:
        """Normalise with `stats` when given, else with the batch's own statistics in training mode
        and the running statistics in evaluation mode."""
        if stats is None:
            stats = self.batch_statistics(g) if self.training else (self.running_mean, self.running_var)
        mean, var = stats
        w, b = (self.weight, self.bias) if affine_grad else (self.weight.detach(), self.bias.detach())
        return (g - mean) / torch.sqrt(var + self.eps) * w + b


class AlarmNetwork(nn.Module):
    """f_alarm: gradient sequence (n, T, D) → (logit (n,), last hidden layer (n, h4))."""

    def __init__(self, in_dim: int, sizes: tuple[int, int, int, int] = SIZES["small"]):
        super().__init__()
        h1, h2, h3, h4 = sizes
        self.norm = TimeDistributedBatchNorm(in_dim)
        self.lstm1 = nn.LSTM(in_dim, h1, batch_first=True)
        self.lstm2 = nn.LSTM(h1, h2, batch_first=True)
        self.dense = nn.Sequential(nn.Linear(h2, h3), nn.ReLU(), nn.Linear(h3, h4), nn.ReLU())
        self.out = nn.Linear(h4, 1)

    def forward(self, g: torch.Tensor, stats: tuple[torch.Tensor, torch.Tensor] | None = None,
                affine_grad: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
        """The second LSTM's output at the last snapshot summarises the whole sequence; the dense
        layers map it to the hidden representation and the logit. `stats`, `affine_grad`: see
        TimeDistributedBatchNorm (used to keep synthetic samples out of the normalisation)."""
        h = self.norm(g, stats, affine_grad)
        h, _ = self.lstm1(h)
        h, _ = self.lstm2(h)
        hidden = self.dense(h[:, -1])
        return self.out(hidden).squeeze(1), hidden
