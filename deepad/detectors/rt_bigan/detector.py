"""Rt-BiGAN (Ma et al.): a BiGAN anomaly detector meant to survive polluted training
data. It trains and scores the BiGAN as EGBAD does (`deepad.detectors._shared.bigan`) and adds:

  1. Reptile meta-training (Algorithm 1): tasks are few-sample subsets of the training data, drawn
     from k-means clusters of it (a stand-in for the class-wise tasks of few-shot learning; no
     labels are used). Per meta-iteration: copy the meta-weights Φ, take K adversarial steps on one
     task (W), then move Φ towards W: by default Reptile's Φ ← Φ + ε(W − Φ) with ε annealed
     linearly from 1 to 0 (Nichol et al.'s supervised-reptile), or, as Algorithm 1 writes it, an
     Adam step on Φ with gradient Φ − W (`reptile.py`).
  2. Adaptation: `adapt_steps` adversarial steps from Φ on `n_adapt` known-normal training samples
     (known_label = +1; the set-up's known_normals provides them; the paper uses 5–10).
  3. Self-training: score every training sample, pseudo-label as normal the `threshold_quantile`
     share (0.5) with the lowest scores, or, with `pseudo_label` "known-normals", those scoring
     at most a quantile of the known normals' scores (known normals always count as normal), train
     `round_epochs` epochs on that pseudo-normal set; repeat for `rounds` rounds, each round's
     labels replacing the previous ones (the paper's "drop training"). From the adapted weights
     on, an exponential moving average of the weights is kept (`weight_average`, as EGBAD's): it
     scores the candidates of each round and, at the end, the data. With the last weights
     instead, a round could pseudo-label more anomalies than the training set holds.
"""

from __future__ import annotations

import copy

import numpy as np
import torch

from deepad.data.parts import Part
from deepad.detectors._shared.bigan import BiGANDetector
from deepad.detectors.training_loop import Phase
from deepad.detectors.torch_utils import as_tensor, batched
from deepad.errors import DeepADError

from . import SPEC, RtBiGANConfig  # noqa: F401
from . import reptile


def cluster_groups(x: np.ndarray, n_groups: int, seed: int) -> list[np.ndarray]:
    """Rows of `x` grouped by k-means on the flattened inputs (empty clusters dropped)."""
    from sklearn.cluster import KMeans

    k = min(n_groups, len(x))
    if k <= 1:
        return [np.arange(len(x))]
    labels = KMeans(n_clusters=k, n_init=3, random_state=seed).fit_predict(x.reshape(len(x), -1))
    return [g for g in (np.flatnonzero(labels == c) for c in range(k)) if len(g)]


