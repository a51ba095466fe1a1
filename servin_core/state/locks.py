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

__all__ = ["object_lock"]


@contextmanager
def object_lock(run_dir: Path, kind: str, ident: str) -> Iterator[None]:
    """Hold the lock on ``kind`` ``ident`` for the duration of the block."""
    directory = run_dir / "locks"
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / f"{kind}-{ident}", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
