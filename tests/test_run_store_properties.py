"""Property: any sequence of a run's writes, cut off at any point (the writing process dies: the
file-system call it was making fails and nothing after it happens, not even clean-up), leaves a
run that lists and reads without damage, with every epoch record whose write returned before the cut."""

from __future__ import annotations

import os
import tempfile
import types

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import deepad.runs.files
import deepad.runs.write
from deepad.runs.create import new_run_folder
from deepad.runs.listing import RunStore
from deepad.runs.records import STATES
from deepad.runs.write import RunWriter

WRITERS = (deepad.runs.files, deepad.runs.write)  # the modules whose file-system calls write a run


class Died(BaseException):
    """The writing process is gone (not an Exception: no handler in the code under test runs)."""


def dying_os(calls_left: int):
    """The `os` module as seen by the modules that write a run, where the file-system call number
    `calls_left` fails and every later one does nothing; an append that dies writes half its line."""
    state = {"left": calls_left, "dead": False}

    def counted(name):
        real = getattr(os, name)

        def call(*args, **kwargs):
            if state["dead"]:
                raise Died()
            state["left"] -= 1
            if state["left"] < 0:
                state["dead"] = True
                if name == "write":  # a torn append: half the line reaches the disk
                    real(args[0], args[1][:len(args[1]) // 2])
                raise Died()
            return real(*args, **kwargs)
        return call

    fake = types.SimpleNamespace(**{k: getattr(os, k) for k in dir(os) if not k.startswith("__")})
    for name in ("open", "write", "replace", "fsync", "unlink", "fdopen"):
        setattr(fake, name, counted(name))
    fake.path = os.path
    return fake, state


def _arrays(i: int) -> dict:
    rng = np.random.default_rng(i)
    return {"test_scores": rng.normal(size=20), "test_target": (np.arange(20) % 2).astype(np.int64),
            "test_emb": rng.normal(size=(20, 3)).astype(np.float32)}


def do(write: RunWriter, op: str, i: int, written: list) -> None:
    if op == "epoch":
        rec = {"phase": "train", "epoch": i, "step": i, "loss": 1.0 / i}
        write.history(rec)
        written.append(rec)
        write.status(state="running", epoch=i, last=rec)
    elif op == "snapshots":
        write.snapshots(np.zeros((i, 5, 3), np.float32), np.arange(1, i + 1))
    elif op == "split":
        write.split({"classes": ["a", "b"], "normal": [0], "input_shape": [3]})
    elif op == "results":
        write.results(**_arrays(i))
    elif op == "final":
        write.final_status(state="finished", summary={"auc": 0.5 + i / 1000}, seconds=1.0)
    elif op == "failed":
        write.final_status(state="failed", error=f"stopped at {i}")


OPS = st.lists(st.sampled_from(["epoch", "epoch", "snapshots", "split", "results", "final", "failed"]),
               min_size=1, max_size=12)


@settings(max_examples=80, deadline=None)
@given(ops=OPS, cut=st.integers(min_value=0, max_value=80))
def test_writes_cut_off_anywhere_leave_a_readable_run(ops, cut):
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(os.path.join(tmp, "runs"))
        fake, state = dying_os(cut)
        written: list[dict] = []
        real_os = os
        for mod in WRITERS:
            mod.os = fake
        try:
            run = new_run_folder(store, {"dataset": "blobs", "method": "kde"}, "kde")
            write = RunWriter(run)
            for i, op in enumerate(ops, start=1):
                do(write, op, i, written)
        except Died:
            pass
        except Exception as exc:  # a cut inside create() is reported as a DeepADError
            assert state["dead"], exc
        finally:
            for mod in WRITERS:
                mod.os = real_os

        listed = store.list()  # never raises
        assert len(listed) <= 1
        for run in listed:
            assert run.damage == [], run.damage
            assert run.state in STATES
            history = run.history()
            assert history == written  # every record whose append returned; a torn one is skipped
            results = run.results()
            assert results is None or len(results["test_scores"]) == 20
            snaps = run.snapshots()
            assert snaps is None or snaps["emb"].shape[0] == len(snaps["step"])
            # the owner's next start clears what the dead writer left
            run.files.remove_temporaries()
            assert run.files.temporaries() == []
