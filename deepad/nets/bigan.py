"""BiGAN networks (Donahue et al.; EGBAD, Zenati et al. 2018): encoder E, generator G, joint
discriminator D(x, z).

- E: x → z, a data sample to its latent code.
- G: z → x, a latent code to a sample (sigmoid output when the data lie in [0, 1]).
- D: (x, z) → logit that the pair is "real" (x from the data, z = E(x)) rather than "fake"
  (z from the prior, x = G(z)). Its last hidden layer f(x, z) is the feature space of the
  feature-matching score L_D.

Images whose height and width are multiples of 4 get small DCGAN-style conv nets (two stride-2
4×4 convolutions each way, as EGBAD's MNIST nets, with fewer channels for CPU-sized runs); any
other input gets MLPs on the flattened features. As in EGBAD's public code, D uses dropout 0.5
after every hidden layer (a weaker D keeps the adversarial game going on small data), leaky ReLU
slope 0.1. There is no BatchNorm: Reptile's inner loops train on a handful of samples, where
batch statistics are meaningless, and scoring uses the networks in evaluation mode (no dropout),
so a score is a function of the input alone. Without BatchNorm the weights keep PyTorch's default
(fan-in scaled) initialisation: DCGAN's N(0, 0.02) assumes BatchNorm re-scales every layer, and
without it the signal vanishes through the layers (at initialisation E(x) had a standard
deviation of 0.003 against the N(0, 1) prior, G's output was 0.5 ± 1e-6 for every input and D's
logits were ±1e-4), which left the first tens of epochs to escape a degenerate start.

Optionally every layer of D is spectrally normalised (Miyato et al. 2018, as in ALAD, Zenati et
al.'s later BiGAN detector): each weight is divided by its largest singular value, so D is
1-Lipschitz layer by layer and cannot win the game outright early in training. `average_into`
keeps an exponential moving average of the weights, which EGBAD's code scores with (Polyak
averaging: the last iterate of a GAN oscillates, the average much less).
"""

from __future__ import annotations

import math

import torch
from torch import nn

LEAK = 0.1
DROPOUT = 0.5


def uses_conv(in_shape: tuple[int, ...]) -> bool:
    return len(in_shape) == 3 and in_shape[1] % 4 == 0 and in_shape[2] % 4 == 0


