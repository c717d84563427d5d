from __future__ import annotations

import torch
from torch import nn

from deepad.nets.layers import activation, bn


class MLPEncoder(nn.Module):
    """Linear -> BN -> activation per hidden layer, then a linear map to the representation."""

    def __init__(self, in_dim: int, hidden: tuple[int, ...], rep_dim: int, bias: bool = False,
                 bn_affine: bool = False, act: str = "leaky_relu"):
        super().__init__()
        layers: list[nn.Module] = []
        d = in_dim
        for h in hidden:
            layers += [nn.Linear(d, h, bias=bias), bn(h, bn_affine, 1), activation(act)]
            d = h
        layers.append(nn.Linear(d, rep_dim, bias=bias))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1))


class MLPDecoder(nn.Module):
    def __init__(self, rep_dim: int, hidden: tuple[int, ...], out_dim: int, bias: bool = False,
                 bn_affine: bool = False, act: str = "leaky_relu"):
        super().__init__()
        layers: list[nn.Module] = []
        d = rep_dim
        for h in reversed(hidden):
            layers += [nn.Linear(d, h, bias=bias), bn(h, bn_affine, 1), activation(act)]
            d = h
        layers.append(nn.Linear(d, out_dim, bias=True))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)
