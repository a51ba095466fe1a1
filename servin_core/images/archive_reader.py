"""Reading image archives as hostile input: docker-archive and OCI layout.

An archive is never extracted. Its members are looked up by name in an
index of the tar, paths that ``manifest.json`` names are refused if they are
absolute or climb with ``..``, in-archive links are followed lexically and
only inside the archive, and every blob named by a digest is checked against
it as it is copied into the content store. What is read is turned into
:class:`PlannedImage` values; ``archive.load`` stores and creates them.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import tarfile
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from servin_core._dataclass import dataclass, field
from servin_core.errors import InvalidArgument
from servin_core.images import mediatypes
from servin_core.images.compression import compression_of
from servin_core.images.reference import Reference
from servin_core.state.leases import Lease

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["ArchiveReader", "BlobSource", "PlannedImage", "archive_path"]

_COPY_SIZE = 1 << 20
_MAX_JSON = 32 << 20  # manifests, indexes and configs are small; refuse bombs
_MAX_LINKS = 16
_BLOB_PATH = re.compile(r"blobs/sha256/([0-9a-f]{64})")
_LEGACY_CONFIG = re.compile(r"([0-9a-f]{64})\.json")

_LAYER_TYPES = {
    "none": mediatypes.OCI_LAYER,
    "gzip": mediatypes.OCI_LAYER_GZIP,
    "zstd": mediatypes.OCI_LAYER_ZSTD,
}


@dataclass(frozen=True, slots=True)
class BlobSource:
    """A blob inside the archive: its member name and what it must be."""

    path: str
    digest: str | None = None
    """The digest the archive claims for it; None when it claims none
    (``<dir>/layer.tar`` of the legacy docker-archive)."""
    size: int | None = None
    media_type: str = ""


@dataclass(slots=True)
class PlannedImage:
    ident: str
    """Where the image is described, for errors: ``manifest.json entry 1``."""
    config: BlobSource
    layers: list[BlobSource]
    tags: list[Reference] = field(default_factory=list)
    manifest: bytes | None = None
    """The archive's own manifest; None when one must be made (docker-archive)."""
    manifest_media_type: str = ""


def archive_path(value: Any, ident: str) -> str:
    """A member path named inside the archive, refused if it could escape."""
    if not isinstance(value, str) or not value:
        raise InvalidArgument("archive", ident, f"invalid path {value!r}")
    if value.startswith("/"):
        raise InvalidArgument("archive", ident, f"absolute path {value!r}")
    parts = [part for part in value.split("/") if part not in ("", ".")]
    if ".." in parts or not parts:
        raise InvalidArgument("archive", ident, f"path {value!r} leaves the archive")
    return "/".join(parts)


def claimed_digest(path: str) -> str | None:
    """The digest a member's name claims: ``blobs/sha256/HEX``, ``HEX.json``."""
    match = _BLOB_PATH.fullmatch(path) or _LEGACY_CONFIG.fullmatch(path)
    return f"sha256:{match.group(1)}" if match else None


class ArchiveReader:
    """Random access to the members of an uncompressed, seekable tar."""

    def __init__(self, fileobj: BinaryIO, ident: str) -> None:
        self.ident = ident
        try:
            self._tar = tarfile.open(fileobj=fileobj, mode="r:")  # noqa: SIM115
            members = self._tar.getmembers()
        except (tarfile.TarError, EOFError) as e:
            raise InvalidArgument("archive", ident, f"not a tar archive: {e}") from e
        self._members: dict[str, tarfile.TarInfo] = {}
        for member in members:
            parts = [p for p in member.name.split("/") if p not in ("", ".")]
            if parts and ".." not in parts:
                self._members["/".join(parts)] = member  # the last one wins, as in tar

    def close(self) -> None:
        self._tar.close()

    def has(self, path: str) -> bool:
        return path in self._members

    def member(self, path: str) -> tarfile.TarInfo:
        """The regular file at ``path``, through links inside the archive."""
        name = path
        for _ in range(_MAX_LINKS):
            member = self._members.get(name)
            if member is None:
                raise InvalidArgument("archive", self.ident, f"no member {path!r}")
            if member.isreg():
                return member
            if member.issym():
                target = posixpath.join(posixpath.dirname(name), member.linkname)
            elif member.islnk():
                target = member.linkname
            else:
                raise InvalidArgument(
                    "archive", self.ident, f"member {name!r} is not a regular file"
                )
            name = archive_path(target, f"{self.ident} (link {name!r})")
        raise InvalidArgument("archive", self.ident, f"too many links at {path!r}")

    def open(self, path: str) -> BinaryIO:
        stream = self._tar.extractfile(self.member(path))
        assert stream is not None, "member() returns regular files only"
        return cast(BinaryIO, stream)

    def size(self, path: str) -> int:
        return self.member(path).size

    def head(self, path: str) -> bytes:
        with self.open(path) as f:
            return f.read(8)

    def read(self, path: str, *, digest: str | None = None) -> bytes:
        """A small member (JSON), checked against ``digest`` if given."""
        if self.size(path) > _MAX_JSON:
            raise InvalidArgument(
                "archive", self.ident, f"{path!r} is too large for a manifest or config"
            )
        with self.open(path) as f:
            data = f.read()
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        if digest is not None and actual != digest:
            raise InvalidArgument(
                "archive", self.ident, f"{path!r} has digest {actual}, not {digest}"
            )
        return data

    def read_json(self, path: str, *, digest: str | None = None) -> Any:
        try:
            return json.loads(self.read(path, digest=digest))
        except ValueError as e:
            raise InvalidArgument(
                "archive", self.ident, f"{path!r} is not valid JSON: {e}"
            ) from e

    def copy_blob(
        self,
        core: Core,
        lease: Lease,
        blob: BlobSource,
        on_progress: Callable[[int, int], None] = lambda done, total: None,
    ) -> str:
        """Store ``blob`` under ``lease``, verified; returns its digest."""
        member = self.member(blob.path)
        if blob.size is not None and member.size != blob.size:
            raise InvalidArgument(
                "archive",
                self.ident,
                f"{blob.path!r} has {member.size} bytes, not {blob.size}",
            )
        hasher, done = hashlib.sha256(), 0
        with self.open(blob.path) as src, core.content.writer(None, member.size) as w:
            while chunk := src.read(_COPY_SIZE):
                hasher.update(chunk)
                w.write(chunk)
                done += len(chunk)
                on_progress(done, member.size)
            digest = "sha256:" + hasher.hexdigest()
            if blob.digest is not None and digest != blob.digest:
                raise InvalidArgument(
                    "archive",
                    self.ident,
                    f"{blob.path!r} is corrupt: its digest is {digest},"
                    f" not {blob.digest}",
                )
            lease.add("blob", digest)
            w.commit()
        return digest

    def layer_media_type(self, path: str) -> str:
        return _LAYER_TYPES[compression_of(self.head(path))]
