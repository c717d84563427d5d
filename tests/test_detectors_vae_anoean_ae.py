"""Deep SVDD-VAE, AnoEAN and the autoencoder baseline: their maths against reference formulas, the
detector contract, and real short training on MNIST-5k with fixed seeds."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy.spatial.distance import mahalanobis as scipy_mahalanobis

from deepad import metrics
from deepad.detectors.ae import detector as AE
from deepad.detectors import registry
from deepad.detectors.anoean import losses as EL
from deepad.detectors.anoean.detector import anomaly_share
from deepad.detectors.base import Cancelled
from deepad.detectors.deep_svdd_vae import losses as VL
from deepad.errors import DeepADError, TrainingFailed

@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """These networks and batches are small: a second thread gains little and, on a machine whose
    cores are busy with other work, waiting threads make training several times slower."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


KNOWN = [7, 9]  # classes of the labelled anomalies in the contract split
REQUIRED = {"deep-svdd-vae": {"loss", "loss_rec", "loss_kl", "loss_svdd"},
            "anoean": {"loss", "loss_d", "loss_e"},
            "ae": {"loss", "loss_rec"}}


def contract_split(split_factory, dataset="mnist"):
    """Normal class plus 20 labelled anomalies: AnoEAN needs them, the others must leave them out."""
    if dataset == "breast-cancer":  # tabular: class 1 (benign) normal, malignant anomalous
        return split_factory(dataset="breast-cancer", normal=[1], known_anomalies=20)
    return split_factory(normal=[1], known_anomalies=20, known_classes=KNOWN)


def fit(name, split, seed=0, val=True, **params):
    det = registry.get(name)(params, seed=seed)
    records = []
    det.fit(split.train, split.val if val else None, on_epoch=lambda r, s=None: records.append(r))
    return det, records


def train_normals(split):
    return split.train.x[split.train.known_label != -1]


# -- what these three record and decide by (the contract itself: tests/test_contract.py) ---------
@pytest.mark.parametrize("name", ["deep-svdd-vae", "anoean", "ae"])
def test_records_and_threshold(split_factory, name):
    split = contract_split(split_factory)
    det, records = fit(name, split, epochs=2)
    assert [r["epoch"] for r in records] == [1, 2]
    for r in records:
        assert r["phase"] == "train" and r["seconds"] > 0
        assert REQUIRED[name] <= set(r), set(r)
        assert all(np.isfinite(r[k]) for k in REQUIRED[name])
        assert 0 <= r["val_auc"] <= 1
        # the collapse numbers belong to the centre methods only
        hypersphere = registry.spec(name).hypersphere
        assert ("spread_ratio" in r and r["verdict"] in ("healthy", "at risk", "collapsed")) == hypersphere
    assert det.embed(split.test.x[:50]).shape == (50, det.rep_dim)
    assert det.threshold == pytest.approx(np.percentile(det.score(train_normals(split)), 95))
    if name == "ae":  # no geometry in the code space: the score lives in input space
        assert det.center is None
    else:
        assert det.center.shape == (det.rep_dim,)


@pytest.mark.parametrize("name", ["deep-svdd-vae", "anoean", "ae"])
def test_tabular_data_train_with_the_mlp_networks(split_factory, name, tmp_path):
    split = contract_split(split_factory, "breast-cancer")
    det, records = fit(name, split, epochs=3, batch_size=64)
    scores = det.score(split.test.x)
    assert len(records) == 3 and np.all(np.isfinite(scores)) and scores.std() > 0
    det.save(tmp_path / "det.pt")
    assert np.array_equal(registry.get(name).load(tmp_path / "det.pt").score(split.test.x), scores)


@pytest.mark.parametrize("name", ["deep-svdd-vae", "anoean", "ae"])
def test_stop_flag_cancels_at_the_first_batch(split_factory, name):
    det = registry.get(name)({"epochs": 50}, seed=0)
    with pytest.raises(Cancelled):
        det.fit(contract_split(split_factory).train, should_stop=lambda: True)


@pytest.mark.parametrize("name, module, function", [
    ("deep-svdd-vae", VL, "kl_to_standard_normal"),
    ("anoean", EL, "encoder_loss"),
    ("ae", AE, "reconstruction_error"),
])
def test_a_nan_loss_fails_the_run_with_its_epoch(split_factory, monkeypatch, name, module, function):
    real = getattr(module, function)

    def poisoned(*args, **kwargs):
        out = real(*args, **kwargs)
        nan = lambda t: t * float("nan")  # noqa: E731
        return {k: nan(v) for k, v in out.items()} if isinstance(out, dict) else nan(out)

    monkeypatch.setattr(module, function, poisoned)
    with pytest.raises(TrainingFailed) as err:
        fit(name, contract_split(split_factory), epochs=3, val=False)
    assert err.value.epoch == 1 and "nan" in str(err.value)


@pytest.mark.parametrize("name", ["deep-svdd-vae", "anoean", "ae"])
def test_registered_with_a_documented_config(name):
    cls = registry.get(name)
    assert cls.title and cls.summary and cls.Config is not None
    for field, info in cls.Config.model_fields.items():
        assert info.description, f"{name}.{field} has no description"
    with pytest.raises(DeepADError, match="lr"):
        cls({"lr": -1.0})


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


# -- autoencoder -----------------------------------------------------------------------------------
def test_ae_score_is_the_squared_reconstruction_error_and_it_detects(split_factory):
    split = split_factory(normal=[0])
    det, records = fit("ae", split, epochs=4, batch_size=50, val=False)
    assert records[-1]["loss"] < records[0]["loss"]
    x = split.test.x[:50]
    with torch.no_grad():
        det.encoder.eval(), det.decoder.eval()
        x_hat = det.decoder(det.encoder(torch.as_tensor(x))).numpy().reshape(x.shape)
        code = det.encoder(torch.as_tensor(x)).numpy()
    assert np.allclose(det.score(x), ((x - x_hat) ** 2).reshape(len(x), -1).sum(1), rtol=1e-5)
    assert np.allclose(det.embed(x), code, atol=1e-6)
    assert metrics.auc(split.test.target, det.score(split.test.x)) > 0.8
