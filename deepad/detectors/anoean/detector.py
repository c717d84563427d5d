"""AnoEAN (Gherbi et al.): an encoder trained adversarially against a latent discriminator.

Networks: the encoder E maps an input to a d-dimensional code (the project's LeNet for images, an
MLP for tabular data); the discriminator D is an MLP (32, 16, 1) on codes. Each iteration
(Algorithm 1) draws m_n samples treated as normal, m_a labelled anomalies and m = m_n + m_a prior
samples z ~ N(0, I); D takes `d_steps` Adam steps on L_D with E frozen, then E one Adam step on
the non-saturating L_E with D frozen (see `losses`). Normal and anomalous inputs go through E in
one forward pass so that BatchNorm normalises them with the same batch statistics.

Score (Eq. 3): Mahalanobis distance of E(x) to N(μ, Σ), fitted as the paper does on the codes
of held-out normal samples: the validation part's normals (`gaussian_fit="validation"`, the
default; the set-up's labelled validation data, never the test part). The training codes are the
ones the encoder was trained to push onto N(0, I), so a Gaussian fitted on them is tighter than
what unseen normals look like; `gaussian_fit="training"` fits it there anyway (every training
sample not labelled anomalous, pollution included), and is what `fit` falls back to without a
validation part holding at least two normals. A small ridge keeps Σ invertible. The threshold is
the 95th percentile of the scores of the training samples not labelled anomalous (not of the
validation normals: their own fit makes their scores too small, more so the fewer they are).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from deepad.data.parts import Part
from deepad.detectors.training_loop import DeepDetector, Phase
from deepad.detectors.torch_utils import as_tensor, batched
from deepad.nets import NetSpec, build_encoder

from . import SPEC, AnoEANConfig  # noqa: F401
from . import losses as L


def anomaly_share(batch_size: int, n_normal: int, n_anomaly: int) -> int:
    """m_a: labelled anomalies per iteration, in proportion to the training data, at least 1 and
    never more than exist, leaving at least 2 normal samples (BatchNorm) in the batch."""
    m_a = round(batch_size * n_anomaly / (n_normal + n_anomaly))
    return int(min(max(m_a, 1), n_anomaly, batch_size - 2))


DISC_HIDDEN = (32, 16)  # the paper's discriminator: dense 32, 16, then one output


def discriminator(in_dim: int, hidden: tuple[int, ...] = DISC_HIDDEN) -> nn.Module:
    """D: MLP with leaky ReLU (slope 0.2, as in GAN discriminators), one output logit, no BatchNorm
    (its input batches mix prior samples and codes, whose statistics must not be pooled)."""
    layers: list[nn.Module] = []
    d = in_dim
    for h in hidden:
        layers += [nn.Linear(d, h), nn.LeakyReLU(0.2)]
        d = h
    layers.append(nn.Linear(d, 1))
    return nn.Sequential(*layers)


class AnoEAN(DeepDetector):
    spec = SPEC

    def _build(self, in_shape: tuple[int, ...]) -> None:
        cfg = self.config
        self.in_shape = tuple(in_shape)
        self.rep_dim = cfg.rep_dim
        self.encoder = build_encoder(self.in_shape, NetSpec(rep_dim=cfg.rep_dim, bias=cfg.bias,
                                                            bn_affine=cfg.bias)).to(self.device)
        self.disc = discriminator(cfg.rep_dim).to(self.device)
        self.mu = torch.zeros(cfg.rep_dim, dtype=torch.float64, device=self.device)
        self.cov = torch.eye(cfg.rep_dim, dtype=torch.float64, device=self.device)

    # -- training -----------------------------------------------------------------------------
    def check(self, train: Part) -> None:
        self._require_known_anomalies(train)
        self.require_normals(train, purpose=" to fit the encoder and the normal Gaussian")

    def build(self, train: Part) -> None:
        self._build(train.x.shape[1:])

    def phases(self, train: Part, val: Part | None):
        cfg = self.config
        x_n = as_tensor(train.x[train.known_label != -1], self.device)
        x_a = as_tensor(train.x[train.known_label == -1], self.device)
        m_a = anomaly_share(cfg.batch_size, len(x_n), len(x_a))
        x_fit = x_n
        if cfg.gaussian_fit == "validation" and val is not None and np.sum(val.target == 0) >= 2:
            x_fit = as_tensor(val.x[val.target == 0], self.device)
        self.fitted_on = "validation" if x_fit is not x_n else "training"
        betas = (cfg.beta1, 0.999)
        opt_e = torch.optim.Adam(self.encoder.parameters(), lr=cfg.lr, betas=betas)
        opt_d = torch.optim.Adam(self.disc.parameters(), lr=cfg.lr, betas=betas)

        def step(idx_n: torch.Tensor) -> dict:
            idx_a = torch.randint(len(x_a), (m_a,), generator=self.streams.torch("anomaly-batches")).to(self.device)
            xb = torch.cat([x_n[idx_n], x_a[idx_a]])
            n_n = len(idx_n)
            # D steps, E frozen (its codes computed without a graph)
            for _ in range(cfg.d_steps):
                with torch.no_grad():
                    codes = self.encoder(xb)
                z = torch.randn((len(xb), cfg.rep_dim), generator=self.streams.torch("noise")).to(self.device)
                d_parts = L.discriminator_loss(self.disc(z), self.disc(codes[:n_n]), self.disc(codes[n_n:]))
                opt_d.zero_grad(set_to_none=True)
                d_parts["loss_d"].backward()
                opt_d.step()
            # E step, D frozen (only E's optimizer steps; D's gradients are cleared before its next step)
            codes = self.encoder(xb)
            e_parts = L.encoder_loss(self.disc(codes[:n_n]), self.disc(codes[n_n:]))
            opt_e.zero_grad(set_to_none=True)
            e_parts["loss_e"].backward()
            opt_e.step()
            return {k: v.item() for k, v in {**d_parts, **e_parts}.items()}

        def run_epoch(epoch: int) -> dict:
            self.encoder.train()
            rec = self.batch_means(len(x_n), cfg.batch_size - m_a, step)
            rec["loss"] = rec["loss_d"] + rec["loss_e"]
            return rec

        def after(epoch: int) -> dict:
            self._fit_gaussian(x_fit)
            return {"m_a": m_a}

        yield Phase("train", cfg.epochs, run_epoch, finite=("loss_d", "loss_e"), after=after)

    def _fit_gaussian(self, x_n: torch.Tensor) -> None:
        """μ, Σ of the codes of the samples treated as normal, with the encoder as it scores."""
        codes = torch.as_tensor(self.embed(x_n), device=self.device)
        self.mu, self.cov = L.fit_gaussian(codes, self.config.ridge)
        self.center = self.mu.float().cpu().numpy()

    def _code(self, xb: torch.Tensor) -> torch.Tensor:
        self.encoder.eval()
        return self.encoder(xb)

    # -- using --------------------------------------------------------------------------------
    def embed(self, x: np.ndarray | torch.Tensor) -> np.ndarray:
        """E(x), shape (n, d)."""
        return batched(self._code, x, self.device)

    def score(self, x: np.ndarray) -> np.ndarray:
        """a(x) = Mahalanobis distance of E(x) to N(μ, Σ) (Eq. 3)."""
        mu, cov = self.mu, self.cov
        return batched(lambda xb: L.mahalanobis(self._code(xb), mu, cov), x,
                       self.device).astype(np.float64)

    # -- persistence --------------------------------------------------------------------------
    def state(self) -> dict:
        return {"in_shape": self.in_shape, "encoder": self.encoder.state_dict(),
                "disc": self.disc.state_dict(), "mu": self.mu.cpu(), "cov": self.cov.cpu()}

    def load_state(self, state: dict) -> None:
        self._build(state["in_shape"])
        self.encoder.load_state_dict(state["encoder"])
        self.disc.load_state_dict(state["disc"])
        self.mu, self.cov = state["mu"].to(self.device), state["cov"].to(self.device)
