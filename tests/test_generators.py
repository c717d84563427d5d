"""Anomaly generators (block permutation, strokes, FGSM) and the image-alteration set-ups."""

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from deepad import metrics
from deepad.data import SetupConfig, load_dataset, make_split
from deepad.data import generators as G
from deepad.data.preprocess import fit_preprocess
from deepad.data.setups import preview
from deepad.detectors import registry
from deepad.errors import DeepADError

ALL_DIGITS = list(range(10))


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def rgb():
    """Random colour images 3×20×20 with a smooth part, so that blocks differ."""
    rng = np.random.default_rng(5)
    base = np.linspace(0, 1, 20, dtype=np.float32)
    x = rng.random((12, 3, 20, 20), dtype=np.float32) * 0.5 + base[None, None, :, None] * 0.5
    return x


def _blocks(img, n):
    c, h, w = img.shape
    bh, bw = h // n, w // n
    return [img[:, i * bh:(i + 1) * bh, j * bw:(j + 1) * bw].tobytes() for i in range(n) for j in range(n)]


def _assert_same_shape_and_range(x, out):
    assert out.shape == x.shape and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


# --- block permutation ------------------------------------------------------------------------------
@pytest.mark.parametrize("n_blocks", [2, 4, 8])
def test_block_permutation_is_a_true_non_identity_permutation_of_blocks(mnist, n_blocks):
    x = np.array(mnist.x[::250])  # 20 digits of every class, 28×28
    before = x.copy()
    out = G.block_permutation(x, n_blocks, rng=0)
    _assert_same_shape_and_range(x, out)
    assert np.array_equal(x, before), "the input must not be modified"
    side = 28 // n_blocks * n_blocks
    for a, b in zip(x, out):
        assert sorted(_blocks(a[:, :side, :side], n_blocks)) == sorted(_blocks(b[:, :side, :side], n_blocks))
        assert not np.array_equal(a, b)  # the permutation is not the identity (and moved content)
        # the strip that N does not divide (28 = 8·3 + 4) stays where it was
        assert np.array_equal(a[:, side:], b[:, side:]) and np.array_equal(a[:, :, side:], b[:, :, side:])
    assert np.array_equal(np.sort(x.ravel()), np.sort(out.ravel()))  # no pixel lost or added


def test_block_permutation_is_seeded_and_rejects_bad_n(rgb):
    a, b = G.block_permutation(rgb, 2, 7), G.block_permutation(rgb, 2, 7)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, G.block_permutation(rgb, 2, 8))
    for bad in (1, 2.5, 21):
        with pytest.raises(DeepADError, match="block-permutation parameter N"):
            G.block_permutation(rgb, bad, 0)
    with pytest.raises(DeepADError, match=r"\[0, 1\]"):
        G.block_permutation(rgb * 3, 2, 0)


def test_identity_permutations_are_redrawn():
    rng = np.random.default_rng(0)
    perms = G._random_non_identity_perms(5000, 4, rng)  # 1 in 24 would be the identity
    assert not (perms == np.arange(4)).all(axis=1).any()
    assert (np.sort(perms, axis=1) == np.arange(4)).all()


# --- strokes --------------------------------------------------------------------------------------
@pytest.mark.parametrize("thickness", [1, 3, 5])
def test_strokes_change_a_bounded_non_empty_set_of_pixels_in_one_colour(rgb, thickness):
    max_strokes = 3
    out = G.strokes(rgb, thickness, rng=1, max_strokes=max_strokes)
    _assert_same_shape_and_range(rgb, out)
    changed = (out != rgb).any(axis=1)  # (n, H, W)
    # a stroke is a segment of length <= 20 (the shorter side) widened by the thickness
    bound = max_strokes * (20 + thickness + 2) * (thickness + 2)
    for img, changed_i in zip(out, changed):
        assert 0 < changed_i.sum() <= min(bound, 20 * 20)
        colours = img[:, changed_i].T  # every changed pixel holds the image's one colour
        assert np.allclose(colours, colours[0])
    assert np.array_equal(out, G.strokes(rgb, thickness, rng=1, max_strokes=max_strokes))


