"""EGBAD: its anomaly score (Eq. 2), its BiGAN networks on other shapes, and clean EGBAD detecting on
digits and seeds no preset names."""

from __future__ import annotations

import pytest
import torch

from deepad import metrics
from deepad.detectors import registry
from deepad.nets.bigan import BiGAN, anomaly_score
from tests.detectors.unit_interval import UNIT


def test_anomaly_score_is_eq_2():
    x, x_rec = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.5, 0.5]])
    f, f_rec = torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[1.0, 0.0, 0.0]])
    assert anomaly_score(x, x_rec, f, f_rec, 0.9).item() == pytest.approx(0.9 * 1.0 + 0.1 * 5.0)
    assert anomaly_score(x, x_rec, f, f_rec, 1.0).item() == pytest.approx(1.0)


def test_bigan_networks_fit_other_shapes():
    for shape in [(1, 8, 8), (30,), (3, 10, 10)]:
        m = BiGAN(shape, latent_dim=4, width=4)
        x = torch.rand(5, *shape)
        z = m.E(x)
        assert z.shape == (5, 4) and m.G(z).shape == x.shape
        logit, f = m.D(x, z)
        assert logit.shape == (5,) and f.shape[0] == 5


# -- EGBAD: the default recipe on clean data ---------------------------------------------------
@pytest.mark.parametrize("normal, seed", [(3, 6), (5, 4), (8, 7)])
def test_clean_egbad_detects_on_digits_and_seeds_no_preset_names(split_factory, normal, seed):
    """Clean one-vs-all EGBAD with its default recipe (spectrally normalised D, scored with the
    weights' moving average) ranks the other digits above the normal one. The recipe without both
    scored digit 3, seed 6 at 0.53 and digit 0, seed 2 at 0.17; digit 5 is the hardest class
    (0.67-0.71 on seeds 0-2 in bench/egbad_stability.py)."""
    split = split_factory(normal=[normal], preprocess=UNIT, seed=seed)
    det = registry.get("egbad")(seed=seed).fit(split.train)
    assert det.config.spectral_norm and det.config.weight_average > 0
    assert metrics.auc(split.test.target, det.score(split.test.x)) > 0.6
