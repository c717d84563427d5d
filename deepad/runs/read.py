"""Reading a run: its folder's files (`RunFolder`) and the run as read (`RunRecord`). Every read checks the type and shape of what it reads and
raises `DamagedFile` (naming the file and what is wrong) instead of handing on something a page
would trip over. The files and their names: `deepad.runs.layout`."""

from __future__ import annotations

import json
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ValidationError

from deepad.errors import DeepADError
from deepad.runs.arrays import (NPZ_ERRORS, RESULTS_REQUIRED, RESULTS_SPEC, SNAPSHOTS_SPEC, SPLIT_PARTS_REQUIRED,
                                SPLIT_PARTS_SPEC, UMAP_SPEC, check_npz,
                                check_result_values, check_values, npz_reason)
from deepad.runs.files import TMP_SUFFIX, open_read
from deepad.runs.layout import (CONFIG, DATA, DIAGNOSTICS, HISTORY, JSON_LIMITS, MAX_HISTORY_BYTES,
                                MAX_JSON_BYTES, MAX_MODEL_BYTES, MAX_TEXT_BYTES, MODEL, RESULTS, SNAPSHOTS, SPLIT,
                                SPLIT_PARTS, STATUS, UMAP, run_file)
from deepad.runs.records import (DAMAGED, ConfigRecord, DamagedFile, SplitRecord, Status, history_record_problem,
                                 validation_reason)


_HISTORY_CHECKS: dict[tuple, str | None] = {}


