"""2-D views of a run's embeddings: PCA at once, UMAP in the background, cached with the run.

PCA is a single SVD and costs milliseconds, so a page can always show something at once. UMAP
(umap-learn, numba underneath) is the better picture of neighbourhoods but is slow: the first fit
in a process spends tens of seconds compiling, later fits take seconds. So:

- every UMAP fit in this process goes through one worker thread (and `_UMAP_LOCK`): concurrent
  UMAP calls from several threads have deadlocked in umap-learn's history;
- `Projector.warm_up()` queues a tiny fit that pays the compilation once, ideally when a server
  starts;
- `Projector.request(run)` queues a run's projection and returns at once; the result is kept in
  a cache folder of its own (`$DEEPAD_CACHE_DIR`, else ~/.cache/deepad), never in the run's
  folder: viewing a run writes nothing into the runs folder, which may be read-only or shared.
  Where the cache folder cannot be written either, the projection is kept in memory;
- `Projector.project_when_finished(manager, run_id)` waits for a run in a thread of its own and
  queues its projection as soon as it ends, so the view is ready when someone looks.

Nothing here calls any UI code.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
from pathlib import Path

import numpy as np

from deepad.runs.arrays import NPZ_ERRORS, UMAP_SPEC, check_npz
from deepad.runs.files import atomic_save_npz, open_read
from deepad.runs.layout import RESULTS, UMAP
from deepad.runs.read import RunRecord
from deepad.runs.records import DamagedFile

UMAP_FILE = UMAP
UMAP_MAX_POINTS = 20_000  # larger test sets are projected on a fixed random subset
UMAP_PARAMS = {"n_neighbors": 15, "min_dist": 0.1, "n_epochs": 200, "random_state": 0}
_UMAP_LOCK = threading.Lock()


def umap_enabled() -> bool:
    """UMAP can be switched off for a process with DEEPAD_UMAP=off (PCA views stay)."""
    return os.environ.get("DEEPAD_UMAP", "on").strip().lower() not in ("off", "0", "false", "no")


# --- PCA -------------------------------------------------------------------------------------
def pca_basis(emb: np.ndarray, dims: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Mean and the first `dims` principal directions of `emb` (n, d), as (d,) and (dims, d).
    Directions beyond the data's dimension are zero, so a 1-D embedding still gives 2 columns."""
    emb = np.asarray(emb, dtype=np.float64).reshape(len(emb), -1)
    mean = emb.mean(axis=0) if len(emb) else np.zeros(emb.shape[1])
    comps = np.zeros((dims, emb.shape[1]))
    if len(emb) > 1:
        _, _, vt = np.linalg.svd(emb - mean, full_matrices=False)
        k = min(dims, len(vt))
        comps[:k] = vt[:k]
        # a fixed sign per direction, so two calls on similar data do not mirror the picture
        signs = np.sign(comps[np.arange(dims), np.argmax(np.abs(comps), axis=1)])
        comps *= np.where(signs == 0, 1.0, signs)[:, None]
    return mean, comps


