"""File locks on single objects, held across processes.

A change to one container (start, stop, remove...) takes the container's
lock, so that two Servin processes never drive its runtime at once. The lock
is an advisory ``flock`` on a file under the run directory: the kernel drops
it when its holder dies, so a killed process never leaves a lock behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["object_lock", "try_object_lock"]


@contextmanager
def object_lock(run_dir: Path, kind: str, ident: str) -> Iterator[None]:
    """Hold the lock on ``kind`` ``ident`` for the duration of the block."""
    fd = _open(run_dir, kind, ident)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


@contextmanager
def try_object_lock(run_dir: Path, kind: str, ident: str) -> Iterator[bool]:
    """Take the lock if it is free; yields whether it was taken. For readers
    that would rather skip an object another process is changing than wait."""
    fd = _open(run_dir, kind, ident)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
        else:
            yield True
    finally:
        os.close(fd)


def _open(run_dir: Path, kind: str, ident: str) -> int:
    directory = run_dir / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    return os.open(directory / f"{kind}-{ident}", os.O_RDWR | os.O_CREAT, 0o600)
