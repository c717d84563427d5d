"""R2-AD2 (Schulze et al.): semi-supervised detection from the raw gradient.

Training (the paper's Algorithm 1):
1. Target network. An autoencoder f_AE is trained on the normal training data (everything not
   labelled anomalous; unlabelled pollution counts as normal, as in the paper), with `holdout`
   (25 %) of it held back so that the alarm network later also sees gradients of normal samples
   the autoencoder never trained on (as test samples will be). Snapshots θ⁽ⁱ⁾ of its weights are
   taken after T0 epochs, then every T epochs: `n_snapshots` in all.
2. Features. For every training sample x, the sequence g(x) = [∇_θ L(x; θ⁽¹⁾), ∇_θ L(x; θ⁽²⁾), ...]
   of per-sample gradients of the reconstruction loss w.r.t. all autoencoder parameters (Eq. 1;
   `gradients.py`). The same for synthetic anomalies x̃ ~ N(0.5, 1) (Eq. 2), one per real sample,
   drawn afresh for every alarm-network epoch (Eq. 2's expectation over x̃), or once with
   `resample_synthetic` off, which saves their gradients' cost in every later epoch.
3. Alarm network (`model.py`): time-distributed batch norm → LSTM → LSTM → dense → dense → sigmoid,
   trained with binary cross-entropy, labels 0 for normal, 1 for known anomalies and for the
   synthetic anomalies (Eq. 2); the batch norm's statistics and affine parameters are fitted on
   the real samples only (Eq. 3). Adam, lr 1e-3.

Score: the alarm network's logit, log p / (1 − p) with p = f_R2-AD2(x) the anomaly probability;
it ranks exactly as p but does not saturate at 1.0 in floating point (ties would blur the ranking
of confident anomalies). The threshold is logit 0, i.e. p = 0.5. `embed` is the alarm network's
last hidden layer.

Inputs must lie in [0, 1] (the synthetic anomalies are drawn around that range): images as they
are ("unit"), tabular data min-max scaled; its declaration (`SPEC.preprocess`) asks the runner
for that.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from deepad import metrics
from deepad.data.parts import Part
from deepad.detectors.training_loop import DeepDetector, Phase, extras_from
from deepad.detectors.torch_utils import as_tensor, probe_indices
from deepad.errors import DeepADError
from deepad.nets import NetSpec, build_autoencoder

from . import SPEC, R2AD2Config, schedule_problem  # noqa: F401
from . import gradients as G
from .model import SIZES, AlarmNetwork

GRAD_CHUNK = 256  # samples scored by the alarm network at a time


class R2AD2(DeepDetector):
    spec = SPEC

    # -- building -----------------------------------------------------------------------------
    def _build(self, in_shape: tuple[int, ...]) -> None:
        self.in_shape = tuple(in_shape)
        enc, dec = build_autoencoder(self.in_shape, NetSpec(rep_dim=self.config.rep_dim, bias=True))
        self.ae = nn.Sequential(enc, dec).to(self.device)
        self.n_params = sum(p.numel() for p in self.ae.parameters())
        self.alarm = AlarmNetwork(self.n_params, SIZES[self.config.size]).to(self.device)
        self.snapshots: list[tuple[G.Params, G.Params]] = []

    def check(self, train: Part) -> None:
        cfg = self.config
        problem = schedule_problem(cfg.t0, cfg.t, cfg.n_snapshots, cfg.ae_epochs)
        if problem:
            raise DeepADError(problem)
        self._require_known_anomalies(train)
        lo, hi = float(train.x.min()), float(train.x.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise DeepADError(
                f"R2-AD2 needs inputs scaled to [0, 1] (its synthetic anomalies are drawn from "
                f"N(0.5, 1) around that range), but the training data range over [{lo:.3g}, {hi:.3g}]; "
                "use preprocess 'unit' (images) or 'minmax' (tabular), or leave it on 'auto'")
        n_normal = int(np.sum(train.known_label != -1))
        n_ae = n_normal - int(round(cfg.holdout * n_normal))
        if n_ae < 2:
            raise DeepADError(f"holdout={cfg.holdout}: leaves {n_ae} of {n_normal} normal training "
                              "samples for the autoencoder; it needs at least 2, lower holdout")
        if cfg.alarm_normals == "held-back" and n_ae == n_normal:
            raise DeepADError(f"alarm_normals='held-back' with holdout={cfg.holdout} holds back no normal "
                              "sample for the alarm network; raise holdout or use alarm_normals 'all'")

    # -- training -----------------------------------------------------------------------------
    def build(self, train: Part) -> None:
        self._build(train.x.shape[1:])

    def phases(self, train: Part, val: Part | None):
        cfg = self.config
        x = as_tensor(train.x, self.device)
        y = torch.as_tensor(train.known_label == -1, dtype=torch.float32, device=self.device)

        # 1. target autoencoder on the normal data, minus the held-back share
        normal = torch.as_tensor(np.flatnonzero(train.known_label != -1), device=self.device)
        normal = normal[torch.randperm(len(normal), generator=self.streams.torch("sampling")).to(self.device)]
        n_hold = int(round(cfg.holdout * len(normal)))
        yield self._target_phase(x[normal[n_hold:]], val)

        # 2. gradient sequences of the real training data and of as many synthetic anomalies
        has_val = val is not None and len(val) > 1
        features: dict[str, torch.Tensor] = {}

        def compute_features(epoch: int) -> dict:
            nonlocal x, y
            if cfg.alarm_normals == "held-back":
                keep = torch.cat([normal[:n_hold], torch.as_tensor(np.flatnonzero(train.known_label == -1),
                                                                    device=self.device)])
                x, y = x[keep], y[keep]
            features["real"] = self._features(x)
            features["syn"] = self._features(G.synthetic_anomalies(len(x), self.in_shape,
                                                                   self.streams.torch("synthetic"))
                                             .to(self.device))
            if has_val:
                features["val"] = self._features(as_tensor(val.x, self.device))
            return {"n_features": self.n_params}

        yield Phase("features", 1, compute_features, finite=(), extras=None)

        # 3. alarm network, Eq. 2 with Eq. 3 for its batch norm
        opt = torch.optim.Adam(self.alarm.parameters(), lr=cfg.lr)
        g_real = features["real"]

        def step(idx: torch.Tensor, g_syn: torch.Tensor) -> dict:
            loss_real, loss_syn = self._alarm_losses(g_real[idx], y[idx], g_syn)
            loss = loss_real + loss_syn
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {"loss": loss.item(), "loss_real": loss_real.item(), "loss_synthetic": loss_syn.item()}

        def run_epoch(epoch: int) -> dict:
            if epoch > 0 and cfg.resample_synthetic:
                features["syn"] = self._features(G.synthetic_anomalies(len(x), self.in_shape,
                                                                       self.streams.torch("synthetic"))
                                                 .to(self.device))
            g_syn = features["syn"]
            self.alarm.train()
            syn_order = torch.randperm(len(g_syn), generator=self.streams.torch("synthetic-order")).to(self.device)
            start = 0

            def paired_step(idx: torch.Tensor) -> dict:
                nonlocal start
                sidx = syn_order[start:start + len(idx)]
                start += len(idx)
                return step(idx, g_syn[sidx])

            return self.batch_means(len(g_real), cfg.batch_size, paired_step)

        def extras(epoch: int) -> tuple[dict, np.ndarray | None]:
            """From the validation part's cached gradient features, every epoch."""
            if not has_val:
                return {}, None
            logits, hidden = self._alarm_eval(features["val"])
            return extras_from(val.target, logits), hidden[probe_indices(len(val), self.seed)].astype(np.float32)

        yield Phase("train", cfg.epochs, run_epoch, extras=extras)

    def finish(self, train: Part) -> None:
        self._threshold = 0.0  # logit 0 ⇔ anomaly probability 0.5

    def _alarm_losses(self, g_real: torch.Tensor, y_real: torch.Tensor,
                      g_syn: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Eq. 2 on one minibatch: BCE(y, f(x)) on real samples + BCE(1, f(x̃)) on synthetic ones.
        Eq. 3: the batch norm uses the real batch's statistics for both, and only the real term
        trains its γ, β (the synthetic pass sees them detached)."""
        stats = self.alarm.norm.batch_statistics(g_real)
        logit_real, _ = self.alarm(g_real, stats)
        logit_syn, _ = self.alarm(g_syn, stats, affine_grad=False)
        loss_real = F.binary_cross_entropy_with_logits(logit_real, y_real)
        loss_syn = F.binary_cross_entropy_with_logits(logit_syn, torch.ones_like(logit_syn))
        return loss_real, loss_syn

    def _target_phase(self, x: torch.Tensor, val: Part | None) -> Phase:
        """Train the autoencoder for T0 + (n_snapshots − 1)·T epochs on `x`, keeping a snapshot of
        its weights after epoch T0 and then after every further T epochs."""
        cfg = self.config
        snap_at = {cfg.t0 + j * cfg.t: j for j in range(cfg.n_snapshots)}
        opt = torch.optim.Adam(self.ae.parameters(), lr=cfg.ae_lr)

        def step(idx: torch.Tensor) -> dict:
            xb = x[idx]
            loss = G.reconstruction_loss(self.ae(xb), xb).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return {"loss": loss.item()}

        def run_epoch(epoch: int) -> dict:
            self.ae.train()
            loss = self.batch_means(len(x), cfg.ae_batch_size, step)["loss"]
            return {"loss": loss, "loss_rec": loss}

        def after(epoch: int) -> dict:
            if epoch + 1 not in snap_at:
                return {}
            self.snapshots.append(G.snapshot(self.ae))
            rec = {"snapshot": snap_at[epoch + 1] + 1}
            if val is not None and len(val) > 1:
                rec["val_auc_recon"] = metrics.auc(
                    val.target, self.reconstruction_error(val.x, len(self.snapshots) - 1))
            return rec

        return Phase("target", max(snap_at), run_epoch, finite={"reconstruction_loss": "loss"},
                     after=after, extras=None)

    def _features(self, x: torch.Tensor) -> torch.Tensor:
        """Gradient sequences (n, T, D) for `x`, chunk by chunk (checking the stop flag between)."""
        outs, chunk = [], G.auto_chunk(self.n_params, x.shape[1:])
        for s in range(0, len(x), chunk):
            self.check_stop()
            outs.append(G.gradient_sequence(self.ae, self.snapshots, x[s:s + chunk], chunk))
        return torch.cat(outs) if outs else x.new_zeros((0, len(self.snapshots), self.n_params))

    @torch.no_grad()
    def _alarm_eval(self, g: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
        self.alarm.eval()
        logits, hidden = [], []
        for s in range(0, len(g), GRAD_CHUNK):
            lo, hi = self.alarm(g[s:s + GRAD_CHUNK])
            logits.append(lo.cpu())
            hidden.append(hi.cpu())
        return torch.cat(logits).numpy().astype(np.float64), torch.cat(hidden).numpy()

    # -- using --------------------------------------------------------------------------------
    def _score_embed(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        logits, hidden = [np.zeros(0)], [np.zeros((0, SIZES[self.config.size][-1]), np.float32)]
        chunk = G.auto_chunk(self.n_params, x.shape[1:])
        for s in range(0, len(x), chunk):
            g = self._features(as_tensor(x[s:s + chunk], self.device))
            lo, hi = self._alarm_eval(g)
            logits.append(lo)
            hidden.append(hi)
        return np.concatenate(logits), np.concatenate(hidden)

    def score(self, x: np.ndarray) -> np.ndarray:
        """Logit of the alarm network's anomaly probability (higher = more anomalous)."""
        return self._score_embed(x)[0]

    def embed(self, x: np.ndarray) -> np.ndarray:
        """The alarm network's last hidden layer (10 units for size small, 75 for big)."""
        return self._score_embed(x)[1]

    def reconstruction_error(self, x: np.ndarray, snapshot: int = 0) -> np.ndarray:
        """‖x − f_AE(x; θ⁽ⁱ⁾)‖² of the target autoencoder at a snapshot: the plain autoencoder
        baseline R2-AD2 builds on (the paper's "AE" row)."""
        params, buffers = self.snapshots[snapshot]
        self.ae.eval()
        out = []
        with torch.no_grad():
            for s in range(0, len(x), 1024):
                xb = as_tensor(x[s:s + 1024], self.device)
                out.append(G.reconstruction_loss(torch.func.functional_call(self.ae, (params, buffers),
                                                                            (xb,)), xb).cpu())
        return torch.cat(out).numpy().astype(np.float64)

    # -- persistence --------------------------------------------------------------------------
    def state(self) -> dict:
        return {"in_shape": self.in_shape, "alarm": self.alarm.state_dict(),
                "snapshots": [({k: v.cpu() for k, v in p.items()}, {k: v.cpu() for k, v in b.items()})
                              for p, b in self.snapshots]}

    def load_state(self, state: dict) -> None:
        self._build(state["in_shape"])
        self.alarm.load_state_dict(state["alarm"])
        self.snapshots = [({k: v.to(self.device) for k, v in p.items()},
                           {k: v.to(self.device) for k, v in b.items()}) for p, b in state["snapshots"]]
