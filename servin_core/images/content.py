"""The content store: blobs addressed by their digest.

A blob is written to a temporary file under ``ingest/``, hashed as it is
written, fsynced, checked against the digest it should have and only then
renamed into ``blobs/sha256/``. A blob whose digest does not match is never
stored. Temporary files are named after their owner process, so the leftovers
of a killed process are recognised and removed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from servin_core import _process, log
from servin_core.errors import InvalidArgument, NotFound
from servin_core.images.reference import parse_digest

if TYPE_CHECKING:
    import hashlib

__all__ = ["BlobWriter", "ContentStore", "digest_of", "sha256"]


def digest_of(data: bytes) -> str:
    return "sha256:" + sha256(data).hexdigest()


def sha256(data: bytes = b"") -> hashlib._Hash:
    # hashlib loads OpenSSL's libcrypto (about 2 ms): imported when a blob
    # is hashed, not by every command that opens the store.
    import hashlib

    return hashlib.sha256(data)


class BlobWriter:
    """Receives one blob's bytes; :meth:`commit` verifies and stores it."""

    def __init__(
        self, store: ContentStore, expected: str | None, expected_size: int | None
    ) -> None:
        self._store = store
        self.expected = expected
        self.expected_size = expected_size
        self._hash = sha256()
        self.written = 0
        name = f"{_process.own_token()}-{os.urandom(8).hex()}"
        self.temp_path = store.ingest_dir / name
        # Unbuffered: callers write large chunks, and what progress reports as
        # written is then on disk.
        file = open(self.temp_path, "xb", buffering=0)  # noqa: SIM115
        self._file: BinaryIO | None = file

    def write(self, data: bytes | memoryview) -> None:
        assert self._file is not None, "blob writer is closed"
        self._file.write(data)
        self._hash.update(data)
        self.written += len(data)
        if self.expected_size is not None and self.written > self.expected_size:
            self.abort()
            raise InvalidArgument(
                "blob",
                self.expected or "",
                f"more data than the {self.expected_size} bytes announced",
            )

    def commit(self) -> str:
        """Verify, fsync and store the blob; returns its digest."""
        assert self._file is not None, "blob writer is closed"
        digest = "sha256:" + self._hash.hexdigest()
        ident = self.expected or digest
        if self.expected_size is not None and self.written != self.expected_size:
            self.abort()
            raise InvalidArgument(
                "blob",
                ident,
                f"truncated: got {self.written} of {self.expected_size} bytes",
            )
        if self.expected is not None and digest != self.expected:
            self.abort()
            raise InvalidArgument(
                "blob", ident, f"digest mismatch: content is {digest}"
            )
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        os.rename(self.temp_path, self._store.path(digest))
        self._store.sync_dir()
        return digest

    def abort(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.temp_path.unlink(missing_ok=True)

    def __enter__(self) -> BlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.abort()


class ContentStore:
    """Blobs under ``root``: ``blobs/sha256/HEX`` and ``ingest/`` for writes."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.blob_dir = root / "blobs" / "sha256"
        self.ingest_dir = root / "ingest"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.ingest_dir.mkdir(parents=True, exist_ok=True)

    def path(self, digest: str) -> Path:
        algorithm, _, hexpart = parse_digest(digest).partition(":")
        if algorithm != "sha256":
            raise InvalidArgument("blob", digest, "only sha256 blobs can be stored")
        return self.blob_dir / hexpart

    def exists(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: str) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise NotFound("blob", digest, "not in the content store") from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise NotFound("blob", digest, "not in the content store") from None

    def read(self, digest: str) -> bytes:
        with self.open(digest) as f:
            return f.read()

    def writer(
        self, expected: str | None = None, expected_size: int | None = None
    ) -> BlobWriter:
        if expected is not None:
            self.path(expected)  # validates the digest before any I/O
        return BlobWriter(self, expected, expected_size)

    def put(self, data: bytes, expected: str | None = None) -> str:
        with self.writer(expected, None if expected is None else len(data)) as w:
            w.write(data)
            return w.commit()

    def delete(self, digest: str) -> None:
        self.path(digest).unlink(missing_ok=True)
        log.content.debug("deleted blob %s", digest)

    def digests(self) -> Iterator[str]:
        for entry in os.scandir(self.blob_dir):
            yield f"sha256:{entry.name}"

    def sync_dir(self) -> None:
        fd = os.open(self.blob_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def remove_stale_ingests(self) -> int:
        """Delete temporary files whose writer process is gone."""
        removed = 0
        for entry in os.scandir(self.ingest_dir):
            owner = entry.name.rsplit("-", 1)[0]
            if not _process.is_alive(owner):
                os.unlink(entry.path)
                removed += 1
        if removed:
            log.content.info("removed %d stale partial blobs", removed)
        return removed
