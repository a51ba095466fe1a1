"""Exec and attach over SPDY/3.1 (``v5.channel.k8s.io`` or
``v4.channel.k8s.io``: over SPDY they are the same, since a client closes
its stdin by finishing that stream; kubelet offers both too).

The client opens one stream per purpose, named by its ``streamType``
header: ``error`` always, ``stdin``, ``stdout`` and ``stderr`` as the
request asked (no ``stderr`` with a tty: the terminal merges them), and
``resize`` with a tty. Once all have come the command runs; at its end
the output streams are finished, the status is written on ``error`` and
the session goes away.

The older v1 to v3 protocols (errors as plain text, no exit codes) are
not offered: kubectl and client-go have offered v4 (and v5) for years.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from servin_cri.streaming.remote_io import Options, OutputStream, RemoteIO
from servin_cri.streaming.spdy_session import SpdySession, SpdyStream
from servin_cri.streaming.status import failure

__all__ = ["REMOTE_PROTOCOLS", "serve_remote_spdy"]

REMOTE_PROTOCOLS = ("v5.channel.k8s.io", "v4.channel.k8s.io")
_STREAMS_TIMEOUT = 30.0
"""How long the client has to open its streams (kubelet allows 30 s)."""

Runner = Callable[[RemoteIO], Awaitable[dict[str, Any]]]


def _expected(options: Options) -> set[str]:
    kinds = {"error"}
    if options.stdin:
        kinds.add("stdin")
    if options.stdout:
        kinds.add("stdout")
    if options.stderr and not options.tty:
        kinds.add("stderr")
    if options.tty:
        kinds.add("resize")
    return kinds


class _Output:
    def __init__(self, streams: dict[str, SpdyStream]) -> None:
        self._streams = streams

    async def write(self, stream: OutputStream, data: bytes) -> bool:
        target = self._streams.get(stream)
        return target is not None and await target.write(data)

    async def finish(self, status: dict[str, Any]) -> None:
        for name in ("stdout", "stderr"):
            if name in self._streams:
                await self._streams[name].close()
        error = self._streams["error"]
        await error.write(json.dumps(status).encode())
        await error.close()


async def _collect(session: SpdySession, wanted: set[str]) -> dict[str, SpdyStream]:
    streams: dict[str, SpdyStream] = {}
    while not wanted <= streams.keys():
        stream = await session.accept()
        if stream is None:
            break
        streams.setdefault(stream.kind, stream)
    return streams


async def _pump(stream: SpdyStream, feed: Callable[[bytes], None]) -> None:
    while data := await stream.read():
        feed(data)


async def _watch(session: SpdySession, io: RemoteIO) -> None:
    """Until the connection is gone; streams opened late are ignored."""
    while await session.accept() is not None:
        pass
    io.lost()


async def serve_remote_spdy(
    session: SpdySession, options: Options, run: Runner
) -> None:
    wanted = _expected(options)
    try:
        streams = await asyncio.wait_for(_collect(session, wanted), _STREAMS_TIMEOUT)
    except TimeoutError:
        streams = {}
    if not wanted <= streams.keys():
        if "error" in streams:
            missing = ", ".join(sorted(wanted - streams.keys()))
            await _Output(streams).finish(failure(f"streams not opened: {missing}"))
        await session.close()
        return

    io = RemoteIO(options, _Output(streams))
    helpers = [asyncio.ensure_future(_watch(session, io))]
    if "stdin" in streams:

        async def stdin() -> None:
            await _pump(streams["stdin"], io.feed_stdin)
            io.end_stdin()

        helpers.append(asyncio.ensure_future(stdin()))
    if "resize" in streams:
        helpers.append(asyncio.ensure_future(_pump(streams["resize"], io.feed_resize)))
    try:
        status = await run(io)
        await io.output.finish(status)
    finally:
        for helper in helpers:
            helper.cancel()
        for helper in helpers:
            with contextlib.suppress(asyncio.CancelledError):
                await helper
        await session.close()
