"""The maths of Deep SVDD and Chong et al.'s regularizers, as pure functions and inside training."""

import math

import numpy as np
import pytest
import torch

from deepad.detectors.deep_svdd import losses as L


def test_center_nudges_small_coordinates_away_from_zero():
    z = torch.tensor([[0.05, -0.05, 0.5, 0.0], [0.03, -0.01, 0.7, 0.0]])
    c = L.init_center(z)
    assert torch.allclose(c, torch.tensor([0.1, -0.1, 0.6, 0.1]))


def test_deep_sad_term_pulls_normals_and_pushes_known_anomalies():
    dist = torch.tensor([1.0, 4.0, 4.0, 0.25])
    semi = torch.tensor([0, 1, -1, -1])
    loss = L.svdd_loss(dist, semi, eta=2.0, eps=0.0)
    expected = (1.0 + 2 * 4.0 + 2 / 4.0 + 2 / 0.25) / 4
    assert loss.item() == pytest.approx(expected)
    # a known anomaly farther from c costs less
    far = L.svdd_loss(torch.tensor([9.0]), torch.tensor([-1]), eta=1.0)
    near = L.svdd_loss(torch.tensor([0.5]), torch.tensor([-1]), eta=1.0)
    assert far < near


def test_soft_boundary_loss_and_radius_quantile():
    dist = torch.arange(1.0, 101.0)
    r = L.soft_boundary_radius(dist, nu=0.1)
    assert r ** 2 == pytest.approx(float(torch.quantile(dist.sqrt(), 0.9)) ** 2)
    assert (dist > r ** 2).float().mean().item() == pytest.approx(0.1, abs=0.011)
    loss = L.svdd_loss(dist, torch.zeros(100), objective="soft-boundary", radius=r, nu=0.1)
    assert loss.item() == pytest.approx(r ** 2 + torch.clamp(dist - r ** 2, min=0).mean().item() / 0.1)


def test_variance_threshold_is_divided_by_ten_every_r_epochs():
    assert [L.variance_threshold(0.1, e, 3) for e in range(7)] == pytest.approx(
        [0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.001])


def test_variance_hinge_is_zero_above_threshold_and_positive_below():
    spread = torch.randn(64, 8)
    assert L.variance_regularizer(spread, 0.1).item() == 0.0
    constant = torch.ones(64, 8)
    assert L.variance_regularizer(constant, 0.1).item() == pytest.approx(0.1)
    assert L.minibatch_variance(spread).item() == pytest.approx(spread.var(0).mean().item())


def test_adaptive_weight_recurrence():
    alpha, beta = 0.9, 0.5
    c = 0.0
    for ls, lr in [(2.0, 0.5), (1.0, 0.7), (0.5, 0.69)]:
        new = L.adaptive_weight(c, ls, lr, alpha, beta)
        assert new == pytest.approx(alpha * c + beta * (1 - alpha) * ls / lr)
        c = new
    assert L.adaptive_weight(3.0, 1.0, 0.0, alpha, beta) == 3.0  # inactive hinge keeps c_t


def test_noise_regularizer_expectation_is_log2_for_uninformative_logits():
    g = torch.Generator().manual_seed(0)
    loss = L.noise_regularizer(torch.zeros(4096, 50), g)
    assert loss.item() == pytest.approx(math.log(2), abs=1e-6)