class Encoder(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], latent_dim: int, width: int):
        super().__init__()
        if uses_conv(in_shape):
            c, h, w = in_shape
            self.net = nn.Sequential(
                nn.Conv2d(c, width, 4, 2, 1), nn.LeakyReLU(LEAK),
                nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(LEAK),
                nn.Flatten(), nn.Linear(2 * width * (h // 4) * (w // 4), latent_dim))
        else:
            d = math.prod(in_shape)
            self.net = nn.Sequential(nn.Flatten(), nn.Linear(d, 4 * width), nn.LeakyReLU(LEAK),
                                     nn.Linear(4 * width, latent_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Generator(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], latent_dim: int, width: int, unit_output: bool):
        super().__init__()
        self.in_shape = tuple(in_shape)
        out = nn.Sigmoid() if unit_output else nn.Identity()
        if uses_conv(in_shape):
            c, h, w = in_shape
            self.net = nn.Sequential(
                nn.Linear(latent_dim, 2 * width * (h // 4) * (w // 4)), nn.ReLU(),
                nn.Unflatten(1, (2 * width, h // 4, w // 4)),
                nn.ConvTranspose2d(2 * width, width, 4, 2, 1), nn.ReLU(),
                nn.ConvTranspose2d(width, c, 4, 2, 1), out)
        else:
            d = math.prod(in_shape)
            self.net = nn.Sequential(nn.Linear(latent_dim, 4 * width), nn.ReLU(), nn.Linear(4 * width, d), out)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).reshape(len(z), *self.in_shape)


class Discriminator(nn.Module):
    """D(x, z): an x-path and a z-path, concatenated, one joint hidden layer f(x, z), one logit."""

    def __init__(self, in_shape: tuple[int, ...], latent_dim: int, width: int):
        super().__init__()
        if uses_conv(in_shape):
            c, h, w = in_shape
            self.x_path = nn.Sequential(
                nn.Conv2d(c, width, 4, 2, 1), nn.LeakyReLU(LEAK), nn.Dropout(DROPOUT),
                nn.Conv2d(width, 2 * width, 4, 2, 1), nn.LeakyReLU(LEAK), nn.Dropout(DROPOUT), nn.Flatten())
            x_dim = 2 * width * (h // 4) * (w // 4)
        else:
            self.x_path = nn.Sequential(nn.Flatten(), nn.Linear(math.prod(in_shape), 4 * width),
                                        nn.LeakyReLU(LEAK), nn.Dropout(DROPOUT))
            x_dim = 4 * width
        self.z_path = nn.Sequential(nn.Linear(latent_dim, 4 * width), nn.LeakyReLU(LEAK), nn.Dropout(DROPOUT))
        self.joint = nn.Sequential(nn.Linear(x_dim + 4 * width, 8 * width), nn.LeakyReLU(LEAK),
                                   nn.Dropout(DROPOUT))
        self.out = nn.Linear(8 * width, 1)

    def features(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """f(x, z): the last hidden layer, where feature matching compares real and reconstructed pairs."""
        return self.joint(torch.cat([self.x_path(x), self.z_path(z)], dim=1))

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(logit (n,), features f(x, z))."""
        f = self.features(x, z)
        return self.out(f).squeeze(1), f


class BiGAN(nn.Module):
    """The three networks as one module, so that Reptile can treat all weights as one vector."""

    def __init__(self, in_shape: tuple[int, ...], latent_dim: int = 32, width: int = 16,
                 unit_output: bool = True, spectral_norm: bool = False):
        super().__init__()
        self.latent_dim = latent_dim
        self.E = Encoder(in_shape, latent_dim, width)
        self.G = Generator(in_shape, latent_dim, width, unit_output)
        self.D = Discriminator(in_shape, latent_dim, width)
        if spectral_norm:
            for layer in list(self.D.modules()):
                if isinstance(layer, (nn.Linear, nn.Conv2d)):
                    nn.utils.parametrizations.spectral_norm(layer)


@torch.no_grad()
def average_into(average: nn.Module, model: nn.Module, decay: float) -> None:
    """One step of the exponential moving average of `model`'s weights kept in `average` (same
    architecture): w̄ ← decay·w̄ + (1 − decay)·w. Buffers (spectral normalisation's power-iteration
    vectors) are copied, not averaged: they estimate the live weights' singular vectors."""
    for a, w in zip(average.parameters(), model.parameters()):
        a.lerp_(w, 1 - decay)
    for a, b in zip(average.buffers(), model.buffers()):
        a.copy_(b)


# -- the maths of training and scoring ---------------------------------------------------------
def discriminator_loss(logit_real: torch.Tensor, logit_fake: torch.Tensor) -> torch.Tensor:
    """D's side of Eq. 1, as a loss to minimise: −log D(x, E(x)) − log(1 − D(G(z), z)), batch means."""
    bce = nn.functional.binary_cross_entropy_with_logits
    return bce(logit_real, torch.ones_like(logit_real)) + bce(logit_fake, torch.zeros_like(logit_fake))


def encoder_generator_loss(logit_real: torch.Tensor, logit_fake: torch.Tensor) -> torch.Tensor:
    """E's and G's side of Eq. 1 in the usual non-saturating form (labels swapped):
    −log(1 − D(x, E(x))) − log D(G(z), z). It has the same fixed point as minimising V but gives
    E and G useful gradients while D still wins easily."""
    bce = nn.functional.binary_cross_entropy_with_logits
    return bce(logit_real, torch.zeros_like(logit_real)) + bce(logit_fake, torch.ones_like(logit_fake))


def anomaly_score(x: torch.Tensor, x_rec: torch.Tensor, f_real: torch.Tensor, f_rec: torch.Tensor,
                  alpha: float) -> torch.Tensor:
    """Eq. 2 (EGBAD's score): A(x) = α·L_G(x) + (1 − α)·L_D(x) per sample, with
    L_G(x) = ‖x − G(E(x))‖₁ (summed over the input) and the feature-matching distance
    L_D(x) = ‖f(x, E(x)) − f(G(E(x)), E(x))‖₁ in D's last hidden layer."""
    l_g = (x - x_rec.reshape(x.shape)).abs().flatten(1).sum(1)
    l_d = (f_real - f_rec).abs().sum(1)
    return alpha * l_g + (1 - alpha) * l_d
