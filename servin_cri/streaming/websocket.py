"""Exec and attach over WebSocket: Kubernetes' channel protocols.

Every binary message starts with one byte naming its channel: 0 stdin,
1 stdout, 2 stderr, 3 the error stream (the status, in JSON), 4 resize
(``{"Width": W, "Height": H}``). ``v5.channel.k8s.io`` adds channel 255,
whose message ``[255, N]`` says the client closed its stream N (only
stdin, 0, means anything here); with ``v4.channel.k8s.io`` stdin ends
with the connection. ``v4.base64.channel.k8s.io`` is v4 for clients that
send only text (browsers' consoles): the channel is an ASCII digit and
the data base64. The server writes the status, then closes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import WSMsgType, web

from servin_cri.streaming.remote_io import Options, OutputStream, RemoteIO

__all__ = ["CHANNEL_PROTOCOLS", "offered_protocols", "serve_remote_ws"]

V5 = "v5.channel.k8s.io"
V4 = "v4.channel.k8s.io"
V4_BASE64 = "v4.base64.channel.k8s.io"
CHANNEL_PROTOCOLS = (V5, V4, V4_BASE64)

STDIN, STDOUT, STDERR, ERROR, RESIZE, CLOSE = 0, 1, 2, 3, 4, 255
_CHANNELS = {"stdout": STDOUT, "stderr": STDERR}

Runner = Callable[[RemoteIO], Awaitable[dict[str, Any]]]


def offered_protocols(request: web.Request) -> list[str]:
    return [
        item.strip()
        for value in request.headers.getall("Sec-WebSocket-Protocol", [])
        for item in value.split(",")
    ]


class _Output:
    def __init__(self, ws: web.WebSocketResponse, text: bool) -> None:
        self._ws = ws
        self._text = text

    async def _send(self, channel: int, data: bytes) -> bool:
        if self._ws.closed:
            return False
        try:
            if self._text:
                encoded = base64.b64encode(data).decode()
                await self._ws.send_str(chr(ord("0") + channel) + encoded)
            else:
                await self._ws.send_bytes(bytes([channel]) + data)
        except ConnectionError:
            return False
        return True

    async def write(self, stream: OutputStream, data: bytes) -> bool:
        return await self._send(_CHANNELS[stream], data)

    async def finish(self, status: dict[str, Any]) -> None:
        if await self._send(ERROR, json.dumps(status).encode()):
            await self._ws.close()


def _decode(message: Any) -> tuple[int, bytes] | None:
    """(channel, data) of a client's message; None for one to ignore."""
    if message.type == WSMsgType.BINARY and message.data:
        return message.data[0], message.data[1:]
    if message.type == WSMsgType.TEXT and message.data:
        try:
            data = base64.b64decode(message.data[1:], validate=True)
        except binascii.Error:
            return None
        return ord(message.data[0]) - ord("0"), data
    return None


async def _read(ws: web.WebSocketResponse, io: RemoteIO, v5: bool) -> None:
    async for message in ws:
        decoded = _decode(message)
        if decoded is None:
            continue
        channel, data = decoded
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
    """Upgrade ``request`` and run the exec or attach ``run`` over it;
    400 if the client offers none of the channel protocols."""
    offered = offered_protocols(request)
    if not set(offered) & set(CHANNEL_PROTOCOLS):
        raise web.HTTPBadRequest(
            text=f"none of the protocols {offered} is one of {list(CHANNEL_PROTOCOLS)}"
        )
    ws = web.WebSocketResponse(protocols=CHANNEL_PROTOCOLS, max_msg_size=0)
    await ws.prepare(request)
    io = RemoteIO(options, _Output(ws, ws.ws_protocol == V4_BASE64))
    reading = asyncio.ensure_future(_read(ws, io, ws.ws_protocol == V5))
    try:
        status = await run(io)
        await io.output.finish(status)
    finally:
        reading.cancel()
        await ws.close()
    return ws
