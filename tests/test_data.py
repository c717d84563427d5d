"""Datasets and set-ups: embedded data offline, torchvision data from disk, pure seeded splits."""

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from deepad.data import SetupConfig, load_dataset, make_split
from deepad.data.datasets import CATALOG
from deepad.errors import DeepADError


@pytest.mark.parametrize("name", [n for n, i in CATALOG.items() if i.embedded])
def test_embedded_datasets_load_offline(name):
    ds = load_dataset(name)
    assert len(ds.x) == len(ds.y) > 100
    assert ds.x.dtype == np.float32 and np.isfinite(ds.x).all()
    assert set(np.unique(ds.y)) == set(range(len(ds.classes)))
    if ds.kind == "image":
        assert ds.x.ndim == 4 and ds.x.min() >= 0 and ds.x.max() <= 1


@pytest.mark.parametrize("alteration", ["none", "block-permutation"])
def test_natural_and_altered_set_ups_count_the_training_set_alike(alteration):
    """One builder: known anomalies (a ratio of the normals), pollution (a share of the training
    set) and known normals come out the same whether the anomalies are other digits or altered copies."""
    digits = load_dataset("digits")
    normal = [3] if alteration == "none" else list(range(10))
    setup = SetupConfig(normal=normal, alteration=alteration, known_anomalies=0.1, pollution=0.05, known_normals=7)
    train = make_split(digits, setup, seed=0).train
    n_normal = int(np.sum(train.target == 0))
    assert np.sum(train.known_label == -1) == round(0.1 * n_normal) and np.all(train.target[train.known_label == -1] == 1)
    assert np.sum((train.target == 1) & (train.known_label == 0)) == round(0.05 / 0.95 * n_normal)
    assert np.sum(train.known_label == 1) == 7 and np.all(train.target[train.known_label == 1] == 0)
    assert len(np.unique(train.index[train.target == 1])) == np.sum(train.target == 1)  # each from its own sample


def test_mnist5k_is_500_per_digit(mnist):
    assert mnist.x.shape == (5000, 1, 28, 28)
    assert np.bincount(mnist.y).tolist() == [500] * 10


def test_split_is_pure_seeded_and_parts_are_disjoint(mnist):
    setup = SetupConfig(normal=[3], known_anomalies=20, known_classes=[4, 5], pollution=0.1)
    a, b = make_split(mnist, setup, seed=1), make_split(mnist, setup, seed=1)
    c = make_split(mnist, setup, seed=2)
    assert np.array_equal(a.train.index, b.train.index) and np.array_equal(a.test.x, b.test.x)
    assert not np.array_equal(np.sort(a.test.index), np.sort(c.test.index))
    tr, va, te = set(a.train.index), set(a.val.index), set(a.test.index)
    assert not (tr & va) and not (tr & te) and not (va & te)
    # labelled anomalies come from the known classes only; pollution is unlabelled anomalies
    known = a.train.known_label == -1
    assert known.sum() == 20 and set(a.train.y[known]) <= {4, 5}
    polluted = (a.train.target == 1) & (a.train.known_label == 0)
    n_normal = (a.train.target == 0).sum()
    assert polluted.sum() / (n_normal + polluted.sum()) == pytest.approx(0.1, abs=0.005)
    assert set(a.train.y[a.train.target == 0]) == {3}
    # test holds every class, anomalies labelled 1
    assert set(a.test.y) == set(range(10))
    assert np.array_equal(a.test.target, (a.test.y != 3).astype(int))


def test_known_anomaly_ratio_and_n_vs_m(mnist):
    split = make_split(mnist, SetupConfig(normal=[0, 1, 2], known_anomalies=0.1), seed=0)
    n_normal = (split.train.target == 0).sum()
    assert (split.train.known_label == -1).sum() == round(0.1 * n_normal)
    assert set(split.train.y[split.train.target == 0]) == {0, 1, 2}
    assert split.normal == [0, 1, 2] and split.anomaly == list(range(3, 10))