class RunFolder:
    """The files of the run folder at `path` (which the caller has checked is a real folder)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # -- names -------------------------------------------------------------------------------------
    def file(self, name: str) -> Path:
        return run_file(self.path, name)

    @property
    def data_dir(self) -> Path:
        """Where a user's own data file is kept with the run."""
        return self.path / DATA

    def has(self, name: str) -> bool:
        return os.path.lexists(self.file(name))

    def stamp(self, name: str) -> int:
        """A file's version for cache keys (its modification time; 0 when absent)."""
        try:
            return os.lstat(self.file(name)).st_mtime_ns
        except OSError:
            return 0

    # -- JSON files ---------------------------------------------------------------------------------
    def _read_json(self, name: str) -> Any:
        f = self.file(name)
        limit = JSON_LIMITS.get(name, MAX_JSON_BYTES)
        try:
            with open_read(f, max_bytes=limit) as fh:
                raw = fh.read(limit + 1)
        except (FileNotFoundError, DamagedFile):
            raise
        except OSError as exc:
            raise DamagedFile(name, f"cannot be read ({exc.strerror or exc})") from None
        if len(raw) > limit:
            raise DamagedFile(name, f"is larger than {limit / 2 ** 20:.0f} MB")
        try:
            return json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            reason = "is empty" if not raw.strip() else f"is not valid JSON ({str(exc)[:120]})"
            raise DamagedFile(name, f"{reason}; it may have been cut short") from None

    def _read_model(self, name: str, model: type[BaseModel], raw: bool = False) -> dict:
        """The file's object checked against `model`: the values as validated (numbers as
        numbers), or with `raw` the object as written."""
        obj = self._read_json(name)
        if not isinstance(obj, dict):
            raise DamagedFile(name, f"holds a JSON {type(obj).__name__}, expected an object")
        try:
            checked = model.model_validate(obj)
        except ValidationError as exc:
            raise DamagedFile(name, validation_reason(exc)) from None
        return obj if raw else checked.model_dump(exclude_unset=True)

    def read_config(self) -> dict:
        """config.json (FileNotFoundError when absent, DamagedFile when unusable)."""
        return self._read_model(CONFIG, ConfigRecord, raw=True)

    def read_status(self) -> dict:
        """status.json as written (FileNotFoundError when absent, DamagedFile when unusable)."""
        return self._read_model(STATUS, Status)

    def read_split(self) -> dict:
        """split.json, or {} before the split is written."""
        try:
            return self._read_model(SPLIT, SplitRecord, raw=True)
        except FileNotFoundError:
            return {}

    def read_diagnostics(self) -> dict:
        try:
            obj = self._read_json(DIAGNOSTICS)
        except FileNotFoundError:
            return {}
        if not isinstance(obj, dict):
            raise DamagedFile(DIAGNOSTICS, f"holds a JSON {type(obj).__name__}, expected an object")
        return obj

    # -- history --------------------------------------------------------------------------------------
    def read_history(self) -> list[dict]:
        """The epoch records up to the first line that is not a JSON object: a line cut short by a
        crash ends the history there (as `deepad.runs.follow.HistoryReader` reads it while a run trains)."""
        return self.history_since(0)[0]

    def history_since(self, offset: int) -> tuple[list[dict], int]:
        """The records of complete lines from byte `offset` on, and the offset after the last one
        taken (to read only what was appended since). At most the last `MAX_HISTORY_BYTES` are
        read: of a longer file, the records of its tail. A line that is not a record deepad wrote
        (not JSON, or a field of the wrong type) ends the records there: DamagedFile when that
        leaves none of the new lines, else the records before it."""
        records, end, problem = self._history(offset)
        if problem and not records and offset == 0:
            raise DamagedFile(HISTORY, problem)
        return records, end

    def history_problem(self) -> str | None:
        """Why history.jsonl is damaged (a line that is not a record deepad wrote), or None;
        cached per file version."""
        try:
            st = os.lstat(self.file(HISTORY))
        except FileNotFoundError:
            return None
        key = (str(self.file(HISTORY)), st.st_mtime_ns, st.st_size, st.st_mode)
        if key not in _HISTORY_CHECKS:
            try:
                problem = self._history(0)[2]
            except DamagedFile as exc:
                problem = exc.reason
            if len(_HISTORY_CHECKS) > 4096:
                _HISTORY_CHECKS.clear()
            _HISTORY_CHECKS[key] = problem
        return _HISTORY_CHECKS[key]

    def _history(self, offset: int) -> tuple[list[dict], int, str | None]:
        try:
            with open_read(self.file(HISTORY)) as fh:
                size = os.fstat(fh.fileno()).st_size
                skip = offset
                if size - offset > MAX_HISTORY_BYTES:  # only the tail; start at a whole line
                    skip = size - MAX_HISTORY_BYTES
                fh.seek(skip)
                raw = fh.read(MAX_HISTORY_BYTES)
        except FileNotFoundError:
            return [], offset, None
        except OSError as exc:
            raise DamagedFile(HISTORY, f"cannot be read ({exc.strerror or exc})") from None
        pos = 0
        if skip > offset and (nl := raw.find(b"\n")) >= 0:
            pos = nl + 1
        out, problem = [], None
        while (end := raw.find(b"\n", pos)) >= 0:
            try:
                rec = json.loads(raw[pos:end])
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
                problem = f"line {len(out) + 1} of what was read is not valid JSON"
                break
            problem = history_record_problem(rec)
            if problem:
                problem = f"line {len(out) + 1} of what was read: {problem}"
                break
            out.append(rec)
            pos = end + 1
        return out, skip + pos, problem

    # -- arrays ----------------------------------------------------------------------------------------
    def _expected(self) -> tuple[dict[str, int], dict[str, tuple[int, ...]]]:
        """What the run's split says its results hold: the test and training set sizes, and the
        shape of one sample (nothing when the split is absent or damaged)."""
        try:
            split = self.read_split()
        except (DamagedFile, OSError):
            return {}, {}
        sizes = split.get("sizes") or {}
        lengths = {k: int(sizes[k]) for k in ("test", "train") if isinstance(sizes.get(k), int)}
        shape = split.get("input_shape")
        return lengths, ({"test_raw": tuple(shape)} if shape else {})

    def _read_npz(self, name: str, spec: dict, required: tuple[str, ...],
                  expected: dict[str, int] | None = None,
                  row_shapes: dict[str, tuple[int, ...]] | None = None) -> dict[str, np.ndarray] | None:
        """The arrays of an .npz run file, checked from its headers (shapes, types, lengths, their
        decoded size) before any is decompressed; None when it is absent."""
        f = self.file(name)
        check_npz(f, name, spec, required, expected, row_shapes)
        try:
            with open_read(f) as fh, np.load(fh, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except FileNotFoundError:
            return None
        except NPZ_ERRORS as exc:
            raise DamagedFile(name, npz_reason(f, exc)) from None
        if not all(isinstance(v, np.ndarray) for v in arrays.values()):
            raise DamagedFile(name, "holds a member that is not an array")
        return arrays

    def read_results(self) -> dict[str, np.ndarray] | None:
        """results.npz (None before the run has finished), checked against the run's split: as
        many test and training entries as it has samples, finite scores and embeddings, targets
        of 0 and 1, sample indices inside the dataset."""
        lengths, rows = self._expected()
        arrays = self._read_npz(RESULTS, RESULTS_SPEC, RESULTS_REQUIRED, lengths, rows)
        if arrays is not None:
            check_result_values(arrays, self._n_samples())
        return arrays

    def check_values(self) -> None:
        """See `deepad.arrays.check_values`."""
        check_values(self)

    def _n_samples(self) -> int | None:
        try:
            n = self.read_split().get("n_samples")
        except (DamagedFile, OSError):
            return None
        return n if isinstance(n, int) else None

    def read_split_parts(self) -> dict[str, np.ndarray] | None:
        """split.npz, checked against split.json's sizes; None when absent (the training process
        has read and removed it). See `deepad.runs.split`."""
        return self._read_npz(SPLIT_PARTS, SPLIT_PARTS_SPEC, SPLIT_PARTS_REQUIRED, self._split_sizes())

    def _split_sizes(self) -> dict[str, int]:
        try:
            sizes = self.read_split().get("sizes") or {}
        except (DamagedFile, OSError):
            return {}
        return {k: v for k, v in sizes.items() if k in ("train", "val", "test") and isinstance(v, int)}

    def read_snapshots(self) -> dict[str, np.ndarray] | None:
        """snapshots.npz: {"emb": (records, probes, d), "step": (records,)} and, for a method with a
        centre, "center": (records, d), the centre c when each snapshot was taken; or None."""
        arrays = self._read_npz(SNAPSHOTS, SNAPSHOTS_SPEC, ("emb", "step"))
        if arrays is None or not len(arrays["emb"]):
            return arrays
        finite = np.isfinite(arrays["emb"].reshape(len(arrays["emb"]), -1)).all(axis=1)
        if "center" in arrays:
            finite &= np.isfinite(arrays["center"].reshape(len(arrays["center"]), -1)).all(axis=1)
        if not finite.any():
            raise DamagedFile(SNAPSHOTS, "every snapshot holds NaN or infinite values")
        if not finite.all():  # a run that diverged: the snapshots before it are kept
            arrays = {k: v[finite] for k, v in arrays.items()}
        return arrays

    def read_umap(self) -> dict[str, np.ndarray] | None:
        return self._read_npz(UMAP, UMAP_SPEC, ("xy", "index", "stamp"))

    # -- the model and text files -----------------------------------------------------------------------
    def load_model(self, detector_cls, device: str = "cpu"):
        """The trained detector; DamagedFile when the file is not one deepad wrote (it is never
        unpickled), FileNotFoundError when there is none."""
        f = self.file(MODEL)
        try:
            fh = open_read(f, max_bytes=MAX_MODEL_BYTES)
        except (FileNotFoundError, DamagedFile):
            raise
        except OSError as exc:
            raise DamagedFile(MODEL, f"cannot be read ({exc.strerror or exc})") from None
        with fh:
            try:
                return detector_cls.load(fh, device=device)
            except DeepADError as exc:  # on one line (a framework's own message may run to several)
                raise DamagedFile(MODEL, " ".join(str(exc).split())[:400]) from None

    def read_text_tail(self, name: str, max_bytes: int = MAX_TEXT_BYTES) -> str:
        """The last `max_bytes` of a text run file (traceback.txt, worker.log); "" when absent."""
        try:
            with open_read(self.file(name)) as fh:
                size = os.fstat(fh.fileno()).st_size
                fh.seek(max(0, size - max_bytes))
                return fh.read(max_bytes).decode("utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        except OSError as exc:
            raise DamagedFile(name, f"cannot be read ({exc.strerror or exc})") from None

    # -- checks ------------------------------------------------------------------------------------------
    def check_arrays(self) -> None:
        """Check results.npz, snapshots.npz and split.npz from their headers (cheap; cached per file version);
        DamagedFile for the first that is unusable."""
        lengths, rows = self._expected()
        check_npz(self.file(RESULTS), RESULTS, RESULTS_SPEC, RESULTS_REQUIRED, lengths, rows)
        check_npz(self.file(SNAPSHOTS), SNAPSHOTS, SNAPSHOTS_SPEC, ("emb", "step"))
        check_npz(self.file(SPLIT_PARTS), SPLIT_PARTS, SPLIT_PARTS_SPEC, SPLIT_PARTS_REQUIRED, self._split_sizes())

    def temporaries(self) -> list[Path]:
        """Temporary files left by writes that never finished (a process killed mid-write)."""
        try:
            return [p for p in self.path.iterdir() if p.name.startswith(".") and p.name.endswith(TMP_SUFFIX)]
        except OSError:
            return []

    def remove_temporaries(self, older_than: float = 0.0) -> None:
        """Remove the temporary files of writes that never finished: by the process that owns the
        run (all of them), or by a reader of a run that no process owns any more (those older than
        `older_than` seconds; nothing when the folder cannot be written)."""
        now = time.time()
        for p in self.temporaries():
            try:
                st = os.lstat(p)
                if stat.S_ISREG(st.st_mode) and now - st.st_mtime >= older_than:
                    p.unlink()
            except OSError:
                pass


@dataclass
class RunRecord:
    """A run as read from disk (a snapshot; read again to see progress). `damage` lists the files
    that could not be used ("file: reason"); such a run's state is "damaged"."""

    run_id: str
    path: Path
    config: dict
    status: dict
    damage: list[str] = field(default_factory=list)

    @property
    def files(self) -> RunFolder:
        return RunFolder(self.path)

    @property
    def state(self) -> str:
        return DAMAGED if self.damage else self.status.get("state", "interrupted")

    @property
    def summary(self) -> dict:
        s = self.status.get("summary")
        return s if isinstance(s, dict) else {}

    def _noted(self, exc: DamagedFile) -> None:
        if str(exc) not in self.damage:
            self.damage.append(str(exc))

    def history(self) -> list[dict]:
        """The epoch records (of a damaged history, those before the first bad line; the damage
        is then added to `damage`)."""
        try:
            records, _, problem = self.files._history(0)
        except DamagedFile as exc:
            self._noted(exc)
            return []
        if problem:
            self._noted(DamagedFile(HISTORY, problem))
        return records

    def results(self) -> dict[str, np.ndarray] | None:
        """results.npz; None before the run has finished, or when the file is damaged (then the
        damage is added to `damage`)."""
        try:
            return self.files.read_results()
        except DamagedFile as exc:
            self._noted(exc)
            return None

    def snapshots(self) -> dict[str, np.ndarray] | None:
        try:
            return self.files.read_snapshots()
        except DamagedFile as exc:
            self._noted(exc)
            return None

    def split_info(self) -> dict:
        try:
            return self.files.read_split()
        except DamagedFile as exc:
            self._noted(exc)
            return {}

    def to_json(self) -> dict:
        out = {"run_id": self.run_id, "path": str(self.path), "state": self.state,
               "config": self.config, "status": self.status}
        if self.damage:
            out["damaged"] = self.damage
        return out