def test_stroke_masks_grow_with_thickness():
    thin = G.stroke_masks(200, 32, 32, 1, rng=3).sum(axis=(1, 2))
    thick = G.stroke_masks(200, 32, 32, 7, rng=3).sum(axis=(1, 2))
    assert (thin > 0).all() and (thick >= thin).all() and thick.mean() > 3 * thin.mean()


def test_strokes_on_grayscale_keep_one_channel(digits):
    out = G.strokes(digits.x[:50], 2, rng=0)
    _assert_same_shape_and_range(np.asarray(digits.x[:50]), out)
    assert ((out != digits.x[:50]).reshape(50, -1).sum(axis=1) > 0).all()


# --- FGSM -----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def classifier(digits):
    order = np.random.default_rng(0).permutation(len(digits.y))
    fit, held = order[:1300], order[1300:1600]
    model = G.train_classifier(digits.x[fit], digits.y[fit], epochs=5, seed=0)
    return model, np.asarray(digits.x[held]), digits.y[held]


def test_fgsm_stays_within_eps_and_changes_most_predictions(classifier):
    model, x, y = classifier
    weights = [p.detach().clone() for p in model.parameters()]
    clean = G.predict(model, x)
    assert (clean == y).mean() > 0.7  # the small classifier learned something
    eps = 0.2
    adv = G.fgsm(x, model, y, eps)
    _assert_same_shape_and_range(x, adv)
    assert np.abs(adv - x).max() <= eps + 1e-6
    assert (adv != x).mean() > 0.5
    assert (G.predict(model, adv) != clean).mean() > 0.5
    assert all(torch.equal(a, b) for a, b in zip(weights, model.parameters())), "the model must not change"


def test_fgsm_rejects_bad_eps_and_labels(classifier):
    model, x, y = classifier
    with pytest.raises(DeepADError, match=r"\(0, 1\]"):
        G.fgsm(x, model, y, 0)
    with pytest.raises(DeepADError, match="unknown to the classifier"):
        G.fgsm(x, model, y + 10, 0.1)
    with pytest.raises(DeepADError, match="one per image"):
        G.fgsm(x, model, y[:3], 0.1)


def test_classifier_training_is_seeded_and_leaves_the_global_rng_alone(digits):
    x, y = np.asarray(digits.x[:200]), digits.y[:200]
    torch.manual_seed(123)
    expected = torch.rand(1)
    torch.manual_seed(123)
    a = G.train_classifier(x, y, epochs=1, seed=4)
    assert torch.equal(torch.rand(1), expected)
    b = G.train_classifier(x, y, epochs=1, seed=4)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


# --- the image-alteration set-up ---------------------------------------------------------------------
@pytest.mark.parametrize("alteration,param", [("block-permutation", 2), ("strokes", 1)])
def test_alteration_setup_has_one_anomalous_counterpart_per_natural_image(digits, alteration, param):
    setup = SetupConfig(normal=ALL_DIGITS, alteration=alteration, alteration_param=param)
    split = make_split(digits, setup, seed=0)
    assert split.anomaly == [] and split.normal == ALL_DIGITS
    assert split.alterations["test"] == {"kind": alteration, "param": param}
    for part in (split.val, split.test):
        natural, altered = part.target == 0, part.target == 1
        assert natural.sum() == altered.sum() > 0
        # every natural image has exactly one altered copy, made from it
        assert np.array_equal(np.sort(part.index[natural]), np.sort(part.index[altered]))
        assert len(np.unique(part.index[natural])) == natural.sum()
        assert np.array_equal(part.raw[natural], digits.x[part.index[natural]])
        for i in np.flatnonzero(altered)[:50]:
            assert not np.array_equal(part.raw[i], digits.x[part.index[i]])
        assert set(part.y) == set(ALL_DIGITS)
    # natural images: every class pooled; train holds no anomaly in the unsupervised set-up
    assert (split.train.target == 0).all() and set(split.train.y) == set(ALL_DIGITS)
    # train, val and test draw on different natural images
    tr, va, te = set(split.train.index), set(split.val.index), set(split.test.index)
    assert not (tr & va) and not (tr & te) and not (va & te)
    # preprocessing parameters come from the training data only
    assert split.preprocess == fit_preprocess(split.train.raw, split.preprocess["method"])


