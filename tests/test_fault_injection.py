"""Fault injection: a runs folder shared by a lab holds hostile files next to healthy runs.

Each hostile file is built here (small: the decompression bombs are about 2 MB on disk and
declare gigabytes), then the command line (`list`, `show`, `score`, each a subprocess) and every
dashboard page (AppTest, in a subprocess per page) read the folder. For each: no hang (a
timeout), no traceback, the damaged run listed `damaged` with its file and reason, the healthy
runs listed and shown as before, and the process's peak memory (its own ru_maxrss, read with
wait4) under a stated bound. A bomb decoded would take gigabytes, far above the bounds."""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from deepad.runs.listing import RunStore
from deepad.training.runner import train
from pages import PAGES as REGISTRY
from tests.measured import CLI_TIMEOUT_S, MB, REPO, load_measured, run_measured


CLI_PEAK_RSS = 1024 * MB  # `list`, `show` and `score` of the whole hostile folder: at most this much


PAGE_PEAK_RSS = 2048 * MB  # a dashboard process that draws one page for every run of the folder


BOMB_DECLARES = 2 * 1024 * MB  # what the results bomb's arrays declare (2 GiB of float64 zeros)


PAGE_TIMEOUT_S = 900


MARKUP_CLASS = "[c](javascript:alert(1)) **b** $z$"


ODD_COLUMNS = ["temp:C", "a.b", "x[0]", 'q"uote', "$z$"]


SECRET = "SECRET_SALARY_COLUMN"


# --- hostile files ---------------------------------------------------------------------------------
_CHUNK = bytes(1 << 22)


class _RepeatingDeflate:
    """A deflate compressor that compresses each distinct piece once: after a full flush, equal
    pieces compress to equal bytes, so gigabytes of zeros cost one piece's work (and their CRC)."""

    def __init__(self):
        self.co = zlib.compressobj(9, zlib.DEFLATED, -15)
        self.done: dict = {}

    def compress(self, data):
        key = bytes(data) if len(data) < 4096 else (len(data), data is _CHUNK)
        if key not in self.done:
            self.done[key] = self.co.compress(data) + self.co.flush(zlib.Z_FULL_FLUSH)
        return self.done[key]

    def flush(self):
        return self.co.flush()


