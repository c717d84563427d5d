"""The runs folder: finding, reading, listing and deleting its runs (one folder per run; its files:
`deepad.runs.layout`, a run as read: `deepad.runs.read.RunRecord`).

Reading never writes. A run whose status says "queued" or "running" but whose owner process is
gone is reported as "interrupted" when read; only a process that supervises or owns the run writes
that back (`RunStore.mark_interrupted`, which reads the status again first). A run with a file that
cannot be used is listed as "damaged" with the file and the reason, and never stops the other runs
from being listed or shown.

Only real folders directly inside the runs folder are runs: an entry that is a symbolic link, or
resolves outside the runs folder, is skipped and never written to or deleted. Run ids are checked
(letters, digits, `.`, `_`, `-`; at most 128 characters) wherever one comes in.
"""

from __future__ import annotations

import os
import shutil
import stat
import time
from pathlib import Path

from deepad.errors import DeepADError, describe_os_error
from deepad.runs.layout import CONFIG, HISTORY, RESULTS, SNAPSHOTS, STALE_TMP_S, check_run_id, resolve_runs_dir
from deepad.runs.read import RunFolder, RunRecord
from deepad.runs.records import INTERRUPTED_ERROR, LIVE_STATES, DamagedFile, owner_alive
from deepad.runs.write import RunWriter

def read_history(path: Path) -> list[dict]:
    return RunFolder(path).read_history()


class RunStore:
    def __init__(self, root: str | Path | None = None):
        self.root = resolve_runs_dir(root)

    # -- where runs are -----------------------------------------------------------------------------
    def not_a_folder(self) -> DeepADError:
        return DeepADError(f"runs folder {self.root} is a file, not a folder; give another one with "
                           "--runs-dir (or $DEEPAD_RUNS_DIR), or move that file away")

    def run_path(self, run_id: str) -> Path:
        """The folder of an existing run, checked to be a real folder inside the runs folder."""
        check_run_id(run_id)
        path = self.root / run_id
        missing = DeepADError(f"no run {run_id!r} in {self.root}; `python -m deepad list` shows the runs")
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            raise missing from None
        except NotADirectoryError:
            raise self.not_a_folder() from None
        except OSError as exc:
            raise DeepADError(describe_os_error(exc)) from None
        if os.path.islink(path):
            raise DeepADError(f"{path} is a symbolic link; deepad only opens run folders that are inside "
                              f"{self.root} itself")
        if not stat.S_ISDIR(st.st_mode):
            raise missing
        try:
            inside = path.resolve().parent == self.root.resolve()
        except OSError:
            inside = False
        if not inside:
            raise DeepADError(f"{path} resolves outside {self.root}; deepad only opens run folders inside it")
        return path

    # -- a supervisor's verdict ------------------------------------------------------------------------
    def mark_interrupted(self, run_id: str) -> RunRecord:
        """For a process supervising runs: write "interrupted" into a run whose status says it is
        live but whose owner is gone (the status is read again just before, so a run that has just
        ended keeps its state)."""
        path = self.run_path(run_id)
        folder = RunFolder(path)
        status = folder.read_status()
        if status.get("state") in LIVE_STATES and not owner_alive(status.get("owner")):
            status = {**status, "state": "interrupted", "error": INTERRUPTED_ERROR, "updated": time.time()}
            RunWriter(RunRecord(run_id, path, {}, status)).replace_status(status)
        return self.get(run_id)

    # -- reading (never writes) ----------------------------------------------------------------------
    def get(self, run_id: str) -> RunRecord:
        """The run as on disk; DeepADError when there is no such run (a damaged one is returned,
        with its damage listed)."""
        path = self.run_path(run_id)
        folder = RunFolder(path)
        damage: list[str] = []
        try:
            config = folder.read_config()
        except FileNotFoundError:
            raise DeepADError(f"no run {run_id!r} in {self.root}; `python -m deepad list` shows the runs") from None
        except DamagedFile as exc:
            config, damage = {}, [str(exc)]
        except OSError as exc:
            config, damage = {}, [f"{CONFIG}: {describe_os_error(exc)}"]
        status = self._read_status(folder, damage)
        for check in (folder.read_split, folder.read_diagnostics, folder.check_arrays,
                      lambda: self._check_history(folder)):
            try:
                check()
            except DamagedFile as exc:
                damage.append(str(exc))
            except OSError as exc:
                damage.append(describe_os_error(exc))
        if not any(d.startswith((RESULTS, SNAPSHOTS)) for d in damage):
            try:
                folder.check_values()  # their sizes are bounded now
            except DamagedFile as exc:
                damage.append(str(exc))
            except OSError as exc:
                damage.append(describe_os_error(exc))
        if status.get("state") not in LIVE_STATES:
            folder.remove_temporaries(older_than=STALE_TMP_S)  # left by a process killed mid-write
        return RunRecord(run_id, path, config, status, damage)

    @staticmethod
    def _check_history(folder: RunFolder) -> None:
        problem = folder.history_problem()
        if problem:
            raise DamagedFile(HISTORY, problem)

    @staticmethod
    def _read_status(folder: RunFolder, damage: list[str]) -> dict:
        try:
            status = folder.read_status()
        except FileNotFoundError:
            return {"state": "interrupted", "error": "the run has no status file: it stopped while being created"}
        except (DamagedFile, OSError) as exc:
            damage.append(str(exc) if isinstance(exc, DamagedFile) else describe_os_error(exc))
            return {"state": "interrupted"}
        if status["state"] in LIVE_STATES and not owner_alive(status.get("owner")):
            # read again: the owner may have written its last state and exited since
            try:
                again = folder.read_status()
            except (FileNotFoundError, DamagedFile, OSError):
                again = status
            if again["state"] not in LIVE_STATES:
                return again
            return {**status, "state": "interrupted", "error": INTERRUPTED_ERROR}
        return status

    def list(self) -> list[RunRecord]:
        """Every run, newest first; damaged ones included (state "damaged")."""
        try:
            entries = sorted(os.scandir(self.root), key=lambda e: e.name, reverse=True)
        except FileNotFoundError:
            return []
        except NotADirectoryError:
            raise self.not_a_folder() from None
        except OSError as exc:
            raise DeepADError(f"runs folder {self.root} cannot be read: {describe_os_error(exc)}") from None
        runs = []
        for entry in entries:
            try:
                if entry.is_symlink() or not entry.is_dir(follow_symlinks=False):
                    continue
                check_run_id(entry.name)
                runs.append(self.get(entry.name))
            except DeepADError:
                continue  # not a run (no config.json, a name deepad never gives)
            except OSError as exc:
                runs.append(RunRecord(entry.name, Path(entry.path), {}, {"state": "interrupted"},
                                      [describe_os_error(exc)]))
        return runs

    def delete(self, run_id: str) -> None:
        path = self.run_path(run_id)
        if not os.path.lexists(path / CONFIG):
            raise DeepADError(f"{path} holds no run (no {CONFIG}); nothing was deleted")
        try:
            shutil.rmtree(path)
        except OSError as exc:
            raise DeepADError(f"run {run_id} could not be deleted: {describe_os_error(exc)}") from None
