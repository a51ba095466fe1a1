"""docker's multiplexed stream: each frame an 8-byte header, then the data.

The header is the stream's number (0 stdin, 1 stdout, 2 stderr), three
zero bytes, and the data's length as a big-endian 32-bit number. Streams
without a tty are framed so that the client can tell stdout from stderr;
with a tty there is one stream and it goes raw.
"""

from __future__ import annotations

import struct

__all__ = ["STDERR", "STDOUT", "frame"]

STDOUT = 1
STDERR = 2
_MAX = 1 << 20
"""Bytes in one frame at most, so a huge write does not become one buffer."""


def frame(stream: int, data: bytes) -> bytes:
    parts = []
    for start in range(0, len(data), _MAX):
        chunk = data[start : start + _MAX]
        parts.append(struct.pack(">BxxxI", stream, len(chunk)) + chunk)
    return b"".join(parts)
