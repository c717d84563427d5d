"""Running a command in a process of its own and measuring its peak memory (its own VmHWM)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest


REPO = Path(__file__).resolve().parent.parent


MB = 2 ** 20


CLI_TIMEOUT_S = 180


def run_measured(argv: list[str], timeout: float, env: dict | None = None) -> tuple[int, str, str, int]:
    """A subprocess to its end: (exit status, stdout, stderr, its own peak resident memory in
    bytes, its VmHWM read while it runs). Killed, and the test failed, if it runs past `timeout` seconds."""
    with open(os.devnull, "rb") as devnull:
        out_f, err_f = io.BytesIO(), io.BytesIO()
        proc = subprocess.Popen(argv, stdin=devnull, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})}, cwd=REPO)
        import threading

        readers = [threading.Thread(target=lambda s=s, b=b: b.write(s.read()), daemon=True)
                   for s, b in ((proc.stdout, out_f), (proc.stderr, err_f))]
        for t in readers:
            t.start()
        deadline = time.monotonic() + timeout
        peak = 0
        while True:
            peak = max(peak, _child_hwm(proc.pid))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                os.wait4(proc.pid, 0)
                pytest.fail(f"{argv[3:]} did not end within {timeout} s (a hang)")
            time.sleep(0.05)  # waiting for the child, not for an effect
        for t in readers:
            t.join(timeout=10)
        proc.returncode = os.waitstatus_to_exitcode(status)
    return proc.returncode, out_f.getvalue().decode(), err_f.getvalue().decode(), peak


def _child_hwm(pid: int) -> int:
    """A running process's own peak resident memory (VmHWM), in bytes; 0 once it has gone. (The
    rusage of wait4 is no use here: a child's ru_maxrss starts from its parent's size at fork, and
    pytest's process grows over a whole suite.)"""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


# --- inputs: memory bounded before decoding ---------------------------------------------------------
INPUT_DRIVER = r'''
import json, resource, sys
def _hwm():  # this process's own peak (VmHWM): ru_maxrss also counts the parent's memory at fork
    for line in open('/proc/self/status'):
        if line.startswith('VmHWM:'):
            return int(line.split()[1]) * 1024
import pandas  # noqa: F401  (the loaders' own imports, before the baseline is read)
from deepad.data.uploads import load_user_data, read_inputs
from deepad.errors import DeepADError

base = _hwm()
kind, path = sys.argv[1], sys.argv[2]
try:
    if kind == "train":
        ds = load_user_data(path, label_column="label" if path.endswith(".csv") else None)
        outcome = {"rows": int(len(ds.y)), "columns": int(ds.x.shape[1])}
    else:
        outcome = {"rows": int(len(read_inputs(path).x))}
except DeepADError as exc:
    outcome = {"refused": str(exc)}
peak = _hwm()
print(json.dumps({**outcome, "base": base, "peak": peak}))
'''


def load_measured(kind: str, path: Path) -> dict:
    rc, out, err, _ = run_measured([sys.executable, "-c", INPUT_DRIVER, kind, str(path)], CLI_TIMEOUT_S)
    assert rc == 0 and "Traceback" not in err, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])
