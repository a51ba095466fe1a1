"""Layer compression: gzip, zstd or none, told by the data's first bytes.

The magic number decides, not the media type: registries and tools are known
to label layers wrongly, and the bytes cannot lie.
"""

from __future__ import annotations

import gzip
import io
from typing import BinaryIO

import zstandard

__all__ = ["compression_of", "decompressed"]

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
    """A reader of ``raw``'s uncompressed bytes; ``raw`` must be buffered."""
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    kind = compression_of(buffered.peek(4)[:4])
    if kind == "gzip":
        return io.BufferedReader(gzip.GzipFile(fileobj=buffered), _READ_SIZE)  # type: ignore[arg-type]
    if kind == "zstd":
        reader = zstandard.ZstdDecompressor().stream_reader(
            buffered, read_size=_READ_SIZE, read_across_frames=True
        )
        return io.BufferedReader(reader, _READ_SIZE)
    return buffered
