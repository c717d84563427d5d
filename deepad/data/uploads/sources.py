"""Where an upload comes from (a file, a folder, or bytes held in memory), what kind of file it is,
the limits it must keep to, and the checks every archive passes before anything in it is read."""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Sequence

from deepad.errors import DeepADError


DEFAULT_MAX_BYTES = 200 * 2 ** 20
MAX_CLASSES = 100
MAX_FILES = 200_000
MAX_COLUMNS = 10_000
MAX_IMAGE_PIXELS = 4096 * 4096
MAX_DECODED_BYTES = 2 ** 30  # decoded images of one upload, as float32
CSV_SUFFIXES = (".csv", ".tsv", ".txt")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
LABEL_NAMES = ("label", "labels", "y", "class", "target")
ACCEPTED = (".csv, .npz, .mat (MATLAB v5, ODDS), .zip of images (one sub-folder per class) or a folder "
            "of images")
_PICKLE_LIKE = (".pkl", ".pickle", ".joblib", ".pt", ".pth", ".ckpt", ".sav", ".dill")
_IGNORED_NAMES = ("__MACOSX", "Thumbs.db", "desktop.ini")
_SYMLINK = 0o120000
EMPTY_CELLS = ["", "nan", "NaN", "NA", "N/A", "null", "None"]
READ_ERRORS = (ValueError, TypeError, OSError, EOFError, KeyError, IndexError, OverflowError,
                RuntimeError, NotImplementedError, UnicodeError, zipfile.BadZipFile,
                zipfile.LargeZipFile, zlib.error, csv.Error, MemoryError)


@dataclass
class Source:
    label: str  # the name used in messages
    suffix: str
    path: Path | None = None
    data: bytes | None = None

    @property
    def display_name(self) -> str:
        """The dataset's name: the file or folder name without its location."""
        return Path(self.label).name or self.label

    @property
    def is_dir(self) -> bool:
        return self.path is not None and self.path.is_dir()

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        if self.is_dir:
            return sum(f.stat().st_size for f in walk_folder(self))
        return self.path.stat().st_size

    def open(self) -> BinaryIO:
        return io.BytesIO(self.data) if self.data is not None else open(self.path, "rb")


def source_from_path(path: str | os.PathLike) -> Source:
    if not isinstance(path, (str, os.PathLike)) or str(path) == "":
        raise DeepADError(f"data path {path!r}: give the path of a {ACCEPTED}")
    p = Path(path).expanduser()
    if not p.exists():
        raise DeepADError(f"{p}: no such file or folder; give the path of a {ACCEPTED}")
    if not (p.is_file() or p.is_dir()):
        raise DeepADError(f"{p}: not a regular file or folder; give the path of a {ACCEPTED}")
    return Source(label=str(p), suffix="" if p.is_dir() else p.suffix.lower(), path=p)


def source_from_bytes(data: bytes, filename: str) -> Source:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DeepADError(f"upload {filename!r}: expected the file's bytes, got {type(data).__name__}")
    name = PurePosixPath(str(filename).replace("\\", "/")).name
    if not name:
        raise DeepADError(f"upload file name {filename!r}: give the file's name with its extension")
    return Source(label=name, suffix=PurePosixPath(name).suffix.lower(), data=bytes(data))


def file_kind(src: Source) -> str:
    """"csv" | "npz" | "mat" | "zip" | "folder", or DeepADError for anything else."""
    if src.is_dir:
        return "folder"
    s = src.suffix
    if s in CSV_SUFFIXES:
        return "csv"
    if s in (".npz", ".zip", ".mat"):
        return s[1:]
    if s == ".npy":
        raise DeepADError(f"{src.label}: a .npy file holds one array and no labels; save features and "
                          "labels together with np.savez('data.npz', x=x, y=y)")
    if s in _PICKLE_LIKE:
        raise DeepADError(f"{src.label}: {s} files are Python pickles, which can run code when loaded, "
                          f"so deepad never opens them; export your data as a {ACCEPTED}")
    shown = f"file type {s!r}" if s else "a file without an extension"
    raise DeepADError(f"{src.label}: {shown} is not supported; use a {ACCEPTED}")


def check_size(src: Source, max_bytes: int) -> None:
    size = src.size()
    if size > max_bytes:
        raise DeepADError(f"{src.label}: {mb(size)} is over the size limit of {mb(max_bytes)} "
                          "(max_bytes); use a smaller file or raise the limit")


def mb(n: int) -> str:
    return f"{n / 2 ** 20:.1f} MB"


class reading_errors:
    """Context manager: a parser's own exception becomes a DeepADError naming the file."""

    def __init__(self, src: Source, what: str):
        self.src, self.what = src, what

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc is None or isinstance(exc, DeepADError) or not isinstance(exc, READ_ERRORS):
            return False
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise DeepADError(f"{self.src.label}: could not be read as {self.what} ({detail})") from None


def check_archive(src: Source, zf: zipfile.ZipFile, max_bytes: int, max_files: int) -> list[zipfile.ZipInfo]:
    """Refuse entries that leave the extraction folder (.., absolute paths, drive letters),
    symbolic links, encrypted entries, too many entries, and contents over `max_bytes`."""
    infos = zf.infolist()
    if len(infos) > max_files:
        raise DeepADError(f"{src.label}: holds {len(infos)} entries, more than {max_files} (max_files)")
    total = 0
    for info in infos:
        name = info.filename
        norm = name.replace("\\", "/")
        parts = [p for p in norm.split("/") if p not in ("", ".")]
        if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or ".." in parts:
            raise DeepADError(f"{src.label}: entry {name!r} points outside the archive's folder "
                              "(absolute path or '..'); such archives are refused, pack the files "
                              "with paths relative to the archive")
        if (info.external_attr >> 16) & 0o170000 == _SYMLINK:
            raise DeepADError(f"{src.label}: entry {name!r} is a symbolic link; such archives are "
                              "refused, pack the files themselves")
        if info.flag_bits & 0x1:
            raise DeepADError(f"{src.label}: entry {name!r} is encrypted; pack the files without a password")
        total += info.file_size
    if total > max_bytes:
        raise DeepADError(f"{src.label}: unpacks to {mb(total)}, over the size limit of {mb(max_bytes)} "
                          "(max_bytes); use a smaller archive or raise the limit")
    return infos


def open_zip(src: Source, f: BinaryIO, what: str) -> zipfile.ZipFile:
    if not zipfile.is_zipfile(f):
        raise DeepADError(f"{src.label}: is not a valid {what} (not a zip archive)")
    f.seek(0)
    with reading_errors(src, what):
        return zipfile.ZipFile(f)


def ignored(parts: Sequence[str]) -> bool:
    return any(p.startswith(".") or p in _IGNORED_NAMES for p in parts)


def walk_folder(src: Source) -> list[Path]:
    """Every regular file under the folder; symbolic links are refused."""
    files = []
    for root, dirs, names in os.walk(src.path, followlinks=False):
        for n in sorted(dirs) + sorted(names):
            p = Path(root) / n
            if p.is_symlink():
                raise DeepADError(f"{src.label}: {p.relative_to(src.path)} is a symbolic link; links "
                                  "are refused, copy the files themselves into the folder")
        files += [Path(root) / n for n in sorted(names)]
    return files
