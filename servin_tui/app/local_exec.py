"""An exec session of the in-process core: a pty's master, bridged between
the core's loop and the screen's.

The core's ``exec_`` runs on the core's loop and hands the pty's master to
a console coroutine (servin_core/containers/exec_console.py); this module's
console keeps the master on that loop for its whole life: reading, writing
and resizing all happen there, so the master is never used after the core
closed it. The screen's side only exchanges bytes through thread-safe
calls, which is also what a remote session would carry over a socket.

Output is read while the screen keeps up: past ``_HIGH`` bytes not yet
taken, reading pauses (the command blocks on a full pty, as on any slow
terminal) and resumes below ``_LOW``.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import os
import struct
import termios
import threading
from collections.abc import Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["LocalExecSession"]

_CHUNK = 65536
_HIGH = 1 << 20
_LOW = 1 << 18


class LocalExecSession:
    """An :class:`~servin_tui.app.backend.ExecSession` on the core's loop."""

    def __init__(
        self, core_loop: asyncio.AbstractEventLoop, columns: int, rows: int
    ) -> None:
        self._core_loop = core_loop
        self._caller = asyncio.get_running_loop()
        self._size = (columns, rows)

        # The caller's side.
        self._output: asyncio.Queue[bytes] = asyncio.Queue()
        self._started: asyncio.Future[None] = self._caller.create_future()
        self._done: asyncio.Future[int] = self._caller.create_future()
        """Settled once the exec really finished (its clean-up done)."""

        # The core loop's side: the exec's task, the master while it runs.
        self._task: asyncio.Task[int] | None = None
        self._master: int | None = None
        self._unsent = bytearray()
        self._paused = False
        self._readable: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._pending = 0
        """Bytes read and not yet taken by the caller (both sides, locked)."""

    @classmethod
    async def start(
        cls,
        core: Core,
        core_loop: asyncio.AbstractEventLoop,
        container_id: str,
        cmd: Sequence[str],
        *,
        columns: int,
        rows: int,
    ) -> LocalExecSession:
        """Start ``cmd``; returns when it runs, raises what exec raised."""
        from servin_core.containers.exec import exec_

        session = cls(core_loop, columns, rows)
        running = exec_(
            core, container_id, list(cmd), tty=True, console=session._console
        )
        core_loop.call_soon_threadsafe(session._run, running)
        either: list[asyncio.Future[Any]] = [session._started, session._done]
        try:
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            core_loop.call_soon_threadsafe(session._cancel)  # nobody will close it
            raise
        if session._done.done() and not session._started.done():
            session._done.result()  # raises the core's error
            session._output.put_nowait(b"")  # ended before its console
        return session

    # The caller's side

    async def read(self) -> bytes:
        data = await self._output.get()
        if data:
            self._taken(len(data))
        else:
            self._output.put_nowait(b"")  # every later read sees the end too
        return data

    async def write(self, data: bytes) -> None:
        if data:
            self._core_loop.call_soon_threadsafe(self._send, bytes(data))

    async def resize(self, columns: int, rows: int) -> None:
        self._core_loop.call_soon_threadsafe(self._set_size, columns, rows)

    async def wait(self) -> int:
        return await asyncio.shield(self._done)

    async def close(self) -> None:
        if not self._done.done():
            self._core_loop.call_soon_threadsafe(self._cancel)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.shield(self._done)

    def _taken(self, size: int) -> None:
        with self._lock:
            self._pending -= size
            resume = self._paused and self._pending < _LOW
        if resume:
            self._core_loop.call_soon_threadsafe(self._resume)

    # The core loop's side

    def _run(self, running: Coroutine[Any, Any, int]) -> None:
        """Run the exec as a task of the core's loop, telling the caller
        when it is over: a cancelled future from another thread would say
        so at once, before the clean-up (the pty closed, the files gone)."""

        def over(task: asyncio.Task[int]) -> None:
            self._to_caller(_copy_outcome, task, self._done)

        self._task = self._core_loop.create_task(running)
        self._task.add_done_callback(over)

    def _to_caller(self, fn: Callable[..., None], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the caller's loop closed
            self._caller.call_soon_threadsafe(fn, *args)

    def _cancel(self) -> None:
        # The core sends SIGTERM and closes the master: the pty hangs up,
        # which ends a shell that ignores SIGTERM too.
        if self._task is not None:
            self._task.cancel()

    async def _console(self, master: int) -> None:
        """The core's console: copy the master's output until it closes."""
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()
        os.set_blocking(master, False)
        self._master = master
        self._set_size(*self._size)
        self._to_caller(_settle, self._started)

        def readable() -> None:
            try:
                data = os.read(master, _CHUNK)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno != errno.EIO:
                    raise
                data = b""  # EIO: every holder of the pty's other side left
            if not data:
                loop.remove_reader(master)
                if not finished.done():
                    finished.set_result(None)
                return
            with self._lock:
                self._pending += len(data)
                if self._pending > _HIGH:
                    self._paused = True
                    loop.remove_reader(master)
            self._to_caller(self._output.put_nowait, data)

        self._readable = readable
        loop.add_reader(master, readable)
        try:
            await finished
        finally:
            loop.remove_reader(master)
            loop.remove_writer(master)
            self._master = None
            self._to_caller(self._output.put_nowait, b"")

    def _resume(self) -> None:
        with self._lock:
            self._paused = False
        if self._master is not None and self._readable is not None:
            self._core_loop.add_reader(self._master, self._readable)

    def _send(self, data: bytes) -> None:
        if self._master is None:
            return  # the command is gone: keys typed after it go nowhere
        self._unsent += data
        self._flush()

    def _flush(self) -> None:
        master = self._master
        if master is None:
            self._unsent.clear()
            return
        try:
            written = os.write(master, self._unsent)
        except BlockingIOError:
            written = 0
        except OSError:
            self._unsent.clear()  # hung up: nobody reads them
            written = 0
        del self._unsent[:written]
        if self._unsent:
            self._core_loop.add_writer(master, self._flush)
        else:
            self._core_loop.remove_writer(master)

    def _set_size(self, columns: int, rows: int) -> None:
        self._size = (columns, rows)
        if self._master is None:
            return
        size = struct.pack("HHHH", rows, columns, 0, 0)
        with contextlib.suppress(OSError):
            fcntl.ioctl(self._master, termios.TIOCSWINSZ, size)


def _copy_outcome(task: asyncio.Task[int], done: asyncio.Future[int]) -> None:
    if done.done():
        return
    if task.cancelled():
        done.cancel()
    elif (error := task.exception()) is not None:
        done.set_exception(error)
    else:
        done.set_result(task.result())


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