def test_preprocessing_is_fitted_on_training_data_only(mnist):
    setup = SetupConfig(normal=[7])
    split = make_split(mnist, setup, seed=0)
    changed = load_dataset("mnist5k")
    x = changed.x.copy()
    x[split.test.index] = 1.0 - x[split.test.index]  # tamper with test images only
    from deepad.data.datasets import Dataset

    tampered = make_split(Dataset("mnist5k", x, changed.y, changed.classes, "image"), setup, seed=0)
    assert tampered.preprocess == split.preprocess
    assert np.array_equal(tampered.train.x, split.train.x)


def test_bad_set_ups_are_explained(mnist):
    with pytest.raises(DeepADError, match="class 10 does not exist"):
        make_split(mnist, SetupConfig(normal=[10]))
    with pytest.raises(DeepADError, match="known_classes"):
        make_split(mnist, SetupConfig(normal=[1], known_anomalies=5, known_classes=[1]))
    with pytest.raises(DeepADError, match="known_anomalies=5000"):
        make_split(mnist, SetupConfig(normal=[1], known_anomalies=5000))
    with pytest.raises(DeepADError, match="nothing to detect"):
        make_split(load_dataset("blobs"), SetupConfig(normal=[0, 1]))


@pytest.mark.parametrize("alteration", ["none", "strokes"])
def test_classes_too_small_for_every_part_are_explained(alteration):
    from deepad.data.datasets import Dataset

    def tiny(per_class):
        y = np.repeat(np.arange(2), per_class)
        x = np.random.default_rng(0).random((len(y), 1, 8, 8)).astype(np.float32)
        return Dataset("tiny", x, y, ["good", "defect"], "image", None)

    normal = [0, 1] if alteration != "none" else [0]
    with pytest.raises(DeepADError, match=r"class 'good' of tiny has 5 sample\(s\).*at least 6 samples"):
        make_split(tiny(5), SetupConfig(normal=normal, alteration=alteration))
    split = make_split(tiny(6), SetupConfig(normal=normal, alteration=alteration))
    assert min(len(split.train), len(split.val), len(split.test)) >= 1


def _write_idx(path, arr, magic):
    with gzip.open(path, "wb") if str(path).endswith(".gz") else open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in arr.shape))
        f.write(arr.astype(np.uint8).tobytes())


def _fake_torchvision_mnist(root, folder, n_train, n_test, seed):
    """torchvision's raw layout (uncompressed IDX files), labels 0..9 in turn, random pixels."""
    raw = root / folder / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        _write_idx(raw / f"{prefix}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)), 0x803)
        _write_idx(raw / f"{prefix}-labels-idx1-ubyte", np.arange(n) % 10, 0x801)


def test_torchvision_mnist_is_read_from_a_data_folder(tmp_path):
    _fake_torchvision_mnist(tmp_path, "MNIST", 30, 10, 0)
    ds = load_dataset("mnist", data_dir=tmp_path)
    assert ds.x.shape == (40, 1, 28, 28) and ds.x.max() <= 1.0
    assert ds.y.tolist()[:12] == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]


def test_missing_torchvision_data_says_where_and_leaves_no_empty_folders(tmp_path, monkeypatch):
    import torchvision.datasets as tvd

    class Offline(tvd.FashionMNIST):
        def __init__(self, root, train=True, download=False, **kw):
            (Path(root) / "FashionMNIST" / "raw").mkdir(parents=True, exist_ok=True)
            raise RuntimeError("<urlopen error [Errno -2] Name or service not known>")

    monkeypatch.setattr(tvd, "FashionMNIST", Offline)
    with pytest.raises(DeepADError) as err:
        load_dataset("fashion-mnist", data_dir=tmp_path / "data", download=True)
    msg = str(err.value)
    assert "download failed" in msg and "FashionMNIST/raw" in msg and str(tmp_path / "data") in msg
    assert not (tmp_path / "data").exists()

    # a data folder several levels deep: none of the new parents stays; older folders and files do
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "notes.txt").write_text("mine")
    with pytest.raises(DeepADError):
        load_dataset("fashion-mnist", data_dir=tmp_path / "kept" / "a" / "b" / "c", download=True)
    assert sorted(p.name for p in (tmp_path / "kept").rglob("*")) == ["notes.txt"]