def test_alteration_setup_is_pure_and_seeded(digits):
    setup = SetupConfig(normal=ALL_DIGITS, alteration="strokes", alteration_param=2, known_anomalies=20)
    a, b, c = (make_split(digits, setup, seed=s) for s in (3, 3, 4))
    for name in ("train", "val", "test"):
        pa, pb = getattr(a, name), getattr(b, name)
        assert np.array_equal(pa.x, pb.x) and np.array_equal(pa.index, pb.index)
        assert np.array_equal(pa.known_label, pb.known_label)
    assert not np.array_equal(a.test.raw, c.test.raw)
    assert not digits.x.flags.writeable  # the dataset itself is untouched (read-only)


def test_semi_supervised_variant_trains_on_a_different_alteration(digits):
    """Chong et al., Table VI: known anomalies from strokes, test anomalies from block permutation.
    Block permutation keeps an image's pixel values (only moves them); strokes do not."""
    setup = SetupConfig(normal=ALL_DIGITS, alteration="block-permutation", alteration_param=2,
                        known_anomalies=0.1, train_alteration="strokes", train_alteration_param=1,
                        val_alteration="strokes", val_alteration_param=3)
    split = make_split(digits, setup, seed=0)
    known = split.train.known_label == -1
    n_natural = int((split.train.target == 0).sum())
    assert known.sum() == round(0.1 * n_natural) and (split.train.target[known] == 1).all()

    def same_values(raw, idx):
        return np.array([np.array_equal(np.sort(r.ravel()), np.sort(digits.x[i].ravel()))
                         for r, i in zip(raw, idx)])

    assert not same_values(split.train.raw[known], split.train.index[known]).any()
    test_anom = split.test.target == 1
    assert same_values(split.test.raw[test_anom], split.test.index[test_anom]).all()
    assert split.alterations["train"] == {"kind": "strokes", "param": 1}
    assert split.alterations["val"] == {"kind": "strokes", "param": 3}
    assert split.alterations["test"] == {"kind": "block-permutation", "param": 2}


def test_pollution_is_unlabelled_altered_copies(digits):
    setup = SetupConfig(normal=ALL_DIGITS, alteration="strokes", pollution=0.1, known_anomalies=10)
    split = make_split(digits, setup, seed=1)
    polluted = (split.train.target == 1) & (split.train.known_label == 0)
    n_natural = (split.train.target == 0).sum()
    assert polluted.sum() / (n_natural + polluted.sum()) == pytest.approx(0.1, abs=0.01)
    assert (split.train.known_label == -1).sum() == 10
    sources = split.train.index[split.train.target == 1]
    assert len(np.unique(sources)) == len(sources)  # each copy from a different training image


def test_fgsm_setup_perturbs_the_normal_test_images(digits):
    split = make_split(digits, SetupConfig(normal=[3], alteration="fgsm", alteration_param=0.15), seed=0)
    test = split.test
    assert set(test.y) == {3} and set(split.train.y) == {3}
    assert (test.target == 1).sum() == (test.target == 0).sum()
    anomalies = test.target == 1
    diff = np.abs(test.raw[anomalies] - digits.x[test.index[anomalies]])
    assert diff.max() <= 0.15 + 1e-6 and diff.mean() > 0.01
    assert split.anomaly == [] and split.normal == [3]


