"""Creating a run builds its split once: the split is written into the run folder and the process
that trains the run reads it back, identical, instead of building it again; a sweep builds each
distinct split once however many trials share it."""

from __future__ import annotations

import numpy as np
import pytest

import deepad.runs.create as create_mod
from deepad.runs.create import create_run, load_data
from deepad.runs.listing import RunStore
from deepad.runs.split import split_from_parts
from deepad.sweeps.runs import create_runs, validate_all
from deepad.training.config import validate_config
from deepad.training.runner import execute

PARTS = ("train", "val", "test")


@pytest.fixture
def count_splits(monkeypatch):
    """How often a split is built from the data (the real builder, counted)."""
    calls = []
    real = create_mod.build_split

    def counted(cfg, dataset):
        calls.append(cfg.seed)
        return real(cfg, dataset)

    monkeypatch.setattr(create_mod, "build_split", counted)
    return calls


@pytest.mark.parametrize("setup", [{"normal": [0], "known_anomalies": 5, "known_normals": 3},
                                   {"normal": [0], "alteration": "fgsm"}], ids=["classes", "fgsm"])
def test_the_split_read_back_from_the_run_folder_is_the_split_built(tmp_path, setup):
    cfg = validate_config({"dataset": "digits", "method": "kde", "setup": setup, "seed": 3})
    new = create_run(cfg, RunStore(tmp_path))
    run = RunStore(tmp_path).get(new.run.run_id)
    assert run.state == "queued" and run.damage == []
    back = split_from_parts(run.files.read_split(), run.files.read_split_parts(), load_data(cfg))
    for name in PARTS:
        built, read = getattr(new.split, name), getattr(back, name)
        for field in ("x", "y", "target", "known_label", "index"):
            a, b = getattr(built, field), getattr(read, field)
            assert a.dtype == b.dtype and np.array_equal(a, b), (name, field)
        assert (built.raw is None) == (read.raw is None) == ("alteration" not in setup)
    assert back.preprocess == new.split.preprocess and back.alterations == new.split.alterations


def test_training_in_another_process_uses_the_split_made_at_creation(tmp_path, count_splits):
    """`execute` without a split (as the dashboard's worker and a sweep's trial call it) reads the
    run's split from its folder: nothing is built again, and the run scores as one trained on the
    split in memory."""
    store = RunStore(tmp_path)
    cfg = validate_config({"dataset": "digits", "method": "kde", "setup": {"normal": [0]}, "seed": 1})
    in_memory, handed = create_run(cfg, store), create_run(cfg, store)
    assert count_splits == [1, 1]
    execute(in_memory.run, in_memory.config, in_memory.split)
    execute(RunStore(tmp_path).get(handed.run.run_id), handed.config)  # as a worker process does
    assert count_splits == [1, 1]  # training built no split
    a, b = (store.get(n.run.run_id) for n in (in_memory, handed))
    assert a.state == b.state == "finished"
    assert np.array_equal(a.results()["test_scores"], b.results()["test_scores"])
    assert np.array_equal(a.results()["test_index"], b.results()["test_index"])


def test_a_run_without_its_split_fails_with_the_reason(tmp_path):
    store = RunStore(tmp_path)
    cfg = validate_config({"dataset": "digits", "method": "kde", "setup": {"normal": [0]}})
    new = create_run(cfg, store)
    new.run.files.file("split.npz").unlink()
    execute(store.get(new.run.run_id), new.config)
    run = store.get(new.run.run_id)
    assert run.state == "failed" and "split.npz" in run.status["error"]


def test_a_sweep_builds_each_distinct_split_once(tmp_path, count_splits):
    base = {"dataset": "digits", "method": "kde", "setup": {"normal": [0]}}
    configs = [{**base, "seed": seed, "params": {"bandwidth": bw}} for seed in (0, 1) for bw in (0.5, 1.0)]
    trials = create_runs(validate_all(configs), RunStore(tmp_path))
    assert sorted(count_splits) == [0, 1]  # one per seed; the trials of a seed share it
    assert len(trials) == 4 and len({run.run_id for run, _ in trials}) == 4
    for run, cfg in trials:
        parts = run.files.read_split_parts()
        assert parts is not None and len(parts["test_index"]) == run.files.read_split()["sizes"]["test"]
    same_seed = [run.files.read_split_parts()["train_index"] for run, cfg in trials if cfg.seed == 0]
    assert np.array_equal(*same_seed)


def test_a_run_on_a_users_file_trains_on_the_split_made_from_it(tmp_path):
    """The split is made from the user's file; the run keeps a copy under another name and the
    training process reads its split back against that copy."""
    rng = np.random.default_rng(0)
    rows = ["a,b,c,status"] + [f"{x:.4f},{y:.4f},{z:.4f},{'fault' if i % 5 == 0 else 'ok'}"
                               for i, (x, y, z) in enumerate(rng.normal(size=(120, 3)))]
    src = tmp_path / "my sensors (1).csv"
    src.write_text("\n".join(rows) + "\n")
    store = RunStore(tmp_path / "runs")
    cfg = validate_config({"dataset": f"file:{src}?label_column=status", "method": "kde",
                           "setup": {"normal": [1]}})
    new = create_run(cfg, store)
    assert new.config.dataset != cfg.dataset and "my_sensors_1_.csv" in new.config.dataset  # the run's copy
    src.unlink()  # the original is gone: the run has its own copy
    execute(store.get(new.run.run_id), new.config)
    run = store.get(new.run.run_id)
    assert run.state == "finished", run.status.get("error")
    assert len(run.results()["test_scores"]) == new.split.test.x.shape[0]


def test_run_files_are_written_only_inside_the_runs_package():
    """One door: outside deepad/runs/, no module of the library or the dashboard imports the atomic
    writers of run files (deepad.runs.files) or builds a run file's path by its name; writes go
    through deepad.runs.write. The 2-D view cache (deepad.embedding) writes its own files, outside
    any run folder."""
    import ast
    from pathlib import Path

    from deepad.runs.layout import FILES

    root = Path(__file__).resolve().parent.parent
    allowed = {root / "deepad" / "embedding.py"}
    found = []
    for path in sorted([*(root / "deepad").rglob("*.py"), *(root / "pages").rglob("*.py"), root / "app.py"]):
        if (root / "deepad" / "runs") in path.parents or path in allowed:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "deepad.runs.files":
                found.append(f"{path.relative_to(root)} imports deepad.runs.files")
            if (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div) and isinstance(node.right, ast.Constant)
                    and node.right.value in FILES):
                found.append(f"{path.relative_to(root)}:{node.lineno} builds the path of {node.right.value}")
    assert not found, found
