"""Layer snapshots for overlayfs: one directory per layer, keyed by chain ID.

Each snapshot holds one layer's diff with overlayfs whiteouts
(``snapshots/HEX/fs``); a container's root stacks its image's snapshots as
lower directories. The chain ID names a layer together with everything under
it, as the OCI image spec defines it, so a layer shared by two images is
unpacked once.

A layer is unpacked into a temporary directory named after the unpacking
process and renamed into place when complete: a directory in place is always
whole, and the leftovers of a killed process are recognised and removed.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, cast

from servin_core import _process, log
from servin_core.errors import InvalidArgument
from servin_core.images.content import sha256
from servin_core.state.db import Database

if TYPE_CHECKING:
    from servin_core.images.unpack import LayerStats

__all__ = ["Snapshotter", "chain_ids", "diff_id_mismatch"]

_TEMP_PREFIX = ".tmp-"


def chain_ids(diff_ids: list[str]) -> list[str]:
    """The chain ID of each layer of a stack, bottom first."""
    chains: list[str] = []
    for diff_id in diff_ids:
        if not chains:
            chains.append(diff_id)
        else:
            text = f"{chains[-1]} {diff_id}".encode()
            chains.append("sha256:" + sha256(text).hexdigest())
    return chains


def diff_id_mismatch(layer: str, actual: str, diff_id: str) -> InvalidArgument:
    """The error for a layer whose content is not what its config says."""
    return InvalidArgument(
        "layer",
        layer,
        f"content digest {actual} differs from the diff ID {diff_id}"
        " in the image config",
    )


class _HashingReader(io.RawIOBase):
    """Passes bytes through while hashing them: the diff ID of a layer."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner
        self.hash = sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.hash.update(data)
        return n

    def digest(self) -> str:
        # Bytes after the tar end-of-archive marker count in the diff ID too.
        while chunk := self._inner.read(1 << 20):
            self.hash.update(chunk)
        return "sha256:" + self.hash.hexdigest()


class Snapshotter:
    def __init__(self, root: Path, db: Database) -> None:
        self.root = root
        self._db = db
        self.verified: set[tuple[str, str]] = set()
        """(blob, diff ID) pairs this process has seen to match."""
        root.mkdir(parents=True, exist_ok=True)

    def path(self, chain_id: str) -> Path:
        """The directory holding the layer's files (an overlay lower dir)."""
        return self.root / chain_id.removeprefix("sha256:") / "fs"

    def exists(self, chain_id: str) -> bool:
        return self.path(chain_id).is_dir()

    def unpack(
        self,
        blob: BinaryIO,
        *,
        chain_id: str,
        parent: str | None,
        diff_id: str,
        layer: str,
    ) -> LayerStats:
        """Unpack the (possibly compressed) layer ``blob`` as snapshot ``chain_id``.

        The uncompressed content must hash to ``diff_id``, as the image's
        config says; otherwise nothing is kept. ``layer`` (the blob digest)
        names the layer in errors.
        """
        # Imported here: every container start reads snapshot paths, only
        # a pull, load or import unpacks (tarfile and zstandard are slow
        # to import).
        from servin_core.images.compression import DECOMPRESSION_ERRORS, decompressed
        from servin_core.images.unpack import apply_layer

        temp = self._temp_path()
        (temp / "fs").mkdir(parents=True)
        try:
            hashing = _HashingReader(decompressed(blob))
            try:
                stats = apply_layer(
                    cast(BinaryIO, io.BufferedReader(hashing, 1 << 20)),
                    str(temp / "fs"),
                    ident=layer,
                )
                actual = hashing.digest()
            except DECOMPRESSION_ERRORS as e:
                reason = f"cannot decompress: {e or type(e).__name__}"
                raise InvalidArgument("layer", layer, reason) from e
            if actual != diff_id:
                raise diff_id_mismatch(layer, actual, diff_id)
            self.verified.add((layer, diff_id))
            final = self.root / chain_id.removeprefix("sha256:")
            try:
                os.rename(temp, final)
            except OSError:
                if not final.is_dir():
                    raise
                # Another process unpacked the same layer first: keep theirs.
                _remove_tree(temp)
        except BaseException:
            _remove_tree(temp)
            raise
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR IGNORE INTO snapshots"
                " (chain_id, parent, diff_id, size, created) VALUES (?, ?, ?, ?, ?)",
                (chain_id, parent, diff_id, stats.size, time.time()),
            )
        log.for_object(log.snapshots, "snapshot", chain_id).debug(
            "unpacked layer %s: %d entries, %d bytes", layer, stats.entries, stats.size
        )
        return stats

    def _temp_path(self) -> Path:
        token = f"{_process.own_token()}-{os.urandom(6).hex()}"
        return self.root / f"{_TEMP_PREFIX}{token}"

    def size(self, chain_id: str) -> int:
        row = self._db.query_one(
            "SELECT size FROM snapshots WHERE chain_id = ?", (chain_id,)
        )
        return int(row["size"]) if row else 0

    def chain_ids(self) -> list[str]:
        return [
            "sha256:" + entry.name
            for entry in os.scandir(self.root)
            if not entry.name.startswith(_TEMP_PREFIX)
        ]

    def remove(self, chain_id: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM snapshots WHERE chain_id = ?", (chain_id,))
        final = self.root / chain_id.removeprefix("sha256:")
        if final.exists():
            # Rename first, so that a half-removed snapshot is never in place.
            doomed = self._temp_path()
            os.rename(final, doomed)
            _remove_tree(doomed)
        log.for_object(log.snapshots, "snapshot", chain_id).debug("removed")

    def remove_stale(self) -> int:
        """Delete temporary directories whose unpacking process is gone."""
        removed = 0
        for entry in os.scandir(self.root):
            if not entry.name.startswith(_TEMP_PREFIX):
                continue
            owner = entry.name[len(_TEMP_PREFIX) :].rsplit("-", 1)[0]
            if not _process.is_alive(owner):
                _remove_tree(Path(entry.path))
                removed += 1
        if removed:
            log.snapshots.info("removed %d partial snapshots", removed)
        return removed


def _remove_tree(path: Path) -> None:
    """Remove ``path`` even where a layer made directories read-only, which
    stops a non-root user from removing their entries."""

    def retry_writable(name: str) -> None:
        os.chmod(os.path.dirname(name), 0o700)
        if os.path.isdir(name) and not os.path.islink(name):
            shutil.rmtree(name)
        else:
            os.unlink(name)

    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=lambda func, name, exc: retry_writable(name))
    else:
        shutil.rmtree(path, onerror=lambda func, name, info: retry_writable(name))
