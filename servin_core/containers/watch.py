"""Waking a waiter when a container's files change, with inotify.

``wait`` and ``logs --follow`` have no daemon to tell them that a container
exited or wrote a line: they read conmon's files. Rather than look every
50 ms, which costs up to that much after each event, they sleep on an
inotify descriptor (through ctypes: the standard library has no binding)
that the asyncio loop reads, and look again as soon as the kernel reports a
change. Where inotify is missing (no such syscall, or out of watches) the
waiter falls back to looking every ``fallback`` seconds.

A wake-up only says "look again": callers re-read the state themselves, so
a missed or spurious event costs at most one ``timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import threading
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "IN_ATTRIB",
    "IN_CLOSE_WRITE",
    "IN_CREATE",
    "IN_DELETE_SELF",
    "IN_MODIFY",
    "IN_MOVED_TO",
    "IN_MOVE_SELF",
    "Watch",
]

IN_MODIFY = 0x002
IN_ATTRIB = 0x004
IN_CLOSE_WRITE = 0x008
IN_MOVED_TO = 0x080
IN_CREATE = 0x100
IN_DELETE_SELF = 0x400
IN_MOVE_SELF = 0x800
_IN_NONBLOCK = os.O_NONBLOCK
_IN_CLOEXEC = os.O_CLOEXEC

_libc: ctypes.CDLL | None = None


def _inotify() -> ctypes.CDLL | None:
    global _libc
    if _libc is None:
        try:
            _libc = ctypes.CDLL(None, use_errno=True)
            _libc.inotify_init1.argtypes = [ctypes.c_int]
            _libc.inotify_add_watch.argtypes = [
                ctypes.c_int,
                ctypes.c_char_p,
                ctypes.c_uint32,
            ]
        except (OSError, AttributeError):
            return None
    return _libc


class Watch:
    """Changes to some paths, each with its inotify mask; paths that do not
    exist (yet) are skipped, and the fallback timeout covers them."""

    def __init__(
        self, paths: Iterable[tuple[Path, int]], *, fallback: float = 0.05
    ) -> None:
        self._fallback = fallback
        self._fd = -1
        self._unusable = False
        self._changed = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        for path, mask in paths:
            self.add(path, mask)

    def add(self, path: Path, mask: int) -> None:
        """Watch ``path`` too (skipped if it does not exist)."""
        libc = None if self._unusable else _inotify()
        if libc is None:
            self._unusable = True
            return
        if self._fd < 0:
            fd = libc.inotify_init1(_IN_NONBLOCK | _IN_CLOEXEC)
            if fd < 0:
                self._unusable = True
                return
            self._fd = fd
            self._loop.add_reader(fd, self._drain)
        libc.inotify_add_watch(self._fd, os.fsencode(path), mask)

    @property
    def active(self) -> bool:
        """Whether inotify works here (a path that did not exist when
        added is covered only by the timeout)."""
        return self._fd >= 0

    def _drain(self) -> None:
        with contextlib.suppress(BlockingIOError):
            while os.read(self._fd, 4096):
                pass
        self._changed.set()

    async def changed(self, timeout: float) -> None:
        """Return after the next change, or after ``timeout`` seconds (the
        fallback interval, if inotify is not watching)."""
        if not self.active:
            await asyncio.sleep(self._fallback)
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), timeout)
        self._changed.clear()

    def close(self) -> None:
        if self._fd >= 0:
            self._loop.remove_reader(self._fd)
            # Closing an inotify instance waits until the kernel has freed
            # its watches (a grace period: 5-20 ms seen here), on the path
            # of every ``run`` and ``wait`` right after the exit; a thread
            # waits instead, while the caller goes on with its cleanup.
            threading.Thread(target=os.close, args=(self._fd,), daemon=True).start()
            self._fd = -1

    def __enter__(self) -> Watch:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
