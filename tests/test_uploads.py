"""A user's own data: CSV, NPZ and image zip / folder loaders, their messages, storing an upload
with a run, "file:" dataset names, and a property-based test that malformed input only ever raises
DeepADError."""

import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from deepad import metrics
from deepad.data import SetupConfig, make_split
from deepad.data.datasets import dataset_info, load_dataset
from deepad.data.uploads import (load_user_bytes, load_user_data, normal_classes, parse_user_dataset_name,
                                 user_dataset_name)
from deepad.detectors import registry
from deepad.errors import DeepADError
from deepad.runs.uploads import copy_into_run, stage_upload_bytes, write_into_run
from deepad.runs.reopen import run_dataset
from deepad.runs.uploads import copy_into_run, stage_upload_bytes, write_into_run

TINY_SVDD = {"epochs": 8, "pretrain_epochs": 0, "batch_size": 32, "lr": 1e-3}


# --- data with a clear signal ---------------------------------------------------------------------
def csv_text(n_normal=240, n_anomalies=60, seed=0, sep=","):
    """Normal rows ~ N(0, 1), anomalies ~ N(4, 1) in four features; an id text column."""
    rng = np.random.default_rng(seed)
    x = np.r_[rng.normal(0, 1, (n_normal, 4)), rng.normal(4, 1, (n_anomalies, 4))]
    labels = ["ok"] * n_normal + ["fault"] * n_anomalies
    order = rng.permutation(len(labels))
    lines = [sep.join(["id", "f1", "f2", "f3", "f4", "status"])]
    lines += [sep.join([f"s{i}", *(f"{v:.4f}" for v in x[i]), labels[i]]) for i in order]
    return "\n".join(lines) + "\n"


