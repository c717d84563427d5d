from __future__ import annotations

from torch import nn

ACTIVATIONS = ("leaky_relu", "sigmoid", "tanh")


def activation(name: str) -> nn.Module:
    if name == "leaky_relu":
        return nn.LeakyReLU(0.01)
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "tanh":
        return nn.Tanh()
    raise ValueError(f"activation={name!r}; choose one of {ACTIVATIONS}")


def bn(num: int, affine: bool | None, dims: int) -> nn.Module:
    """BatchNorm (eps 1e-4 as in Ruff et al.); affine=None means no BatchNorm at all."""
    if affine is None:
        return nn.Identity()
    cls = nn.BatchNorm2d if dims == 2 else nn.BatchNorm1d
    return cls(num, eps=1e-4, affine=affine)
