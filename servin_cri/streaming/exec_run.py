"""An exec'd command with its streams on a remote client.

Without a tty the command's stdout and stderr are pipes whose bytes go to
the client's streams of those names, and stdin a pipe fed from the
client's (closed when the client closes it). With a tty the runtime hands
over the pty's master (servin_core's exec_console.py): its output goes
out as stdout, input and resize messages come in. The command's end, or
its failure to start, becomes the status (status.py). A client that goes
away ends the command (the runtime passes the signal on).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import struct
import termios
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from servin_core.api.streams import pipe_reader
from servin_core.containers import lifecycle
from servin_core.containers.exec import ExecFailed
from servin_core.errors import Conflict, NotFound
from servin_cri.streaming.fds import feed_fd
from servin_cri.streaming.remote_io import OutputStream, RemoteIO, TerminalSize
from servin_cri.streaming.status import exit_status, failure

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["run_exec"]

_CHUNK = 1 << 16


async def run_exec(
    core: Core, container_id: str, cmd: list[str], io: RemoteIO
) -> dict[str, Any]:
    """Run ``cmd`` in the container; the status to send the client."""
    try:
        if io.options.tty:
            code = await _until_gone(io, _with_tty(core, container_id, cmd, io))
        else:
            code = await _until_gone(io, _with_pipes(core, container_id, cmd, io))
    except ExecFailed as e:
        return failure(f"cannot run {cmd} in container {container_id}: {e.reason}")
    except (Conflict, NotFound) as e:
        return failure(str(e))
    if code is None:
        return failure("the client went away: the command was ended")
    return exit_status(code)


async def _until_gone(io: RemoteIO, work: Coroutine[Any, Any, int]) -> int | None:
    """``work``'s exit code; None if the client went away first (``work``
    is then cancelled, which ends the command)."""
    task: asyncio.Future[Any] = asyncio.ensure_future(work)
    gone: asyncio.Future[Any] = asyncio.ensure_future(io.gone.wait())
    try:
        await asyncio.wait({task, gone}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        gone.cancel()
        if not task.done():
            task.cancel()
    try:
        code: int = await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if io.gone.is_set() and current is not None and not current.cancelling():
            return None
        raise
    return code


async def _copy_out(
    reader: asyncio.StreamReader, io: RemoteIO, name: OutputStream
) -> None:
    """Until EOF (a pty's master reads EIO once the terminal is gone)."""
    while True:
        try:
            data = await reader.read(_CHUNK)
        except OSError:
            return
        if not data or not await io.output.write(name, data):
            return


async def _with_pipes(
    core: Core, container_id: str, cmd: list[str], io: RemoteIO
) -> int:
    options = io.options
    null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    ours: list[int] = [null]
    copies: list[asyncio.Future[None]] = []
    ends: dict[str, int] = {}
    for name, wanted in (("stdout", options.stdout), ("stderr", options.stderr)):
        if not wanted:
            ends[name] = null
            continue
        read_end, write_end = os.pipe()
        ours.append(write_end)
        ends[name] = write_end
        stream: OutputStream = "stdout" if name == "stdout" else "stderr"
        copy = _copy_out(await pipe_reader(read_end), io, stream)
        copies.append(asyncio.ensure_future(copy))
    stdin_end: int | None = None
    feeding: asyncio.Future[None] | None = None
    if options.stdin:
        stdin_end, feed_end = os.pipe()
        ours.append(stdin_end)
        feeding = asyncio.ensure_future(feed_fd(io.stdin(), feed_end, close=True))

    try:
        code = await lifecycle.exec_(
            core,
            container_id,
            cmd,
            stdin=stdin_end,
            stdout=ends["stdout"],
            stderr=ends["stderr"],
        )
    finally:
        # Once our copies of the write ends are closed, the copies see EOF
        # when the command's own are.
        for fd in ours:
            os.close(fd)
        if feeding is not None:
            feeding.cancel()
    await asyncio.gather(*copies, return_exceptions=True)
    return code


def _set_size(fd: int, size: TerminalSize) -> None:
    packed = struct.pack("HHHH", size.height, size.width, 0, 0)
    with contextlib.suppress(OSError):
        fcntl.ioctl(fd, termios.TIOCSWINSZ, packed)


async def _with_tty(core: Core, container_id: str, cmd: list[str], io: RemoteIO) -> int:
    latest: list[TerminalSize] = []
    master: list[int] = []

    async def follow_sizes() -> None:
        async for size in io.sizes():
            latest[:] = [size]
            if master:
                _set_size(master[0], size)

    async def console(fd: int) -> None:
        master.append(fd)
        if latest:
            _set_size(fd, latest[0])
        output = await pipe_reader(os.dup(fd))
        feeding = None
        if io.options.stdin:
            feeding = asyncio.ensure_future(feed_fd(io.stdin(), os.dup(fd), close=True))
        try:
            await _copy_out(output, io, "stdout")
        finally:
            master.clear()
            if feeding is not None:
                feeding.cancel()

    sizing = asyncio.ensure_future(follow_sizes())
    try:
        return await lifecycle.exec_(core, container_id, cmd, tty=True, console=console)
    finally:
        sizing.cancel()
