"""The responder: UDP and TCP servers on one address, answering a network's
container names and forwarding the rest.

It runs until it is told to stop (SIGTERM from ``release_responder``) or
until its network's row, or the whole database, goes away, whichever comes
first; the others cover a network removed by a process that died before
releasing, and a store deleted under it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sqlite3
from pathlib import Path
from typing import cast

from servin_core import log
from servin_core._dataclass import dataclass
from servin_core.network.dns import wire
from servin_core.network.dns.names import NameTable
from servin_core.network.dns.upstream import Resolvers, forward

__all__ = ["Responder", "serve"]

TTL = 10
"""Seconds a client may keep an answer: containers come and go."""
_WATCH_INTERVAL = 2.0
_TCP_IDLE = 10.0
_MAX_IN_FLIGHT = 512


@dataclass
class Responder:
    """Answers one network's queries."""

    network_id: str
    database: Path
    names: NameTable
    resolvers: Resolvers

    def __post_init__(self) -> None:
        self.log = log.for_object(log.dns, "network", self.network_id)
        self._in_flight = 0
        self._upstream_failing = False

    async def reply(self, message: bytes, *, tcp: bool) -> bytes | None:
        """The reply to ``message``, or None to drop it (not even a header)."""
        try:
            query = wire.parse_query(message)
        except wire.FormatError as e:
            self.log.debug("unreadable query: %s", e)
            return wire.header_error(message, wire.FORMERR)
        if query.opcode != 0:
            return wire.error_reply(query, wire.NOTIMP)

        try:
            records = self._local(query)
        except sqlite3.Error as e:
            self.log.warning("reading the names for %s: %s", query.name, e)
            return wire.error_reply(query, wire.SERVFAIL)
        if records is not None:
            self.log.debug(
                "%s type %d: %d records", query.name, query.qtype, len(records)
            )
            reply = wire.answer(query, records, TTL)
        else:
            reply = await self._forwarded(query, message, tcp=tcp)

        if not tcp and len(reply) > query.udp_size:
            return wire.truncated(query, reply)
        return reply

    def _local(self, query: wire.Query) -> list[bytes] | None:
        """The records the network's own names give, or None to forward.

        A name we own answers every type: its addresses for A and AAAA,
        and "no such record" (not "no such name") otherwise. A container's
        address answers PTR with the container's name.
        """
        # TODO: no search domain (podman's NAME.dns.podman): it needs the
        # networks package to write a search line into resolv.conf.
        if query.qclass != wire.CLASS_IN:
            return None
        if query.qtype == wire.TYPE_PTR:
            target = self.names.pointer(query.name)
            return None if target is None else [wire.encode_name(target)]
        local = self.names.lookup(query.name)
        if local is None:
            return None
        v4, v6 = local
        return {wire.TYPE_A: v4, wire.TYPE_AAAA: v6}.get(query.qtype, [])

    async def _forwarded(
        self, query: wire.Query, message: bytes, *, tcp: bool
    ) -> bytes:
        if self.names.internal:
            # REFUSED, not NXDOMAIN: the name may well exist, outside.
            return wire.error_reply(query, wire.REFUSED)
        servers = self.resolvers.current()
        # Each forwarded query holds a socket until upstream answers: a
        # flood of them is refused rather than piled up.
        if not servers or self._in_flight >= _MAX_IN_FLIGHT:
            self._upstream_down(query.name, servers)
            return wire.error_reply(query, wire.SERVFAIL)
        self._in_flight += 1
        try:
            reply = await forward(message, servers, tcp=tcp)
        finally:
            self._in_flight -= 1
        if reply is None:
            self._upstream_down(query.name, servers)
            return wire.error_reply(query, wire.SERVFAIL)
        if self._upstream_failing:
            self.log.warning("resolvers answer again")
            self._upstream_failing = False
        return reply

    def _upstream_down(self, name: str, servers: list[str]) -> None:
        """Log a failure to forward: a warning when it starts, so that a dead
        resolver does not fill the log with one line per query."""
        if not servers:
            reason = "no resolver in resolv.conf"
        elif self._in_flight >= _MAX_IN_FLIGHT:
            reason = f"{self._in_flight} queries already waiting on resolvers"
        else:
            reason = "no answer from " + ", ".join(servers)
        level = logging.DEBUG if self._upstream_failing else logging.WARNING
        self.log.log(level, "cannot forward %s: %s", name, reason)
        self._upstream_failing = True


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.transport: asyncio.DatagramTransport | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Python 3.11's selector transport does not subclass DatagramTransport.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        # Forwarded queries wait on upstream: each query is its own task so
        # one slow name does not hold up the others.
        task = asyncio.create_task(self._answer(data, addr))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _answer(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = await self.responder.reply(data, tcp=False)
        if reply is not None and self.transport is not None:
            self.transport.sendto(reply, addr)


async def _stream(
    responder: Responder, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """One TCP connection: length-prefixed queries, answered in order,
    until the client closes or idles."""
    try:
        while True:
            async with asyncio.timeout(_TCP_IDLE):
                length = int.from_bytes(await reader.readexactly(2), "big")
                message = await reader.readexactly(length)
            reply = await responder.reply(message, tcp=True)
            if reply is None:
                break
            writer.write(len(reply).to_bytes(2, "big") + reply)
            await writer.drain()
    except (EOFError, TimeoutError, OSError):
        pass
    finally:
        writer.close()


async def serve(responder: Responder, udp: socket.socket, tcp: socket.socket) -> None:
    """Serve on the two bound sockets until SIGTERM or the network is gone."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)

    transport, _ = await loop.create_datagram_endpoint(
        lambda: _Datagrams(responder), sock=udp
    )
    server = await asyncio.start_server(lambda r, w: _stream(responder, r, w), sock=tcp)
    responder.log.info("serving on %s", udp.getsockname()[0])

    # The database is watched even when nobody asks, so that a removed
    # network's responder ends without a query to notice it.
    while not stop.is_set():
        if not responder.database.exists():
            responder.log.info(
                "state database %s removed; stopping", responder.database
            )
            break
        try:
            responder.names.refresh()
        except sqlite3.Error as e:
            responder.log.warning("reading the state database: %s", e)
        if not responder.names.network_exists:
            responder.log.info("network removed; stopping")
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), _WATCH_INTERVAL)

    server.close()
    transport.close()
    responder.log.info("stopped")
