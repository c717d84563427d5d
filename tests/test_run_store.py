"""The run store under damage: malformed and truncated files, a full disk, a read-only runs folder,
symbolic links, crafted run ids and model files. Runs are real (short trainings on the 2-D blobs);
damage is done to their files on disk."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from deepad import cli
from deepad.errors import DeepADError
from deepad.runs.files import TMP_SUFFIX
from deepad.runs.layout import check_run_id
from deepad.runs.listing import RunStore
from deepad.runs.reopen import run_detector
from deepad.training.runner import train

DEEP = {"dataset": "blobs", "method": "deep-svdd", "params": {"epochs": 3, "pretrain_epochs": 0},
        "setup": {"normal": [0]}}
SHALLOW = {"dataset": "blobs", "method": "kde", "setup": {"normal": [0]}}


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """Three finished runs (two Deep SVDD with snapshots, one KDE), trained once for the module."""
    root = tmp_path_factory.mktemp("template") / "runs"
    store = RunStore(root)
    ids = []
    for cfg in (DEEP, SHALLOW, {**DEEP, "seed": 1}):
        run = train(cfg, store)
        assert run.state == "finished", run.status
        ids.append(run.run_id)
        time.sleep(1.01)  # run ids sort by their creation second
    return root, ids


@pytest.fixture
def runs(template, tmp_path):
    """A fresh copy of the three runs: (runs folder, [oldest id, middle id, newest id])."""
    root, ids = template
    dest = tmp_path / "runs"
    shutil.copytree(root, dest, symlinks=True)
    return dest, ids


def tree_state(root: Path) -> dict[str, str]:
    """Every file under `root` with a hash of its content (to prove that nothing was written)."""
    out = {}
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = Path(dirpath) / f
            out[str(p.relative_to(root))] = (hashlib.sha256(p.read_bytes()).hexdigest()
                                             if not p.is_symlink() else "link:" + os.readlink(p))
    return out


def run_cli(*argv) -> tuple[int, str, str]:
    """`python -m deepad ARGV` in this process: (exit status, stdout, stderr)."""
    import io
    from contextlib import redirect_stderr, redirect_stdout

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        rc = cli.main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


def cut(path: Path, keep: float = 0.5) -> None:
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])


def rewrite_npz(path: Path, **changes) -> None:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    np.savez(path, **arrays)


DAMAGE = {
    "config is a JSON list": ("config.json", lambda p: p.write_text("[1, 2, 3]"), "expected an object"),
    "config is cut short": ("config.json", cut, "not valid JSON"),
    "config lacks the method": ("config.json", lambda p: p.write_text('{"dataset": "blobs"}'), "method"),
    "status is cut short": ("status.json", cut, "not valid JSON"),
    "status is empty": ("status.json", lambda p: p.write_text(""), "is empty"),
    "status has an unknown state": ("status.json", lambda p: p.write_text('{"state": "exploded"}'), "state"),
    "status is a JSON number": ("status.json", lambda p: p.write_text("42"), "expected an object"),
    "results are cut short": ("results.npz", cut, "cut short"),
    "results have scores of two dimensions": (
        "results.npz", lambda p: rewrite_npz(p, test_scores=np.zeros((3, 3))), "test_scores"),
    "results have targets of another length": (
        "results.npz", lambda p: rewrite_npz(p, test_target=np.zeros(2)), "has 2 entries, the run's split has"),
    "results lack the scores": ("results.npz", lambda p: _drop(p, "test_scores"), "'test_scores' is missing"),
    "results hold Python objects": (
        "results.npz", lambda p: rewrite_npz(p, test_y=np.array([{}] * 3, dtype=object)), "Python objects"),
    "snapshots are cut short": ("snapshots.npz", lambda p: cut(p, 0.9), "cut short"),
    "snapshots are not a zip": ("snapshots.npz", lambda p: p.write_bytes(b"not a zip"), "not a complete .npz"),
    "split is a JSON string": ("split.json", lambda p: p.write_text('"hello"'), "expected an object"),
    "split has classes of the wrong type": ("split.json", lambda p: p.write_text('{"classes": 3}'), "classes"),
    "diagnostics are cut short": ("diagnostics.json", cut, "not valid JSON"),
    "config is a symbolic link": ("config.json", lambda p: (p.unlink(), p.symlink_to("/etc/hostname")),
                                  "symbolic link"),
}


def _drop(path: Path, name: str) -> None:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files if k != name}
    np.savez(path, **arrays)


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_file_marks_its_run_damaged_and_leaves_the_others(runs, case, capsys):
    root, ids = runs
    file, damage, reason = DAMAGE[case]
    victim = ids[2] if file in ("snapshots.npz", "diagnostics.json") else ids[1]  # KDE has neither
    damage(root / victim / file)
    before = tree_state(root)

    listed = {r.run_id: r for r in RunStore(root).list()}
    assert set(listed) == set(ids)
    assert listed[victim].state == "damaged"
    assert len(listed[victim].damage) == 1 and listed[victim].damage[0].startswith(file)
    assert reason in listed[victim].damage[0]
    for other in set(ids) - {victim}:
        assert listed[other].state == "finished" and listed[other].summary["auc"] > 0.5
        assert listed[other].results() is not None and listed[other].history()

    assert cli.main(["list", "--runs-dir", str(root)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    rows = {json.loads(line)["run_id"]: json.loads(line) for line in out.splitlines()}
    assert rows[victim]["state"] == "damaged" and file in rows[victim]["damaged"][0]
    assert {rows[i]["state"] for i in set(ids) - {victim}} == {"finished"}
    assert cli.main(["show", victim, "--runs-dir", str(root), "--history"]) == 0
    out, err = capsys.readouterr()
    shown = json.loads(out)
    assert shown["state"] == "damaged" and reason in shown["damaged"][0]
    assert tree_state(root) == before  # reading wrote nothing


def test_a_damaged_run_keeps_what_can_still_be_read(runs):
    root, ids = runs
    cut(root / ids[0] / "results.npz")
    run = RunStore(root).get(ids[0])
    assert run.state == "damaged" and run.results() is None
    assert len(run.history()) == 3 and run.snapshots()["emb"].shape[0] >= 2  # first and last epoch at least
    assert run.status["state"] == "finished" and run.summary["auc"] > 0.5  # the recorded outcome


def test_reading_a_run_whose_owner_died_derives_interrupted_and_writes_nothing(runs):
    root, ids = runs
    status_file = root / ids[0] / "status.json"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    status = json.loads(status_file.read_text())
    status.update(state="running", summary=None,
                  owner={"pid": dead.pid, "host": status["owner"]["host"], "token": "gone"})
    status_file.write_text(json.dumps(status))
    before = tree_state(root)
    store = RunStore(root)
    assert store.get(ids[0]).state == "interrupted"
    assert [r.state for r in store.list()] == ["finished", "finished", "interrupted"]
    assert tree_state(root) == before
    # a supervisor may write it back; it reads the status again first
    assert store.mark_interrupted(ids[0]).state == "interrupted"
    assert json.loads(status_file.read_text())["state"] == "interrupted"


def test_the_owner_finishing_between_a_readers_status_read_and_liveness_check_keeps_the_summary(
        runs, monkeypatch):
    """The race: a reader reads "running", the owner writes "finished" and exits, the reader then
    finds the owner gone. The reader must report the finished run, and must not write."""
    import deepad.runs.listing as store_mod

    root, ids = runs
    status_file = root / ids[0] / "status.json"
    finished = status_file.read_text()
    running = {**json.loads(finished), "state": "running", "summary": None}
    status_file.write_text(json.dumps(running))
    real_alive = store_mod.owner_alive

    def owner_finishes_then_exits(owner):
        status_file.write_text(finished)  # the owner's last write, just before it exits
        return False

    monkeypatch.setattr(store_mod, "owner_alive", owner_finishes_then_exits)
    run = RunStore(root).get(ids[0])
    monkeypatch.setattr(store_mod, "owner_alive", real_alive)
    assert run.state == "finished" and run.summary["auc"] > 0.5
    assert status_file.read_text() == finished


@contextlib.contextmanager
def mounted_tmpfs(path: Path, size: str):
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_read_only_runs_folder_lists_and_shows(runs, tmp_path):
    root, ids = runs
    ro = tmp_path / "ro"
    with mounted_tmpfs(ro, "8m"):
        shutil.copytree(root, ro / "runs", symlinks=True)
        # a run whose owner died: reading it must not try to write "interrupted"
        status_file = ro / "runs" / ids[2] / "status.json"
        status = json.loads(status_file.read_text())
        status_file.write_text(json.dumps({**status, "state": "running",
                                           "owner": {**status["owner"], "token": "gone"}}))
        assert subprocess.run(["mount", "-o", "remount,ro", str(ro)]).returncode == 0
        rc, out, err = run_cli("list", "--runs-dir", str(ro / "runs"))
        assert rc == 0 and err == "", err
        assert [json.loads(line)["state"] for line in out.splitlines()] == ["interrupted", "finished", "finished"]
        rc, out, err = run_cli("show", ids[0], "--runs-dir", str(ro / "runs"))
        assert rc == 0 and json.loads(out)["state"] == "finished"
        rc, out, err = run_cli("train", "--dataset", "blobs", "--runs-dir", str(ro / "runs"), "--quiet")
        assert rc == 2 and len(err.strip().splitlines()) == 1
        assert "Read-only file system" in err and str(ro / "runs") in err


def _tmp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.endswith(TMP_SUFFIX) or p.name.startswith(".upload-")]


@pytest.mark.parametrize("when", ["first epoch", "last epoch"])
def test_a_full_disk_fails_the_run_with_the_reason_and_leaves_no_temporary_file(tmp_path, when):
    """The disk fills up while the run trains (after its first epoch record, or after its last, so
    that the results cannot be written): the run ends "failed" naming the full disk, with no
    temporary file left and the other run beside it intact."""
    root = tmp_path / "small"
    with mounted_tmpfs(root, "512k"):
        store = RunStore(root / "runs")
        other = train(SHALLOW, store)
        filler = root / "filler"
        epochs = DEEP["params"]["epochs"]

        def fill_disk(_run_id, record):
            if record["step"] == (1 if when == "first epoch" else epochs) and not filler.exists():
                with open(filler, "wb") as f:
                    with contextlib.suppress(OSError):
                        while True:
                            f.write(b"\0" * 4096)
                            f.flush()

        run = train(DEEP, store, on_event=fill_disk)
        assert run.state == "failed"
        assert "No space left on device" in run.status["error"]
        assert _tmp_files(root) == []
        filler.unlink()  # space is back
        again = {r.run_id: r for r in RunStore(root / "runs").list()}
        assert again[run.run_id].state == "failed" and "No space left" in again[run.run_id].status["error"]
        assert again[other.run_id].state == "finished"
        history = again[run.run_id].history()
        assert 1 <= len(history) <= epochs and [h["step"] for h in history] == list(range(1, len(history) + 1))
        rc, out, err = run_cli("list", "--runs-dir", str(root / "runs"))
        assert rc == 0 and len(out.splitlines()) == 2
        assert _tmp_files(root) == []


def test_a_full_disk_at_the_start_of_a_run_is_one_line(tmp_path):
    root = tmp_path / "tiny"
    with mounted_tmpfs(root, "64k"):
        (root / "filler").write_bytes(b"\0" * 60_000)
        with contextlib.suppress(OSError):
            with open(root / "filler2", "wb") as f:
                while True:
                    f.write(b"\0" * 1024)
                    f.flush()
        rc, out, err = run_cli("train", "--dataset", "blobs", "--runs-dir", str(root / "runs"), "--quiet")
        assert rc == 2 and len(err.strip().splitlines()) == 1, err
        assert "No space left on device" in err and "free some space" in err
        assert _tmp_files(root) == []


def test_a_run_folder_deleted_under_a_training_cli_is_one_line(tmp_path):
    runs_dir = tmp_path / "runs"
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-m", "deepad", "train", "--dataset", "digits", "--epochs", "300",
                              "--pretrain-epochs", "0", "--runs-dir", str(runs_dir), "--quiet"], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not any(
                len(r.history()) >= 2 for r in RunStore(runs_dir).list()):
            assert child.poll() is None, child.communicate()
            time.sleep(0.1)
        (run_dir,) = list(runs_dir.iterdir())
        while run_dir.exists():
            shutil.rmtree(run_dir, ignore_errors=True)
        _, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 2
    lines = [line for line in err.strip().splitlines() if not line.startswith("run ")]
    assert lines == [f"error: run folder {run_dir} was removed while the run trained; nothing of the run is "
                     "kept (train it again)"]


def test_a_symlinked_run_is_never_listed_opened_written_or_deleted(runs, tmp_path):
    root, ids = runs
    outside = tmp_path / "outside"
    shutil.move(str(root / ids[0]), outside)
    status = json.loads((outside / "status.json").read_text())
    (outside / "status.json").write_text(json.dumps({**status, "state": "running",
                                                     "owner": {**status["owner"], "token": "gone"}}))
    (root / ids[0]).symlink_to(outside, target_is_directory=True)
    (root / "99999999-link-to-a-file").symlink_to(outside / "config.json")
    before = tree_state(outside)
    store = RunStore(root)
    assert [r.run_id for r in store.list()] == [ids[2], ids[1]]
    with pytest.raises(DeepADError, match="symbolic link"):
        store.get(ids[0])
    with pytest.raises(DeepADError, match="symbolic link"):
        store.delete(ids[0])
    rc, out, err = run_cli("show", ids[0], "--runs-dir", str(root))
    assert rc == 2 and "symbolic link" in err and len(err.strip().splitlines()) == 1
    assert tree_state(outside) == before and (root / ids[0]).is_symlink()


@pytest.mark.parametrize("run_id, needle", [
    ("../outside", "only letters, digits"), ("a/b", "only letters, digits"), (".hidden", "only letters"),
    ("", "give the id of a run"), ("x" * 300, "300 characters, at most 128"), ("run id\n", "only letters"),
])
def test_run_ids_are_checked_at_every_entry_point(runs, run_id, needle):
    root, _ = runs
    with pytest.raises(DeepADError, match=needle):
        check_run_id(run_id)
    with pytest.raises(DeepADError, match=needle):
        RunStore(root).get(run_id)
    with pytest.raises(DeepADError, match=needle):
        RunStore(root).delete(run_id)
    rc, out, err = run_cli("show", run_id, "--runs-dir", str(root))
    assert rc == 2 and out == "" and len(err.strip().splitlines()) == 1 and needle in err


def test_a_runs_folder_that_is_a_file_is_one_line_for_every_command(tmp_path):
    not_a_folder = tmp_path / "runs"
    not_a_folder.write_text("oops")
    for argv in (["list"], ["show", "20261201-000000-kde-abcdef"], ["train", "--dataset", "blobs", "--quiet"]):
        rc, out, err = run_cli(*argv, "--runs-dir", str(not_a_folder))
        assert rc == 2 and len(err.strip().splitlines()) == 1, (argv, err)
        assert f"runs folder {not_a_folder} is a file, not a folder" in err
    nested = not_a_folder / "deeper"
    rc, out, err = run_cli("train", "--dataset", "blobs", "--quiet", "--runs-dir", str(nested))
    assert rc == 2 and len(err.strip().splitlines()) == 1 and str(nested) in err


def test_a_crafted_model_file_is_refused_without_running_it(runs, tmp_path):
    import pickle

    import torch

    root, ids = runs
    marker = tmp_path / "unpickled-code-ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    for victim in ids[:2]:  # a deep and a shallow detector
        torch.save({"format": "deepad-model-1", "name": "x", "state": Payload()}, root / victim / "model.pt")
        run = RunStore(root).get(victim)
        with pytest.raises(DeepADError, match="model.pt: not a model file deepad wrote.*Python objects"):
            run_detector(run)
    (root / ids[0] / "model.pt").write_bytes(pickle.dumps(Payload()))
    with pytest.raises(DeepADError, match="model.pt: not a model file deepad wrote"):
        run_detector(RunStore(root).get(ids[0]))
    assert not marker.exists()


def test_saved_models_load_without_pickle_and_score_as_trained(runs):
    import torch

    from deepad.training.config import RunConfig
    from deepad.runs.create import build_split, load_data

    root, ids = runs
    for run_id in ids[:2]:
        run = RunStore(root).get(run_id)
        blob = torch.load(root / run_id / "model.pt", weights_only=True)  # plain data and tensors only
        assert blob["format"] == "deepad-model-1"
        det = run_detector(run)
        cfg = RunConfig(**run.config)
        split = build_split(cfg, load_data(cfg))
        assert np.allclose(det.score(split.test.x), run.results()["test_scores"], rtol=1e-5, atol=1e-6)
