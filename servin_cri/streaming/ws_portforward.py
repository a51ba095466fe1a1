"""Port forwarding over WebSocket (``portforward.k8s.io``).

The ports are the URL's ``port`` parameters, or else the CRI request's.
Port number i (from 0) has two channels: data 2i and error 2i+1. The
server's first message on each is the port as 2 bytes, little-endian;
then data flows as channel-prefixed messages both ways, and a failure to
reach the port is told as text on its error channel. The connection
closes once every port's connection has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import WSMsgType, web

from servin_core.errors import ServinError
from servin_cri.node import Node
from servin_cri.streaming.pod_port import dial, relay
from servin_cri.streaming.websocket import offered_protocols

__all__ = ["PORTFORWARD_PROTOCOL", "serve_port_forward_ws"]

PORTFORWARD_PROTOCOL = "portforward.k8s.io"


class _Port:
    def __init__(self, ws: web.WebSocketResponse, index: int, port: int) -> None:
        self.ws = ws
        self.port = port
        self.data_channel = 2 * index
        self.incoming: asyncio.Queue[bytes] = asyncio.Queue()

    async def send(self, channel: int, data: bytes) -> bool:
        if self.ws.closed:
            return False
        try:
            await self.ws.send_bytes(bytes([channel]) + data)
        except ConnectionError:
            return False
        return True

    async def chunks(self) -> AsyncIterator[bytes]:
        while data := await self.incoming.get():
            yield data

    async def serve(self, node: Node, pod_id: str) -> None:
        prefix = self.port.to_bytes(2, "little")
        await self.send(self.data_channel, prefix)
        await self.send(self.data_channel + 1, prefix)
        try:
            reader, writer = await dial(node, pod_id, self.port)
        except ServinError as e:
            await self.send(self.data_channel + 1, str(e).encode())
            return

        async def send_data(data: bytes) -> bool:
            return await self.send(self.data_channel, data)

        await relay(reader, writer, self.chunks(), send_data)


def _ports(request: web.Request, allowed: list[int]) -> list[int]:
    texts = request.query.getall("port", [])
    if not texts:
        return allowed
    ports = []
    for text in texts:
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise web.HTTPBadRequest(text=f"invalid port {text!r}")
        ports.append(int(text))
    return ports


async def serve_port_forward_ws(
    request: web.Request, node: Node, pod_id: str, allowed: list[int]
) -> web.WebSocketResponse:
    ports = _ports(request, allowed)
    if not ports:
        raise web.HTTPBadRequest(text="no port to forward given")
    if PORTFORWARD_PROTOCOL not in offered_protocols(request):
        raise web.HTTPBadRequest(text=f"expected the protocol {PORTFORWARD_PROTOCOL}")
    ws = web.WebSocketResponse(protocols=(PORTFORWARD_PROTOCOL,), max_msg_size=0)
    await ws.prepare(request)
    forwards = [_Port(ws, index, port) for index, port in enumerate(ports)]
    serving = [asyncio.ensure_future(f.serve(node, pod_id)) for f in forwards]
    gathered = asyncio.gather(*serving, return_exceptions=True)
    done: asyncio.Future[Any] = asyncio.ensure_future(gathered)
    reading: asyncio.Future[Any] = asyncio.ensure_future(_read(ws, forwards))
    try:
        await asyncio.wait({done, reading}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (*serving, reading):
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await done
        await ws.close()
    return ws


async def _read(ws: web.WebSocketResponse, forwards: list[_Port]) -> None:
    async for message in ws:
        if message.type != WSMsgType.BINARY or not message.data:
            continue
        channel, data = message.data[0], message.data[1:]
        index, is_error = divmod(channel, 2)
        if not is_error and index < len(forwards) and data:
            forwards[index].incoming.put_nowait(data)
    for forward in forwards:
        forward.incoming.put_nowait(b"")
