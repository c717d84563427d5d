"""The dashboard's UMAP worker gives way to training: its thread runs at a lower CPU priority than
the server's other threads, so that the runs training in worker processes beside the server (a
lesson's pair, right after the server started and began compiling UMAP) get the cores first."""

import os
import sys
import time

import pytest

from deepad.embedding import Projector


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread priority is Linux's")
def test_the_umap_worker_thread_runs_below_the_servers_priority():
    projector = Projector()
    projector._ensure_worker()  # the worker starts and waits for a job
    tid = projector._worker.native_id
    deadline = time.monotonic() + 10
    while os.getpriority(os.PRIO_PROCESS, tid) == os.getpriority(os.PRIO_PROCESS, 0) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert os.getpriority(os.PRIO_PROCESS, tid) >= min(19, os.getpriority(os.PRIO_PROCESS, 0) + 10)
    assert os.getpriority(os.PRIO_PROCESS, 0) < os.getpriority(os.PRIO_PROCESS, tid)  # this thread unchanged
