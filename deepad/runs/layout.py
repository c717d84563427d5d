"""Where a run lives: the runs folder, one folder per run (its id checked), and the files in it.

    config.json       the validated RunConfig (written first)
    status.json       state, epoch, error, owner process, summary (replaced atomically, last)
    history.jsonl     one JSON record per epoch, appended as training goes
    snapshots.npz     probe-set embeddings per epoch, with the centre c of each (for watching collapse happen)
    split.json        classes, preprocessing parameters, sample indices
    split.npz         the split's parts (rows, labels, altered inputs): written when the run is
                      created, read by the process that trains it instead of building it again
    results.npz       test (and training) scores, labels, embeddings
    diagnostics.json  the collapse report of the final embeddings
    model.pt          the detector's weights: tensors and plain data only, never a pickle
    umap.npz          the cached 2-D projection of the test embeddings
    traceback.txt     what went wrong, when a run failed on an unexpected error
    worker.log        the output of the worker process that trained it (in the dashboard)
    stop.request      present while someone asks the process training the run to stop
    data/             the user's own data file, when the run trained on one

Every write (`deepad.runs.write`) goes to a temporary name in the folder and is renamed into place; the temporary file
is removed when the write fails (a full disk, a folder removed meanwhile). Nothing here follows a
symbolic link: a run file that is a link is reported as damaged and is replaced, never written
through. Every read checks the type and shape of what it reads and raises `DamagedFile` (naming the
file and what is wrong) instead of handing on something a page would trip over."""

from __future__ import annotations

import os
import re
from pathlib import Path

from deepad.errors import DeepADError

CONFIG = "config.json"
STATUS = "status.json"
HISTORY = "history.jsonl"
SNAPSHOTS = "snapshots.npz"
SPLIT = "split.json"
SPLIT_PARTS = "split.npz"
RESULTS = "results.npz"
DIAGNOSTICS = "diagnostics.json"
MODEL = "model.pt"
UMAP = "umap.npz"
TRACEBACK = "traceback.txt"
WORKER_LOG = "worker.log"
STOP_REQUEST = "stop.request"
DATA = "data"
FILES = (CONFIG, STATUS, HISTORY, SNAPSHOTS, SPLIT, SPLIT_PARTS, RESULTS, DIAGNOSTICS, MODEL, UMAP, TRACEBACK,
         WORKER_LOG, STOP_REQUEST)
MAX_JSON_BYTES = 64 * 2 ** 20  # a JSON run file larger than this is not one deepad wrote
JSON_LIMITS = {CONFIG: 2 ** 20, STATUS: 2 ** 20, SPLIT: 16 * 2 ** 20, DIAGNOSTICS: 16 * 2 ** 20}
MAX_HISTORY_BYTES = 16 * 2 ** 20  # of a longer history.jsonl only its last part is read
MAX_MODEL_BYTES = 2 ** 31  # a model.pt larger than this is not loaded
MAX_TEXT_BYTES = 64 * 2 ** 10  # of traceback.txt and worker.log only the last part is read
STALE_TMP_S = 60.0  # a temporary file this old belongs to a write that never finished

RUN_ID_MAX = 128
_RUN_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def resolve_runs_dir(arg: str | Path | None = None) -> Path:
    """`--runs-dir`, else $DEEPAD_RUNS_DIR, else ~/.deepad/runs."""
    if arg:
        return Path(arg).expanduser()
    env = os.environ.get("DEEPAD_RUNS_DIR")
    if env:
        return Path(env).expanduser()
    return Path.home() / ".deepad" / "runs"


def check_run_id(run_id) -> str:
    """The run id itself, or DeepADError saying what a run id looks like."""
    if not isinstance(run_id, str) or not run_id:
        raise DeepADError("run id: give the id of a run; `python -m deepad list` shows them")
    shown = repr(run_id if len(run_id) <= 60 else run_id[:57] + "...")
    if len(run_id) > RUN_ID_MAX:
        raise DeepADError(f"run id {shown}: {len(run_id)} characters, at most {RUN_ID_MAX} are allowed; "
                          "`python -m deepad list` shows the runs")
    if not _RUN_ID.fullmatch(run_id):
        raise DeepADError(f"run id {shown}: only letters, digits, '.', '_' and '-' are allowed (and it "
                          "starts with a letter or digit); `python -m deepad list` shows the runs")
    return run_id


def run_file(run_path: str | Path, name: str) -> Path:
    """The path of run file `name` in the run folder `run_path`; ValueError for a name that is not
    a run file (so nothing is ever read or written outside the folder by name)."""
    if name not in FILES:
        raise ValueError(f"{name!r} is not a run file; run files are {', '.join(FILES)}")
    return Path(run_path) / name
