"""Files that appear whole or not at all: every export writes through here.

The data goes to a temporary file beside the target (``mkstemp``: readable by its owner
only) that takes the target's name only when the writing block completes; an error or a cancel
leaves no partial file behind. The temporary file is flushed to disk before it is renamed, and
the folder after, so a power cut cannot leave the name pointing at a file with missing data,
nor lose the rename once the caller goes on (voucher batches activate their codes only then).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_file(target: Path, *, tag: str = "", replace: bool = True) -> Iterator[Path]:
    """Yield a temporary path to write; on success it becomes ``target``.

    ``tag`` goes into the temporary name, so ``leftover_temps`` can find what a killed writer
    left. With ``replace=False`` an existing ``target`` is never written over: FileExistsError.
    """
    handle, name = tempfile.mkstemp(prefix=_temp_prefix(target, tag), suffix=".part", dir=target.parent)
    os.close(handle)
    temp = Path(name)
    try:
        yield temp
        _fsync(temp)
        if replace:
            os.replace(temp, target)
        else:
            _place_new(temp, target)
        _fsync_folder(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def write_atomically(target: Path, write: Callable[[Path], int], record: Callable[[int], None]) -> int:
    """``write(temp)`` returns the rows written; ``record(rows)`` (the audit row) runs before the
    file takes its name, so a record that fails leaves no file, and a file is never in place
    without its record. Either raising leaves nothing behind."""
    with atomic_file(target) as temp:
        rows = write(temp)
        record(rows)
        return rows


def leftover_temps(target: Path, tag: str) -> list[Path]:
    """The temporary files a writer killed mid-way left for ``target`` under ``tag``."""
    prefix = _temp_prefix(target, tag)
    try:
        return sorted(p for p in target.parent.iterdir() if p.name.startswith(prefix) and p.name.endswith(".part"))
    except OSError:  # the folder is gone, or it was on another desk
        return []


def _temp_prefix(target: Path, tag: str) -> str:
    return f".{target.name}.{tag}." if tag else f".{target.name}."


def _place_new(temp: Path, target: Path) -> None:
    try:
        # A hard link is atomic and, unlike a rename, refuses a target that appeared meanwhile.
        os.link(temp, target)
    except FileExistsError:
        raise
    except OSError:
        # No hard links on this file system (FAT, some network shares): check, then rename.
        if target.exists():
            raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), str(target)) from None
        os.replace(temp, target)
        return
    temp.unlink(missing_ok=True)  # a clean-up may have taken the temporary name already: the target is whole


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)  # Windows flushes only through a handle open for writing
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a folder to flush it; NTFS journals the rename itself
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
