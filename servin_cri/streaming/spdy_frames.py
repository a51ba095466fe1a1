"""SPDY/3.1 frames: their layout on the wire and the compressed header
blocks some of them carry.

Every frame starts with 8 bytes. A control frame: the control bit, the
version (3) in 15 bits, the type in 16; then flags (8 bits) and the
payload's length (24). A data frame: the control bit clear, the stream ID
in 31 bits; then flags and length. Header blocks (SYN_STREAM, SYN_REPLY,
HEADERS) are a count of name/value pairs, each string after its 4-byte
length, deflated by one zlib stream per direction that lives as long as
the connection and is primed with the SPDY/3 dictionary: so blocks must be
compressed in the order they are sent, and every received block inflated,
even one whose headers are of no interest.
"""

from __future__ import annotations

import enum
import struct
import zlib

from servin_core._dataclass import dataclass
from servin_cri.streaming.spdy_dictionary import SPDY3_DICTIONARY

__all__ = [
    "FLAG_FIN",
    "HEADER_SIZE",
    "MAX_PAYLOAD",
    "Frame",
    "FrameType",
    "HeaderCodec",
    "RstStatus",
    "check_length",
    "control_frame",
    "data_frame",
    "parse_header",
]

VERSION = 3
HEADER_SIZE = 8
MAX_PAYLOAD = (1 << 24) - 1
FLAG_FIN = 0x01
_CONTROL = 0x8000
_STREAM_MASK = 0x7FFFFFFF


class FrameType(enum.IntEnum):
    SYN_STREAM = 1
    SYN_REPLY = 2
    RST_STREAM = 3
    SETTINGS = 4
    PING = 6
    GOAWAY = 7
    HEADERS = 8
    WINDOW_UPDATE = 9


_MIN_PAYLOAD: dict[int, int] = {
    FrameType.SYN_STREAM: 10,
    FrameType.SYN_REPLY: 4,
    FrameType.RST_STREAM: 8,
    FrameType.SETTINGS: 4,
    FrameType.PING: 4,
    FrameType.GOAWAY: 8,
    FrameType.HEADERS: 4,
    FrameType.WINDOW_UPDATE: 8,
}


class RstStatus(enum.IntEnum):
    PROTOCOL_ERROR = 1
    INVALID_STREAM = 2
    REFUSED_STREAM = 3
    CANCEL = 5
    STREAM_IN_USE = 8


@dataclass(frozen=True, slots=True)
class Frame:
    """One frame as read: ``kind`` None for a data frame, whose stream is
    ``stream_id``; a control frame's payload is left to its reader."""

    kind: int | None
    flags: int
    payload: bytes
    stream_id: int = 0

    @property
    def fin(self) -> bool:
        return bool(self.flags & FLAG_FIN)

    def word(self, index: int) -> int:
        """The payload's ``index``-th 32-bit word, without its top bit."""
        (value,) = struct.unpack_from(">I", self.payload, 4 * index)
        return int(value) & _STREAM_MASK


def parse_header(head: bytes) -> tuple[int | None, int, int, int]:
    """(type or None for data, flags, payload length, stream ID of a data
    frame) from a frame's first 8 bytes. ValueError for another version."""
    first, second = struct.unpack(">II", head)
    flags, length = second >> 24, second & MAX_PAYLOAD
    if first & 0x80000000:
        version = (first >> 16) & 0x7FFF
        if version != VERSION:
            raise ValueError(f"SPDY version {version} is not 3")
        return first & 0xFFFF, flags, length, 0
    return None, flags, length, first & _STREAM_MASK


def check_length(kind: int | None, length: int) -> None:
    """ValueError if a control frame's payload is too short for its type
    (frames of types unknown here are skipped, as SPDY asks)."""
    if kind is not None and length < _MIN_PAYLOAD.get(kind, 0):
        raise ValueError(f"a control frame of type {kind} with {length} bytes")


def control_frame(kind: FrameType, flags: int, payload: bytes) -> bytes:
    head = struct.pack(">HHI", _CONTROL | VERSION, kind, flags << 24 | len(payload))
    return head + payload


def data_frame(stream_id: int, flags: int, data: bytes) -> bytes:
    head = struct.pack(">II", stream_id & _STREAM_MASK, flags << 24 | len(data))
    return head + data


class HeaderCodec:
    """The two compression contexts of one connection."""

    def __init__(self) -> None:
        self._deflate = zlib.compressobj(zdict=SPDY3_DICTIONARY)
        self._inflate = zlib.decompressobj(zdict=SPDY3_DICTIONARY)

    def encode(self, headers: dict[str, str]) -> bytes:
        """A compressed block; names lowercased, as SPDY/3 wants them."""
        raw = [struct.pack(">I", len(headers))]
        for name, value in headers.items():
            for text in (name.lower().encode(), value.encode()):
                raw.append(struct.pack(">I", len(text)) + text)
        block = b"".join(raw)
        return self._deflate.compress(block) + self._deflate.flush(zlib.Z_SYNC_FLUSH)

    def decode(self, block: bytes) -> dict[str, str]:
        """The pairs of a received block; several values of one name (NUL
        separated on the wire) come as the first. ValueError if malformed."""
        try:
            raw = self._inflate.decompress(block)
        except zlib.error as e:
            raise ValueError(f"header block: {e}") from e
        headers: dict[str, str] = {}
        try:
            (count,) = struct.unpack_from(">I", raw)
            at = 4
            for _ in range(count):
                texts: list[str] = []
                for _ in range(2):
                    (size,) = struct.unpack_from(">I", raw, at)
                    texts.append(raw[at + 4 : at + 4 + size].decode("latin-1"))
                    at += 4 + size
                name, value = texts
                headers.setdefault(name.lower(), value.split("\0")[0])
        except struct.error as e:
            raise ValueError(f"header block is cut short: {e}") from e
        return headers
