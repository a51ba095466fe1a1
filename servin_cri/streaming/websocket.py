"""Exec and attach over WebSocket: Kubernetes' channel protocols.

Every binary message starts with one byte naming its channel: 0 stdin,
1 stdout, 2 stderr, 3 the error stream (the status, in JSON), 4 resize
(``{"Width": W, "Height": H}``). ``v5.channel.k8s.io`` adds channel 255,
whose message ``[255, N]`` says the client closed its stream N (only
stdin, 0, means anything here); with ``v4.channel.k8s.io`` stdin ends
with the connection. The server writes the status, then closes.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from servin_cri.streaming.remote_io import Options, OutputStream, RemoteIO

__all__ = ["CHANNEL_PROTOCOLS", "serve_remote_ws"]

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
CHANNEL_PROTOCOLS = (V5, V4)

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
_CHANNELS = {"stdout": STDOUT, "stderr": STDERR}

Runner = Callable[[RemoteIO], Awaitable[dict[str, Any]]]


class _Output:
    def __init__(self, ws: web.WebSocketResponse) -> None:
        self._ws = ws

    async def write(self, stream: OutputStream, data: bytes) -> bool:
        if self._ws.closed:
            return False
        try:
            await self._ws.send_bytes(bytes([_CHANNELS[stream]]) + data)
        except ConnectionError:
            return False
        return True

    async def finish(self, status: dict[str, Any]) -> None:
        if self._ws.closed:
            return
        try:
            await self._ws.send_bytes(bytes([ERROR]) + json.dumps(status).encode())
        except ConnectionError:
            return
        await self._ws.close()


async def _read(ws: web.WebSocketResponse, io: RemoteIO, v5: bool) -> None:
    async for message in ws:
        if message.type != WSMsgType.BINARY or not message.data:
            continue
        channel, data = message.data[0], message.data[1:]
        if channel == STDIN:
            io.feed_stdin(data)
        elif channel == RESIZE:
            io.feed_resize(data)
        elif channel == CLOSE and v5 and data[:1] == bytes([STDIN]):
            io.end_stdin()
    io.lost()


async def serve_remote_ws(
    request: web.Request, options: Options, run: Runner
) -> web.WebSocketResponse:
    """Upgrade ``request`` and run the exec or attach ``run`` over it."""
    ws = web.WebSocketResponse(protocols=CHANNEL_PROTOCOLS, max_msg_size=0)
    await ws.prepare(request)
    io = RemoteIO(options, _Output(ws))
    reading = asyncio.ensure_future(_read(ws, io, ws.ws_protocol == V5))
    try:
        status = await run(io)
        await io.output.finish(status)
    finally:
        reading.cancel()
        await ws.close()
    return ws
