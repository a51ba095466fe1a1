"""A minimal SPDY/3.1 client for the streaming tests, written apart from
the server's code: it opens streams the way kubelet's clients do (SYN_STREAM
with a ``streamType`` header) and collects what comes back per stream.

Only the zlib dictionary is shared with the server; its bytes are pinned
by a test against the SPDY/3 draft's table.
"""

from __future__ import annotations

import asyncio
import struct
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from servin_cri.streaming.spdy_dictionary import SPDY3_DICTIONARY

SYN_STREAM, SYN_REPLY, RST_STREAM, PING, GOAWAY, WINDOW_UPDATE = 1, 2, 3, 6, 7, 9


@dataclass
class Incoming:
    data: bytearray = field(default_factory=bytearray)
    replied: bool = False
    finished: asyncio.Event = field(default_factory=asyncio.Event)


class SpdyClient:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.reader = reader
        self.writer = writer
        self.streams: dict[int, Incoming] = {}
        self.goaway = asyncio.Event()
        self.goaway_status: int | None = None
        self.pings: asyncio.Queue[int] = asyncio.Queue()
        self._next_id = 1
        self._deflate = zlib.compressobj(zdict=SPDY3_DICTIONARY)
        self._inflate = zlib.decompressobj(zdict=SPDY3_DICTIONARY)
        self._task: asyncio.Task[None] | None = None

    @classmethod
    async def upgrade(
        cls, url: str, protocol: str
    ) -> tuple[int, dict[str, str], SpdyClient]:
        """POST ``url`` asking for SPDY/3.1 and ``protocol``: the status,
        the reply's headers (lowercased) and the client."""
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        writer.write(
            f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            "Connection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
            f"X-Stream-Protocol-Version: {protocol}\r\n"
            "Content-Length: 0\r\n\r\n".encode()
        )
        head = await reader.readuntil(b"\r\n\r\n")
        status_line, *lines = head.decode().split("\r\n")
        headers = {}
        for line in lines:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        client = cls(reader, writer)
        status = int(status_line.split()[1])
        if status == 101:
            client._task = asyncio.ensure_future(client._read())
        return status, headers, client

    def _block(self, headers: dict[str, str]) -> bytes:
        raw = struct.pack(">I", len(headers))
        for name, value in headers.items():
            for text in (name.lower().encode(), value.encode()):
                raw += struct.pack(">I", len(text)) + text
        return self._deflate.compress(raw) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def control(self, kind: int, flags: int, payload: bytes) -> None:
        self.writer.write(
            struct.pack(">HHI", 0x8003, kind, flags << 24 | len(payload)) + payload
        )

    def open(self, headers: dict[str, str], fin: bool = False) -> int:
        stream_id = self._next_id
        self._next_id += 2
        self.streams[stream_id] = Incoming()
        payload = struct.pack(">IIBB", stream_id, 0, 0, 0) + self._block(headers)
        self.control(SYN_STREAM, 1 if fin else 0, payload)
        return stream_id

    def send(self, stream_id: int, data: bytes, fin: bool = False) -> None:
        flags = 1 if fin else 0
        self.writer.write(struct.pack(">II", stream_id, flags << 24 | len(data)) + data)

    async def finished(self, stream_id: int) -> bytes:
        """All the stream's data, once the server has finished it."""
        await self.streams[stream_id].finished.wait()
        return bytes(self.streams[stream_id].data)

    async def close(self) -> None:
        self.writer.close()
        if self._task is not None:
            self._task.cancel()

    async def _read(self) -> None:
        try:
            while True:
                first, second = struct.unpack(">II", await self.reader.readexactly(8))
                flags, length = second >> 24, second & 0xFFFFFF
                payload = await self.reader.readexactly(length)
                if not first & 0x80000000:
                    stream = self.streams[first]
                    stream.data += payload
                    if flags & 1:
                        stream.finished.set()
                    continue
                kind = first & 0xFFFF
                if kind == SYN_REPLY:
                    (stream_id,) = struct.unpack_from(">I", payload)
                    self._inflate.decompress(payload[4:])
                    self.streams[stream_id].replied = True
                elif kind == RST_STREAM:
                    (stream_id,) = struct.unpack_from(">I", payload)
                    self.streams[stream_id].finished.set()
                elif kind == GOAWAY:
                    self.goaway_status = struct.unpack_from(">II", payload)[1]
                    self.goaway.set()
                elif kind == PING:
                    self.pings.put_nowait(struct.unpack_from(">I", payload)[0])
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self.goaway.set()
            for stream in self.streams.values():
                stream.finished.set()
