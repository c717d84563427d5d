"""The project's own error type: every message says what is wrong and what would be right."""

EXIT_BAD_INPUT = 2  # the exit status of every command line (`deepad`, `python -m deepad.sweeps`) on bad input


class DeepADError(ValueError):
    """Bad input or an unusable resource. The message is meant for the user as it stands."""


class BadValuesError(DeepADError):
    """A user's file has rows with missing, NaN or infinite values; loading again with
    drop_bad_rows=True drops exactly those rows."""


class MixedImageSizesError(DeepADError):
    """A user's images come in several sizes; loading again with an image_size resizes them all.
    `suggested` is the most common size as (height, width)."""

    def __init__(self, message: str, suggested: tuple[int, int]):
        super().__init__(message)
        self.suggested = suggested


class TrainingFailed(RuntimeError):
    """A run could not go on (e.g. the loss became NaN). Carries the epoch and a hint."""

    def __init__(self, message: str, epoch: int | None = None, hint: str = ""):
        super().__init__(message)
        self.epoch = epoch
        self.hint = hint


_OS_FIXES = {
    "ENOSPC": "free some space on that disk (or give another runs folder with --runs-dir)",
    "EDQUOT": "free some space on that disk (or give another runs folder with --runs-dir)",
    "EACCES": "make it writable for this user or give another folder (--runs-dir or $DEEPAD_RUNS_DIR)",
    "EPERM": "make it writable for this user or give another folder (--runs-dir or $DEEPAD_RUNS_DIR)",
    "EROFS": "it is on a read-only file system; give a writable folder (--runs-dir or $DEEPAD_RUNS_DIR)",
    "ENAMETOOLONG": "use a shorter name",
    "ENOTDIR": "a file stands where a folder is expected; remove it or give another folder",
    "EEXIST": "a file stands where a folder is expected; remove it or give another folder",
    "ENOENT": "it does not exist (was it moved or removed meanwhile?)",
    "EISDIR": "a folder stands where a file is expected; remove it or give another path",
    "ELOOP": "it is a symbolic link, which deepad does not follow; use the real path",
}


def describe_os_error(exc: OSError) -> str:
    """One line for a failed file operation: the path, what the system said, what would fix it."""
    import errno

    name = errno.errorcode.get(exc.errno or 0, "")
    where = f"{exc.filename}: " if exc.filename else ""
    what = exc.strerror or str(exc) or type(exc).__name__
    fix = _OS_FIXES.get(name)
    return f"{where}{what}" + (f"; {fix}" if fix else "")