def square_images(n, anomalous, seed, size=12, channels=1):
    """Dark images with a bright square in the middle (normal) or in a corner (anomalous)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 0.15, (n, channels, size, size)).astype(np.float32)
    lo, hi = (0, 4) if anomalous else (size // 2 - 2, size // 2 + 2)
    x[:, :, lo:hi, lo:hi] = 0.9
    return x


def png_bytes(img: np.ndarray) -> bytes:
    arr = (img.transpose(1, 2, 0) * 255).round().astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr).save(buf, "PNG")
    return buf.getvalue()


def image_zip(path: Path, channels=3, size=16, wrap="dataset", odd_size=None, extra=()):
    with zipfile.ZipFile(path, "w") as zf:
        for cls, anomalous, n in (("good", False, 60), ("defect", True, 30)):
            for i, img in enumerate(square_images(n, anomalous, seed=len(cls), size=size, channels=channels)):
                zf.writestr(f"{wrap}/{cls}/{i:03d}.png", png_bytes(img))
        if odd_size:
            zf.writestr(f"{wrap}/good/odd.png", png_bytes(square_images(1, False, 9, odd_size, channels)[0]))
        for name, data in extra:
            zf.writestr(name, data)
    return path


def tree(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*")}


def auc_of(dataset, normal, method="deep-svdd", params=None):
    det_cls = registry.get(method)
    split = make_split(dataset, SetupConfig(normal=normal), seed=0,
                       preprocess=det_cls.preferred_preprocess(dataset.kind))
    det = det_cls(params or {}, seed=0).fit(split.train, split.val)
    return metrics.auc(split.test.target, det.score(split.test.x))


# --- good files train a detector end to end --------------------------------------------------------
def test_csv_loads_with_classes_in_natural_order_and_trains_deep_svdd(tmp_path):
    path = tmp_path / "sensors.csv"
    path.write_text(csv_text())
    ds = load_user_data(path, label_column="status", normal_values=["ok"])
    assert ds.kind == "tabular" and ds.x.shape == (300, 4) and ds.x.dtype == np.float32
    assert ds.classes == ["fault", "ok"] and ds.feature_names == ["f1", "f2", "f3", "f4"]  # id skipped
    assert normal_classes(ds, ["ok"]) == [1] and normal_classes(ds, "fault,ok") == [0, 1]
    assert auc_of(ds, [1], params=TINY_SVDD) > 0.9


def test_csv_delimiter_is_detected_and_numeric_labels_sort_numerically(tmp_path):
    text = csv_text(sep=";").replace(";ok\n", ";10\n").replace(";fault\n", ";2\n")
    path = tmp_path / "semi.csv"
    path.write_text(text)
    ds = load_user_data(path, label_column="status")
    assert ds.classes == ["2", "10"] and ds.x.shape == (300, 4)
    assert normal_classes(ds, [10]) == [1] and normal_classes(ds, "10.0") == [1]


def test_npz_images_with_text_labels_train_deep_svdd(tmp_path):
    x = np.concatenate([square_images(150, False, 0), square_images(50, True, 1)])
    y = np.array(["normal"] * 150 + ["scratch"] * 50)
    path = tmp_path / "parts.npz"
    np.savez_compressed(path, x=(x * 255).astype(np.uint8).transpose(0, 2, 3, 1), y=y)  # NHWC, 8-bit
    ds = load_user_data(path, normal_values="normal")
    assert ds.kind == "image" and ds.x.shape == (200, 1, 12, 12)
    assert 0 <= ds.x.min() and ds.x.max() <= 1 and ds.classes == ["normal", "scratch"]
    assert auc_of(ds, normal_classes(ds, "normal"), params=TINY_SVDD) > 0.9


def test_npz_tabular_trains_isolation_forest(tmp_path):
    rng = np.random.default_rng(2)
    x = np.r_[rng.normal(0, 1, (300, 6)), rng.normal(5, 1, (40, 6))]
    path = tmp_path / "tab.npz"
    np.savez(path, x=x, y=np.r_[np.zeros(300, int), np.ones(40, int)])
    ds = load_user_data(path)
    assert ds.kind == "tabular" and ds.classes == ["0", "1"]
    assert auc_of(ds, [0], method="iforest") > 0.9


def test_image_zip_trains_deep_svdd(tmp_path):
    ds = load_user_data(image_zip(tmp_path / "imgs.zip", channels=3, size=16), normal_values="good")
    assert ds.kind == "image" and ds.x.shape == (90, 3, 16, 16) and ds.classes == ["defect", "good"]
    assert auc_of(ds, normal_classes(ds, "good"), params=TINY_SVDD) > 0.9


def test_image_folder_resizes_mixed_sizes_when_asked(tmp_path):
    folder = tmp_path / "photos"
    for cls, anomalous in (("a", False), ("b", True)):
        (folder / cls).mkdir(parents=True)
        for i in range(4):
            img = square_images(1, anomalous, i, size=12 + 4 * i)[0]
            (folder / cls / f"{i}.png").write_bytes(png_bytes(img))
    (folder / ".DS_Store").write_bytes(b"\0\1")  # hidden files are ignored
    with pytest.raises(DeepADError, match=r"4 different sizes .*12×12 .*image_size"):
        load_user_data(folder)
    ds = load_user_data(folder, image_size="10x14")
    assert ds.x.shape == (8, 1, 10, 14) and ds.classes == ["a", "b"]


def test_file_names_work_through_the_catalog_and_run_validation(tmp_path):
    from deepad.training.config import validate_config

    path = tmp_path / "sensors.csv"
    path.write_text(csv_text())
    name = user_dataset_name(path, label_column="status", normal_values=["ok"])
    assert name == f"file:{path}?label_column=status&normal_values=ok"
    info = dataset_info(name)
    assert info.kind == "tabular" and info.default_normal == (1,) and info.embedded
    assert load_dataset(name).x.shape == (300, 4)
    assert load_dataset(f"file:{path}", options={"label_column": "status"}).classes == ["fault", "ok"]
    cfg = validate_config({"dataset": name, "setup": {"normal": list(info.default_normal)}})
    assert cfg.dataset == name
    with pytest.raises(DeepADError, match="class 5 does not exist in sensors.csv"):
        validate_config({"dataset": name, "setup": {"normal": [5]}})
    with pytest.raises(DeepADError, match="'status' in the name but 'id' in the options"):
        parse_user_dataset_name(name, {"label_column": "id"})
    with pytest.raises(DeepADError, match="data option 'colour' is unknown"):
        load_dataset(f"file:{path}", options={"colour": "red"})


def test_a_run_trains_on_a_file_dataset(tmp_path, runs_dir):
    from deepad.training.runner import train

    path = tmp_path / "sensors.csv"
    path.write_text(csv_text())
    name = user_dataset_name(path, label_column="status", normal_values="ok")
    run = train({"dataset": name, "setup": {"normal": list(dataset_info(name).default_normal)},
                 "method": "deep-svdd", "params": TINY_SVDD})
    assert run.state == "finished" and run.summary["auc"] > 0.9
    assert run.split_info()["classes"] == ["fault", "ok"]


def test_a_file_run_reopens_after_the_original_and_the_runs_folder_have_moved(tmp_path, monkeypatch):
    import shutil

    from deepad.runs.listing import RunStore
    from deepad.training.runner import train

    monkeypatch.chdir(tmp_path)  # a relative runs folder, as `--runs-dir runs` would give
    src = tmp_path / "sensors.csv"
    src.write_text(csv_text())
    name = user_dataset_name(src, label_column="status", normal_values="ok")
    run = train({"dataset": name, "setup": {"normal": [1]}, "method": "iforest"}, RunStore("runs"))
    assert run.state == "finished", run.status
    assert run.config["dataset"].startswith(f"file:{tmp_path / 'runs'}")  # the copy, by a full path
    src.unlink()
    shutil.move(tmp_path / "runs", tmp_path / "moved")
    monkeypatch.chdir("/")
    again = RunStore(tmp_path / "moved").get(run.run_id)
    ds = run_dataset(again)  # read from the copy kept in the run's folder
    assert ds.classes == ["fault", "ok"] and len(ds.x) == 300


# --- storing an upload with a run --------------------------------------------------------------------
def test_copy_into_run_keeps_the_validated_file_in_the_run(tmp_path):
    src = tmp_path / "sensors.csv"
    src.write_text(csv_text())
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    rel = copy_into_run(src, run_dir, label_column="status")
    assert rel == "data/sensors.csv" and (run_dir / rel).read_bytes() == src.read_bytes()
    again = load_user_data(run_dir / rel, label_column="status")
    assert np.array_equal(again.x, load_user_data(src, label_column="status").x)
    rel2 = write_into_run(src.read_bytes(), "my data (1).csv", run_dir, label_column="status")
    assert rel2 == "data/my_data_1_.csv"
    assert sorted(p.name for p in (run_dir / "data").iterdir()) == ["my_data_1_.csv", "sensors.csv"]


def test_an_upload_in_memory_is_kept_once_under_its_content_hash(tmp_path):
    data = csv_text().encode()
    first = stage_upload_bytes(data, "sensors.csv", tmp_path / "uploads", label_column="status")
    again = stage_upload_bytes(data, "sensors.csv", tmp_path / "uploads", label_column="status")
    assert first == again and first.name.endswith("-sensors.csv") and first.read_bytes() == data
    assert len(list((tmp_path / "uploads").iterdir())) == 1
    with pytest.raises(DeepADError, match="no such column"):
        stage_upload_bytes(data, "sensors.csv", tmp_path / "other", label_column="nope")
    assert not (tmp_path / "other").exists()


def test_copy_into_run_keeps_an_image_folder_as_a_zip(tmp_path):
    folder = tmp_path / "shots"
    for cls, anomalous in (("ok", False), ("nok", True)):
        (folder / cls).mkdir(parents=True)
        for i, img in enumerate(square_images(3, anomalous, 1)):
            (folder / cls / f"{i}.png").write_bytes(png_bytes(img))
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    rel = copy_into_run(folder, run_dir)
    assert rel == "data/shots.zip"
    stored, original = load_user_data(run_dir / rel), load_user_data(folder)
    assert stored.classes == original.classes and np.array_equal(stored.x, original.x)


# --- bad input: one clear message each, nothing written -----------------------------------------------
def _write(tmp_path: Path, name: str, content) -> Path:
    path = tmp_path / name
    if callable(content):
        content(path)
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def _symlink_zip(path):
    with zipfile.ZipFile(path, "w") as zf:
        info = zipfile.ZipInfo("data/good/link.png")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")


def _bomb_zip(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a/x.png", b"\0" * 3_000_000)


NAN_CSV = "a,b,y\n1,2,p\nnan,3,p\n4,inf,q\n5,6,\n7,8,q\n"
BAD_CASES = {
    "spreadsheet": ("book.xlsx", b"PK\3\4", {}, r"file type '\.xlsx' is not supported; use a \.csv, \.npz"),
    "pickle": ("model.pkl", b"\x80\x04K\x01.", {}, "never opens them"),
    "npy": ("x.npy", b"\x93NUMPY", {}, r"np\.savez\('data\.npz', x=x, y=y\)"),
    "no numeric columns": ("words.csv", "name,colour,y\nann,red,a\nbob,blue,b\n", {"label_column": "y"},
                           r"no numeric feature columns besides the label 'y' \(text columns: 'name', 'colour'\)"),
    "nan and inf": ("holes.csv", NAN_CSV, {"label_column": "y"},
                    r"3 missing, NaN, infinite or non-numeric values in 3 of 5 rows: column 'a' in row 2; "
                    r"column 'b' in row 3; label column 'y' empty in row 4 .*drop_bad_rows=True"),
    "single class": ("one.csv", "a,y\n1,p\n2,p\n3,p\n", {"label_column": "y"},
                     r"holds only the value 'p': a single class"),
    "missing label column": ("d.csv", "a,b\n1,2\n", {"label_column": "kind"},
                             r"label_column='kind': .* has no such column; its columns are: 'a', 'b'"),
    "unknown normal value": ("d.csv", "a,y\n1,p\n2,q\n", {"label_column": "y", "normal_values": "r"},
                             r"normal_values: 'r' is not a label value of d.csv; its values are: p, q"),
    "empty csv": ("e.csv", "", {}, "the file is empty"),
    "binary csv": ("b.csv", b"\x00\x01\x02abc", {}, "binary file, not CSV text"),
    "ragged csv": ("r.csv", "a,y\n1,p\n2,q,7,8\n", {"label_column": "y"}, "could not be read as CSV"),
    "over the size limit": ("big.csv", csv_text(), {"label_column": "status", "max_bytes": 1000},
                            r"over the size limit of 0\.0 MB \(max_bytes\)"),
    "npz without y": ("a.npz", lambda p: np.savez(p, x=np.zeros((3, 2))), {},
                      r"needs arrays named 'x' \(samples\) and 'y' \(labels\); found 'x'"),
    "npz with objects": ("o.npz", lambda p: np.savez(p, x=np.array([{"k": 1}] * 4, dtype=object), y=np.arange(4)),
                         {}, "never unpickles uploads"),
    "npz not a zip": ("n.npz", b"hello", {}, r"not a valid NPZ file \(not a zip archive\)"),
    "npz images out of range": ("r.npz", lambda p: np.savez(p, x=np.full((4, 1, 5, 5), 300.0), y=np.arange(4) % 2),
                                {}, r"image values must lie in \[0, 1\] \(or 0\.\.255.*found 300\.\.300"),
    "npz nan": ("n2.npz", lambda p: np.savez(p, x=np.r_[np.zeros((3, 2)), [[np.nan, 1]]], y=[0, 1, 0, 1]), {},
                r"1 missing, NaN, infinite .* in 1 of 4 samples: feature 0 in sample 3"),
    "mixed image sizes": ("m.zip", lambda p: image_zip(p, odd_size=20), {},
                          r"2 different sizes \(width×height\): 16×16 \(90 files, e\.g\. dataset/good/000\.png\); "
                          r"20×20 \(1 file, e\.g\. dataset/good/odd\.png\); give image_size"),
    "zip with ../": ("up.zip", lambda p: image_zip(p, extra=[("dataset/../../evil.png", b"x")]), {},
                     r"entry 'dataset/\.\./\.\./evil\.png' points outside the archive's folder"),
    "zip with absolute path": ("abs.zip", lambda p: image_zip(p, extra=[("/etc/cron.d/x", b"x")]), {},
                               "entry '/etc/cron.d/x' points outside"),
    "zip with symlink": ("l.zip", _symlink_zip, {}, "entry 'data/good/link.png' is a symbolic link"),
    "zip bomb": ("bomb.zip", _bomb_zip, {"max_bytes": 100_000}, r"unpacks to 2\.9 MB, over the size limit"),
    "zip of loose images": ("flat.zip", lambda p: zipfile.ZipFile(p, "w").writestr("x.png", png_bytes(
        square_images(1, False, 0)[0])), {}, "x.png is at the top level; images must sit directly in one "
                                             "sub-folder per class"),
    "zip with a text file": ("t.zip", lambda p: image_zip(p, extra=[("dataset/good/notes.txt", b"hi")]), {},
                             "dataset/good/notes.txt is not an image"),
    "broken image": ("bi.zip", lambda p: image_zip(p, extra=[("dataset/good/zz.png", b"\x89PNG broken")]), {},
                     "dataset/good/zz.png could not be read as an image"),
    "label_column on an npz": ("a2.npz", lambda p: np.savez(p, x=np.zeros((3, 2)), y=[0, 1, 1]),
                               {"label_column": "y"}, "applies to CSV files only"),
    "image_size on a csv": ("d2.csv", "a,y\n1,p\n2,q\n", {"image_size": 32}, "applies to image folders and zips only"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_gets_a_clear_message_and_nothing_is_written(tmp_path, case):
    name, content, options, message = BAD_CASES[case]
    path = _write(tmp_path, name, content)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    before = tree(tmp_path)
    with pytest.raises(DeepADError, match=message):
        load_user_data(path, **options)
    with pytest.raises(DeepADError, match=message):
        copy_into_run(path, run_dir, **options)
    with pytest.raises(DeepADError, match=message):
        load_user_bytes(path.read_bytes(), name, **options)
    assert tree(tmp_path) == before and not (run_dir / "data").exists()


def test_drop_bad_rows_drops_exactly_the_reported_rows(tmp_path):
    path = _write(tmp_path, "holes.csv", NAN_CSV)
    ds = load_user_data(path, label_column="y", drop_bad_rows=True)
    assert ds.x.tolist() == [[1, 2], [7, 8]] and ds.classes == ["p", "q"]


def test_folder_with_a_symlink_is_refused(tmp_path):
    folder = tmp_path / "imgs"
    for cls in ("a", "b"):
        (folder / cls).mkdir(parents=True)
        (folder / cls / "0.png").write_bytes(png_bytes(square_images(1, False, 0)[0]))
    os.symlink(tmp_path, folder / "a" / "escape")
    with pytest.raises(DeepADError, match="a/escape is a symbolic link; links are refused"):
        load_user_data(folder)


def test_missing_path_and_bad_options_are_named(tmp_path):
    with pytest.raises(DeepADError, match="no such file or folder"):
        load_user_data(tmp_path / "nope.csv")
    path = _write(tmp_path, "d.csv", "a,y\n1,p\n2,q\n")
    with pytest.raises(DeepADError, match=r"max_bytes=0: give the size limit in bytes"):
        load_user_data(path, label_column="y", max_bytes=0)
    with pytest.raises(DeepADError, match="image_size='big'"):
        load_user_data(image_zip(tmp_path / "i.zip"), image_size="big")
    with pytest.raises(DeepADError, match="run folder .* does not exist"):
        copy_into_run(path, tmp_path / "no-run", label_column="y")


# --- property-based: malformed input only ever raises DeepADError --------------------------------------
def _load_or_deepad_error(data: bytes, filename: str, **options) -> None:
    try:
        ds = load_user_bytes(data, filename, **options)
    except DeepADError as err:
        assert str(err)
        return
    assert ds.x.dtype == np.float32 and np.isfinite(ds.x).all() and len(ds.x) == len(ds.y)
    assert len(ds.classes) >= 2 and set(np.unique(ds.y)) <= set(range(len(ds.classes)))


FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".csv", ".tsv", ".npz", ".zip", ".txt"]))
def test_random_bytes_only_raise_deepad_error(data, suffix):
    _load_or_deepad_error(data, "upload" + suffix)


_cell = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.integers(-10**40, 10**40).map(str),
                  st.sampled_from(["", "nan", "inf", "-inf", "NA", "a", "b", '"', '"x,y"', "1e400", " 3 "]),
                  st.text(max_size=6))


@FUZZ
@given(header=st.lists(st.sampled_from(["a", "b", "y", "label", "", "a", "Unnamed: 0", "x y"]), min_size=1, max_size=5),
       rows=st.lists(st.lists(_cell, min_size=0, max_size=6), max_size=25),
       sep=st.sampled_from([",", ";", "\t", "|"]), label=st.sampled_from([None, "y", "a", "zz"]),
       drop=st.booleans())
def test_malformed_csv_only_raises_deepad_error(header, rows, sep, label, drop):
    text = "\n".join([sep.join(header)] + [sep.join(r) for r in rows])
    _load_or_deepad_error(text.encode("utf-8", "surrogatepass"), "t.csv", label_column=label, drop_bad_rows=drop)


_array = st.one_of(
    st.builds(lambda shape, dtype, seed: (np.random.default_rng(seed).normal(0, 300, shape)).astype(dtype),
              st.lists(st.integers(0, 5), max_size=4).map(tuple),
              st.sampled_from(["float32", "float64", "int8", "uint8", "int64", "bool", "complex64", "float16"]),
              st.integers(0, 10)),
    st.builds(lambda n: np.array(["p", "q", "", "r"] * n), st.integers(0, 4)),
    st.builds(lambda n: np.array([{"k": i} for i in range(n)], dtype=object), st.integers(1, 3)),
    st.builds(lambda n: np.array([np.nan, 0, 1, np.inf] * n), st.integers(0, 4)),
)


@FUZZ
@given(arrays=st.dictionaries(st.sampled_from(["x", "y", "z"]), _array, max_size=3),
       cut=st.one_of(st.none(), st.integers(0, 400)), compress=st.booleans())
def test_malformed_npz_only_raises_deepad_error(arrays, cut, compress):
    buf = io.BytesIO()
    (np.savez_compressed if compress else np.savez)(buf, **arrays)
    data = buf.getvalue()
    _load_or_deepad_error(data if cut is None else data[:cut], "a.npz")


@pytest.fixture(scope="module")
def good_zip_bytes(tmp_path_factory):
    return image_zip(tmp_path_factory.mktemp("z") / "g.zip", channels=1, size=8).read_bytes()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 10**9), st.integers(0, 255)), max_size=4),
       cut=st.one_of(st.none(), st.integers(0, 10**9)))
def test_corrupted_image_zip_only_raises_deepad_error(good_zip_bytes, flips, cut):
    data = bytearray(good_zip_bytes)
    for pos, value in flips:
        data[pos % len(data)] = value
    if cut is not None:
        data = data[:cut % len(data)]
    _load_or_deepad_error(bytes(data), "imgs.zip")
