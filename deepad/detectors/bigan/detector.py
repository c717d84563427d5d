"""EGBAD (Zenati et al. 2018) and Rt-BiGAN (Ma et al., paper 003): BiGAN anomaly detectors.

Both train a BiGAN (`model.py`: encoder E, generator G, joint discriminator D(x, z), objective
Eq. 1) and score with Eq. 2, A(x) = α·‖x − G(E(x))‖₁ + (1 − α)·‖f(x, E(x)) − f(G(E(x)), E(x))‖₁,
f being D's last hidden layer. `embed` is the latent code E(x).

- `egbad`: the BiGAN is trained on the whole training set (everything not labelled anomalous). When
  the training set is polluted, it learns the anomalies too: the paper's baseline.
- `rt-bigan` adds three steps meant to survive pollution:
  1. Reptile meta-training (Algorithm 1): tasks are few-sample subsets of the training data, drawn
     from k-means clusters of it (a stand-in for the class-wise tasks of few-shot learning; no
     labels are used). Per meta-iteration: copy the meta-weights Φ, take K adversarial steps on one
     task, then an Adam step on Φ with gradient Φ − W (`reptile.py`).
  2. Adaptation: `adapt_steps` adversarial steps from Φ on `n_adapt` known-normal training samples
     (semi = +1; the set-up's known_normals provides them; the paper uses 5–10).
  3. Self-training: score every training sample, pseudo-label as normal those below the
     `threshold_quantile` quantile of the scores (known normals always count as normal), train
     `round_epochs` epochs on that pseudo-normal set; repeat for `rounds` rounds, each round's
     labels replacing the previous ones (the paper's "drop training").

One optimiser step of the BiGAN ("an adversarial step") updates D on Eq. 1, then E and G on the
non-saturating form of Eq. 1, each with Adam (β₁ = 0.5, as is usual for GANs).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import torch
from pydantic import Field, ValidationError, model_validator

from deepad.data.setups import Part
from deepad.detectors.base import Detector, DetectorConfig, EpochClock
from deepad.detectors.bigan import reptile
from deepad.detectors.bigan.model import BiGAN, anomaly_score, discriminator_loss, encoder_generator_loss
from deepad.detectors.registry import register
from deepad.detectors.torch_utils import (as_tensor, batched, epoch_extras, minibatches, probe_indices,
                                          seed_everything)
from deepad.errors import DeepADError

BETAS = (0.5, 0.999)


class BiGANConfig(DetectorConfig):
    alpha: float = Field(0.9, ge=0, le=1, description="α in A(x) = α·reconstruction + (1 − α)·feature "
                         "matching (EGBAD's MNIST choice is 0.9)",
                         json_schema_extra={"widget": "slider", "step": 0.05})
    latent_dim: int = Field(32, ge=2, le=512, description="size of the latent code z (EGBAD uses 200 on "
                            "full MNIST; 32 suits MNIST-5k)")
    width: int = Field(16, ge=2, le=256, description="channels of the first conv layer (MLP width / 4 "
                       "for tabular data); the other layers scale with it")
    lr: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of the BiGAN training epochs; "
                      "MNIST-5k's few hundred optimiser steps need a larger rate than full-MNIST runs "
                      "(EGBAD, seeds 0–2, digit 1 vs 20 % pollution: AUC 0.98 at 1e-3, 0.88–0.91 at 2e-4)",
                      json_schema_extra={"widget": "log"})
    batch_size: int = Field(32, ge=2, le=100000, description="minibatch size of the training epochs")


class EGBADConfig(BiGANConfig):
    epochs: int = Field(30, ge=1, le=10000, description="training epochs (scaled down from the papers' "
                        "full-MNIST runs for MNIST-5k)")


class RtBiGANConfig(BiGANConfig):
    n_tasks: int = Field(10, ge=1, le=1000, description="meta-training tasks come from this many k-means "
                         "clusters of the training data (1: tasks are random subsets)")
    task_size: int = Field(10, ge=2, le=1000, description="samples per meta-training task, and per "
                           "adaptation batch")
    meta_iterations: int = Field(50, ge=0, le=100000, description="Reptile meta-iterations (the paper runs "
                                 "100 000 on full MNIST; scaled down for MNIST-5k)")
    meta_batch: int = Field(1, ge=1, le=100, description="tasks per meta-iteration; Φ moves towards the "
                            "average of their adapted weights")
    inner_steps: int = Field(5, ge=1, le=1000, description="K: adversarial steps on each task")
    inner_lr: float = Field(1e-3, gt=0, le=1, description="Adam learning rate of the task and adaptation "
                            "steps", json_schema_extra={"widget": "log"})
    meta_lr: float = Field(1e-4, gt=0, le=1, description="Adam learning rate of the meta-update on Φ − W",
                           json_schema_extra={"widget": "log"})
    n_adapt: int = Field(10, ge=2, le=10000, description="known-normal samples the meta-model adapts on "
                         "(the paper uses 5–10); taken from the set-up's known normals")
    adapt_steps: int = Field(300, ge=1, le=100000, description="adversarial steps of the adaptation (the "
                             "paper fine-tunes 20 steps from a meta-model of 100 000 iterations; after the "
                             "few meta-iterations affordable here, 60 steps left digit 0 scored backwards, "
                             "AUC 0.1-0.3, and 300 steps reach 0.95 before self-training)")
    rounds: int = Field(3, ge=0, le=100, description="self-training rounds (0: stop after adaptation)")
    round_epochs: int = Field(5, ge=1, le=10000, description="training epochs on the pseudo-normal set "
                              "per round")
    threshold_quantile: float = Field(0.8, gt=0, le=1, description="each round keeps as pseudo-normal the "
                                      "training samples scoring below this quantile",
                                      json_schema_extra={"widget": "slider", "step": 0.05})

    @model_validator(mode="after")
    def _check_adaptation(self):
        if self.n_adapt < self.task_size:
            raise ValueError(f"n_adapt={self.n_adapt} is smaller than task_size={self.task_size}: the "
                             f"adaptation draws batches of task_size samples from the n_adapt known "
                             f"normals; raise n_adapt to at least {self.task_size} or lower task_size")
        return self


class BiGANDetector(Detector):
    """What EGBAD and Rt-BiGAN share: the networks, one adversarial step, training epochs, the score."""

    Config = BiGANConfig
    preprocess: ClassVar[str] = "unit"  # images in [0, 1] match G's sigmoid output; "minmax" for tabular

    @classmethod
    def preferred_preprocess(cls, kind: str) -> str | None:
        """Images as they are in [0, 1] (G ends in a sigmoid), tabular and toy data min-max scaled."""
        return cls.preprocess if kind == "image" else "minmax"

    def __init__(self, config=None, *, device: str = "cpu", seed: int = 0):
        try:
            super().__init__(config, device=device, seed=seed)
        except ValidationError as err:
            from deepad.training.config import format_validation_error

            raise DeepADError(f"method {self.name}: " + format_validation_error(err, model=self.Config)) from None

    # -- building -----------------------------------------------------------------------------
    def _build(self, in_shape: tuple[int, ...], unit_output: bool) -> None:
        self.in_shape, self.unit_output = tuple(in_shape), bool(unit_output)
        cfg = self.config
        self.model = BiGAN(self.in_shape, cfg.latent_dim, cfg.width, self.unit_output).to(self.device)

    def _optimizers(self, lr: float) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        m = self.model
        return (torch.optim.Adam(m.D.parameters(), lr=lr, betas=BETAS),
                torch.optim.Adam(list(m.E.parameters()) + list(m.G.parameters()), lr=lr, betas=BETAS))

    def _start(self, train: Part, val: Part | None, on_epoch):
        """Seed, build (sigmoid output when the training data lie in [0, 1]) and return the pieces
        every fit needs: generator, data tensor, candidate rows (not labelled anomalous), probe, emit."""
        gen = seed_everything(self.seed)
        pool = np.flatnonzero(train.semi != -1)
        if len(pool) < 2:
            raise DeepADError(f"the training set has {len(pool)} samples not labelled anomalous; "
                              f"method {self.name} needs at least 2")
        unit = float(train.x.min()) >= 0.0 and float(train.x.max()) <= 1.0
        self._build(train.x.shape[1:], unit)
        x = as_tensor(train.x, self.device)
        probe = val.x[probe_indices(len(val), self.seed)] if val is not None and len(val) > 1 else None
        return gen, x, pool, probe, on_epoch or (lambda rec, snap=None: None)

    # -- training -----------------------------------------------------------------------------
    def _step(self, xb: torch.Tensor, opt_d, opt_ge, gen: torch.Generator) -> tuple[float, float]:
        """One adversarial step on the batch `xb`: D, then E and G. Returns (loss_d, loss_ge)."""
        m = self.model
        m.train()  # dropout in D (scoring in between switches to evaluation mode)
        z = torch.randn(len(xb), m.latent_dim, generator=gen).to(self.device)
        z_enc, x_gen = m.E(xb), m.G(z)
        logit_real, _ = m.D(xb, z_enc.detach())
        logit_fake, _ = m.D(x_gen.detach(), z)
        loss_d = discriminator_loss(logit_real, logit_fake)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        logit_real, _ = m.D(xb, z_enc)
        logit_fake, _ = m.D(x_gen, z)
        loss_ge = encoder_generator_loss(logit_real, logit_fake)
        opt_ge.zero_grad(set_to_none=True)
        loss_ge.backward()
        opt_ge.step()
        return loss_d.item(), loss_ge.item()

    def _train_epochs(self, x: torch.Tensor, epochs: int, opts, gen, emit, should_stop, val, probe,
                      first_epoch: int = 0, **fields) -> None:
        """`epochs` passes over `x` in minibatches, one record per epoch (with `fields` added)."""
        for e in range(epochs):
            clock = EpochClock(first_epoch + e)
            sums, n = np.zeros(2), 0
            for idx in minibatches(len(x), self.config.batch_size, gen, self.device):
                self._check_stop(should_stop)
                sums += self._step(x[idx], *opts, gen)
                n += 1
            rec = {"loss": float(sums.sum() / n), "loss_d": float(sums[0] / n), "loss_ge": float(sums[1] / n)}
            clock.check_finite(**rec)
            rec.update(phase="train", epoch=first_epoch + e + 1, **fields)
            extras, snap = epoch_extras(self, val, probe)
            rec.update(extras)
            rec["seconds"] = clock.seconds()
            emit(rec, snap)

    def _finish(self, x_normal: np.ndarray) -> None:
        self.fitted = True
        self._threshold = float(np.percentile(self.score(x_normal), 95))

    # -- using --------------------------------------------------------------------------------
    def _score_tensor(self, xb: torch.Tensor) -> torch.Tensor:
        m = self.model
        z = m.E(xb)
        x_rec = m.G(z)
        return anomaly_score(xb, x_rec, m.D.features(xb, z), m.D.features(x_rec, z), self.config.alpha)

    def score(self, x: np.ndarray) -> np.ndarray:
        """A(x) = α·‖x − G(E(x))‖₁ + (1 − α)·‖f(x, E(x)) − f(G(E(x)), E(x))‖₁ (Eq. 2)."""
        self.model.eval()
        return batched(self._score_tensor, x, self.device).astype(np.float64)

    def embed(self, x: np.ndarray) -> np.ndarray:
        """The latent code E(x)."""
        self.model.eval()
        return batched(self.model.E, x, self.device)

    # -- persistence --------------------------------------------------------------------------
    def state(self) -> dict:
        return {"in_shape": self.in_shape, "unit_output": self.unit_output, "model": self.model.state_dict()}

    def load_state(self, state: dict) -> None:
        self._build(state["in_shape"], state["unit_output"])
        self.model.load_state_dict(state["model"])


@register
class EGBAD(BiGANDetector):
    name = "egbad"
    title = "EGBAD (BiGAN)"
    summary = ("A BiGAN trained on the training data; the score mixes the L1 reconstruction error "
               "x vs G(E(x)) with a feature-matching distance in the discriminator.")
    Config = EGBADConfig

    def fit(self, train: Part, val: Part | None = None, on_epoch=None, should_stop=None):
        gen, x, pool, probe, emit = self._start(train, val, on_epoch)
        self._train_epochs(x[torch.as_tensor(pool, device=self.device)], self.config.epochs,
                           self._optimizers(self.config.lr), gen, emit, should_stop, val, probe)
        self._finish(train.x[pool])
        return self


def cluster_groups(x: np.ndarray, n_groups: int, seed: int) -> list[np.ndarray]:
    """Rows of `x` grouped by k-means on the flattened inputs (empty clusters dropped)."""
    from sklearn.cluster import KMeans

    k = min(n_groups, len(x))
    if k <= 1:
        return [np.arange(len(x))]
    labels = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(x.reshape(len(x), -1))
    return [g for g in (np.flatnonzero(labels == c) for c in range(k)) if len(g)]


@register
class RtBiGAN(BiGANDetector):
    name = "rt-bigan"
    title = "Rt-BiGAN (Reptile + self-training)"
    summary = ("A BiGAN meta-trained with Reptile, adapted on a few known normals, then self-trained on "
               "the training samples it scores as normal; made for polluted training data.")
    Config = RtBiGANConfig

    def _adaptation_rows(self, train: Part, rng: np.random.Generator) -> np.ndarray:
        cfg = self.config
        known = np.flatnonzero(train.semi == 1)
        if len(known) == 0:
            raise DeepADError(
                f"method {self.name} adapts its meta-model on n_adapt={cfg.n_adapt} known-normal training "
                f"samples, but the set-up labels none: set known_normals to at least {cfg.n_adapt} "
                "(CLI: --known-normals N)")
        if len(known) < cfg.n_adapt:
            raise DeepADError(
                f"n_adapt={cfg.n_adapt}: the training data hold only {len(known)} known normals "
                f"(set-up known_normals); lower n_adapt to at most {len(known)} or raise known_normals")
        return np.sort(rng.permutation(known)[:cfg.n_adapt])

    def fit(self, train: Part, val: Part | None = None, on_epoch=None, should_stop=None):
        cfg = self.config
        n_keep = int(np.floor(cfg.threshold_quantile * np.sum(train.semi != -1)))
        if cfg.rounds > 0 and n_keep < 2:
            raise DeepADError(f"threshold_quantile={cfg.threshold_quantile}: keeps {n_keep} training "
                              "samples as pseudo-normal; self-training needs at least 2, raise it")
        gen, x, pool, probe, emit = self._start(train, val, on_epoch)
        rng = np.random.default_rng(self.seed)
        adapt_rows = self._adaptation_rows(train, rng)
        self._meta_train(x, [pool[g] for g in cluster_groups(train.x[pool], cfg.n_tasks, self.seed)],
                         rng, gen, emit, should_stop, val, probe)
        self._adapt(x[torch.as_tensor(adapt_rows, device=self.device)], rng, gen, emit, should_stop,
                    val, probe)
        normal = self._self_train(x, train.semi, pool, gen, emit, should_stop, val, probe)
        self._finish(train.x[normal])
        return self

    def _task_steps(self, xt: torch.Tensor, steps: int, rng: np.random.Generator, gen,
                    should_stop) -> np.ndarray:
        """`steps` adversarial steps on a few samples `xt`, batches of task_size drawn from them, with
        fresh Adam optimisers (inner learning rate). Returns the mean (loss_d, loss_ge)."""
        opts = self._optimizers(self.config.inner_lr)
        sums = np.zeros(2)
        size = min(self.config.task_size, len(xt))
        for _ in range(steps):
            self._check_stop(should_stop)
            idx = torch.as_tensor(rng.choice(len(xt), size=size, replace=False), device=self.device)
            sums += self._step(xt[idx], *opts, gen)
        return sums / steps

    def _meta_train(self, x, groups, rng, gen, emit, should_stop, val, probe) -> None:
        """Algorithm 1; one record per tenth of the meta-iterations."""
        cfg = self.config
        params = list(self.model.parameters())
        meta_opt = torch.optim.Adam(params, lr=cfg.meta_lr)
        block = max(1, int(np.ceil(cfg.meta_iterations / 10)))
        clock, sums, n = EpochClock(0), np.zeros(2), 0
        for it in range(cfg.meta_iterations):
            phi = reptile.clone(params)  # Φ; the model's weights play W during the inner loop
            adapted = []
            for _ in range(cfg.meta_batch):
                with torch.no_grad():
                    for p, w in zip(params, phi):
                        p.copy_(w)
                task = torch.as_tensor(reptile.sample_task(groups, cfg.task_size, rng), device=self.device)
                sums += self._task_steps(x[task], cfg.inner_steps, rng, gen, should_stop)
                n += 1
                adapted.append(reptile.clone(params))
            w_t = reptile.average(adapted)
            with torch.no_grad():
                for p, w, g in zip(params, phi, reptile.meta_gradient(phi, w_t)):
                    p.copy_(w)
                    p.grad = g
            meta_opt.step()
            meta_opt.zero_grad(set_to_none=True)
            if (it + 1) % block == 0 or it + 1 == cfg.meta_iterations:
                epoch = (it + 1 + block - 1) // block
                rec = {"loss": float(sums.sum() / n), "loss_d": float(sums[0] / n),
                       "loss_ge": float(sums[1] / n), "iteration": it + 1}
                clock.check_finite(**{k: rec[k] for k in ("loss", "loss_d", "loss_ge")})
                rec.update(phase="meta", epoch=epoch)
                extras, snap = epoch_extras(self, val, probe)
                rec.update(extras)
                rec["seconds"] = clock.seconds()
                emit(rec, snap)
                clock, sums, n = EpochClock(epoch), np.zeros(2), 0

    def _adapt(self, x_adapt, rng, gen, emit, should_stop, val, probe) -> None:
        """Step 2: adapt the meta-model on the known normals (Algorithm 2's fine-tuning steps)."""
        clock = EpochClock(0)
        losses = self._task_steps(x_adapt, self.config.adapt_steps, rng, gen, should_stop)
        rec = {"loss": float(losses.sum()), "loss_d": float(losses[0]), "loss_ge": float(losses[1])}
        clock.check_finite(**rec)
        rec.update(phase="adapt", epoch=1, n_adapt=len(x_adapt))
        extras, snap = epoch_extras(self, val, probe)
        rec.update(extras)
        rec["seconds"] = clock.seconds()
        emit(rec, snap)

    def _self_train(self, x, semi, pool, gen, emit, should_stop, val, probe) -> np.ndarray:
        """Step 3: `rounds` rounds of score → pseudo-label → retrain. Returns the last pseudo-normal rows."""
        cfg = self.config
        opts = self._optimizers(cfg.lr)
        normal = pool
        for r in range(cfg.rounds):
            self._check_stop(should_stop)
            normal = pseudo_normal(self.score_rows(x, pool), pool, semi, cfg.threshold_quantile)
            self._train_epochs(x[torch.as_tensor(normal, device=self.device)], cfg.round_epochs, opts, gen,
                               emit, should_stop, val, probe, first_epoch=r * cfg.round_epochs,
                               round=r + 1, pseudo_normal=len(normal))
        return normal

    def score_rows(self, x: torch.Tensor, rows: np.ndarray) -> np.ndarray:
        self.model.eval()
        return batched(self._score_tensor, x[torch.as_tensor(rows, device=self.device)],
                       self.device).astype(np.float64)


def pseudo_normal(scores: np.ndarray, rows: np.ndarray, semi: np.ndarray, quantile: float) -> np.ndarray:
    """The rows labelled normal for the next round: those scoring at or below the `quantile`-quantile
    of the scores, plus every known normal (semi = +1) whatever its score. Earlier rounds' labels
    play no part (each round replaces them)."""
    keep = scores <= np.quantile(scores, quantile)
    keep |= semi[rows] == 1
    return rows[keep]
