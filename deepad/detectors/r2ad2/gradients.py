"""R2-AD2's features: the raw per-sample gradient of the target autoencoder's reconstruction loss.

For one input x and one snapshot θ⁽ⁱ⁾ of the autoencoder f_AE, the feature is

    ∇f_AE⁽ⁱ⁾(x) = ∂/∂θ L(x, f_AE(x; θ⁽ⁱ⁾)),   L(x, x̂) = ‖x − x̂‖²  (summed over the input),

taken with respect to *every* parameter of the autoencoder and flattened into one vector of length
D = number of parameters. Stacking the snapshots θ⁽ᵀ⁰⁾, θ⁽ᵀ⁰⁺ᵀ⁾, ... gives the sequence of
Eq. 1 of the paper, shape (T, D) per input.

Batched computation. A per-sample gradient is the gradient of a one-sample loss. `torch.func`
gives it for a whole minibatch at once: `grad(loss)(params, x)` is the gradient for one sample,
`vmap` maps that function over the batch dimension without a Python loop, and `functional_call`
runs the autoencoder module with an explicit dict of parameters (so each snapshot's weights can be
plugged in without copying modules around).

BatchNorm. The autoencoders of `deepad.nets` contain BatchNorm layers. In training mode BatchNorm
normalises with statistics of the current batch, which under `vmap` would be a batch of one sample
(and it would write running statistics in place, which `vmap` refuses). The gradients here are
therefore always taken with BatchNorm in evaluation mode: each BatchNorm layer is the fixed affine
map given by its running mean and variance (the module's buffers at that snapshot). Then a sample's
loss depends on that sample only, which is exactly what a per-sample gradient means, and the
batched result equals a loop over single samples (`per_sample_gradients_loop`).
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
from torch import nn
from torch.func import functional_call, grad, vmap

Params = dict[str, torch.Tensor]
WORKING_SET = 2 ** 23  # floats (32 MB) one vmap call may hold: the chunk's gradients and activations


def auto_chunk(n_params: int, in_shape: Sequence[int]) -> int:
    """Samples per vmap call: as many as fit WORKING_SET, counting per sample its gradient (n_params
    entries) and its activations (taken as 32× the input size, about what the conv autoencoders of
    deepad.nets hold), between 64 and 4096. vmap has a fixed cost per call, which dominates small
    dense autoencoders (breast cancer: 12× faster than a loop in chunks of 256, 29× in one chunk);
    conv nets run best in chunks of a few hundred, as their activations outgrow the caches."""
    per_sample = n_params + 32 * math.prod(in_shape)
    return int(min(4096, max(64, WORKING_SET // per_sample)))


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Per-sample squared reconstruction error ‖x − x̂‖², summed over all input dimensions, shape (n,)."""
    return ((x_hat.reshape(x.shape) - x) ** 2).flatten(1).sum(1)


def snapshot(model: nn.Module) -> tuple[Params, Params]:
    """Detached copies of a module's (parameters, buffers), the weights θ⁽ⁱ⁾ at one moment of training."""
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    buffers = {k: v.detach().clone() for k, v in model.named_buffers()}
    return params, buffers


def flatten(grads: Params, names: Sequence[str]) -> torch.Tensor:
    """A dict of per-sample gradients {name: (n, *shape)} as one matrix (n, D), in the order `names`."""
    return torch.cat([grads[k].reshape(grads[k].shape[0], -1) for k in names], dim=1)


def per_sample_gradients(model: nn.Module, params: Params, buffers: Params, x: torch.Tensor,
                         chunk: int | None = None) -> torch.Tensor:
    """∇_θ ‖x_j − f(x_j; θ)‖² for every sample x_j, computed batched with vmap(grad(...)).

    `model` supplies the architecture only; its weights are `params` (differentiated) and `buffers`
    (BatchNorm running statistics, held fixed: the module is put in evaluation mode, see the module
    docstring). Returns (n, D) with D = total number of parameters, in `params`' order; `chunk`
    samples go through vmap at a time (default: `auto_chunk`).
    """
    model.eval()
    names = list(params)
    chunk = chunk or auto_chunk(sum(p.numel() for p in params.values()), x.shape[1:])

    def loss_one(p: Params, xi: torch.Tensor) -> torch.Tensor:
        xb = xi.unsqueeze(0)  # the module expects a batch: a batch of one
        return reconstruction_loss(functional_call(model, (p, buffers), (xb,)), xb).sum()

    grad_batch = vmap(grad(loss_one), in_dims=(None, 0))
    outs = [flatten(grad_batch(params, x[s:s + chunk]), names) for s in range(0, len(x), chunk)]
    if not outs:
        return x.new_zeros((0, sum(p.numel() for p in params.values())))
    return torch.cat(outs)


def per_sample_gradients_loop(model: nn.Module, params: Params, buffers: Params,
                              x: torch.Tensor) -> torch.Tensor:
    """The same as `per_sample_gradients`, one sample at a time with torch.autograd: the reference
    the batched version is checked against (and timed against in bench/r2ad2_gradients.py)."""
    model.eval()
    names = list(params)
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    rows = []
    for xi in x:
        xb = xi.unsqueeze(0)
        loss = reconstruction_loss(functional_call(model, (leaves, buffers), (xb,)), xb).sum()
        gs = torch.autograd.grad(loss, [leaves[k] for k in names])
        rows.append(torch.cat([g.reshape(-1) for g in gs]))
    return torch.stack(rows) if rows else x.new_zeros((0, sum(p.numel() for p in params.values())))


def gradient_sequence(model: nn.Module, snapshots: Sequence[tuple[Params, Params]], x: torch.Tensor,
                      chunk: int | None = None) -> torch.Tensor:
    """Eq. 1: [∇f_AE⁽ᵀ⁰⁾(x), ∇f_AE⁽ᵀ⁰⁺ᵀ⁾(x), ...] for every sample, shape (n, T, D) with T snapshots."""
    return torch.stack([per_sample_gradients(model, p, b, x, chunk) for p, b in snapshots], dim=1)


def synthetic_anomalies(n: int, shape: Sequence[int], generator: torch.Generator,
                        mean: float = 0.5, std: float = 1.0) -> torch.Tensor:
    """Eq. 2's trivial counterexamples x̃ ~ N(0.5, 1) per input dimension. The real data lie in
    [0, 1], so most coordinates of x̃ fall outside that range: clearly anomalous inputs."""
    return mean + std * torch.randn((n, *shape), generator=generator)
