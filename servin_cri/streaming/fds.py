"""Writing a client's input to a pipe or a pty without blocking the loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator

__all__ = ["feed_fd"]


async def feed_fd(chunks: AsyncIterator[bytes], fd: int, *, close: bool) -> None:
    """Write ``chunks`` to ``fd`` (made non-blocking) until they end, then
    close ``fd`` if ``close`` (the process reads EOF). A reader that went
    away ends the copy quietly."""
    os.set_blocking(fd, False)
    loop = asyncio.get_running_loop()
    try:
        async for data in chunks:
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
        pass
    finally:
        if close:
            with contextlib.suppress(OSError):
                os.close(fd)
