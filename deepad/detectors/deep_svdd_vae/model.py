"""The variational autoencoder of Deep SVDD-VAE (Zhou et al., Table 2).

Encoder, for MNIST-sized images: conv 8 filters 5×5 → BN → leaky ReLU → max-pool → conv 4 filters
5×5 → BN → leaky ReLU → max-pool → dense. The dense layer outputs 2·d numbers, read as the mean
μ(x) and the log-variance log σ²(x) of q(z|x) (one linear map to 2·d outputs is the same as two
linear heads of d outputs each). Colour images of 32×32 or more get the CIFAR-10 stack (32, 64,
128 filters); tabular data an MLP. The decoder mirrors the encoder, max-pooling replaced by
upsampling, and ends in a sigmoid for images (Bernoulli means) or a linear layer for tabular data.

The paper lifts Deep SVDD's restrictions (no bias terms, no affine BatchNorm): the reconstruction
term and the sampling noise keep the latent codes apart, so bias terms are allowed here.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from deepad.nets import NetSpec, build_encoder
from deepad.nets.lenet import ConvDecoder, ConvEncoder
from deepad.nets.mlp import MLPDecoder


class VAE(nn.Module):
    def __init__(self, in_shape: tuple[int, ...], latent_dim: int, bias: bool = True):
        super().__init__()
        self.in_shape = tuple(in_shape)
        self.latent_dim = latent_dim
        spec = NetSpec(rep_dim=2 * latent_dim, bias=bias, bn_affine=bias)
        self.encoder = build_encoder(self.in_shape, spec)
        if isinstance(self.encoder, ConvEncoder):
            self.decoder = ConvDecoder(self.encoder, self.in_shape[0], latent_dim, bias, bias)
        else:
            self.decoder = MLPDecoder(latent_dim, spec.hidden, int(math.prod(self.in_shape)), bias, bias)

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(μ(x), log σ²(x)), each (n, d)."""
        mu, logvar = self.encoder(x).chunk(2, dim=1)
        return mu, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The decoder's mean x̂, shaped like the input."""
        return self.decoder(z).view(len(z), *self.in_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The latent mean μ(x): what the detector scores and embeds."""
        return self.encode(x)[0]
