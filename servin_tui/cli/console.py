"""The user's terminal joined to a container's pty (``exec -t``; its raw
mode and writing serve ``attach`` too).

The runtime hands over the pty's master; from then on this module copies
the user's keystrokes to it and its output to the user, with the user's
terminal in raw mode so that every key (ctrl-C, ctrl-D, arrows) reaches the
container's line discipline, not ours. The pty gets the user's window size
at once and again on every SIGWINCH (the ioctl on the master signals the
container's foreground process in turn). Copying ends when reading the
master fails with EIO or reads nothing: every holder of the pty's other
side, the process and its children, is gone.
"""

from __future__ import annotations

import asyncio
import errno
import fcntl
import os
import select
import signal
import termios
import tty
from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["console_copier", "raw_mode", "write_all"]

_CHUNK = 65536


def console_copier(stdin: int | None, stdout: int) -> Callable[[int], Awaitable[None]]:
    """A console handler (see servin_core.containers.exec.Console) joining
    ``stdin`` (None: no input) and ``stdout`` to the pty's master."""

    async def copy(master: int) -> None:
        await _copy(master, stdin, stdout)

    return copy


async def _copy(master: int, stdin: int | None, stdout: int) -> None:
    loop = asyncio.get_running_loop()
    terminal = next(
        (fd for fd in (stdin, stdout) if fd is not None and os.isatty(fd)), None
    )
    os.set_blocking(master, False)

    def resize() -> None:
        if terminal is not None:
            size = fcntl.ioctl(terminal, termios.TIOCGWINSZ, b"\0" * 8)
            fcntl.ioctl(master, termios.TIOCSWINSZ, size)

    # The size first: input typed by the user reaches the process only
    # after it, so a command that reads before it looks sees the right size.
    resize()
    loop.add_signal_handler(signal.SIGWINCH, resize)
    saved = raw_mode(stdin)
    finished: asyncio.Future[None] = loop.create_future()

    def from_master() -> None:
        try:
            data = os.read(master, _CHUNK)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            data = b""
        if not data:
            if not finished.done():
                finished.set_result(None)
            return
        write_all(stdout, data)

    def from_user() -> None:
        assert stdin is not None
        data = os.read(stdin, _CHUNK)
        if not data:
            # The user's input ended; the process keeps running until it
            # ends by itself, as docker's.
            loop.remove_reader(stdin)
            return
        write_all(master, data)

    loop.add_reader(master, from_master)
    if stdin is not None:
        loop.add_reader(stdin, from_user)
    try:
        await finished
    finally:
        loop.remove_reader(master)
        if stdin is not None:
            loop.remove_reader(stdin)
        loop.remove_signal_handler(signal.SIGWINCH)
        if saved is not None and stdin is not None:
            termios.tcsetattr(stdin, termios.TCSADRAIN, saved)


def raw_mode(fd: int | None) -> list[Any] | None:
    """Put terminal ``fd`` in raw mode; what restores it (None: not one)."""
    if fd is None or not os.isatty(fd):
        return None
    saved: list[Any] = termios.tcgetattr(fd)
    tty.setraw(fd, termios.TCSANOW)
    return saved


def write_all(fd: int, data: bytes) -> None:
    """Write everything, waiting when ``fd`` is non-blocking and full."""
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view) :]
        except BlockingIOError:
            select.select([], [fd], [])
        except OSError as e:
            if e.errno != errno.EIO:
                raise
            return  # the pty's other side is gone: nobody to read it
