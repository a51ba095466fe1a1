"""Between blocking file code in a worker thread and an HTTP stream.

The core's archive operations read and write file objects in a worker
thread (they hold the container's lock there). A pipe joins them to the
event loop: the thread sees an ordinary file, the loop reads or writes the
other end without blocking, with the pipe's buffer as back-pressure.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import BinaryIO, TypeVar

__all__ = ["from_thread", "into_thread"]

T = TypeVar("T")
_CHUNK = 1 << 16


async def from_thread(
    producer: Callable[[BinaryIO], T],
    sink: Callable[[bytes], Awaitable[None]],
) -> T:
    """Run ``producer(file)`` in a thread and pass what it writes to ``sink``."""
    loop = asyncio.get_running_loop()
    read_fd, write_fd = os.pipe()

    def produce() -> T:
        with open(write_fd, "wb") as out:
            return producer(out)

    reader = asyncio.StreamReader(limit=_CHUNK * 4)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader),
        open(read_fd, "rb", buffering=0),  # noqa: SIM115 - the transport closes it
    )
    task = asyncio.ensure_future(asyncio.to_thread(produce))
    try:
        while chunk := await reader.read(_CHUNK):
            await sink(chunk)
        return await task
    finally:
        transport.close()
        if not task.done():
            # The client went away: the thread's next write fails (EPIPE).
            with contextlib.suppress(Exception):
                await task


class _Flow(asyncio.Protocol):
    """Write-side flow control for a pipe transport."""

    def __init__(self) -> None:
        self._writable = asyncio.Event()
        self._writable.set()
        self._lost = False

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._writable.set()

    async def drain(self) -> None:
        await self._writable.wait()
        if self._lost:
            raise BrokenPipeError("the reading thread closed the pipe")


async def into_thread(
    source: AsyncIterator[bytes], consumer: Callable[[BinaryIO], T]
) -> T:
    """Run ``consumer(file)`` in a thread, the file giving ``source``'s bytes."""
    loop = asyncio.get_running_loop()
    read_fd, write_fd = os.pipe()

    def consume() -> T:
        with open(read_fd, "rb") as stream:
            result = consumer(stream)
            # Drain what the consumer left, so the writer never blocks.
            while stream.read(_CHUNK):
                pass
            return result

    task = asyncio.ensure_future(asyncio.to_thread(consume))
    transport, flow = await loop.connect_write_pipe(
        _Flow,
        open(write_fd, "wb", buffering=0),  # noqa: SIM115 - the transport closes it
    )
    try:
        async for chunk in source:
            if task.done():
                break
            transport.write(chunk)
            await flow.drain()
    except (BrokenPipeError, ConnectionResetError):
        pass
    finally:
        transport.close()
    return await task
