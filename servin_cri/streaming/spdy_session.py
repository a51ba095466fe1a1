"""One SPDY/3.1 connection, server side: the peer opens the streams.

A reader task parses the frames, answers PING and SYN_STREAM (every
stream the client opens is accepted with a SYN_REPLY; the protocol on top
decides what it is for by its headers), and queues each stream's data.
Writes go straight to the transport: a frame's bytes are written in one
call, and a header block is compressed in the same step as it is written,
so the compression context sees blocks in wire order.

Flow control: the client is granted back (WINDOW_UPDATE, on the stream
and on the session, as 3.1 adds) whatever the reader has consumed, so a
client that keeps to its window is never stalled.
TODO: our own sends do not wait for the client's window. Kubernetes'
clients (moby/spdystream) neither track windows nor send updates, so
waiting would stall them after 64 KiB; a strict SPDY/3.1 peer would need
the send side to honour WINDOW_UPDATE.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct

from servin_core.api.hijack import Hijacked
from servin_cri.streaming.spdy_frames import (
    FLAG_FIN,
    HEADER_SIZE,
    Frame,
    FrameType,
    HeaderCodec,
    RstStatus,
    check_length,
    control_frame,
    data_frame,
    parse_header,
)

__all__ = ["SpdySession", "SpdyStream"]

_CHUNK = 1 << 16
_MAX_FRAME = 1 << 20
"""A larger frame from the client ends the session (kubelet's clients
send at most 32 KiB)."""


class SpdyStream:
    """A stream the client opened: its headers, its data, our replies."""

    def __init__(
        self, session: SpdySession, stream_id: int, headers: dict[str, str]
    ) -> None:
        self.id = stream_id
        self.headers = headers
        self._session = session
        self._queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._ended = False
        self.closed = False
        """True once we sent FIN (or the stream was reset)."""

    @property
    def kind(self) -> str:
        """The ``streamType`` header Kubernetes names its streams with."""
        return self.headers.get("streamtype", "")

    async def read(self) -> bytes:
        """The next data; b"" once the client has finished the stream."""
        if self._ended:
            return b""
        data = await self._queue.get()
        if not data:
            self._ended = True
            return b""
        await self._session.consumed(self.id, len(data))
        return data

    async def write(self, data: bytes) -> bool:
        """Send ``data``; False if the stream or connection is gone."""
        if self.closed:
            return False
        for start in range(0, len(data), _CHUNK):
            chunk = data[start : start + _CHUNK]
            if not await self._session.send(data_frame(self.id, 0, chunk)):
                return False
        return True

    async def close(self) -> None:
        """Finish our side (FIN); the client may still send."""
        if not self.closed:
            self.closed = True
            await self._session.send(data_frame(self.id, FLAG_FIN, b""))

    def _feed(self, data: bytes, fin: bool) -> None:
        if data:
            self._queue.put_nowait(data)
        if fin:
            self._queue.put_nowait(b"")

    def _reset(self) -> None:
        self.closed = True
        self._queue.put_nowait(b"")


class SpdySession:
    """Serves the SPDY framing of the connection ``conn``."""

    def __init__(self, conn: Hijacked, logger: logging.LoggerAdapter[logging.Logger]):
        self._conn = conn
        self._log = logger
        self._codec = HeaderCodec()
        self._streams: dict[int, SpdyStream] = {}
        self._last_id = 0
        self._incoming: asyncio.Queue[SpdyStream | None] = asyncio.Queue()
        self._reader: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._reader = asyncio.ensure_future(self._read_frames())

    async def accept(self) -> SpdyStream | None:
        """The next stream the client opens; None once it can open no more."""
        stream = await self._incoming.get()
        if stream is None:
            self._incoming.put_nowait(None)
        return stream

    async def send(self, frame: bytes) -> bool:
        return await self._conn.write(frame)

    async def consumed(self, stream_id: int, size: int) -> None:
        for target in (stream_id, 0):
            payload = struct.pack(">II", target, size)
            await self.send(control_frame(FrameType.WINDOW_UPDATE, 0, payload))

    async def close(self) -> None:
        """GOAWAY, then close the connection and stop reading."""
        goaway = struct.pack(">II", self._last_id, 0)
        await self.send(control_frame(FrameType.GOAWAY, 0, goaway))
        self._conn.close()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    async def _read_frames(self) -> None:
        try:
            while (frame := await self._next_frame()) is not None:
                await self._dispatch(frame)
        except ValueError as e:
            self._log.info("SPDY protocol error: %s", e)
            await self.send(
                control_frame(FrameType.GOAWAY, 0, struct.pack(">II", self._last_id, 1))
            )
            self._conn.close()
        finally:
            for stream in self._streams.values():
                stream._reset()
            self._incoming.put_nowait(None)

    async def _next_frame(self) -> Frame | None:
        reader = self._conn.reader
        try:
            head = await reader.readexactly(HEADER_SIZE)
            kind, flags, length, stream_id = parse_header(head)
            if length > _MAX_FRAME:
                raise ValueError(f"a frame of {length} bytes")
            check_length(kind, length)
            payload = await reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None
        return Frame(kind, flags, payload, stream_id)

    async def _dispatch(self, frame: Frame) -> None:
        if frame.kind is None:
            stream = self._streams.get(frame.stream_id)
            if stream is None:
                await self._reset(frame.stream_id, RstStatus.INVALID_STREAM)
            else:
                stream._feed(frame.payload, frame.fin)
        elif frame.kind == FrameType.SYN_STREAM:
            await self._open(frame)
        elif frame.kind in (FrameType.SYN_REPLY, FrameType.HEADERS):
            # Nothing to learn from them, but the context must see them.
            self._codec.decode(frame.payload[4:])
        elif frame.kind == FrameType.RST_STREAM:
            gone = self._streams.pop(frame.word(0), None)
            if gone is not None:
                gone._reset()
        elif frame.kind == FrameType.PING:
            # Client PINGs have odd IDs; an even one would be our own.
            if frame.word(0) % 2 == 1:
                await self.send(control_frame(FrameType.PING, 0, frame.payload))
        elif frame.kind == FrameType.GOAWAY:
            self._incoming.put_nowait(None)
        # SETTINGS and WINDOW_UPDATE change nothing here (see the docstring).

    async def _open(self, frame: Frame) -> None:
        stream_id = frame.word(0)
        headers = self._codec.decode(frame.payload[10:])
        if stream_id % 2 == 0 or stream_id <= self._last_id:
            await self._reset(stream_id, RstStatus.PROTOCOL_ERROR)
            return
        self._last_id = stream_id
        stream = SpdyStream(self, stream_id, headers)
        self._streams[stream_id] = stream
        reply = struct.pack(">I", stream_id) + self._codec.encode({})
        if not await self.send(control_frame(FrameType.SYN_REPLY, 0, reply)):
            return
        stream._feed(b"", frame.fin)
        self._incoming.put_nowait(stream)

    async def _reset(self, stream_id: int, status: RstStatus) -> None:
        payload = struct.pack(">II", stream_id, status)
        await self.send(control_frame(FrameType.RST_STREAM, 0, payload))
