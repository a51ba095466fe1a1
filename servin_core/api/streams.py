"""Copying between a hijacked connection and a process's descriptors.

Used by exec (pipes without a tty, a pty's master with one) and attach.
Without a tty each stream's bytes go out framed (frames.py); with one the
master's bytes go out raw. stdin is copied until the client half-closes,
then the process's stdin is closed so it sees EOF, while its output keeps
flowing to the client.
"""

from __future__ import annotations

import asyncio
import contextlib
import os

from servin_core.api.frames import frame
from servin_core.api.hijack import Hijacked

__all__ = ["copy_in", "copy_out", "pipe_reader"]

_CHUNK = 1 << 16


async def pipe_reader(fd: int) -> asyncio.StreamReader:
    """A reader of the pipe or pty ``fd`` (which it takes over)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_CHUNK * 4)
    await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader),
        open(fd, "rb", buffering=0),  # noqa: SIM115 - the transport closes it
    )
    return reader


async def copy_out(
    reader: asyncio.StreamReader, client: Hijacked, stream: int | None
) -> None:
    """Copy ``reader`` to the client until EOF, framed as ``stream`` unless
    None (a tty's raw bytes). A pty's master reads EIO once every holder
    of its other side is gone: that is its EOF."""
    while True:
        try:
            data = await reader.read(_CHUNK)
        except OSError:
            return
        if not data:
            return
        if not await client.write(data if stream is None else frame(stream, data)):
            return


async def copy_in(client: Hijacked, fd: int) -> None:
    """Copy the client's bytes to ``fd`` until the client half-closes, then
    close ``fd`` (the process then reads EOF)."""
    os.set_blocking(fd, False)
    loop = asyncio.get_running_loop()
    try:
        while data := await client.reader.read(_CHUNK):
            view = memoryview(data)
            while view:
                try:
                    view = view[os.write(fd, view) :]
                except BlockingIOError:
                    writable = loop.create_future()
                    loop.add_writer(fd, writable.set_result, None)
                    try:
                        await writable
                    finally:
                        loop.remove_writer(fd)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the process closed its stdin
    finally:
        with contextlib.suppress(OSError):
            os.close(fd)