class RtBiGAN(BiGANDetector):
    spec = SPEC

    def _adaptation_rows(self, train: Part, rng: np.random.Generator) -> np.ndarray:
        cfg = self.config
        known = np.flatnonzero(train.known_label == 1)
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

    CHECKPOINT_ATTRS = ("pseudo_normal_rows",)  # a round's threshold comes from its pseudo-normal rows

    def check(self, train: Part) -> None:
        super().check(train)
        cfg = self.config
        n_keep = int(np.floor(cfg.threshold_quantile * np.sum(train.known_label != -1)))
        if cfg.rounds > 0 and cfg.pseudo_label == "share" and n_keep < 2:
            raise DeepADError(f"threshold_quantile={cfg.threshold_quantile}: keeps {n_keep} training "
                              "samples as pseudo-normal; self-training needs at least 2, raise it")

    def phases(self, train: Part, val: Part | None):
        cfg = self.config
        x = as_tensor(train.x, self.device)
        pool = np.flatnonzero(train.known_label != -1)
        rng = np.random.default_rng(self.seed)
        adapt_rows = self._adaptation_rows(train, rng)
        yield self._meta_phase(x, [pool[g] for g in cluster_groups(train.x[pool], cfg.n_tasks, self.seed)], rng)
        yield self._adapt_phase(x[torch.as_tensor(adapt_rows, device=self.device)], rng)
        yield from self._self_train(x, train.known_label, pool)

    def finish(self, train: Part) -> None:
        """The threshold from the last round's pseudo-normal training rows."""
        self._threshold = float(np.percentile(self.score(train.x[self.pseudo_normal_rows]), 95))

    def self_train(self, train: Part, val: Part | None = None, on_epoch=None, should_stop=None):
        """Step 3 alone, from the current weights (e.g. a model fitted with rounds=0): the same
        training rows, so several pseudo-label rules can be compared from one adapted model."""
        self.start_training(val, on_epoch, should_stop)
        self.run_phases(self._self_train(as_tensor(train.x, self.device), train.known_label,
                                         np.flatnonzero(train.known_label != -1)))
        self.finish(train)
        return self

    def _task_steps(self, xt: torch.Tensor, steps: int, rng: np.random.Generator) -> np.ndarray:
        """`steps` adversarial steps on a few samples `xt`, batches of task_size drawn from them, with
        fresh Adam optimisers (inner learning rate). Returns the mean (loss_d, loss_ge)."""
        opts = self._optimizers(self.config.inner_lr)
        sums = np.zeros(2)
        size = min(self.config.task_size, len(xt))
        for _ in range(steps):
            self.check_stop()
            idx = torch.as_tensor(rng.choice(len(xt), size=size, replace=False), device=self.device)
            sums += self._step(xt[idx], *opts, self.streams.torch("noise"))
        return sums / steps

    def _meta_phase(self, x: torch.Tensor, groups: list[np.ndarray], rng: np.random.Generator) -> Phase:
        """Algorithm 1; one record per tenth of the meta-iterations, with `meta_shift`, how far Φ has
        moved from its initialisation (‖Φ − Φ₀‖ / ‖Φ₀‖ over all weights)."""
        cfg = self.config
        params = list(self.model.parameters())
        phi_0 = reptile.clone(params)
        meta_opt = torch.optim.Adam(params, lr=cfg.meta_lr) if cfg.meta_update == "adam" else None
        block = max(1, int(np.ceil(cfg.meta_iterations / 10)))

        def run_block(b: int) -> dict:
            sums, n = np.zeros(2), 0
            last = min((b + 1) * block, cfg.meta_iterations)
            for it in range(b * block, last):
                phi = reptile.clone(params)  # Φ; the model's weights play W during the inner loop
                adapted = []
                for _ in range(cfg.meta_batch):
                    with torch.no_grad():
                        for p, w in zip(params, phi):
                            p.copy_(w)
                    task = torch.as_tensor(reptile.sample_task(groups, cfg.task_size, rng), device=self.device)
                    sums += self._task_steps(x[task], cfg.inner_steps, rng)
                    n += 1
                    adapted.append(reptile.clone(params))
                w_t = reptile.average(adapted)
                step = reptile.annealed_step_size(it, cfg.meta_iterations, cfg.meta_step, cfg.meta_step_final)
                with torch.no_grad():
                    if meta_opt is None:  # Reptile: Φ ← Φ + ε(W − Φ)
                        for p, w in zip(params, reptile.interpolate(phi, w_t, step)):
                            p.copy_(w)
                    else:  # Algorithm 1: Adam descends along Φ − W
                        for p, w, g in zip(params, phi, reptile.meta_gradient(phi, w_t)):
                            p.copy_(w)
                            p.grad = g
                if meta_opt is not None:
                    meta_opt.step()
                    meta_opt.zero_grad(set_to_none=True)
            rec = {"loss": float(sums.sum() / n), "loss_d": float(sums[0] / n), "loss_ge": float(sums[1] / n),
                   "iteration": last, "meta_shift": reptile.relative_distance(params, phi_0)}
            if meta_opt is None:
                rec["meta_step"] = step
            return rec

        return Phase("meta", -(-cfg.meta_iterations // block), run_block, finite=("loss", "loss_d", "loss_ge"),
                     extras="every")

    def _adapt_phase(self, x_adapt: torch.Tensor, rng: np.random.Generator) -> Phase:
        """Step 2: adapt the meta-model on the known normals (Algorithm 2's fine-tuning steps)."""

        def run(epoch: int) -> dict:
            losses = self._task_steps(x_adapt, self.config.adapt_steps, rng)
            return {"loss": float(losses.sum()), "loss_d": float(losses[0]), "loss_ge": float(losses[1])}

        return Phase("adapt", 1, run, finite=("loss", "loss_d", "loss_ge"), extras="every",
                     fields={"n_adapt": len(x_adapt)})

    def _self_train(self, x: torch.Tensor, semi: np.ndarray, pool: np.ndarray):
        """Step 3: `rounds` rounds of score → pseudo-label → retrain; `pseudo_normal_rows` holds the
        last round's pseudo-normal training rows."""
        cfg = self.config
        opts = self._optimizers(cfg.lr)
        normal = pool
        if cfg.rounds > 0 and cfg.weight_average > 0:
            self.average = copy.deepcopy(self.model)  # from the adapted weights on
        for r in range(cfg.rounds):
            self.check_stop()
            scores = self.score_rows(x, pool)
            cut = self.pseudo_label_cut(scores, semi[pool])
            normal = pseudo_normal(scores, pool, semi, cut)
            self.pseudo_normal_rows = normal  # this round's: a best-val checkpoint of its epochs keeps them
            yield self._train_phase(x[torch.as_tensor(normal, device=self.device)], cfg.round_epochs, opts,
                                    first_epoch=r * cfg.round_epochs, extras="every",
                                    round=r + 1, pseudo_normal=len(normal), cut=cut)
        if self.average is not None:  # the average is what scores from now on
            self.model, self.average = self.average, None
        self.pseudo_normal_rows = normal

    def pseudo_label_cut(self, scores: np.ndarray, semi: np.ndarray) -> float:
        """The score at or below which a training sample is pseudo-normal, from the current model's
        `scores` of the candidate rows and their labels `semi` (+1 known normal, 0 unlabelled).
        known-normals rule: a quantile of the known normals' scores alone, so the unlabelled rows
        (and their share of anomalies, which the method cannot know) play no part; share rule: the
        threshold_quantile quantile of all candidates' scores."""
        cfg = self.config
        if cfg.pseudo_label == "known-normals":
            known = scores[semi == 1]
            if len(known) == 0:
                raise DeepADError("the known-normals pseudo-label rule needs known normals among the "
                                  "training rows (set-up known_normals)")
            return float(np.quantile(known, cfg.known_normal_quantile))
        return float(np.quantile(scores, cfg.threshold_quantile))

    def score_rows(self, x: torch.Tensor, rows: np.ndarray) -> np.ndarray:
        self.scorer.eval()
        return batched(self._score_tensor, x[torch.as_tensor(rows, device=self.device)],
                       self.device).astype(np.float64)


def pseudo_normal(scores: np.ndarray, rows: np.ndarray, semi: np.ndarray, cut: float) -> np.ndarray:
    """The rows labelled normal for the next round: those scoring at or below `cut`, plus every
    known normal (semi = +1) whatever its score. Earlier rounds' labels play no part (each round
    replaces them)."""
    keep = scores <= cut
    keep |= semi[rows] == 1
    return rows[keep]
