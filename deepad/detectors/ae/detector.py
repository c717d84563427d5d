"""Autoencoder baseline (the CAE of Chong et al. and Zhou et al.): reconstruction error as the anomaly score.

An encoder f maps x to a bottleneck code f(x) of size d, a mirrored decoder g maps it back; both
are trained to minimise the mean over the batch of the per-sample squared error

    e(x) = ‖x − g(f(x))‖²   (summed over pixels / features),

on the samples not labelled anomalous. Inputs unlike the training data are expected to be
reconstructed worse, so e(x) is the score. Images use the project's LeNet encoder and its mirror
(upsampling in place of pooling, sigmoid output); tabular data an MLP with a linear output.
"""

from __future__ import annotations

import numpy as np
import torch

from deepad.data.parts import Part
from deepad.detectors.training_loop import DeepDetector, Phase
from deepad.detectors.torch_utils import as_tensor, batched
from deepad.nets import NetSpec, build_autoencoder, resolve_rep_dim

from . import SPEC, AEConfig  # noqa: F401


def reconstruction_error(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """‖x − x̂‖² per sample, summed over every feature: shape (n,)."""
    return (x_hat.reshape(x.shape) - x).pow(2).flatten(1).sum(dim=1)


class AE(DeepDetector):
    spec = SPEC

    def _build(self, in_shape: tuple[int, ...]) -> None:
        self.in_shape = tuple(in_shape)
        self.rep_dim = resolve_rep_dim(self.config.rep_dim, self.in_shape)
        spec = NetSpec(rep_dim=self.rep_dim, bias=self.config.bias, bn_affine=self.config.bias)
        enc, dec = build_autoencoder(self.in_shape, spec)
        self.encoder, self.decoder = enc.to(self.device), dec.to(self.device)

    def _modules(self):
        return (self.encoder, self.decoder)

    # -- training -----------------------------------------------------------------------------
    def build(self, train: Part) -> None:
        self._build(train.x.shape[1:])

    def check(self, train: Part) -> None:
        self.require_normals(train)

    def phases(self, train: Part, val: Part | None):
        cfg = self.config
        x = as_tensor(train.x[train.known_label != -1], self.device)
        params = [p for m in self._modules() for p in m.parameters()]
        opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)

        def step(idx: torch.Tensor) -> dict:
            xb = x[idx]
            loss = reconstruction_error(self.decoder(self.encoder(xb)), xb).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {"loss": loss.item()}

        def run_epoch(epoch: int) -> dict:
            for m in self._modules():
                m.train()
            loss = self.batch_means(len(x), cfg.batch_size, step)["loss"]
            return {"loss": loss, "loss_rec": loss}

        yield Phase("train", cfg.epochs, run_epoch)

    def _eval(self) -> None:
        for m in self._modules():
            m.eval()

    # -- using --------------------------------------------------------------------------------
    def embed(self, x: np.ndarray) -> np.ndarray:
        """The bottleneck code f(x), shape (n, d)."""
        self._eval()
        return batched(self.encoder, x, self.device)

    def score(self, x: np.ndarray) -> np.ndarray:
        """e(x) = ‖x − g(f(x))‖²."""
        self._eval()
        return batched(lambda xb: reconstruction_error(self.decoder(self.encoder(xb)), xb), x,
                       self.device).astype(np.float64)

    # -- persistence --------------------------------------------------------------------------
    def state(self) -> dict:
        return {"in_shape": self.in_shape, "encoder": self.encoder.state_dict(),
                "decoder": self.decoder.state_dict()}

    def load_state(self, state: dict) -> None:
        self._build(state["in_shape"])
        self.encoder.load_state_dict(state["encoder"])
        self.decoder.load_state_dict(state["decoder"])
