"""Time R2-AD2's per-sample gradient extraction two ways on the same data, one thread: batched with
torch.func (vmap over grad, what the detector uses) against a loop that runs torch.autograd on one
sample at a time. Prints both, their ratio and the largest difference, for each data set given:
MNIST-5k images (R2-AD2's target network is then the LeNet-style conv autoencoder of deepad.nets)
and the breast-cancer table (then the dense autoencoder), min-max scaled as R2-AD2 requires.

A third column is a floor, not a method: one ordinary batched backward pass that sums the
gradients over the samples. It does the same arithmetic as any per-sample method (the weight
gradient of a layer costs the same whether it is kept per sample or summed) and writes far less,
so loop / floor bounds the speed-up any batched per-sample method can reach with these kernels on
this machine.

    PYTHONPATH=. python bench/r2ad2_gradients.py [--datasets mnist5k,breast-cancer] [--n 1000]
        [--repeats 3] [--rep-dim 8] [--device cpu|cuda]

Each autoencoder first trains one epoch, so that its BatchNorm running statistics are not the
initial ones.
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


def trained_autoencoder(x: torch.Tensor, rep_dim: int) -> nn.Module:
    """R2-AD2's target network for inputs shaped like `x`, after one epoch of training."""
    enc, dec = build_autoencoder(tuple(x.shape[1:]), NetSpec(rep_dim=rep_dim, bias=True))
    ae = nn.Sequential(enc, dec).to(x.device)
    opt = torch.optim.Adam(ae.parameters(), lr=1e-3)
    for s in range(0, len(x), 64):
        xb = x[s:s + 64]
        loss = G.reconstruction_loss(ae(xb), xb).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return ae


def measure(name: str, n: int, rep_dim: int, chunk: int, repeats: int, device: str) -> str:
    ds = load_dataset(name)
    x = np.array(ds.x[:n], dtype=np.float32)
    if ds.kind != "image":  # R2-AD2 takes data in [0, 1]
        x = (x - x.min(0)) / np.maximum(x.max(0) - x.min(0), 1e-12)
    x = torch.tensor(x, device=device)
    ae = trained_autoencoder(x, rep_dim)
    params, buffers = G.snapshot(ae)
    n_params = sum(p.numel() for p in params.values())
    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def timed(fn):
        def run():
            out = fn()
            sync()
            return out
        return best_of(run, repeats)

    chunk = chunk or G.auto_chunk(n_params, x.shape[1:])
    G.per_sample_gradients(ae, params, buffers, x[:32], chunk)  # warm-up
    t_vmap, g_vmap = timed(lambda: G.per_sample_gradients(ae, params, buffers, x, chunk))
    t_loop, g_loop = timed(lambda: G.per_sample_gradients_loop(ae, params, buffers, x))
    t_floor, _ = timed(lambda: summed_gradients(ae, params, buffers, x, chunk))
    rel = ((g_vmap - g_loop).abs().max(1).values / g_loop.abs().max(1).values.clamp_min(1e-12)).cpu().numpy()
    net = "conv" if ds.kind == "image" else "dense"
    return (f"| {name} | {net}, {n_params} | {len(x)}, {chunk} | {1e3 * t_vmap / len(x):.3f} | {1e3 * t_loop / len(x):.3f} "
            f"| {1e3 * t_floor / len(x):.3f} | **{t_loop / t_vmap:.1f}×** | {t_loop / t_floor:.1f}× "
            f"| {np.median(rel):.1g} / {rel.max():.1g} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--datasets", default="mnist5k,breast-cancer", help="embedded data sets to time on")
    ap.add_argument("--n", type=int, default=1000, help="samples to extract gradients for (at most)")
    ap.add_argument("--repeats", type=int, default=3, help="timings per method (the best is shown)")
    ap.add_argument("--rep-dim", type=int, default=8, help="code size of the autoencoder")
    ap.add_argument("--chunk", type=int, default=None,
                    help="samples per vmap call (default: the detector's choice, gradients.auto_chunk)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args()
    if args.device == "cuda" and not torch.cuda.is_available():
        ap.error("--device cuda: no CUDA GPU is available here")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    print(f"Per-sample gradients of the reconstruction loss, {args.device}"
          f"{', 1 thread' if args.device == 'cpu' else ''}, best of {args.repeats}; times in ms per sample.")
    print("| data | autoencoder, parameters | samples, per vmap call | batched (vmap) | loop | floor | loop / batched "
          "| loop / floor | difference: median / largest |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.datasets.split(","):
        print(measure(name, args.n, args.rep_dim, args.chunk, args.repeats, args.device), flush=True)
    print("difference: per sample, the largest |batched − loop| relative to the sample's largest entry. A "
          "sample can sit at a kink of max-pool or leaky ReLU where float32 rounding in the batched "
          "forward pass picks the other side; in float64 both ways agree to rounding.")


if __name__ == "__main__":
    main()
