"""Switching an HTTP request to SPDY/3.1, as kubelet's clients ask.

The request carries ``Connection: Upgrade``, ``Upgrade: SPDY/3.1`` and
one ``X-Stream-Protocol-Version`` header per protocol it speaks; the
first of ours it offers is answered in the 101 reply. After the reply the
connection is taken from aiohttp (servin_core/api/hijack.py's
``Hijacked`` keeps the bytes that followed the request: the client may
open its first streams without waiting for the reply).
"""

from __future__ import annotations

from aiohttp import web

from servin_core.api.hijack import Hijacked

__all__ = ["PROTOCOL_HEADER", "is_spdy_upgrade", "negotiate", "upgrade"]

PROTOCOL_HEADER = "X-Stream-Protocol-Version"


def is_spdy_upgrade(request: web.Request) -> bool:
    return request.headers.get("Upgrade", "").lower() == "spdy/3.1"


def negotiate(request: web.Request, ours: tuple[str, ...]) -> str:
    """The first of ``ours`` the client offers; 403 (as kubelet answers)
    when it offers none of them."""
    offered = [
        item.strip()
        for value in request.headers.getall(PROTOCOL_HEADER, [])
        for item in value.split(",")
    ]
    for protocol in ours:
        if protocol in offered:
            return protocol
    raise web.HTTPForbidden(
        text=f"unable to upgrade: none of {offered} is one of {list(ours)}"
    )


def upgrade(request: web.Request, protocol: str) -> Hijacked:
    """Send the 101 reply and take the connection over."""
    transport = request.transport
    previous = request.protocol
    if transport is None or transport.is_closing():
        raise web.HTTPGone(text="the client has gone")
    if not hasattr(previous, "_message_tail"):
        raise web.HTTPInternalServerError(text="this aiohttp keeps no upgrade tail")
    transport.write(
        b"HTTP/1.1 101 Switching Protocols\r\n"
        b"Connection: Upgrade\r\n"
        b"Upgrade: SPDY/3.1\r\n" + f"{PROTOCOL_HEADER}: {protocol}\r\n\r\n".encode()
    )
    tail: bytes = previous._message_tail
    previous._message_tail = b""
    conn = Hijacked(transport, previous)
    transport.set_protocol(conn)
    if tail:
        conn.data_received(tail)
    if transport.is_reading() is False:
        transport.resume_reading()
    return conn
