"""Shared fixtures: the embedded datasets and a few small splits, built once per session."""

from __future__ import annotations

import os

import pytest
import torch

torch.set_num_threads(min(2, os.cpu_count() or 1))


@pytest.fixture(scope="session")
def mnist():
    from deepad.data import load_dataset

    return load_dataset("mnist5k")


@pytest.fixture(scope="session")
def split_factory(mnist):
    """split_factory(normal=[0], **setup_fields) -> Split on MNIST-5k, cached."""
    from deepad.data import SetupConfig, make_split

    cache = {}

    def make(dataset=None, seed=0, preprocess=None, **setup):
        from deepad.data import load_dataset

        ds = load_dataset(dataset) if dataset else mnist
        key = (ds.name, seed, preprocess, repr(sorted(setup.items())))
        if key not in cache:
            cache[key] = make_split(ds, SetupConfig(**setup), seed=seed, preprocess=preprocess)
        return cache[key]

    return make


@pytest.fixture
def runs_dir(tmp_path, monkeypatch):
    d = tmp_path / "runs"
    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(d))
    return d
