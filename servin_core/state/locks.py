"""File locks on single objects, held across processes.

A change to one container (start, stop, remove...) takes the container's
lock, so that two Servin processes never drive its runtime at once. The lock
is an advisory ``flock`` on a file under the run directory: the kernel drops
it when its holder dies, so a killed process never leaves a lock behind.

The holder of a removed object's lock deletes its file (:func:`forget_lock`),
so that files do not pile up, one per container ever made. A process that
was waiting on the deleted file then holds a lock no one else can see: each
taker therefore checks, once it holds the lock, that its file is still the
one at the path, and starts again if not.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["HeldLock", "forget_lock", "object_lock", "try_object_lock"]


class HeldLock:
    """The lock an ``object_lock`` block holds."""

    __slots__ = ("_fd", "_path")

    def __init__(self, path: Path, fd: int) -> None:
        self._path = path
        self._fd = fd

    def forget(self) -> None:
        """Delete the lock file if it is still the one held: for an object
        that was never made (a create that failed), whose file may already
        have gone with an undone row and been made again by another process,
        which this must not delete. While it is held no one else can put a
        new file at the path (only a holder deletes one)."""
        try:
            if os.stat(self._path).st_ino == os.fstat(self._fd).st_ino:
                self._path.unlink()
        except FileNotFoundError:
            pass


@contextmanager
def object_lock(run_dir: Path, kind: str, ident: str) -> Iterator[HeldLock]:
    """Hold the lock on ``kind`` ``ident`` for the duration of the block."""
    path = _path(run_dir, kind, ident)
    fd = _take(path, fcntl.LOCK_EX)
    assert fd is not None
    try:
        yield HeldLock(path, fd)
    finally:
        os.close(fd)


@contextmanager
def try_object_lock(run_dir: Path, kind: str, ident: str) -> Iterator[bool]:
    """Take the lock if it is free; yields whether it was taken. For readers
    that would rather skip an object another process is changing than wait."""
    fd = _take(_path(run_dir, kind, ident), fcntl.LOCK_EX | fcntl.LOCK_NB)
    try:
        yield fd is not None
    finally:
        if fd is not None:
            os.close(fd)


def forget_lock(run_dir: Path, kind: str, ident: str) -> None:
    """Delete the lock file of a removed object; only while holding it."""
    with contextlib.suppress(FileNotFoundError):
        _path(run_dir, kind, ident).unlink()


def _path(run_dir: Path, kind: str, ident: str) -> Path:
    return run_dir / "locks" / f"{kind}-{ident}"


def _take(path: Path, operation: int) -> int | None:
    """A descriptor of ``path`` locked with ``operation``, or None if it is
    held and ``operation`` does not wait."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)
            continue
        try:
            fcntl.flock(fd, operation)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            current = os.stat(path).st_ino
        except FileNotFoundError:
            current = None
        if current == os.fstat(fd).st_ino:
            return fd
        os.close(fd)  # forgotten while we waited: take the new one
