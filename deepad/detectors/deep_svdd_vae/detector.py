"""Deep SVDD-VAE (Zhou et al.): a VAE whose latent means are pulled towards a centre.

Training (Algorithm 1): for each minibatch, encode to (μ, log σ²), sample z = μ + σ ⊙ ε, take the
batch centre c = mean of the latent means (detached, see `losses.batch_center`), decode z and
minimise Eq. 12, α·mean[KL + NLL] + mean‖μ(x) − c‖, with RMSprop.

After training: c* = mean of μ(x) over the training data (the network in evaluation mode, as when
scoring), the score s(x) = ‖μ(x) − c*‖ (Eq. 13, with the latent mean, not a noisy sample, so that
the same input always gets the same score), and R* = 95th percentile of the training scores.

It is a one-class method: samples labelled anomalous (known_label = −1) are left out of training rather
than learned as normal; unlabelled samples are all treated as normal.
"""

from __future__ import annotations

import numpy as np
import torch

from deepad.data.parts import Part
from deepad.detectors.training_loop import CollapseWatch, DeepDetector, Phase
from deepad.detectors.torch_utils import as_tensor, batched
from deepad.errors import DeepADError
from deepad.nets import resolve_rep_dim

from . import SPEC, DeepSVDDVAEConfig  # noqa: F401
from . import losses as L
from .model import VAE


def resolve_likelihood(choice: str, x: np.ndarray) -> str:
    """The likelihood to use for training data `x`; Bernoulli needs every value in [0, 1]."""
    in_unit = bool(x.size) and float(x.min()) >= 0.0 and float(x.max()) <= 1.0
    if choice == "auto":
        return "bernoulli" if in_unit else "gaussian"
    if choice == "bernoulli" and not in_unit:
        raise DeepADError(
            f"likelihood=bernoulli: the training data range over [{float(x.min()):.3g}, "
            f"{float(x.max()):.3g}] but a Bernoulli decoder needs values in [0, 1]; use likelihood "
            "gaussian or auto, or a preprocessing that maps into [0, 1] (gcn, unit, minmax)")
    return choice


class DeepSVDDVAE(DeepDetector):
    spec = SPEC

    def _build(self, in_shape: tuple[int, ...], likelihood: str) -> None:
        self.in_shape = tuple(in_shape)
        self.likelihood = likelihood
        self.rep_dim = resolve_rep_dim(self.config.rep_dim, self.in_shape)
        self.vae = VAE(self.in_shape, self.rep_dim, bias=self.config.bias).to(self.device)
        self.c = torch.zeros(self.rep_dim, device=self.device)

    # -- training -----------------------------------------------------------------------------
    def check(self, train: Part) -> None:
        self.require_normals(train)

    def build(self, train: Part) -> None:
        self._build(train.x.shape[1:], resolve_likelihood(self.config.likelihood, train.x[train.known_label != -1]))

    def phases(self, train: Part, val: Part | None):
        cfg = self.config
        nll = L.bernoulli_nll if self.likelihood == "bernoulli" else L.gaussian_nll
        x = as_tensor(train.x[train.known_label != -1], self.device)
        # Keras' RMSprop (the paper's framework) averages squared gradients with ρ = 0.9.
        opt = torch.optim.RMSprop(self.vae.parameters(), lr=cfg.lr, alpha=0.9,
                                  weight_decay=cfg.weight_decay)
        watch = CollapseWatch(self, train)
        watch.start()  # the reference: the latent means at initialisation
        vae_scale = 1.0 / int(np.prod(x.shape[1:])) if cfg.vae_scale == "per-dimension" else 1.0

        def step(idx: torch.Tensor) -> dict:
            xb = x[idx]
            mu, logvar = self.vae.encode(xb)
            eps = torch.randn(mu.shape, generator=self.streams.torch("noise")).to(self.device)
            z = L.reparametrize(mu, logvar, eps)
            dist = L.center_distance(mu, L.batch_center(mu))
            parts = L.svdd_vae_loss(nll(self.vae.decode(z), xb), L.kl_to_standard_normal(mu, logvar),
                                    dist, cfg.alpha, vae_scale)
            opt.zero_grad(set_to_none=True)
            parts["loss"].backward()
            opt.step()
            return {k: parts[k].item() for k in ("loss", "loss_rec", "loss_kl", "loss_svdd")}

        def run_epoch(epoch: int) -> dict:
            self.vae.train()
            return self.batch_means(len(x), cfg.batch_size, step)

        def after(epoch: int) -> dict:
            self._set_center(x)
            return {}

        yield Phase("train", cfg.epochs, run_epoch, finite=("loss", "loss_rec", "loss_kl", "loss_svdd"),
                    after=after, collapse=watch)

    def finish(self, train: Part) -> None:
        super().finish(train)
        self.radius = self._threshold

    def _set_center(self, x: torch.Tensor) -> None:
        """c* = mean latent mean over the training data, with the network as it scores."""
        mu = batched(self._mu, x, self.device)
        self.c = torch.as_tensor(mu.mean(axis=0), dtype=torch.float32, device=self.device)
        self.center = self.c.cpu().numpy()

    def _mu(self, xb: torch.Tensor) -> torch.Tensor:
        self.vae.eval()
        return self.vae(xb)

    # -- using --------------------------------------------------------------------------------
    def embed(self, x: np.ndarray) -> np.ndarray:
        """μ(x), the latent mean, shape (n, d)."""
        return batched(self._mu, x, self.device)

    def score(self, x: np.ndarray) -> np.ndarray:
        """s(x) = ‖μ(x) − c*‖ (Eq. 13)."""
        c = self.c
        return batched(lambda xb: L.center_distance(self._mu(xb), c), x, self.device).astype(np.float64)

    # -- persistence --------------------------------------------------------------------------
    def state(self) -> dict:
        return {"in_shape": self.in_shape, "likelihood": self.likelihood, "vae": self.vae.state_dict(),
                "c": self.c.detach().cpu()}

    def load_state(self, state: dict) -> None:
        self._build(state["in_shape"], state["likelihood"])
        self.vae.load_state_dict(state["vae"])
        self.c = state["c"].to(self.device)