def test_mnist_and_fashion_puts_the_clothing_after_the_digits(tmp_path):
    _fake_torchvision_mnist(tmp_path, "MNIST", 300, 100, 0)
    with pytest.raises(DeepADError, match=r"mnist-and-fashion reads MNIST and Fashion-MNIST.*'fashion-mnist' not found: put FashionMNIST/raw"):
        load_dataset("mnist-and-fashion", data_dir=tmp_path)
    _fake_torchvision_mnist(tmp_path, "FashionMNIST", 300, 100, 1)
    ds = load_dataset("mnist-and-fashion", data_dir=tmp_path)
    digits, clothes = load_dataset("mnist", data_dir=tmp_path), load_dataset("fashion-mnist", data_dir=tmp_path)
    assert ds.x.shape == (800, 1, 28, 28) and ds.kind == "image"
    assert np.array_equal(ds.x[:400], digits.x) and np.array_equal(ds.x[400:], clothes.x)
    assert np.array_equal(ds.y, np.r_[digits.y, clothes.y + 10])
    assert ds.classes[0] == "0 - zero" and ds.classes[10] == "T-shirt/top" and len(ds.classes) == 20

    # Ma et al.'s set-up on it: digits normal, clothing the pollution and the test anomalies
    from deepad.presets import get_preset

    setup = SetupConfig(**get_preset("rt-bigan-fashion-pollution").config["setup"])
    split = make_split(ds, setup, seed=0)
    train, test = split.train, split.test
    assert train.target.mean() == pytest.approx(setup.pollution, abs=0.01) and (train.known_label != -1).all()
    assert (train.known_label == 1).sum() == setup.known_normals and set(train.y[train.known_label == 1]) <= set(range(10))
    assert set(train.y[train.target == 1]) <= set(range(10, 20)) and set(train.y[train.target == 0]) <= set(range(10))
    assert np.array_equal(test.target, (test.y >= 10).astype(int))
    assert test.target.mean() == pytest.approx(0.5, abs=0.05)  # as many clothes as digits at test


def test_paper_tables_runs_paper_003_on_mnist_and_fashion_when_on_disk(tmp_path, monkeypatch, capsys):
    """bench/paper_tables.py: with both datasets on disk, Ma et al.'s table gets the Fashion-MNIST
    rows (quick recipes: a smoke test of the script, on random pixels), and no other paper does."""
    import importlib.util
    import sys

    import torch

    for folder, seed in (("MNIST", 0), ("FashionMNIST", 1)):
        _fake_torchvision_mnist(tmp_path, folder, 300, 100, seed)
    spec = importlib.util.spec_from_file_location("paper_tables", Path(__file__).parents[1] / "bench" / "paper_tables.py")
    tables = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "paper_tables", tables)  # its dataclasses look their module up
    spec.loader.exec_module(tables)
    monkeypatch.setattr(sys, "argv", ["paper_tables.py", "--papers", "002,003", "--datasets", "mnist-and-fashion",
                                      "--data-dir", str(tmp_path), "--seeds", "0", "--quick", "--threads", str(torch.get_num_threads())])
    tables.main()
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "AUC" not in line]
    assert [r.split(" | ")[0] for r in rows] == ["| Rt-BiGAN, 20 % Fashion-MNIST pollution",
                                                "| EGBAD, 20 % Fashion-MNIST pollution", "| EGBAD, clean"]
    assert [r.split(" | ")[-1] for r in rows] == ["0.84 |", "0.52 |", "0.98 |"]  # Table I, as printed
    for r in rows:
        assert 0 <= float(r.split(" | ")[2]) <= 1  # our AUC: a number, not "failed"
    assert "### 002" not in out and "Fashion-MNIST as the test anomalies and the pollution" in out


