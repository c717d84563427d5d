"""LeNet-style encoders as in Ruff et al.'s public Deep SVDD code, generalised to any image size.

MNIST (1×28×28): conv 1→8 5×5 → BN → act → pool → conv 8→4 5×5 → BN → act → pool → linear 196→32.
CIFAR-10 (3×32×32): conv 3→32→64→128 (5×5, BN, act, pool) → linear 2048→128.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from deepad.nets.layers import activation, bn


class ConvEncoder(nn.Module):
    def __init__(self, in_shape: tuple[int, int, int], channels: tuple[int, ...], rep_dim: int,
                 bias: bool = False, bn_affine: bool = False, act: str = "leaky_relu"):
        super().__init__()
        c, h, w = in_shape
        blocks: list[nn.Module] = []
        self.sizes: list[tuple[int, int]] = []  # spatial size before each pooling, for the decoder
        for ch in channels:
            blocks += [nn.Conv2d(c, ch, 5, padding=2, bias=bias), bn(ch, bn_affine, 2), activation(act),
                       nn.MaxPool2d(2)]
            self.sizes.append((h, w))
            c, h, w = ch, h // 2, w // 2
        self.features = nn.Sequential(*blocks)
        self.out_shape = (c, h, w)
        self.fc = nn.Linear(c * h * w, rep_dim, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1))


class ConvDecoder(nn.Module):
    """Mirror of ConvEncoder: linear → reshape → (upsample to the encoder's size, conv, BN, act)*."""

    def __init__(self, encoder: ConvEncoder, in_channels: int, rep_dim: int, bias: bool = False,
                 bn_affine: bool = False, act: str = "leaky_relu"):
        super().__init__()
        c, h, w = encoder.out_shape
        self.start = (c, h, w)
        self.fc = nn.Linear(rep_dim, c * h * w, bias=bias)
        self.sizes = list(reversed(encoder.sizes))
        chans = [m.out_channels for m in encoder.features if isinstance(m, nn.Conv2d)]
        outs = list(reversed(chans))[1:] + [in_channels]
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        self.acts = nn.ModuleList()
        cin = c
        for i, cout in enumerate(outs):
            last = i == len(outs) - 1
            self.convs.append(nn.Conv2d(cin, cout, 5, padding=2, bias=bias or last))
            self.norms.append(nn.Identity() if last else bn(cout, bn_affine, 2))
            self.acts.append(nn.Identity() if last else activation(act))
            cin = cout

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = self.fc(z).view(len(z), *self.start)
        for size, conv, norm, act in zip(self.sizes, self.convs, self.norms, self.acts):
            x = F.interpolate(x, size=size, mode="nearest")
            x = act(norm(conv(x)))
        return torch.sigmoid(x)
