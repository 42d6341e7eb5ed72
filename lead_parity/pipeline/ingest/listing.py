"""Which input files a source may read: only regular files that resolve inside the input folder.

Anything else found under a source's patterns (a link pointing outside, a dangling link, a FIFO,
a device, a socket, a folder named like a file) is listed with the reason it is not read, so the
ledger and the quarantine account for it instead of it vanishing from the counts. Only
`lstat`/`realpath` look at such entries: nothing outside the input folder, and no FIFO, is ever
opened.

A link that resolves inside the input folder is read (an operator may link today's export into
place); its target is opened by its resolved path with O_NOFOLLOW and checked again after the
open, so a swap between listing and reading cannot redirect the read.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

from lead_parity.pipeline.ingest.sources import Source

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFDIR: "a folder",
}


@dataclass(frozen=True)
class InputFile:
    rel: str  # the path under the input folder as listed (a link's own name), for the ledger
    path: Path | None  # what to open: the resolved regular file; None when it must not be read
    problem: str | None = None  # why it is not read


def _kind(mode: int) -> str:
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def _inside(path: str, root: str) -> bool:
    """Both real paths; commonpath also gets an input folder at "/" right."""
    return os.path.commonpath([path, root]) == root


def classify(entry: Path, input_dir: Path, root: str) -> InputFile:
    """`entry` (found under `input_dir`, whose real path is `root`) as readable or not, and why."""
    rel = entry.relative_to(input_dir).as_posix()
    try:
        info = entry.lstat()
    except OSError as exc:
        return InputFile(rel, None, f"cannot read file: {exc.strerror or exc}")
    if stat.S_ISLNK(info.st_mode):
        target = os.path.realpath(entry)
        if not _inside(target, root):
            return InputFile(rel, None, "symbolic link pointing outside the input folder; not read")
        try:
            info = os.stat(target)
        except FileNotFoundError:
            return InputFile(rel, None, "dangling symbolic link (its target does not exist)")
        except OSError as exc:
            return InputFile(rel, None, f"symbolic link cannot be followed: {exc.strerror}")
        if not stat.S_ISREG(info.st_mode):
            return InputFile(rel, None, f"symbolic link to {_kind(info.st_mode)}; not read")
        return InputFile(rel, Path(target))
    if not stat.S_ISREG(info.st_mode):
        return InputFile(rel, None, f"{_kind(info.st_mode)}, not a file; not read")
    real = os.path.realpath(entry)
    if not _inside(real, root):
        # A parent folder (e.g. hubspot_forms/<guid>/) is a link leading outside.
        return InputFile(rel, None, "resolves outside the input folder (a linked folder); not read")
    return InputFile(rel, Path(real))


def list_input_files(input_dir: Path, source: Source) -> list[InputFile]:
    """Every entry matching the source's patterns, in lexicographic path order (SPEC section 2)."""
    input_dir = Path(input_dir)
    folder = input_dir / source.name
    root = os.path.realpath(input_dir)
    if not folder.is_dir():
        return []
    if not _inside(os.path.realpath(folder), root):
        # Not even listed: the names of an outside folder are outside content too.
        return [InputFile(f"{source.name}/", None, "source folder links outside the input folder")]
    found = {p for pattern in source.pattern for p in folder.glob(pattern)}
    entries = [classify(p, input_dir, root) for p in found]
    return sorted(entries, key=lambda f: f.rel)


def open_regular(path: Path) -> int:
    """A descriptor for the regular file `path`, never following a final link, never blocking on
    a FIFO; OSError otherwise (ELOOP for a link, EINVAL for anything not a regular file)."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd
