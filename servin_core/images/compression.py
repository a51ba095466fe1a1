"""Layer compression: gzip, zstd or none, told by the data's first bytes.

The magic number decides, not the media type: registries and tools are known
to label layers wrongly, and the bytes cannot lie.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import zlib
from typing import BinaryIO, cast

import zstandard

__all__ = [
    "DECOMPRESSION_ERRORS",
    "compression_of",
    "decompressed",
    "uncompressed_digest",
]

DECOMPRESSION_ERRORS: tuple[type[Exception], ...] = (
    EOFError,
    zlib.error,
    gzip.BadGzipFile,
    zstandard.ZstdError,
)
"""What reading corrupt or truncated compressed data raises."""

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_READ_SIZE = 1 << 20


def compression_of(head: bytes) -> str:
    """``gzip``, ``zstd`` or ``none`` for data starting with ``head``."""
    if head.startswith(_GZIP_MAGIC):
        return "gzip"
    if head.startswith(_ZSTD_MAGIC):
        return "zstd"
    return "none"


def decompressed(raw: BinaryIO) -> BinaryIO:
    """A reader of ``raw``'s uncompressed bytes."""
    if isinstance(raw, io.BufferedReader):
        buffered = raw
    else:
        buffered = io.BufferedReader(cast(io.RawIOBase, raw), _READ_SIZE)
    kind = compression_of(buffered.peek(4)[:4])
    if kind == "gzip":
        return cast(BinaryIO, io.BufferedReader(_GzipReader(buffered), _READ_SIZE))
    if kind == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(
            buffered, read_size=_READ_SIZE, read_across_frames=True
        )
        return cast(BinaryIO, io.BufferedReader(reader, _READ_SIZE))
    return cast(BinaryIO, buffered)


class _GzipReader(io.RawIOBase):
    """gzip decompression straight from zlib, in large reads.

    Python's GzipFile reads its input 8 KiB at a time through several layers
    of Python; here zlib alone inflates (checking each member's CRC itself),
    member after member, and a stream that ends inside a member fails.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._inflater = zlib.decompressobj(wbits=31)
        self._pending = b""
        self._member_started = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while True:
            if self._inflater.eof:
                rest = self._inflater.unused_data + self._pending
                # A new member may follow; zero bytes may pad the end.
                self._pending = rest.lstrip(b"\0")
                self._inflater = zlib.decompressobj(wbits=31)
                self._member_started = False
            if not self._pending:
                self._pending = self._raw.read(_READ_SIZE)
                if not self._pending:
                    if self._member_started:
                        raise EOFError("compressed stream ended inside a member")
                    return 0
            self._member_started = True
            out = self._inflater.decompress(self._pending, len(buffer))
            self._pending = self._inflater.unconsumed_tail
            if out:
                buffer[: len(out)] = out
                return len(out)


def uncompressed_digest(raw: BinaryIO) -> str:
    """The sha256 digest of ``raw``'s uncompressed bytes (a layer's diff ID)."""
    hasher = hashlib.sha256()
    reader = decompressed(raw)
    while chunk := reader.read(_READ_SIZE):
        hasher.update(chunk)
    return "sha256:" + hasher.hexdigest()
