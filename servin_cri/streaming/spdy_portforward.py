"""Port forwarding over SPDY/3.1 (``portforward.k8s.io``).

For each connection it forwards, the client opens two streams with the
same ``requestID`` and ``port`` headers: ``streamType: error`` and
``streamType: data``. Once both are there the port is dialled inside the
pod; the data stream carries the bytes both ways, and a failure is told
as text on the error stream. The session serves any number of such pairs
until the client goes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from servin_core.errors import ServinError
from servin_cri.node import Node
from servin_cri.streaming.pod_port import dial, relay
from servin_cri.streaming.spdy_session import SpdySession, SpdyStream

__all__ = ["PORTFORWARD_PROTOCOL", "serve_port_forward_spdy"]

PORTFORWARD_PROTOCOL = "portforward.k8s.io"


async def _chunks(stream: SpdyStream) -> AsyncIterator[bytes]:
    while data := await stream.read():
        yield data


async def _forward(node: Node, pod_id: str, pair: dict[str, SpdyStream]) -> None:
    data, error = pair["data"], pair["error"]
    text = data.headers.get("port", "")
    try:
        if not text.isdigit() or not 0 < int(text) < 65536:
            raise ValueError(f"invalid port {text!r}")
        reader, writer = await dial(node, pod_id, int(text))
    except (ServinError, ValueError) as e:
        await error.write(str(e).encode())
    else:
        await relay(reader, writer, _chunks(data), data.write)
    await data.close()
    await error.close()


async def serve_port_forward_spdy(
    session: SpdySession, node: Node, pod_id: str
) -> None:
    pending: dict[str, dict[str, SpdyStream]] = {}
    forwards: set[asyncio.Future[None]] = set()
    try:
        while (stream := await session.accept()) is not None:
            request_id = stream.headers.get("requestid", "")
            if stream.kind not in ("data", "error"):
                await stream.close()
                continue
            pair = pending.setdefault(request_id, {})
            pair[stream.kind] = stream
            if len(pair) == 2:
                del pending[request_id]
                task = asyncio.ensure_future(_forward(node, pod_id, pair))
                forwards.add(task)
                task.add_done_callback(forwards.discard)
    finally:
        for forward in list(forwards):
            forward.cancel()
        for forward in list(forwards):
            with contextlib.suppress(asyncio.CancelledError):
                await forward
        await session.close()