def test_a_detector_separates_strokes_from_natural_digits(digits):
    split = make_split(digits, SetupConfig(normal=ALL_DIGITS, alteration="strokes", alteration_param=2),
                       seed=0, preprocess="unit")
    det = registry.get("iforest")(seed=0).fit(split.train)
    assert metrics.auc(split.test.target, det.score(split.test.x)) > 0.6


@pytest.mark.parametrize("setup,message", [
    (dict(normal=[0], alteration="strokes"), "set normal to all classes: 0,1,2,3,4,5,6,7,8,9"),
    (dict(normal=ALL_DIGITS, alteration="block-permutation", alteration_param=9), "at most 8"),
    (dict(normal=[42], alteration="fgsm"), "class 42 does not exist in digits"),
    (dict(normal=ALL_DIGITS, alteration="strokes", known_anomalies=2000), r"need 2000 altered copies .* only \d+ exist"),
])
def test_alteration_setup_errors_name_the_problem(digits, setup, message):
    with pytest.raises(DeepADError, match=message):
        make_split(digits, SetupConfig(**setup))


@pytest.mark.parametrize("fields,message", [
    (dict(alteration="strokes", anomaly=[1]), "leave anomaly unset"),
    (dict(alteration="strokes", known_classes=[1]), "leave known_classes unset"),
    (dict(train_alteration="strokes"), "set alteration too"),
    (dict(alteration="strokes", train_alteration="fgsm"), "without known anomalies"),
    (dict(alteration="strokes", train_alteration_param=3, known_anomalies=5), "name the alteration"),
    (dict(alteration="fgsm", alteration_param=1.5), r"must lie in \(0, 1\]"),
    (dict(alteration="strokes", alteration_param=2.5), "whole number"),
])
def test_alteration_fields_are_validated(fields, message):
    with pytest.raises(ValidationError, match=message):
        SetupConfig(**fields)


def test_alteration_needs_images_and_passes_run_validation():
    from deepad.training.config import validate_config

    with pytest.raises(DeepADError, match="breast-cancer is tabular"):
        validate_config({"dataset": "breast-cancer", "setup": {"normal": [0, 1], "alteration": "strokes"}})
    cfg = validate_config({"dataset": "digits", "setup": {"normal": ALL_DIGITS, "alteration": "strokes"}})
    assert cfg.setup.alteration_plan()["test"] == ("strokes", 5)


def test_preview_pairs_originals_with_their_altered_copies(digits):
    setup = SetupConfig(normal=ALL_DIGITS, alteration="block-permutation", alteration_param=4)
    originals, altered = preview(digits, setup, n=6, seed=2)
    assert originals.shape == altered.shape == (6, 1, 8, 8)
    for o, a in zip(originals, altered):
        assert sorted(_blocks(o, 4)) == sorted(_blocks(a, 4)) and not np.array_equal(o, a)
    again = preview(digits, setup, n=6, seed=2)
    assert np.array_equal(again[1], altered)
    with pytest.raises(DeepADError, match="preview shows an image alteration"):
        preview(digits, SetupConfig(), n=3)


def test_fgsm_set_up_trains_its_classifier_once_per_dataset_and_seed(monkeypatch):
    """Checking a run's set-up and then training it build the same split: one classifier."""
    from deepad.data import altered

    trained = []
    real = G.train_classifier
    monkeypatch.setattr(G, "train_classifier", lambda *a, **k: trained.append(1) or real(*a, **k))
    monkeypatch.setattr(altered, "_CLASSIFIERS", type(altered._CLASSIFIERS)())
    ds = load_dataset("digits")
    setup = SetupConfig(normal=[0, 1], alteration="fgsm", alteration_param=0.2)
    first = make_split(ds, setup, seed=5)
    again = make_split(ds, setup, seed=5)
    assert len(trained) == 1
    assert np.array_equal(first.test.raw, again.test.raw)
    make_split(ds, setup, seed=6)  # another seed: other training rows, its own classifier
    assert len(trained) == 2
