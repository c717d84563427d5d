"""R2-AD2: its batched per-sample gradients against a one-sample autograd loop, its alarm network's
batch normalisation, the set-ups it refuses, and real short training on MNIST-5k with fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from deepad import metrics
from deepad.detectors import registry
from deepad.detectors.r2ad2.detector import R2AD2
from deepad.detectors.r2ad2 import gradients as G
from deepad.detectors.r2ad2.model import AlarmNetwork
from deepad.errors import DeepADError
from deepad.nets import NetSpec, build_autoencoder
from deepad.training.config import validate_config
from tests.detectors.unit_interval import TINY, UNIT


# -- R2-AD2: the gradients -------------------------------------------------------------------
def _trained_autoencoder(in_shape, x, steps=5):
    torch.manual_seed(0)
    enc, dec = build_autoencoder(in_shape, NetSpec(rep_dim=8, bias=True))
    ae = nn.Sequential(enc, dec)
    opt = torch.optim.Adam(ae.parameters(), lr=1e-2)
    for _ in range(steps):  # moves weights and BatchNorm running statistics off their initial values
        loss = G.reconstruction_loss(ae(x), x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return ae


def _autograd_loop(ae, x):
    """The reference: the module itself (evaluation mode), backward on one sample at a time."""
    ae.eval()
    rows = []
    for xi in x:
        ae.zero_grad()
        xb = xi.unsqueeze(0)
        ((ae(xb).reshape(xb.shape) - xb) ** 2).sum().backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in ae.parameters()]))
    return torch.stack(rows)


@pytest.mark.parametrize("kind", ["image", "tabular"])
def test_batched_per_sample_gradients_equal_a_one_sample_loop(mnist, kind):
    x = torch.as_tensor(np.array(mnist.x[:40]))
    if kind == "tabular":
        x = x.flatten(1)[:, ::8].contiguous()  # 98 features through the MLP autoencoder
    ae = _trained_autoencoder(tuple(x.shape[1:]), x)
    params, buffers = G.snapshot(ae)
    batched = G.per_sample_gradients(ae, params, buffers, x, chunk=16)  # several chunks
    reference = _autograd_loop(ae, x)
    assert batched.shape == (len(x), sum(p.numel() for p in ae.parameters()))
    scale = reference.abs().max()
    assert (batched - reference).abs().max() <= 1e-5 * scale
    assert torch.allclose(G.per_sample_gradients_loop(ae, params, buffers, x), reference, atol=1e-5 * scale)
    # the gradients really are per sample: two samples give different rows
    assert not torch.allclose(batched[0], batched[1])

    # in float64 the two ways agree to rounding
    ae64, x64 = ae.double(), x[:6].double()
    p64, b64 = G.snapshot(ae64)
    diff = G.per_sample_gradients(ae64, p64, b64, x64) - _autograd_loop(ae64, x64)
    assert diff.abs().max() <= 1e-10 * scale


def test_gradient_sequence_has_one_step_per_snapshot(mnist):
    x = torch.as_tensor(np.array(mnist.x[:6]))
    ae = _trained_autoencoder((1, 28, 28), x, steps=1)
    first = G.snapshot(ae)
    ae = _trained_autoencoder((1, 28, 28), x, steps=3)
    second = G.snapshot(ae)
    seq = G.gradient_sequence(ae, [first, second], x)
    assert seq.shape == (6, 2, sum(p.numel() for p in ae.parameters()))
    assert torch.allclose(seq[:, 1], G.per_sample_gradients(ae, *second, x))
    assert not torch.allclose(seq[:, 0], seq[:, 1])


def test_batch_norm_is_fitted_on_real_samples_only():
    """Eq. 3: the synthetic anomalies move neither the normalisation statistics nor γ, β."""
    torch.manual_seed(0)
    det = R2AD2({"size": "small"})
    det.alarm = AlarmNetwork(12)
    real, syn = torch.rand(8, 3, 12), 0.5 + torch.randn(8, 3, 12)
    y = torch.tensor([0.0] * 6 + [1.0] * 2)
    loss_real, loss_syn = det._alarm_losses(real, y, syn)
    norm = det.alarm.norm
    # the running statistics moved towards the real batch only
    assert torch.allclose(norm.running_mean, 0.1 * real.reshape(-1, 12).mean(0), atol=1e-6)
    g_syn = torch.autograd.grad(loss_syn, [norm.weight, norm.bias, det.alarm.out.weight], allow_unused=True)
    assert g_syn[0] is None and g_syn[1] is None  # γ, β untouched by the synthetic term
    assert g_syn[2] is not None and g_syn[2].abs().sum() > 0  # the rest of the network learns from it
    g_real = torch.autograd.grad(loss_real, [norm.weight, norm.bias])
    assert all(g.abs().sum() > 0 for g in g_real)


# -- R2-AD2: bad input -----------------------------------------------------------------------
def test_r2ad2_refuses_a_set_up_without_known_anomalies(split_factory):
    split = split_factory(normal=[1], preprocess=UNIT)
    with pytest.raises(DeepADError, match="known anomalies"):
        R2AD2(TINY["r2ad2"]).fit(split.train)


@pytest.mark.parametrize("resample", [True, False])
def test_r2ad2_draws_new_synthetic_anomalies_every_epoch_unless_told_not_to(split_factory, monkeypatch,
                                                                           resample):
    split = split_factory(normal=[1], known_anomalies=20, known_classes=[4], preprocess=UNIT)
    draws = []
    real = G.synthetic_anomalies

    def keep(*args, **kwargs):
        draws.append(real(*args, **kwargs))
        return draws[-1]

    monkeypatch.setattr(G, "synthetic_anomalies", keep)
    R2AD2({**TINY["r2ad2"], "epochs": 3, "resample_synthetic": resample}, seed=0).fit(split.train)
    assert len(draws) == (3 if resample else 1)
    assert all(not torch.equal(a, b) for a, b in zip(draws, draws[1:]))
    assert all(d.shape == (len(split.train), *split.train.x.shape[1:]) for d in draws)


def test_r2ad2_refuses_a_snapshot_schedule_longer_than_training():
    with pytest.raises(DeepADError, match=r"n_snapshots=3.*ae_epochs=15"):
        R2AD2({"t0": 10, "t": 5, "n_snapshots": 3, "ae_epochs": 15})
    with pytest.raises(DeepADError, match="ae_epochs"):
        validate_config({"dataset": "mnist5k", "method": "r2ad2",
                         "setup": {"normal": [0], "known_anomalies": 10},
                         "params": {"t0": 30, "ae_epochs": 20}})
    assert R2AD2({"t0": 10, "t": 5, "n_snapshots": 3, "ae_epochs": 20}).config.ae_epochs == 20


def test_r2ad2_refuses_data_outside_the_unit_interval(split_factory):
    split = split_factory(normal=[1], known_anomalies=20, preprocess="standardize")
    with pytest.raises(DeepADError, match="preprocess"):
        R2AD2(TINY["r2ad2"]).fit(split.train)


# -- R2-AD2: the paper's semi-supervised set-up ------------------------------------------------
def test_r2ad2_beats_the_plain_autoencoder_in_the_semi_supervised_set_up(split_factory):
    """MNIST: digits 0–3 normal, 100 known anomalies from 4–6, test anomalies 4–9 (Schulze et al.,
    Table 2). The baselines: the reconstruction error of R2-AD2's own target autoencoder at each
    snapshot, and the project's autoencoder detector with its default recipe when registered."""
    split = split_factory(normal=[0, 1, 2, 3], known_anomalies=100, known_classes=[4, 5, 6], preprocess=UNIT)
    det = R2AD2({"t0": 6, "t": 3, "n_snapshots": 2, "ae_epochs": 9, "epochs": 4}, seed=0)
    det.fit(split.train)
    test = split.test
    ours = metrics.auc(test.target, det.score(test.x))
    baselines = {f"own AE, snapshot {i + 1}": metrics.auc(test.target, det.reconstruction_error(test.x, i))
                 for i in range(2)}
    if "ae" in registry.names():  # the project's autoencoder baseline, its default recipe
        ae = registry.get("ae")(seed=0).fit(split.train)
        baselines["ae"] = metrics.auc(test.target, ae.score(test.x))
    assert ours > max(baselines.values()) + 0.03, (ours, baselines)
    # unseen anomaly classes (7, 8, 9) are detected too, not only the known ones
    unseen = ~np.isin(test.y, [4, 5, 6])
    assert metrics.auc(test.target[unseen], det.score(test.x[unseen])) > 0.75


def test_gradient_chunks_follow_the_network_size():
    """Small dense autoencoders go through vmap in large chunks (its fixed cost per call dominates
    them), conv autoencoders on images in a few hundred; always within [64, 4096]."""
    conv = G.auto_chunk(5361, (1, 28, 28))
    dense = G.auto_chunk(8678, (30,))
    assert 200 <= conv <= 400 and dense >= 569  # the breast-cancer table in one call
    assert G.auto_chunk(10 ** 9, (3, 224, 224)) == 64 and G.auto_chunk(10, (2,)) == 4096
