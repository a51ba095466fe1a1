"""Taking an HTTP connection over for attach and exec: raw bytes both ways.

docker's clients ask for ``Upgrade: tcp`` and get ``101 UPGRADED``; from
then on the socket carries the process's output one way and its stdin the
other. When stdin ends, the client half-closes its side and keeps reading:
the output that follows must still arrive. aiohttp's protocol closes the
transport on EOF, so after the upgrade the transport is given a protocol of
our own, which reports EOF to the reader and keeps the write side open.

A client that asked for no upgrade (older ones) gets ``200 OK`` and the
same raw stream, which ends when the connection closes.

aiohttp keeps the bytes that followed the upgrade request in its protocol's
``_message_tail``; they are the first of stdin and are taken from there.
That attribute is private to aiohttp (3.9 to 3.14 have it); without it the
first bytes would be lost, so its absence is an error, not a silent loss.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable
from typing import Any, TypeVar

from aiohttp import web

from servin_core.api.app import reply_headers
from servin_core.errors import Unavailable

__all__ = ["Hijacked", "finished", "take_over"]

_READ_LIMIT = 1 << 20
T = TypeVar("T")


class Hijacked(asyncio.Protocol):
    """The connection after the upgrade."""

    def __init__(
        self, transport: asyncio.Transport, previous: asyncio.BaseProtocol
    ) -> None:
        self.transport = transport
        self._previous = previous
        self.reader = asyncio.StreamReader(limit=_READ_LIMIT)
        self.reader.set_transport(transport)
        self._writable = asyncio.Event()
        self._writable.set()
        self.closed = asyncio.Event()

    # asyncio.Protocol

    def data_received(self, data: bytes) -> None:
        self.reader.feed_data(data)

    def eof_received(self) -> bool:
        # True keeps the transport open for writing: a half-close.
        self.reader.feed_eof()
        return True

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    def connection_lost(self, exc: Exception | None) -> None:
        self.reader.feed_eof()
        self._writable.set()
        self.closed.set()
        # aiohttp's handler still counts the connection as its own.
        with contextlib.suppress(Exception):
            self._previous.connection_lost(exc)

    # For the endpoint

    @property
    def is_open(self) -> bool:
        return not self.closed.is_set() and not self.transport.is_closing()

    async def write(self, data: bytes) -> bool:
        """Send ``data``; False once the client has gone."""
        if not self.is_open:
            return False
        self.transport.write(data)
        await self._writable.wait()
        return self.is_open

    def close(self) -> None:
        if not self.transport.is_closing():
            self.transport.close()

    async def input(self) -> AsyncIterator[bytes]:
        """The client's bytes until it half-closes (or goes)."""
        while data := await self.reader.read(_READ_LIMIT):
            yield data

    async def unless_closed(self, work: Awaitable[T]) -> T:
        """``work``'s result; cancelled (CancelledError) if the connection
        is lost first. A half-close is not a loss: output still goes out."""
        task: asyncio.Future[Any] = asyncio.ensure_future(work)
        closing: asyncio.Future[Any] = asyncio.ensure_future(self.closed.wait())
        try:
            await asyncio.wait({task, closing}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            closing.cancel()
            if not task.done():
                task.cancel()
        result: T = await task
        return result


def take_over(request: web.Request, content_type: str) -> Hijacked:
    """Answer the upgrade (or 200 without one) and take the connection."""
    transport = request.transport
    protocol = request.protocol
    if transport is None or transport.is_closing():
        raise Unavailable("connection", request.path, "the client has gone")
    if not hasattr(protocol, "_message_tail"):
        raise Unavailable(
            "connection", request.path, "this aiohttp keeps no upgrade tail"
        )
    upgrade = request.headers.get("Upgrade", "").lower() == "tcp"
    status = "101 UPGRADED" if upgrade else "200 OK"
    headers = {"Content-Type": content_type, **reply_headers()}
    if upgrade:
        headers |= {"Connection": "Upgrade", "Upgrade": "tcp"}
    head = f"HTTP/1.1 {status}\r\n" + "".join(
        f"{name}: {value}\r\n" for name, value in headers.items()
    )
    transport.write(head.encode() + b"\r\n")

    tail: bytes = protocol._message_tail
    protocol._message_tail = b""
    hijacked = Hijacked(transport, protocol)
    transport.set_protocol(hijacked)
    if tail:
        hijacked.data_received(tail)
    if transport.is_reading() is False:
        # aiohttp pauses reading when its buffer fills; we read now.
        transport.resume_reading()
    return hijacked


def finished() -> web.Response:
    """What the handler returns once the hijacked connection is closed:
    aiohttp's attempt to send it fails quietly on the closed transport."""
    return web.Response(status=200)
