"""Benchmark data in: ADBench's NPZ (X, y with 1 = anomaly), ODDS's MATLAB v5 files, a v7.3 (HDF5)
file refused with what to do, and the embedded ODDS / ADBench-style tables built from scikit-learn."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import scipy.io

from deepad.cli import main
from deepad.data.datasets import load_dataset
from deepad.data.uploads import load_user_bytes, load_user_data, read_inputs
from deepad.errors import DeepADError


def benchmark_arrays(seed: int = 0, n: int = 240, d: int = 6, anomalies: int = 24):
    """Normal samples around 0, anomalies shifted; y as the benchmarks store it: float 0.0 / 1.0."""
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(0, 1, (n, d)), rng.normal(3.5, 1, (anomalies, d))]
    y = np.r_[np.zeros(n), np.ones(anomalies)]
    order = rng.permutation(len(y))
    return x[order], y[order]


def train_cli(capsys, *args: str) -> dict:
    status = main(["train", "--method", "iforest", "--quiet", *args])
    out = capsys.readouterr()
    assert status == 0, out.err
    return json.loads(out.out.strip().splitlines()[-1])


def test_an_adbench_npz_trains_with_y_1_anomalous_without_naming_the_normal_class(tmp_path, capsys):
    x, y = benchmark_arrays()
    path = tmp_path / "adbench_like.npz"
    np.savez(path, X=x, y=y)  # ADBench's keys
    ds = load_user_data(path)
    assert ds.classes == ["0", "1"] and ds.x.shape == x.shape
    assert np.array_equal(ds.y, y.astype(int))
    line = train_cli(capsys, "--data", str(path), "--runs-dir", str(tmp_path / "runs"))
    assert line["state"] == "finished" and line["normal"] == [0]  # 0 normal, 1 anomalous: no --normal
    assert line["auc"] > 0.95
    # the test part's anomalies are the y = 1 samples: their share is close to the file's 10 %
    assert 0.03 < line["n_test_anomalies"] / line["n_test"] < 0.2


def test_an_npz_with_both_x_and_X_is_refused_as_ambiguous(tmp_path):
    x, y = benchmark_arrays()
    path = tmp_path / "both.npz"
    np.savez(path, x=x, X=x, y=y)
    with pytest.raises(DeepADError, match="both 'x' and 'X'"):
        load_user_data(path)


def test_an_odds_mat_v5_file_trains_and_its_samples_can_be_scored(tmp_path, capsys):
    x, y = benchmark_arrays(seed=1)
    path = tmp_path / "odds_like.mat"
    scipy.io.savemat(path, {"X": x, "y": y[:, None], "notes": np.array(["ODDS-style"])})  # y (n, 1), as ODDS
    ds = load_user_data(path)
    assert ds.kind == "tabular" and ds.classes == ["0", "1"] and np.array_equal(ds.y, y.astype(int))
    assert np.allclose(ds.x, x.astype(np.float32))
    line = train_cli(capsys, "--data", str(path), "--runs-dir", str(tmp_path / "runs"))
    assert line["state"] == "finished" and line["normal"] == [0] and line["auc"] > 0.95
    scored = read_inputs(path)  # X only is needed to score
    assert scored.x.shape == x.shape and scored.kind == "tabular"
    status = main(["score", line["run_id"], "--data", str(path), "--runs-dir", str(tmp_path / "runs")])
    rows = [json.loads(r) for r in capsys.readouterr().out.splitlines()]
    assert status == 0 and len(rows) == len(x)
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, [r["score"] for r in rows]) > 0.95  # the file's own anomalies score highest


def test_a_mat_v7_3_hdf5_file_is_refused_with_one_line_saying_what_to_do(tmp_path, capsys):
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Dec  7 2026 HDF5 schema 1.00 ."
    data = header.ljust(116, b" ") + b"\0" * 8 + b"\x00\x02IM" + b"\0" * 384 + b"\x89HDF\r\n\x1a\n" + bytes(200)
    path = tmp_path / "v73.mat"
    path.write_bytes(data)
    with pytest.raises(DeepADError, match=r"MATLAB v7\.3 file \(HDF5\).*'-v7'.*np\.savez"):
        load_user_data(path)
    status = main(["train", "--data", str(path), "--runs-dir", str(tmp_path / "runs")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "v7.3" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_a_mat_file_without_x_and_y_names_what_it_holds(tmp_path):
    path = tmp_path / "other.mat"
    scipy.io.savemat(path, {"data": np.ones((5, 2)), "labels": np.zeros(5)})
    with pytest.raises(DeepADError, match=r"needs one array 'X'.*found 'data', 'labels'"):
        load_user_data(path)


def test_damaged_mat_files_only_raise_deepad_error(tmp_path):
    x, y = benchmark_arrays(n=40, anomalies=5)
    path = tmp_path / "good.mat"
    scipy.io.savemat(path, {"X": x, "y": y[:, None]}, do_compression=True)
    good = path.read_bytes()
    for seed in range(150):
        r = random.Random(seed)
        data = bytearray(good)
        for _ in range(r.randint(1, 12)):
            data[r.randrange(len(data))] = r.randrange(256)
        data = data[:r.randrange(len(data) + 1)]
        try:
            ds = load_user_bytes(bytes(data), "damaged.mat")
        except DeepADError as err:
            assert str(err)
            continue
        assert np.isfinite(ds.x).all() and len(ds.x) == len(ds.y)


@pytest.mark.parametrize("name, n, features, loader", [("wine-outliers", 129, 13, "load_wine"),
                                                       ("wdbc-outliers", 367, 30, "load_breast_cancer")])
def test_the_embedded_outlier_sets_are_built_as_documented(name, n, features, loader):
    import sklearn.datasets

    ds = load_dataset(name)
    assert ds.x.shape == (n, features) and ds.classes == ["normal", "outlier"] and int(ds.y.sum()) == 10
    src = getattr(sklearn.datasets, loader)()
    outlier_class = 0  # wine: cultivar 1; breast cancer: malignant
    rows = {tuple(np.round(r, 4)): t for r, t in zip(src.data.astype(np.float32), src.target)}
    targets = np.array([rows[tuple(np.round(r, 4))] for r in ds.x])
    assert (targets[ds.y == 1] == outlier_class).all() and (targets[ds.y == 0] != outlier_class).all()
    assert (ds.y == 0).sum() == (src.target != outlier_class).sum()  # every normal sample is kept
    from deepad.data import benchmarks

    assert np.array_equal(getattr(benchmarks, name.replace("-", "_"))().x, ds.x)  # a fixed, seeded build


def test_the_wine_outlier_set_trains(tmp_path, capsys):
    line = train_cli(capsys, "--dataset", "wine-outliers", "--runs-dir", str(tmp_path / "runs"))
    assert line["state"] == "finished" and line["normal"] == [0] and line["n_test_anomalies"] >= 1
    assert line["auc"] > 0.7
