"""Deep SVDD-VAE: its losses against the reference formulas, records that add up, the score as the
distance of the latent mean, the likelihood that follows the data range, the VAE term's scale (per
input, Zhou et al.'s Eq. 12, or per input dimension), and real short training on MNIST-5k."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from deepad import metrics
from deepad.detectors.deep_svdd_vae import losses as VL
from deepad.errors import DeepADError
from tests.detectors.code_space import contract_split, fit, train_normals
from deepad.detectors import registry
from deepad.detectors.deep_svdd_vae import losses as L


# -- Deep SVDD-VAE ---------------------------------------------------------------------------------
def test_vae_losses_match_the_reference_formulas():
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(6, 4, generator=g), torch.randn(6, 4, generator=g)
    ref_kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, (0.5 * logvar).exp()), torch.distributions.Normal(0.0, 1.0)).sum(1)
    assert torch.allclose(VL.kl_to_standard_normal(mu, logvar), ref_kl, atol=1e-5)

    x = torch.rand(6, 1, 5, 5, generator=g)  # continuous targets in [0, 1], as after GCN
    x_hat = torch.rand(6, 1, 5, 5, generator=g).clamp(0.01, 0.99)
    ref_bce = F.binary_cross_entropy(x_hat, x, reduction="none").flatten(1).sum(1)
    assert torch.allclose(VL.bernoulli_nll(x_hat, x), ref_bce, atol=1e-4)
    ref_gauss = -torch.distributions.Normal(x_hat, 1.0).log_prob(x).flatten(1).sum(1)
    assert torch.allclose(VL.gaussian_nll(x_hat, x), ref_gauss, atol=1e-4)

    eps = torch.randn(6, 4, generator=g)
    assert torch.allclose(VL.reparametrize(mu, logvar, eps), mu + logvar.mul(0.5).exp() * eps)

    mu_grad = mu.clone().requires_grad_(True)
    c = VL.batch_center(mu_grad)
    assert not c.requires_grad and torch.allclose(c, mu.mean(0))
    dist = VL.center_distance(mu, c)
    assert np.allclose(dist.numpy(), np.linalg.norm(mu.numpy() - c.numpy(), axis=1), atol=1e-6)
    rec_nll, kl, dist = torch.tensor([3.0, 5.0]), torch.tensor([1.0, 2.0]), torch.tensor([0.5, 1.5])
    parts = VL.svdd_vae_loss(rec_nll, kl, dist, 0.3)
    assert parts["loss"].item() == pytest.approx(0.3 * (1.5 + 4.0) + 1.0)


def test_vae_records_add_up_and_the_score_is_the_distance_of_the_latent_mean(split_factory):
    split = contract_split(split_factory)
    det, records = fit("deep-svdd-vae", split, epochs=2, alpha=0.4)
    for r in records:  # Eq. 12, from the epoch means of its parts
        assert r["loss"] == pytest.approx(0.4 * (r["loss_kl"] + r["loss_rec"]) + r["loss_svdd"], rel=1e-5)
        assert r["loss_kl"] > 0 and r["loss_svdd"] > 0
    x = split.test.x
    emb = det.embed(x)
    # c* is the mean latent mean of the training samples not labelled anomalous
    assert np.allclose(det.center, det.embed(train_normals(split)).mean(0), atol=1e-5)
    assert np.allclose(det.score(x), np.linalg.norm(emb - det.center, axis=1), rtol=1e-5, atol=1e-6)
    assert np.array_equal(det.score(x), det.score(x))  # the mean, not a random sample of q(z|x)
    assert det.radius == det.threshold == pytest.approx(np.percentile(det.score(train_normals(split)), 95))
    assert det.likelihood == "bernoulli"  # GCN-scaled training images lie in [0, 1]


def test_vae_likelihood_follows_the_data_range(split_factory):
    split = split_factory(normal=[1], preprocess="standardize")
    det, _ = fit("deep-svdd-vae", split, epochs=1, val=False)
    assert det.likelihood == "gaussian"
    with pytest.raises(DeepADError, match=r"likelihood=bernoulli.*\[0, 1\]"):
        fit("deep-svdd-vae", split, epochs=1, val=False, likelihood="bernoulli")


# Short configurations: smaller batches give more steps per epoch at the same cost.
@pytest.mark.parametrize("normal", [0, 3, 8])
def test_vae_detects_other_digits(split_factory, normal):
    split = split_factory(normal=[normal])
    det, _ = fit("deep-svdd-vae", split, val=False, epochs=4, batch_size=50, alpha=0.1)
    auc = metrics.auc(split.test.target, det.score(split.test.x))
    assert auc > 0.75, auc


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
