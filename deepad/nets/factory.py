"""Pick the backbone for an input shape: the one place that maps data to architecture."""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from deepad.nets.lenet import ConvDecoder, ConvEncoder
from deepad.nets.mlp import MLPDecoder, MLPEncoder


@dataclass(frozen=True)
class NetSpec:
    rep_dim: int = 32
    bias: bool = False
    bn_affine: bool = False
    activation: str = "leaky_relu"
    batchnorm: bool = True  # False removes BatchNorm layers (then bn_affine is moot)
    hidden: tuple[int, ...] = (64, 32)  # MLP hidden layers (tabular / toy data)


def _bn_affine(spec: NetSpec) -> bool | None:
    return spec.bn_affine if spec.batchnorm else None


def conv_channels(in_shape: tuple[int, ...]) -> tuple[int, ...]:
    c, h, w = in_shape
    if c >= 3 and min(h, w) >= 32:
        return (32, 64, 128)  # CIFAR-10 LeNet
    return (8, 4) if min(h, w) >= 8 else (8,)  # MNIST LeNet


def default_rep_dim(in_shape: tuple[int, ...]) -> int:
    """The papers' representation size for an input shape: 128 for CIFAR-10-sized colour images
    (the CIFAR-10 LeNet's dense layer, Chong et al. and Zhou et al.), 32 otherwise (MNIST LeNet, MLPs)."""
    return 128 if len(in_shape) == 3 and conv_channels(tuple(in_shape)) == (32, 64, 128) else 32


def resolve_rep_dim(rep_dim: int, in_shape: tuple[int, ...]) -> int:
    """A config's rep_dim, where 0 means "by input shape" (`default_rep_dim`)."""
    return int(rep_dim) if rep_dim else default_rep_dim(in_shape)


def build_encoder(in_shape: tuple[int, ...], spec: NetSpec) -> nn.Module:
    if len(in_shape) == 3:
        return ConvEncoder(in_shape, conv_channels(in_shape), spec.rep_dim, spec.bias, _bn_affine(spec),
                           spec.activation)
    return MLPEncoder(int(math.prod(in_shape)), spec.hidden, spec.rep_dim, spec.bias, _bn_affine(spec),
                      spec.activation)


def build_autoencoder(in_shape: tuple[int, ...], spec: NetSpec) -> tuple[nn.Module, nn.Module]:
    """(encoder, decoder) with mirrored shapes; the encoder is the same class `build_encoder` gives,
    so its weights initialise the Deep SVDD network after pretraining."""
    enc = build_encoder(in_shape, spec)
    if isinstance(enc, ConvEncoder):
        dec = ConvDecoder(enc, in_shape[0], spec.rep_dim, spec.bias, _bn_affine(spec), spec.activation)
    else:
        dec = MLPDecoder(spec.rep_dim, spec.hidden, int(math.prod(in_shape)), spec.bias, _bn_affine(spec),
                         spec.activation)
    return enc, dec
