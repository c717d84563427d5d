"""AnoEAN: its losses and the Mahalanobis score against their definitions (and scipy), batches that
hold the known anomalies in proportion, the Gaussian fitted on held-out validation normals, and real
short training on MNIST-5k with fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.spatial.distance import mahalanobis as scipy_mahalanobis

from deepad import metrics
from deepad.detectors import registry
from deepad.detectors.anoean import losses as EL
from deepad.detectors.anoean.detector import anomaly_share
from deepad.errors import DeepADError
from tests.detectors.code_space import contract_split, fit, train_normals


# -- AnoEAN ----------------------------------------------------------------------------------------
def test_anoean_losses_match_their_definitions():
    g = torch.Generator().manual_seed(1)
    lp, ln, la = (torch.randn(n, 1, generator=g) * 3 for n in (8, 6, 2))
    D = torch.sigmoid
    d = EL.discriminator_loss(lp, ln, la)
    ref_d = -(D(lp).log().mean() + (1 - D(ln)).log().mean() + (1 - D(la)).log().mean())
    assert d["loss_d"].item() == pytest.approx(ref_d.item(), rel=1e-5)
    assert d["loss_d"].item() == pytest.approx(sum(d[k].item() for k in
                                                   ("loss_d_prior", "loss_d_normal", "loss_d_anomaly")))
    e = EL.encoder_loss(ln, la)  # non-saturating: −log D(E(x_n)) − log(1 − D(E(x_a)))
    ref_e = -(D(ln).log().mean() + (1 - D(la)).log().mean())
    assert e["loss_e"].item() == pytest.approx(ref_e.item(), rel=1e-5)
    # finite where a naive log(sigmoid) underflows
    assert torch.isfinite(EL.encoder_loss(torch.tensor([[-200.0]]), torch.tensor([[200.0]]))["loss_e"])


def test_mahalanobis_matches_scipy_with_the_ridge():
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(50, 4)) @ rng.normal(size=(4, 4))
    mu, cov = EL.fit_gaussian(torch.as_tensor(codes), ridge=0.01)
    ref_cov = np.cov(codes, rowvar=False)
    ref_cov += 0.01 * np.trace(ref_cov) / 4 * np.eye(4)
    assert np.allclose(mu.numpy(), codes.mean(0)) and np.allclose(cov.numpy(), ref_cov, atol=1e-9)
    query = rng.normal(size=(7, 4))
    ours = EL.mahalanobis(torch.as_tensor(query), mu, cov).numpy()
    ref = [scipy_mahalanobis(q, codes.mean(0), np.linalg.inv(ref_cov)) for q in query]
    assert np.allclose(ours, ref, rtol=1e-8)
    # a constant direction stays invertible thanks to the ridge
    flat = np.c_[codes[:, :3], np.ones(50)]
    mu, cov = EL.fit_gaussian(torch.as_tensor(flat), ridge=1e-3)
    assert torch.all(torch.isfinite(EL.mahalanobis(torch.as_tensor(flat), mu, cov)))


def test_anoean_batches_hold_the_known_anomalies_in_proportion():
    assert anomaly_share(200, 300, 30) == 18
    assert anomaly_share(200, 5000, 1) == 1  # never zero while one exists
    assert anomaly_share(10, 1, 500) == 8  # leaves two normal samples for BatchNorm
    assert anomaly_share(200, 300, 3) == 2


def test_anoean_without_known_anomalies_names_them(split_factory):
    det = registry.get("anoean")({"epochs": 1}, seed=0)
    with pytest.raises(DeepADError, match="known anomalies"):
        det.fit(split_factory(normal=[0]).train)


def test_anoean_score_is_the_mahalanobis_distance_of_the_code(split_factory):
    split = contract_split(split_factory)
    det, _ = fit("anoean", split, epochs=2, val=False)
    emb = det.embed(split.test.x).astype(np.float64)
    mu, cov = det.mu.numpy(), det.cov.numpy()
    # without a validation part, μ, Σ come from the codes of the training samples not labelled anomalous
    codes = det.embed(train_normals(split)).astype(np.float64)
    assert np.allclose(mu, codes.mean(0), atol=1e-5)
    ref_cov = np.cov(codes, rowvar=False)
    assert np.allclose(cov, ref_cov + det.config.ridge * np.trace(ref_cov) / len(mu) * np.eye(len(mu)),
                       rtol=1e-4, atol=1e-6)
    prec = np.linalg.inv(cov)
    ref = np.array([scipy_mahalanobis(e, mu, prec) for e in emb])
    assert np.allclose(det.score(split.test.x), ref, rtol=1e-4)


def test_anoean_fits_its_gaussian_on_the_held_out_validation_normals(split_factory):
    """Gherbi et al.: μ, Σ of the codes of normal validation samples, not of the training codes the
    encoder was trained towards N(0, I)."""
    split = contract_split(split_factory)
    det, _ = fit("anoean", split, epochs=2)
    assert det.fitted_on == "validation"
    val_codes = det.embed(split.val.x[split.val.target == 0]).astype(np.float64)
    assert np.allclose(det.mu.numpy(), val_codes.mean(0), atol=1e-5)
    train_codes = det.embed(train_normals(split)).astype(np.float64)
    assert not np.allclose(det.mu.numpy(), train_codes.mean(0), atol=1e-3)
    assert np.isfinite(det.score(split.test.x)).all()


@pytest.mark.parametrize("normal", [0, 3, 8])
def test_anoean_detects_seen_and_unseen_anomalies(split_factory, normal):
    others = [c for c in range(10) if c != normal]
    known = others[:4]
    split = split_factory(normal=[normal], known_anomalies=0.1, known_classes=known)
    det, _ = fit("anoean", split, val=False, epochs=6, batch_size=50)
    scores, target = det.score(split.test.x), split.test.target
    assert metrics.auc(target, scores) > 0.75
    unseen = ~np.isin(split.test.y, known)  # normal test samples and anomalies of unseen classes
    assert metrics.auc(target[unseen], scores[unseen]) > 0.7
