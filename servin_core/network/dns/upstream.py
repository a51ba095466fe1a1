"""Forwarding the names the responder does not own to the host's resolvers.

The resolvers come from the host's resolv.conf, re-read when it changes
(DHCP and VPN clients rewrite it). Loopback resolvers (127.0.0.53 of
systemd-resolved, a local dnsmasq) are kept: the responder runs in the
host's network namespace, where they are reachable, unlike from a
container, which is why docker and podman drop them from the resolv.conf
they give containers. The responder's own address is dropped, so that a
host that names it cannot make a query loop.

Each forwarded query gets a fresh ID and a fresh UDP socket (a random source
port), so a reply cannot be matched to the wrong client. A UDP reply with TC
set is fetched again over TCP from the same resolver.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import secrets
from pathlib import Path

from servin_core.network.dns import wire

__all__ = ["Resolvers", "forward", "read_nameservers"]

TIMEOUT = 2.0
"""Seconds to wait for one resolver before trying the next."""
_PORT = 53


def read_nameservers(text: str) -> list[str]:
    """The ``nameserver`` addresses in resolv.conf ``text``, in order."""
    servers = []
    for line in text.splitlines():
        fields = line.split("#", 1)[0].split(";", 1)[0].split()
        if len(fields) < 2 or fields[0] != "nameserver":
            continue
        try:
            # A scoped IPv6 address (fe80::1%eth0) keeps its scope.
            ipaddress.ip_address(fields[1].split("%", 1)[0])
        except ValueError:
            continue
        servers.append(fields[1])
    return servers


class Resolvers:
    """The host's resolvers, from a resolv.conf re-read when it changes."""

    def __init__(self, path: Path, own_address: str) -> None:
        self._path = path
        self._own = own_address
        self._stamp: tuple[int, int, int] | None = None
        self._servers: list[str] = []

    def current(self) -> list[str]:
        try:
            st = os.stat(self._path)
        except OSError:
            return []
        stamp = (st.st_mtime_ns, st.st_ino, st.st_size)
        if stamp != self._stamp:
            text = self._path.read_text(errors="replace")
            self._servers = [s for s in read_nameservers(text) if s != self._own]
            self._stamp = stamp
        return self._servers


async def forward(
    query: bytes, servers: list[str], *, tcp: bool, timeout: float = TIMEOUT
) -> bytes | None:
    """The first reply any of ``servers`` gives to ``query`` (with the
    query's own ID), or None if none answered in time."""
    client_id = wire.message_id(query)
    for server in servers:
        ident = secrets.randbits(16)
        outgoing = wire.with_id(query, ident)
        try:
            if tcp:
                reply = await _over_tcp(outgoing, server, timeout)
            else:
                reply = await _over_udp(outgoing, ident, server, timeout)
                if wire.is_truncated(reply):
                    reply = await _over_tcp(outgoing, server, timeout)
        except (OSError, TimeoutError, EOFError, wire.FormatError):
            continue
        if wire.message_id(reply) == ident:
            return wire.with_id(reply, client_id)
    return None


async def _over_tcp(message: bytes, server: str, timeout: float) -> bytes:
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(server, _PORT)
        try:
            writer.write(len(message).to_bytes(2, "big") + message)
            await writer.drain()
            length = int.from_bytes(await reader.readexactly(2), "big")
            return await reader.readexactly(length)
        finally:
            writer.close()


class _OneReply(asyncio.DatagramProtocol):
    def __init__(self, ident: int) -> None:
        self.ident = ident
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        # Anything else on this port (a late reply to nothing, a spoof
        # attempt) is ignored: only the ID we chose is awaited.
        ours = len(data) >= 12 and wire.message_id(data) == self.ident
        if ours and not self.reply.done():
            self.reply.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)


async def _over_udp(message: bytes, ident: int, server: str, timeout: float) -> bytes:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(
        lambda: _OneReply(ident), remote_addr=(server, _PORT)
    )
    try:
        transport.sendto(message)
        async with asyncio.timeout(timeout):
            return await protocol.reply
    finally:
        transport.close()
