"""Backbones: MLP for tabular / toy data, LeNet-style conv nets for images, mirrored decoders.

The switches the collapse lessons need: `bias` (conv / linear bias terms), `bn_affine` (BatchNorm's
learnable shift and scale) and `activation` (leaky ReLU, or a bounded one: sigmoid, tanh).
"""

from deepad.nets.factory import (NetSpec, build_autoencoder, build_encoder, default_rep_dim,  # noqa: F401
                                 resolve_rep_dim)
