"""Live views read a run's history incrementally: only the lines appended since the last look are
parsed, a line still being written waits, a replaced file is read again, a damaged line ends it."""

from __future__ import annotations

import json
import os

import pytest

from deepad.runs.follow import FileStamp, HistoryReader, curves_refresh_seconds, refresh_seconds
from deepad.runs.create import new_run_folder
from deepad.runs.write import RunWriter
from deepad.runs.listing import RunStore, read_history


def _append(path, records):
    with open(path / "history.jsonl", "a") as f:
        f.write("".join(json.dumps(r) + "\n" for r in records))


def test_only_the_new_complete_lines_are_parsed(tmp_path):
    reader = HistoryReader(tmp_path)
    assert reader.read() == [] and reader.parsed_lines == 0  # no file yet
    _append(tmp_path, [{"epoch": e, "loss": 1 / e} for e in range(1, 4)])
    assert [r["epoch"] for r in reader.read()] == [1, 2, 3] and reader.parsed_lines == 3
    size = os.path.getsize(tmp_path / "history.jsonl")
    assert reader.read() is reader.records and reader.parsed_lines == 3 and reader.bytes_read == size

    _append(tmp_path, [{"epoch": 4, "loss": 0.25}])
    with open(tmp_path / "history.jsonl", "a") as f:
        f.write('{"epoch": 5, "lo')  # the 5th record is being written
    assert [r["epoch"] for r in reader.read()] == [1, 2, 3, 4] and reader.parsed_lines == 4
    with open(tmp_path / "history.jsonl", "a") as f:
        f.write('ss": 0.2}\n')
    assert [r["epoch"] for r in reader.read()] == [1, 2, 3, 4, 5] and reader.parsed_lines == 5
    assert reader.records == read_history(tmp_path)  # the same records as a whole read

    (tmp_path / "history.jsonl").write_text(json.dumps({"epoch": 1, "loss": 9.0}) + "\n")  # replaced
    assert reader.read() == [{"epoch": 1, "loss": 9.0}]
    _append(tmp_path, [{"epoch": 2}])
    with open(tmp_path / "history.jsonl", "a") as f:
        f.write("not json\n" + json.dumps({"epoch": 4}) + "\n")
    assert reader.read() == read_history(tmp_path) == [{"epoch": 1, "loss": 9.0}, {"epoch": 2}]
    assert reader.damaged


def test_a_file_stamp_changes_with_the_file(tmp_path):
    f = tmp_path / "snapshots.npz"
    stamp = FileStamp(f)
    assert stamp.changed() is True and stamp.changed() is False  # "missing" seen once
    f.write_bytes(b"12345")
    assert stamp.changed() is True and stamp.changed() is False
    f.write_bytes(b"123456")
    assert stamp.changed() is True


def test_the_refresh_rhythm_follows_the_records():
    assert refresh_seconds([], "finished") is None
    assert refresh_seconds([], "queued") == refresh_seconds([], "running") == 2.0
    quick = [{"seconds": 0.1}] * 5
    slow = [{"seconds": 30.0}] * 5
    assert refresh_seconds(quick, "running") == 2.0 and refresh_seconds(slow, "running") == 5.0
    assert refresh_seconds([{"seconds": 6.0}] * 3, "running") == 3.0  # half an epoch between the bounds
    # the charts are drawn again on every second look at the numbers, and not at all once it has ended
    for records in ([], quick, slow, [{"seconds": 6.0}] * 3):
        assert curves_refresh_seconds(records, "running") == 2 * refresh_seconds(records, "running")
    assert curves_refresh_seconds(quick, "finished") is None and curves_refresh_seconds(quick, "cancelled") is None


def test_the_runs_page_parses_only_the_records_appended_since_its_last_look(tmp_path, monkeypatch):
    pytest.importorskip("streamlit")
    from tests.apptools import open_page, texts

    monkeypatch.setenv("DEEPAD_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("DEEPAD_UMAP", "off")
    store = RunStore()
    run = new_run_folder(store, {"dataset": "digits", "method": "deep-svdd", "setup": {"normal": [0]},
                                 "params": {"epochs": 10, "pretrain_epochs": 0}}, "deep-svdd")
    write = RunWriter(run)
    write.status(state="running", epoch=3)  # this process plays the trainer
    for e in range(1, 4):
        write.history({"phase": "train", "epoch": e, "step": e, "loss": 1 / e, "seconds": 0.5})
    at = open_page("pages/screens/runs.py", run.run_id)
    reader = at.session_state["_history_readers"][str(run.path)]
    assert len(reader.records) == 3 and reader.parsed_lines == 3
    for e in range(4, 6):
        write.history({"phase": "train", "epoch": e, "step": e, "loss": 1 / e, "seconds": 0.5})
    at.run()
    assert not at.exception
    reader = at.session_state["_history_readers"][str(run.path)]
    assert len(reader.records) == 5 and reader.parsed_lines == 5  # the first three were not parsed again
    assert "5" in [str(m.value) for m in at.metric]  # "epoch records" shows the new count
    assert "Training on" in texts(at)
