"""Deep SVDD-VAE's scale: the VAE term per input (Zhou et al.'s Eq. 12) or per input dimension."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepad.detectors import registry
from deepad.detectors.deep_svdd_vae import losses as L


def test_per_dimension_scale_is_the_paper_loss_with_alpha_over_d():
    g = torch.Generator().manual_seed(0)
    rec, kl, dist = torch.rand(8, generator=g) * 400, torch.rand(8, generator=g) * 20, torch.rand(8, generator=g)
    per_dim = L.svdd_vae_loss(rec, kl, dist, alpha=1.0, vae_scale=1 / 784)
    paper = L.svdd_vae_loss(rec, kl, dist, alpha=1 / 784)
    assert per_dim["loss"].item() == pytest.approx(paper["loss"].item(), rel=1e-6)
    assert per_dim["loss_rec"].item() == pytest.approx(rec.mean().item())  # records stay unscaled


def test_per_dimension_training_records_its_total(split_factory):
    split = split_factory(normal=[6], preprocess="unit")
    det = registry.get("deep-svdd-vae")({"epochs": 2, "alpha": 1.0, "vae_scale": "per-dimension"}, seed=0)
    records = []
    det.fit(split.train, split.val, on_epoch=lambda r, s=None: records.append(r))
    d = int(np.prod(split.input_shape))
    for r in records:  # per epoch: the mean of the batches' totals, each α·(KL + NLL)/D + distance
        assert r["loss"] == pytest.approx((r["loss_kl"] + r["loss_rec"]) / d + r["loss_svdd"], rel=1e-5)
        assert r["loss_rec"] > 50  # the reconstruction itself is still nats per image
