"""What EGBAD and Rt-BiGAN share: the BiGAN networks (`deepad.nets.bigan`), one adversarial step,
training epochs and the score of EGBAD's Eq. 2,

    A(x) = α·‖x − G(E(x))‖₁ + (1 − α)·‖f(x, E(x)) − f(G(E(x)), E(x))‖₁,

f being D's last hidden layer. `embed` is the latent code E(x). One optimiser step of the BiGAN
("an adversarial step") updates D on Eq. 1, then E and G on the non-saturating form of Eq. 1,
each with Adam (β₁ = 0.5, as is usual for GANs). With `spectral_norm`, D's layers are spectrally
normalised; while `average` is kept (EGBAD's weight_average), it is the exponential moving
average of the weights, and it is what scores.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn.utils import parametrize

from deepad.data.parts import Part
from deepad.detectors._shared.configs import BiGANConfig
from deepad.detectors.training_loop import DeepDetector, Phase
from deepad.detectors.torch_utils import batched
from deepad.nets.bigan import BiGAN, anomaly_score, average_into, discriminator_loss, encoder_generator_loss

BETAS = (0.5, 0.999)


class BiGANDetector(DeepDetector):
    """What EGBAD and Rt-BiGAN share: the networks, one adversarial step, training epochs, the score."""

    Config = BiGANConfig

    # -- building -----------------------------------------------------------------------------
    def _build(self, in_shape: tuple[int, ...], unit_output: bool) -> None:
        self.in_shape, self.unit_output = tuple(in_shape), bool(unit_output)
        cfg = self.config
        self.model = BiGAN(self.in_shape, cfg.latent_dim, cfg.width, self.unit_output,
                           cfg.spectral_norm).to(self.device)
        self.average: BiGAN | None = None  # the weights' moving average, while training (EGBAD)

    def _optimizers(self, lr: float) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        m = self.model
        return (torch.optim.Adam(m.D.parameters(), lr=lr, betas=BETAS),
                torch.optim.Adam(list(m.E.parameters()) + list(m.G.parameters()), lr=lr, betas=BETAS))

    def check(self, train: Part) -> None:
        self.require_normals(train)

    def build(self, train: Part) -> None:
        """Sigmoid output when the training data lie in [0, 1]."""
        self._build(train.x.shape[1:], float(train.x.min()) >= 0.0 and float(train.x.max()) <= 1.0)

    # -- training -----------------------------------------------------------------------------
    def _step(self, xb: torch.Tensor, opt_d, opt_ge, gen: torch.Generator) -> tuple[float, float]:
        """One adversarial step on the batch `xb`: D, then E and G. Returns (loss_d, loss_ge)."""
        m = self.model
        m.train()  # dropout in D (scoring in between switches to evaluation mode)
        z = torch.randn(len(xb), m.latent_dim, generator=gen).to(self.device)
        z_enc, x_gen = m.E(xb), m.G(z)
        # D's weights are the same for both of its calls in each half of the step: with spectral
        # normalisation, one power iteration and one normalised weight per half, not per call
        with parametrize.cached():
            logit_real, _ = m.D(xb, z_enc.detach())
            logit_fake, _ = m.D(x_gen.detach(), z)
            loss_d = discriminator_loss(logit_real, logit_fake)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
        opt_d.step()
        with parametrize.cached():
            logit_real, _ = m.D(xb, z_enc)
            logit_fake, _ = m.D(x_gen, z)
            loss_ge = encoder_generator_loss(logit_real, logit_fake)
        opt_ge.zero_grad(set_to_none=True)
        loss_ge.backward()
        opt_ge.step()
        return loss_d.item(), loss_ge.item()

    def _train_phase(self, x: torch.Tensor, epochs: int, opts, first_epoch: int = 0, extras="budget",
                     **fields) -> Phase:
        """`epochs` passes over `x` in minibatches, one record per epoch (with `fields` added)."""

        def run_epoch(epoch: int) -> dict:
            sums, n = np.zeros(2), 0
            for idx in self.batches(len(x), self.config.batch_size):
                sums += self._step(x[idx], *opts, self.streams.torch("noise"))
                n += 1
                if self.average is not None:
                    average_into(self.average, self.model, self.config.weight_average)
            return {"loss": float(sums.sum() / n), "loss_d": float(sums[0] / n), "loss_ge": float(sums[1] / n)}

        return Phase("train", epochs, run_epoch, finite=("loss", "loss_d", "loss_ge"), extras=extras,
                     first_epoch=first_epoch, fields=fields)

    # -- using --------------------------------------------------------------------------------
    @property
    def scorer(self) -> BiGAN:
        """The networks that score: the weights' moving average while it is kept, else the model."""
        return self.average if self.average is not None else self.model

    def _score_tensor(self, xb: torch.Tensor) -> torch.Tensor:
        m = self.scorer
        z = m.E(xb)
        x_rec = m.G(z)
        return anomaly_score(xb, x_rec, m.D.features(xb, z), m.D.features(x_rec, z), self.config.alpha)

    def score(self, x: np.ndarray) -> np.ndarray:
        """A(x) = α·‖x − G(E(x))‖₁ + (1 − α)·‖f(x, E(x)) − f(G(E(x)), E(x))‖₁ (Eq. 2)."""
        self.scorer.eval()
        return batched(self._score_tensor, x, self.device).astype(np.float64)

    def embed(self, x: np.ndarray) -> np.ndarray:
        """The latent code E(x)."""
        self.scorer.eval()
        return batched(self.scorer.E, x, self.device)

    # -- persistence --------------------------------------------------------------------------
    def state(self) -> dict:
        return {"in_shape": self.in_shape, "unit_output": self.unit_output,
                "spectral_norm": self.config.spectral_norm, "model": self.scorer.state_dict()}

    def load_state(self, state: dict) -> None:
        # model files written before spectral normalisation existed have no such key: plain layers
        self.config = self.config.model_copy(update={"spectral_norm": state.get("spectral_norm", False)})
        self._build(state["in_shape"], state["unit_output"])
        self.model.load_state_dict(state["model"])


