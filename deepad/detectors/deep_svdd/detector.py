"""Deep SVDD (one-class / soft-boundary), Deep SAD (η on labelled samples), and Chong et al.'s
collapse-prevention variants: bias terms allowed, the noise and the variance regularizer, each
weighted by the adaptive c_t or a fixed weight."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from deepad.data.parts import Part
from deepad.detectors.training_loop import CollapseWatch, DeepDetector, Phase
from deepad.detectors.torch_utils import as_tensor, batched, init_scope, minibatches
from deepad.nets import NetSpec, build_autoencoder, build_encoder, resolve_rep_dim

from . import SPEC, DeepSVDDConfig  # noqa: F401
from . import losses as L


class DeepSVDD(DeepDetector):
    spec = SPEC

    # -- building -----------------------------------------------------------------------------
    def _spec(self) -> NetSpec:
        c = self.config
        return NetSpec(rep_dim=self.rep_dim, bias=c.bias, bn_affine=c.bn_affine, activation=c.activation,
                       batchnorm=c.batchnorm)

    def _build(self, in_shape: tuple[int, ...]) -> None:
        self.in_shape = tuple(in_shape)
        self.rep_dim = resolve_rep_dim(self.config.rep_dim, self.in_shape)
        self.net = build_encoder(self.in_shape, self._spec()).to(self.device)
        self.head = None
        if self.config.reg == "noise":  # its own initialisation stream: φ starts as without it
            with init_scope(self.seed, "noise-head"):
                self.head = nn.Linear(self.rep_dim, self.config.k).to(self.device)
        self.c = torch.zeros(self.rep_dim, device=self.device)

    # -- training -----------------------------------------------------------------------------
    def build(self, train: Part) -> None:
        self._build(train.x.shape[1:])

    def phases(self, train: Part, val: Part | None):
        cfg = self.config
        x = as_tensor(train.x, self.device)
        semi = torch.as_tensor(train.known_label, device=self.device)

        if cfg.pretrain_epochs > 0:
            yield from self._pretrain(x[semi != -1])

        self.c = self._initial_center(x[semi != -1])
        self.center = self.c.cpu().numpy()
        watch = CollapseWatch(self, train)
        watch.start()  # the reference: the cloud as the centre phase begins
        if cfg.learnable_center:
            self.c = nn.Parameter(self.c.clone())

        groups = [{"params": self.net.parameters(), "lr": cfg.lr}]
        if self.head is not None:
            groups.append({"params": self.head.parameters(), "lr": cfg.lr * cfg.reg_lr_mult})
        if cfg.learnable_center:
            groups.append({"params": [self.c], "lr": cfg.lr})
        opt = torch.optim.Adam(groups, weight_decay=cfg.weight_decay)

        self.R = 0.0
        self.c_t = 0.0  # c_0 = 0 (Chong et al.)

        def step(idx: torch.Tensor, epoch: int, d_t: float) -> dict:
            z = self.net(x[idx])
            dist = L.squared_distance(z, self.c)
            loss_svdd = L.svdd_loss(dist, semi[idx], objective=cfg.objective, radius=self.R,
                                    nu=cfg.nu, eta=cfg.eta)
            loss_reg = self._reg_loss(z, d_t, self.streams.torch("noise"))
            if loss_reg is None:
                loss = loss_svdd
                weighted = 0.0
            else:
                if cfg.weighting == "adaptive":
                    self.c_t = L.adaptive_weight(self.c_t, loss_svdd.item(), loss_reg.item(),
                                                 cfg.alpha, cfg.beta)
                else:
                    self.c_t = cfg.reg_weight
                loss = loss_svdd + self.c_t * loss_reg
                weighted = self.c_t * loss_reg.item()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if cfg.objective == "soft-boundary" and epoch >= cfg.warmup_epochs:
                radius = L.soft_boundary_radius(dist, cfg.nu, semi[idx])
                self.R = self.R if radius is None else radius
            return {"loss": loss.item(), "loss_svdd": loss_svdd.item(),
                    "loss_reg": loss_reg.item() if loss_reg is not None else 0.0, "weighted_reg": weighted,
                    "batch_var": L.minibatch_variance(z.detach()).item(),
                    "mean_dist": dist.detach().mean().item()}

        def run_epoch(epoch: int) -> dict:
            self.net.train()
            d_t = L.variance_threshold(cfg.d0, epoch, cfg.r)
            return self.batch_means(len(x), cfg.batch_size, lambda idx: step(idx, epoch, d_t))

        def after(epoch: int) -> dict:
            if cfg.learnable_center:
                self.center = self.c.detach().cpu().numpy()
            self.radius = self.R if cfg.objective == "soft-boundary" else None
            return {"c_t": self.c_t if cfg.reg != "none" else None,
                    "var_threshold": L.variance_threshold(cfg.d0, epoch, cfg.r) if cfg.reg == "variance" else None,
                    "R": self.R}

        yield Phase("train", cfg.epochs, run_epoch, after=after, collapse=watch)

    def finish(self, train: Part) -> None:
        if self.config.objective == "soft-boundary":
            self._threshold = 0.0
        else:
            super().finish(train)

    def _reg_loss(self, z: torch.Tensor, d_t: float, gen: torch.Generator):
        if self.config.reg == "noise":
            return L.noise_regularizer(self.head(z), gen)
        if self.config.reg == "variance":
            return L.variance_regularizer(z, d_t)
        return None

    def _pretrain(self, x: torch.Tensor):
        """The autoencoder pretraining phase: φ's weights start from its encoder's."""
        cfg = self.config
        enc, dec = build_autoencoder(self.in_shape, self._spec())
        enc.load_state_dict(self.net.state_dict())
        enc, dec = enc.to(self.device), dec.to(self.device)
        ae = nn.Sequential(enc, dec)
        opt = torch.optim.Adam(ae.parameters(), lr=cfg.pretrain_lr, weight_decay=cfg.weight_decay)

        def step(idx: torch.Tensor) -> dict:
            xb = x[idx]
            loss = ((ae(xb).view_as(xb) - xb) ** 2).flatten(1).sum(1).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {"loss": loss.item()}

        def run_epoch(epoch: int) -> dict:
            ae.train()
            loss = self.batch_means(len(x), cfg.batch_size, step)["loss"]
            return {"loss": loss, "loss_rec": loss}

        yield Phase("pretrain", cfg.pretrain_epochs, run_epoch, finite={"reconstruction_loss": "loss"},
                    extras=None)
        self.net.load_state_dict(enc.state_dict())

    @torch.no_grad()
    def _initial_center(self, x: torch.Tensor) -> torch.Tensor:
        """c = mean of φ over the training data in one forward pass (BatchNorm in training mode, as
        during training), then small coordinates nudged to ±0.1."""
        self.net.train()
        zs = [self.net(x[idx]) for idx in minibatches(len(x), max(self.config.batch_size, 2),
                                                      torch.Generator().manual_seed(0), self.device,
                                                      shuffle=False)]
        return L.init_center(torch.cat(zs))

    # -- using --------------------------------------------------------------------------------
    def embed(self, x: np.ndarray) -> np.ndarray:
        self.net.eval()
        return batched(self.net, x, self.device)

    def score(self, x: np.ndarray) -> np.ndarray:
        self.net.eval()
        c = self.c.detach()
        dist = batched(lambda xb: L.squared_distance(self.net(xb), c), x, self.device)
        if self.config.objective == "soft-boundary":
            dist = dist - self.R ** 2
        return dist.astype(np.float64)

    # -- persistence --------------------------------------------------------------------------
    def state(self) -> dict:
        return {"in_shape": self.in_shape, "net": self.net.state_dict(), "c": self.c.detach().cpu(),
                "R": self.R, "c_t": self.c_t}

    def load_state(self, state: dict) -> None:
        self._build(state["in_shape"])
        self.net.load_state_dict(state["net"])
        self.c = state["c"].to(self.device)
        self.R, self.c_t = state["R"], state["c_t"]
