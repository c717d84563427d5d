"""Time R2-AD2's per-sample gradient extraction two ways on the same MNIST-5k images, one thread:
batched with torch.func (vmap over grad, what the detector uses) against a loop that runs
torch.autograd on one sample at a time. Prints both, their ratio and the largest difference.

A third line is a floor, not a method: one ordinary batched backward pass that sums the gradients
over the samples. It does the same arithmetic as any per-sample method (the weight gradient of a
layer costs the same whether it is kept per sample or summed) and writes far less, so the ratio
loop / floor bounds the speed-up any batched per-sample method can reach with these kernels on this
machine.

    PYTHONPATH=. python bench/r2ad2_gradients.py [--n 1000] [--repeats 3] [--rep-dim 8]

The autoencoder is R2-AD2's target network (LeNet-style conv autoencoder of deepad.nets), after a
few training steps so that its BatchNorm running statistics are not the initial ones.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from torch import nn

from deepad.data import load_dataset
from deepad.detectors.r2ad2 import gradients as G
from deepad.nets import NetSpec, build_autoencoder


def best_of(fn, repeats: int) -> tuple[float, torch.Tensor]:
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def summed_gradients(model: nn.Module, params, buffers, x: torch.Tensor, chunk: int) -> list[torch.Tensor]:
    """Σ_j ∇_θ ‖x_j − f(x_j; θ)‖² by ordinary batched backpropagation, `chunk` samples per pass."""
    model.eval()
    leaves = {k: v.detach().clone().requires_grad_(True) for k, v in params.items()}
    total = [torch.zeros_like(v) for v in leaves.values()]
    for s in range(0, len(x), chunk):
        xb = x[s:s + chunk]
        loss = G.reconstruction_loss(torch.func.functional_call(model, (leaves, buffers), (xb,)), xb).sum()
        for t, g in zip(total, torch.autograd.grad(loss, list(leaves.values()))):
            t += g
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000, help="images to extract gradients for")
    ap.add_argument("--repeats", type=int, default=3, help="timings per method (the best is shown)")
    ap.add_argument("--rep-dim", type=int, default=8, help="code size of the autoencoder")
    ap.add_argument("--chunk", type=int, default=G.DEFAULT_CHUNK,
                    help="samples per vmap call")
    args = ap.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)

    ds = load_dataset("mnist5k")
    x = torch.tensor(np.array(ds.x[:args.n], dtype=np.float32))
    enc, dec = build_autoencoder(tuple(x.shape[1:]), NetSpec(rep_dim=args.rep_dim, bias=True))
    ae = nn.Sequential(enc, dec)
    opt = torch.optim.Adam(ae.parameters(), lr=1e-3)
    for s in range(0, len(x), 64):  # one epoch, so that BatchNorm has running statistics
        xb = x[s:s + 64]
        loss = G.reconstruction_loss(ae(xb), xb).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    params, buffers = G.snapshot(ae)
    n_params = sum(p.numel() for p in params.values())

    G.per_sample_gradients(ae, params, buffers, x[:32], args.chunk)  # warm-up
    t_vmap, g_vmap = best_of(lambda: G.per_sample_gradients(ae, params, buffers, x, args.chunk), args.repeats)
    t_loop, g_loop = best_of(lambda: G.per_sample_gradients_loop(ae, params, buffers, x), args.repeats)
    t_floor, _ = best_of(lambda: summed_gradients(ae, params, buffers, x, args.chunk), args.repeats)
    rel = ((g_vmap - g_loop).abs().max(1).values / g_loop.abs().max(1).values.clamp_min(1e-12)).numpy()

    print(f"per-sample gradients of the reconstruction loss: {len(x)} MNIST-5k images x {n_params} "
          f"autoencoder parameters, 1 thread, best of {args.repeats}")
    print(f"{'method':<28} {'seconds':>8} {'ms / sample':>12}")
    print(f"{'batched (vmap of grad)':<28} {t_vmap:8.3f} {1e3 * t_vmap / len(x):12.3f}")
    print(f"{'loop (autograd, 1 sample)':<28} {t_loop:8.3f} {1e3 * t_loop / len(x):12.3f}")
    print(f"{'floor: summed-gradient pass':<28} {t_floor:8.3f} {1e3 * t_floor / len(x):12.3f}")
    print(f"speed-up loop / batched: {t_loop / t_vmap:.1f}x "
          f"(the floor bounds it at {t_loop / t_floor:.1f}x on this machine)")
    print(f"difference per sample, relative to its largest entry: median {np.median(rel):.2g}, "
          f"largest {rel.max():.2g}; samples above 1e-4: {int(np.sum(rel > 1e-4))} of {len(rel)}")
    print("(a sample can sit at a kink of max-pool or leaky ReLU where float32 rounding in the batched "
          "forward pass picks the other side; in float64 both ways agree to rounding)")


if __name__ == "__main__":
    main()