@pytest.mark.parametrize("normal, seed", [([0], 0), ([7], 3), ([0, 1, 2], 1)])
def test_test_anomaly_share_gives_that_share_and_leaves_the_rest_of_the_split(mnist, normal, seed):
    base = make_split(mnist, SetupConfig(normal=normal, known_anomalies=20), seed=seed)
    split = make_split(mnist, SetupConfig(normal=normal, known_anomalies=20, test_anomaly_share=0.2),
                       seed=seed)
    n_anomalies, n_normals = int(split.test.target.sum()), int((split.test.target == 0).sum())
    # every test normal is kept; the anomalies are 20 % of the test set within one sample
    assert n_normals == int((base.test.target == 0).sum())
    assert abs(n_anomalies - 0.25 * n_normals) <= 1
    assert set(split.test.index) <= set(base.test.index)
    for name in ("train", "val"):
        assert np.array_equal(getattr(split, name).index, getattr(base, name).index)
        assert np.array_equal(getattr(split, name).known_label, getattr(base, name).known_label)


def test_a_high_test_anomaly_share_leaves_normals_out(mnist):
    split = make_split(mnist, SetupConfig(normal=[0, 1, 2, 3, 4, 5, 6, 7], test_anomaly_share=0.6), seed=0)
    n_anomalies, n_normals = int(split.test.target.sum()), int((split.test.target == 0).sum())
    assert n_anomalies == 2 * 150  # every test 8 and 9 (30 % of 500 each)
    assert abs(n_normals - n_anomalies * 0.4 / 0.6) <= 1


def test_test_anomaly_share_applies_to_image_alteration_set_ups(mnist):
    every = list(range(10))
    split = make_split(mnist, SetupConfig(normal=every, alteration="block-permutation",
                                          test_anomaly_share=0.2), seed=0)
    n_anomalies, n_normals = int(split.test.target.sum()), int((split.test.target == 0).sum())
    assert n_normals == 1500 and abs(n_anomalies - 375) <= 1


def test_test_anomaly_share_changes_ap_but_not_the_expected_auc(mnist):
    """One trained detector scored on the full test set (about 90 % anomalies) and on random
    80 / 20 subsets of it. AUC is a mean over (anomaly, normal) pairs, and leaving anomalies out
    uniformly at random keeps every pair equally likely, so the subsets' mean AUC estimates the
    full AUC: it must lie within 4 standard errors of it (the standard error is measured from the
    subsets' spread, 30 draws). AP's chance level is the anomaly share, so AP must fall."""
    from deepad import metrics
    from deepad.data.parts import anomaly_share_mask
    from deepad.detectors import registry

    for normal in (0, 6):
        split = make_split(mnist, SetupConfig(normal=[normal]), seed=0)
        # a middling detector (PCA-32 of GCN-normalised pixels), so that AP has room to fall
        scores = registry.get("iforest")({"pca_components": 32}, seed=0).fit(split.train).score(split.test.x)
        target = split.test.target
        full_auc, full_ap = metrics.auc(target, scores), metrics.average_precision(target, scores)
        aucs, aps = [], []
        for seed in range(30):
            keep = anomaly_share_mask(target, 0.2, seed)
            assert abs(target[keep].mean() - 0.2) < 0.01
            aucs.append(metrics.auc(target[keep], scores[keep]))
            aps.append(metrics.average_precision(target[keep], scores[keep]))
        se = np.std(aucs, ddof=1) / np.sqrt(len(aucs))
        assert abs(np.mean(aucs) - full_auc) < 4 * se, (normal, np.mean(aucs), full_auc, se)
        assert full_ap > 0.9 > np.mean(aps) + 0.05, (normal, full_ap, np.mean(aps))
        assert np.mean(aps) > 0.2 + 0.1  # still well above the chance level of the 80 / 20 set