def pca_project(emb: np.ndarray, basis: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    mean, comps = basis
    return (np.asarray(emb, dtype=np.float64).reshape(len(emb), -1) - mean) @ comps.T


def pca_2d(emb: np.ndarray) -> np.ndarray:
    """(n, d) -> (n, 2): the two directions along which the embeddings vary most."""
    return pca_project(emb, pca_basis(emb))


# --- UMAP ------------------------------------------------------------------------------------
def umap_2d(emb: np.ndarray, **params) -> np.ndarray:
    """(n, d) -> (n, 2) with UMAP, in the calling thread (serialised with every other UMAP call).
    Raises ImportError when umap-learn is not installed."""
    import umap  # noqa: PLC0415  (slow first import: only when needed)

    emb = np.ascontiguousarray(emb, dtype=np.float32).reshape(len(emb), -1)
    kw = {**UMAP_PARAMS, **params}
    kw["n_neighbors"] = max(2, min(kw["n_neighbors"], len(emb) - 1))
    with _UMAP_LOCK:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "n_jobs overridden by random_state" and friends
            return umap.UMAP(n_components=2, **kw).fit_transform(emb).astype(np.float32)


def _source_stamp(run: RunRecord) -> int:
    return run.files.stamp(RESULTS)


CACHE_ENV = "DEEPAD_CACHE_DIR"
_MEMORY: dict[str, dict[str, np.ndarray]] = {}  # cache file -> projection, where it cannot be written
_MEMORY_LOCK = threading.Lock()


def cache_dir() -> Path:
    """Where views' caches are kept: $DEEPAD_CACHE_DIR, else ~/.cache/deepad."""
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "deepad"


def umap_cache_file(run: RunRecord) -> Path:
    """The cache file of a run's projection: named from the run folder's real path and the
    version of its results, so a run moved or trained again is projected again."""
    try:
        where = str(run.path.resolve())
    except OSError:
        where = str(run.path)
    key = hashlib.sha256(f"{where}\0{_source_stamp(run)}".encode()).hexdigest()[:24]
    return cache_dir() / "umap" / f"{run.run_id[:80]}-{key}.npz"


def load_umap(run: RunRecord) -> dict[str, np.ndarray] | None:
    """The cached projection of a run's test embeddings ({"xy", "index"}: rows of the test set),
    or None when there is none yet or it was made from older results."""
    f = umap_cache_file(run)
    with _MEMORY_LOCK:
        if str(f) in _MEMORY:
            return _MEMORY[str(f)]
    try:
        check_npz(f, UMAP, UMAP_SPEC, ("xy", "index", "stamp"))
        with open_read(f) as fh, np.load(fh, allow_pickle=False) as z:
            out = {"xy": z["xy"], "index": z["index"]}
    except (DamagedFile, *NPZ_ERRORS):
        return None  # computed again
    n = len(out["xy"])
    if len(out["index"]) != n or (n and (out["index"].min() < 0 or not np.isfinite(out["xy"]).all())):
        return None
    return out


def forget_umap(run: RunRecord) -> None:
    """Drop a run's cached projection (on disk and in memory)."""
    f = umap_cache_file(run)
    with _MEMORY_LOCK:
        _MEMORY.pop(str(f), None)
    f.unlink(missing_ok=True)


def _keep_umap(run: RunRecord, xy: np.ndarray, index: np.ndarray, stamp: int) -> None:
    f = umap_cache_file(run)
    try:
        f.parent.mkdir(parents=True, exist_ok=True)
        atomic_save_npz(f, xy=xy, index=index, stamp=np.int64(stamp))
    except OSError:  # a read-only home, a full disk: kept for this process
        with _MEMORY_LOCK:
            if len(_MEMORY) > 64:
                _MEMORY.clear()
            _MEMORY[str(f)] = {"xy": xy, "index": index}


def _subset(n: int) -> np.ndarray:
    if n <= UMAP_MAX_POINTS:
        return np.arange(n)
    return np.sort(np.random.default_rng(0).permutation(n)[:UMAP_MAX_POINTS])


class NothingToProject(ValueError):
    """The run has no test embeddings UMAP could project (none saved, or fewer than 3)."""


def compute_umap(run: RunRecord) -> dict[str, np.ndarray]:
    """Project a finished run's test embeddings and cache them (blocking; see `cache_dir`).
    Raises NothingToProject when there is nothing to project."""
    results = run.results()
    if results is None or "test_emb" not in results:
        raise NothingToProject("the run has no saved test embeddings")
    if len(results["test_emb"]) < 3:
        raise NothingToProject(f"UMAP needs at least 3 test samples; the run has {len(results['test_emb'])}")
    stamp = _source_stamp(run)
    index = _subset(len(results["test_emb"]))
    xy = umap_2d(results["test_emb"][index])
    if run.path.exists():  # the run may have been deleted meanwhile
        _keep_umap(run, xy, index, stamp)
    return {"xy": xy, "index": index}


class Projector:
    """One background worker that runs UMAP jobs one at a time. Thread-safe."""

    def __init__(self):
        self._lock = threading.Lock()
        self._jobs: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None
        self._state: dict[str, str] = {}  # run folder -> "queued" | "computing" | "failed: ..."
        self._done = threading.Condition(self._lock)
        self.warm_state = "cold"  # cold | warming | ready | unavailable: <why>
        self.warm_seconds: float | None = None

    # -- public -----------------------------------------------------------------------------
    def warm_up(self) -> None:
        """Queue a tiny fit that compiles UMAP's numba code (once per process)."""
        with self._lock:
            if self.warm_state != "cold" or not umap_enabled():
                return
            self.warm_state = "warming"
        self._jobs.put(("warm", None))
        self._ensure_worker()

    def status(self, run: RunRecord) -> str:
        """"ready", "queued", "computing", "failed: <why>", "none" (not requested yet) or "off"."""
        if load_umap(run) is not None:
            return "ready"
        if not umap_enabled():
            return "off"
        with self._lock:
            return self._state.get(str(run.path), "none")

    def request(self, run: RunRecord) -> str:
        """Queue the run's projection unless it is cached or already on its way; returns status."""
        if load_umap(run) is not None:
            return "ready"
        if not umap_enabled():
            return "off"
        with self._lock:
            status = self._state.get(str(run.path))
            if status is not None:
                return status
            self._state[str(run.path)] = "queued"
        self._jobs.put(("run", run))
        self._ensure_worker()
        return "queued"

    def wait(self, run: RunRecord, timeout: float | None = None) -> str:
        """Block until the run's projection is no longer queued or computing (benches, tests)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._done:
            while self._state.get(str(run.path)) in ("queued", "computing"):
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._done.wait(remaining if remaining is not None else 1.0)
        return self.status(run)

    def wait_warm(self, timeout: float | None = None) -> str:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._done:
            while self.warm_state == "warming":
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    break
                self._done.wait(remaining if remaining is not None else 1.0)
        return self.warm_state

    def project_when_finished(self, manager, run_id: str) -> None:
        """Wait for a run in a background thread; when it has finished, queue its projection."""
        if not umap_enabled():
            return

        def wait_then_request():
            run = manager.wait(run_id)
            if run.state == "finished":
                self.request(run)

        threading.Thread(target=wait_then_request, daemon=True, name=f"deepad-umap-wait-{run_id}").start()

    # -- worker -----------------------------------------------------------------------------
    def _ensure_worker(self) -> None:
        with self._lock:
            if self._worker is None or not self._worker.is_alive():
                self._worker = threading.Thread(target=self._loop, daemon=True, name="deepad-umap")
                self._worker.start()

    def _loop(self) -> None:
        _yield_to_training()
        while True:
            kind, run = self._jobs.get()
            if kind == "warm":
                self._warm()
                continue
            key = str(run.path)
            with self._lock:
                self._state[key] = "computing"
            try:
                compute_umap(run)
                outcome = None
            except ImportError as exc:
                outcome = f"failed: umap-learn is not available ({exc})"
            except NothingToProject as exc:
                outcome = f"failed: {exc}"
            except Exception as exc:  # keep the worker alive for the next run
                outcome = f"failed: {type(exc).__name__}: {exc}"
            with self._done:
                if outcome:
                    self._state[key] = outcome
                else:
                    self._state.pop(key, None)
                self._done.notify_all()

    def _warm(self) -> None:
        t0 = time.perf_counter()
        try:
            x = np.random.default_rng(0).normal(size=(300, 8)).astype(np.float32)
            # both neighbour searches umap uses: approximate (large data) and exact (small data)
            umap_2d(x, n_epochs=10, force_approximation_algorithm=True)
            umap_2d(x[:100], n_epochs=10)
            state = "ready"
        except Exception as exc:  # ImportError or a numba problem: PCA views still work
            state = f"unavailable: {type(exc).__name__}: {exc}"
        with self._done:
            self.warm_state = state
            self.warm_seconds = time.perf_counter() - t0
            self._done.notify_all()


_PROJECTOR: Projector | None = None
_PROJECTOR_LOCK = threading.Lock()


def projector() -> Projector:
    """The process-wide projector (one, because UMAP calls must never run concurrently)."""
    global _PROJECTOR
    with _PROJECTOR_LOCK:
        if _PROJECTOR is None:
            _PROJECTOR = Projector()
        return _PROJECTOR


def _yield_to_training(niceness: int = 10) -> None:
    """Lower the calling thread's CPU priority (Linux: a thread's own nice value), so that UMAP's
    compile and fits give way to the runs training in worker processes beside the server; elsewhere
    nothing changes."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + niceness))
    except (AttributeError, OSError):  # no per-thread priority here
        pass