def write_bomb(path: Path, arrays: dict[str, tuple[tuple[int, ...], str]]) -> None:
    """An .npz whose members are well-formed .npy files of zeros: {name: (shape, dtype)}."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (shape, dtype) in arrays.items():
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(header, {"descr": np.dtype(dtype).str, "fortran_order": False,
                                                          "shape": shape})
            left = int(np.prod(shape)) * np.dtype(dtype).itemsize
            with zf.open(name + ".npy", "w", force_zip64=True) as f:
                f._compressor = _RepeatingDeflate()
                f.write(header.getvalue())
                while left >= len(_CHUNK):
                    f.write(_CHUNK)
                    left -= len(_CHUNK)
                f.write(bytes(left))


def rewrite_npz(path: Path, **changes) -> None:
    with np.load(path) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    path.unlink()
    np.savez(path, **arrays)


def edit_json(path: Path, change) -> None:
    obj = json.loads(path.read_text())
    change(obj)
    path.unlink()
    path.write_text(json.dumps(obj))


def fifo(path: Path) -> None:
    path.unlink(missing_ok=True)
    os.mkfifo(path)


def _set(obj: dict, dotted: str, value) -> None:
    *head, last = dotted.split(".")
    for k in head:
        obj = obj[k]
    obj[last] = value


def _history_lines(path: Path, lines: list) -> None:
    good = path.read_text().splitlines()[:1]
    path.write_text("\n".join(good + [json.dumps(x) for x in lines]) + "\n")


def _long_history(path: Path) -> None:
    """24 MB of well-formed epoch records (more than the reader's 16 MB bound)."""
    line = path.read_text().splitlines()[0] + "\n"
    with open(path, "w") as f:
        f.write(line * (24 * MB // len(line) + 1))


# victim -> (template run, damage, the damaged file or None when the run stays readable, words of
# the reason)
HOSTILE = {
    "results-bomb": ("deep", lambda p: write_bomb(p / "results.npz", {
        "test_scores": ((BOMB_DECLARES // 16,), "<f8"), "test_target": ((BOMB_DECLARES // 16,), "<f8")}),
        "results.npz", "test samples"),
    "snapshots-bomb": ("deep", lambda p: write_bomb(p / "snapshots.npz", {
        "emb": ((64, 4096, 2048), "<f4"), "step": ((64,), "<i8")}), "snapshots.npz", "over the limit"),
    "fifo-config": ("kde", lambda p: fifo(p / "config.json"), "config.json", "named pipe"),
    "fifo-status": ("kde", lambda p: fifo(p / "status.json"), "status.json", "named pipe"),
    "fifo-results": ("kde", lambda p: fifo(p / "results.npz"), "results.npz", "named pipe"),
    "fifo-split": ("kde", lambda p: fifo(p / "split.json"), "split.json", "named pipe"),
    "fifo-history": ("deep", lambda p: fifo(p / "history.jsonl"), "history.jsonl", "named pipe"),
    "fifo-snapshots": ("deep", lambda p: fifo(p / "snapshots.npz"), "snapshots.npz", "named pipe"),
    "n-test-many": ("kde", lambda p: edit_json(p / "status.json", lambda o: _set(o, "summary.n_test", "many")),
                    "status.json", "summary.n_test"),
    "auc-abc": ("kde", lambda p: edit_json(p / "status.json", lambda o: _set(o, "summary.auc", "abc")),
                "status.json", "summary.auc"),
    "threshold-abc": ("kde", lambda p: edit_json(p / "status.json", lambda o: _set(o, "summary.threshold", "abc")),
                      "status.json", "summary.threshold"),
    "method-foo": ("kde", lambda p: edit_json(p / "config.json", lambda o: _set(o, "method", "foo")),
                   "config.json", "method"),
    "history-wrong-types": ("deep", lambda p: _history_lines(p / "history.jsonl", [{"loss": "x", "epoch": "two"}]),
                            "history.jsonl", "expected"),
    "history-list-line": ("deep", lambda p: _history_lines(p / "history.jsonl", [[1, 2]]),
                          "history.jsonl", "JSON list"),
    "nan-scores": ("kde", lambda p: rewrite_npz(p / "results.npz", test_scores=np.full(
        len(np.load(p / "results.npz")["test_scores"]), np.nan)), "results.npz", "NaN"),
    "index-1e9": ("kde", lambda p: rewrite_npz(p / "results.npz", test_index=np.full(
        len(np.load(p / "results.npz")["test_index"]), 10 ** 9)), "results.npz", "outside the dataset"),
    "emb-wrong-shape": ("deep", lambda p: rewrite_npz(p / "results.npz", test_emb=np.zeros((5, 3, 2), np.float32)),
                        "results.npz", "test_emb"),
    "nan-snapshots": ("deep", lambda p: rewrite_npz(p / "snapshots.npz", emb=np.full(
        np.load(p / "snapshots.npz")["emb"].shape, np.nan, np.float32)), "snapshots.npz", "NaN"),
    "bad-preprocess": ("kde", lambda p: edit_json(p / "split.json", lambda o: _set(o, "preprocess", {
        "method": "standardize", "mean": "x"})), "split.json", "preprocess"),
    "long-history": ("deep", lambda p: _long_history(p / "history.jsonl"), None, ""),
    "outside-dataset": ("csv", None, None, ""),  # its config.json names a file outside the run
}


PAGE_OF_RUN = ["pages/screens/runs.py", "pages/screens/evaluate.py", "pages/screens/latent.py",
               "pages/screens/samples.py", "pages/screens/collapse.py", "pages/screens/score.py"]


OTHER_PAGES = [p.path for p in REGISTRY if p.path not in PAGE_OF_RUN]  # Train, Explore and the rest


def _image_zip(path: Path) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    with zipfile.ZipFile(path, "w") as zf:
        for cls, axis in ((MARKUP_CLASS, 0), ("plain", 1)):  # a bright left half, or top half
            for i in range(24):
                pattern = np.zeros((8, 8))
                (pattern.__setitem__((slice(None), slice(0, 4)), 200) if axis == 0
                 else pattern.__setitem__((slice(0, 4), slice(None)), 200))
                img = np.clip(30 + pattern + rng.normal(0, 15, size=(8, 8)), 0, 255).astype(np.uint8)
                buf = io.BytesIO()
                Image.fromarray(img).save(buf, format="PNG")
                zf.writestr(f"{cls}/{i:02d}.png", buf.getvalue())


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """(runs folder, healthy run ids {kind: id}, victim ids {case: id}, a small CSV to score)."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "runs"
    store = RunStore(root)
    rng = np.random.default_rng(0)
    table = rng.normal(size=(80, len(ODD_COLUMNS)))
    table[60:] += 4
    csv = base / "odd.csv"
    lines = [",".join(f'"{c.replace(chr(34), chr(34) * 2)}"' for c in ODD_COLUMNS + ["label"])]
    lines += [",".join(f"{v:.4f}" for v in row) + f",{'ok' if i < 60 else 'bad'}" for i, row in enumerate(table)]
    csv.write_text("\n".join(lines) + "\n")
    images = base / "classes.zip"
    _image_zip(images)
    from deepad.data.datasets import dataset_info
    from deepad.data.uploads import user_dataset_name

    made = {
        "deep": train({"dataset": "blobs", "method": "deep-svdd", "setup": {"normal": [0]},
                       "params": {"epochs": 3, "pretrain_epochs": 0}}, store),
        "kde": train({"dataset": "blobs", "method": "kde", "setup": {"normal": [0]}}, store),
        "csv": train({"dataset": user_dataset_name(csv, label_column="label", normal_values="ok"),
                      "method": "kde", "setup": {"normal": [0]}}, store),
        "images": train({"dataset": user_dataset_name(images, normal_values="plain"), "method": "kde",
                         "setup": {"normal": list(dataset_info(user_dataset_name(images, normal_values="plain"))
                                                  .default_normal)}}, store),
    }
    assert all(r.state == "finished" for r in made.values()), {k: r.status for k, r in made.items()}
    healthy = {k: r.run_id for k, r in made.items()}
    outside = base / "elsewhere" / "salaries.csv"
    outside.parent.mkdir()
    outside.write_text(f"{SECRET},label\n" + "".join(f"{i},{'a' if i % 3 else 'b'}\n" for i in range(40)))
    victims = {}
    for i, (case, (template, damage, _, _)) in enumerate(HOSTILE.items()):
        run_id = f"20991231-2359{i:02d}-{case}"
        dest = root / run_id
        shutil.copytree(root / healthy[template], dest)
        edit_json(dest / "config.json", lambda o: _set(o, "title", f"hostile: {case}"))  # one label per run
        if case == "outside-dataset":
            edit_json(dest / "config.json", lambda o: _set(o, "dataset", f"file:{outside}?label_column=label"))
        else:
            damage(dest)
        victims[case] = run_id
    score_csv = base / "score.csv"
    score_csv.write_text("x0,x1\n0.1,0.2\n3.0,-1.0\n")
    return root, healthy, victims, score_csv


def cli(*argv) -> tuple[int, str, str, int]:
    return run_measured([sys.executable, "-m", "deepad", *map(str, argv)], CLI_TIMEOUT_S)


def test_cli_list_names_every_hostile_run_damaged_and_keeps_the_healthy_ones(lab):
    root, healthy, victims, _ = lab
    rc, out, err, peak = cli("list", "--runs-dir", root)
    assert rc == 0 and err == "", err
    rows = {json.loads(line)["run_id"]: json.loads(line) for line in out.splitlines()}
    assert set(rows) == set(healthy.values()) | set(victims.values())
    for kind, run_id in healthy.items():
        assert rows[run_id]["state"] == "finished" and rows[run_id]["auc"] > 0.5, (kind, rows[run_id])
    for case, run_id in victims.items():
        _, _, file, words = HOSTILE[case]
        if file is None:
            assert rows[run_id]["state"] == "finished", (case, rows[run_id])
            continue
        assert rows[run_id]["state"] == "damaged", (case, rows[run_id])
        reason = "; ".join(rows[run_id]["damaged"])
        assert file in reason and words in reason, (case, reason)
    assert peak < CLI_PEAK_RSS, f"`list` peaked at {peak / MB:.0f} MB"


CLI_DRIVER = r'''
import contextlib, io, json, resource, sys
def _hwm():  # this process's own peak (VmHWM): ru_maxrss also counts the parent's memory at fork
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) * 1024
from deepad import cli

for argv in json.loads(sys.argv[1]):  # each command as `python -m deepad` runs it, one after another
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            rc = cli.main(argv)
        except SystemExit as exc:
            rc = exc.code
    print(json.dumps({"argv": argv, "rc": rc, "out": out.getvalue(), "err": err.getvalue()}), flush=True)
print(json.dumps({"maxrss": _hwm()}))
'''


def cli_many(commands: list[list[str]]) -> tuple[list[dict], int]:
    """Several commands in one process (as `cli.main` runs them): their results and the process's
    peak memory."""
    rc, out, err, peak = run_measured([sys.executable, "-c", CLI_DRIVER, json.dumps(commands)], CLI_TIMEOUT_S * 2)
    assert rc == 0, err[-3000:]
    return [json.loads(line) for line in out.splitlines() if line.startswith('{"argv"')], peak


def test_cli_show_and_score_of_each_hostile_run_is_one_line_or_the_run_as_damaged(lab):
    root, healthy, victims, score_csv = lab
    commands = []
    for run_id in victims.values():
        commands += [["show", run_id, "--runs-dir", str(root), "--history"],
                     ["score", run_id, "--data", str(score_csv), "--runs-dir", str(root)]]
    commands.append(["score", healthy["kde"], "--data", str(score_csv), "--runs-dir", str(root)])
    results, peak = cli_many(commands)
    assert len(results) == len(commands)
    by_case = dict(zip(victims, zip(results[0:-1:2], results[1:-1:2])))
    for case, (show, score) in by_case.items():
        _, _, file, words = HOSTILE[case]
        assert show["rc"] == 0 and show["err"] == "", (case, show["err"])
        shown = json.loads(show["out"])
        assert shown["state"] == ("damaged" if file else "finished"), (case, shown["state"])
        if file:
            assert file in shown["damaged"][0] and words in "; ".join(shown["damaged"]), (case, shown["damaged"])
        if file is None and case != "outside-dataset":
            assert score["rc"] == 0 and len(score["out"].splitlines()) == 2, (case, score["err"])
        else:
            err = score["err"]
            assert score["rc"] == 2 and score["out"] == "" and len(err.strip().splitlines()) == 1, (case, score)
            assert "Traceback" not in err and (file or "data folder") in err, (case, err)
    assert results[-1]["rc"] == 0 and len(results[-1]["out"].splitlines()) == 2, results[-1]
    assert peak < CLI_PEAK_RSS, f"show and score of every run peaked at {peak / MB:.0f} MB"


# --- every page, in a process of its own ------------------------------------------------------------
DRIVER = r'''
import json, resource, sys
def _hwm():  # this process's own peak (VmHWM): ru_maxrss also counts the parent's memory at fork
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) * 1024
from streamlit.testing.v1 import AppTest

app, page, default, run_ids = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
KINDS = ("markdown", "caption", "info", "warning", "error", "success", "title", "subheader", "header")
for run_id in run_ids:
    at = AppTest.from_file(app, default_timeout=120)
    if run_id:
        at.session_state["run_id"] = run_id  # the current run (as picking it in the sidebar makes it)
    at.run()
    if page != default and not at.exception:
        at.switch_page(page).run()
    texts = [str(e.value) for kind in KINDS for e in getattr(at, kind)]
    captions = [i.caption for el in at.get("image") for i in el.proto.imgs]
    frames = []
    for df in at.dataframe:
        try:
            frames.append(df.value.astype(str).to_dict("list"))
        except Exception as exc:
            frames.append({"unreadable": [repr(exc)]})
    print(json.dumps({"run": run_id, "exceptions": [str(e.value)[:2000] for e in at.exception],
                      "texts": texts, "captions": captions, "frames": frames}), flush=True)
print(json.dumps({"maxrss": _hwm()}))
'''


def drive(page: str, run_ids: list[str], root: Path) -> tuple[dict[str, dict], int]:
    from pages import DEFAULT, page_path

    rc, out, err, peak = run_measured(
        [sys.executable, "-c", DRIVER, str(REPO / "app.py"), page, page_path(DEFAULT), json.dumps(run_ids)],
        PAGE_TIMEOUT_S, env={"DEEPAD_RUNS_DIR": str(root), "DEEPAD_UMAP": "off"})
    assert rc == 0, err[-3000:]
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {r["run"]: r for r in lines if "run" in r}, peak


@pytest.mark.parametrize("page", PAGE_OF_RUN + OTHER_PAGES)
def test_every_page_shows_each_hostile_run_as_damaged_and_the_others_as_before(lab, page):
    import re

    root, healthy, victims, _ = lab
    ids = list(healthy.values()) + list(victims.values()) if page in PAGE_OF_RUN else \
        ["", victims["results-bomb"], victims["fifo-config"]]
    seen, peak = drive(page, ids, root)
    assert set(seen) == set(ids)
    for run_id, got in seen.items():
        assert not got["exceptions"], (page, run_id, got["exceptions"])
        everything = json.dumps(got)
        assert SECRET not in everything, (page, run_id)  # never read from outside the run
        assert "Traceback" not in everything
    if page in PAGE_OF_RUN:
        for case, run_id in victims.items():
            _, _, file, words = HOSTILE[case]
            texts = seen[run_id]["texts"]
            if file:
                shown = [re.sub(r"\\(.)", r"\1", t) for t in texts if "damaged" in t]
                assert any(file in t for t in shown), (page, case, texts)
        for kind, run_id in healthy.items():
            assert not any("is damaged" in t for t in seen[run_id]["texts"]), (page, kind, seen[run_id]["texts"])
    if page == "pages/screens/runs.py":  # the All-runs table: a row for every run, healthy ones intact
        table = next(f for f in seen[healthy["kde"]]["frames"] if "state" in f)
        assert len(table["state"]) == len(healthy) + len(victims)
        states = dict(zip(table["run"] if "run" in table else table["run id"], table["state"]))
        assert {states[i] for i in healthy.values()} == {"finished"}
    if page == "pages/screens/samples.py":
        captions = seen[healthy["images"]]["captions"]
        assert captions and any("javascript" in c for c in captions)
        for c in captions:  # the class folder's name as text: every markdown character escaped
            unescaped = re.sub(r"\\.", "", c)  # what markdown would still read as markup
            assert "**b**" not in unescaped and "](" not in unescaped and "$z$" not in unescaped, c
        outside = seen[victims["outside-dataset"]]["texts"]
        assert any("data folder" in t for t in outside), outside
    assert peak < PAGE_PEAK_RSS, f"{page} peaked at {peak / MB:.0f} MB"


def test_reading_a_run_writes_nothing_and_leaves_no_stale_temporary_file(lab, tmp_path):
    """A status write killed half-way leaves a 0-byte temporary file; the next look at the run
    (its owner gone) removes it once it is stale; reading writes nothing else."""
    import hashlib

    root, healthy, _, _ = lab
    src = root / healthy["kde"]
    run_dir = tmp_path / "runs" / healthy["kde"]
    shutil.copytree(src, run_dir)
    stale = run_dir / ".status.json.deadbeef.tmp"
    stale.write_bytes(b"")
    os.utime(stale, (time.time() - 3600, time.time() - 3600))
    fresh = run_dir / ".results.npz.cafef00d.tmp"  # a write that may still be going on
    fresh.write_bytes(b"")

    def state():
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in run_dir.iterdir() if p.is_file()}

    before = state()
    rc, out, err, _ = cli("list", "--runs-dir", tmp_path / "runs")
    assert rc == 0 and json.loads(out)["state"] == "finished"
    after = state()
    assert not stale.exists() and fresh.exists()
    assert {k: v for k, v in before.items() if k != stale.name} == after


def test_a_local_ray_listens_on_loopback_only():
    import psutil

    from deepad.sweeps import engine

    script = ("from deepad.sweeps import engine; import json, os, psutil, ray\n"
              "engine.connect(None)\n"
              "me = psutil.Process(); procs = [me] + me.children(recursive=True)\n"
              "addrs = sorted({c.laddr.ip for p in procs for c in p.net_connections('inet') "
              "if c.status == psutil.CONN_LISTEN})\n"
              "print(json.dumps(addrs)); ray.shutdown()\n")
    rc, out, err, _ = run_measured([sys.executable, "-c", script], 300)
    assert rc == 0, err[-2000:]
    addrs = json.loads(out.strip().splitlines()[-1])
    assert addrs and all(a in ("127.0.0.1", "::ffff:127.0.0.1", "::1") for a in addrs), addrs
    assert psutil and engine


def test_an_engine_that_cannot_start_is_one_line(lab, tmp_path):
    root, _, _, _ = lab
    not_a_folder = tmp_path / "ray-tmp"
    not_a_folder.write_text("a file where Ray wants a folder")
    rc, out, err, _ = run_measured([sys.executable, "-m", "deepad", "sweep", "--dataset", "digits", "--method", "kde",
                                    "--seeds", "0,1", "--runs-dir", str(tmp_path / "runs"), "--quiet"],
                                   300, env={"RAY_TMPDIR": str(not_a_folder), "TMPDIR": str(tmp_path)})
    assert rc == 2 and len(err.strip().splitlines()) <= 2, err  # the sweep's own first line, then the reason
    assert "Ray engine could not start" in err.strip().splitlines()[-1] and "Traceback" not in err


def test_score_refuses_huge_images_from_their_headers_before_decoding(lab, tmp_path):
    from PIL import Image

    root, healthy, _, _ = lab
    buf = io.BytesIO()
    Image.new("RGB", (4096, 4096)).save(buf, format="PNG")
    f = tmp_path / "huge.zip"
    with zipfile.ZipFile(f, "w") as zf:
        for i in range(12):
            zf.writestr(f"in/{i:02d}.png", buf.getvalue())
    results, peak = cli_many([["score", healthy["images"], "--data", str(f), "--runs-dir", str(root)]])
    (got,) = results
    assert got["rc"] == 2 and len(got["err"].strip().splitlines()) == 1, got
    assert "4096×4096" in got["err"] and "8×8" in got["err"], got
    assert peak < CLI_PEAK_RSS, f"{peak / MB:.0f} MB"  # decoding them took 5.9 GB
    got = load_measured("score", f)  # without a run to compare with: the memory limit
    assert "refused" in got and "in memory" in got["refused"] and got["peak"] - got["base"] < 64 * MB, got


def test_a_wrong_model_file_is_refused_on_one_line(lab, tmp_path):
    import torch

    root, healthy, _, _ = lab
    runs = tmp_path / "runs"
    shutil.copytree(root / healthy["deep"], runs / healthy["deep"])
    model = runs / healthy["deep"] / "model.pt"
    blob = torch.load(model, weights_only=True)

    def widened(obj):  # every weight with three rows more: a network of other shapes
        if isinstance(obj, torch.Tensor) and obj.ndim:
            return torch.zeros(obj.shape[0] + 3, *obj.shape[1:], dtype=obj.dtype)
        if isinstance(obj, dict):
            return {k: widened(v) for k, v in obj.items()}
        return obj

    model.unlink()
    torch.save({**blob, "state": widened(blob["state"])}, model)
    results, _ = cli_many([["score", healthy["deep"], "--data", str(lab[3]), "--runs-dir", str(runs)]])
    (got,) = results
    assert got["rc"] == 2 and len(got["err"].strip().splitlines()) == 1, got
    assert "model.pt" in got["err"] and "Traceback" not in got["err"], got


def test_viewing_a_run_on_a_read_only_runs_folder_writes_nothing(lab, tmp_path, monkeypatch):
    """The UMAP view of a run is cached outside the runs folder; where no folder can be written,
    it is kept in memory. The runs folder is a read-only mount (skipped where mounting is not
    permitted)."""
    from deepad import embedding

    root, healthy, _, _ = lab
    ro = tmp_path / "ro"
    ro.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(ro)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    try:
        shutil.copytree(root / healthy["deep"], ro / "runs" / healthy["deep"])
        assert subprocess.run(["mount", "-o", "remount,ro", str(ro)]).returncode == 0
        monkeypatch.setenv("DEEPAD_CACHE_DIR", str(ro / "cache"))  # not writable either
        monkeypatch.setattr(embedding, "umap_2d", lambda emb, **_: np.asarray(emb)[:, :2].astype(np.float32))
        run = RunStore(ro / "runs").get(healthy["deep"])
        before = sorted(p.name for p in run.path.iterdir())
        got = embedding.compute_umap(run)
        assert embedding.load_umap(run)["xy"].shape == got["xy"].shape  # from memory
        assert sorted(p.name for p in run.path.iterdir()) == before
        monkeypatch.setenv("DEEPAD_CACHE_DIR", str(tmp_path / "cache"))  # a writable cache folder
        embedding.compute_umap(run)
        assert embedding.umap_cache_file(run).is_file() and str(tmp_path / "cache") in str(embedding.umap_cache_file(run))
    finally:
        subprocess.run(["umount", "-l", str(ro)], check=False)
