"""Importing root filesystem tarballs as an image, as ``docker import`` does.

Each source is one layer: a tar archive, uncompressed or compressed with
gzip or zstd (told by its first bytes). It is read once: as the bytes go by
they are hashed into the layer's diff ID, recompressed with gzip into a blob
and parsed as tar, so a source that is not a tar archive fails before any
blob is stored. The config and manifest made for the layers are ordinary OCI
ones; ``create_image`` then unpacks the layers, which is where a hostile
entry (``../x``, a path through a symlink) is refused.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import tarfile
import zlib
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

import zstandard

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument
from servin_core.images import mediatypes
from servin_core.images.changes import apply_changes
from servin_core.images.compression import decompressed
from servin_core.images.content import digest_of
from servin_core.images.create import create_image
from servin_core.images.platform import Platform, host_platform
from servin_core.images.reference import Reference, parse_reference
from servin_core.images.store import Image
from servin_core.state.leases import Lease

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["go_timestamp", "import_image", "store_layer"]

_READ_SIZE = 1 << 20
# Failures of reading a source: broken tar, gzip or zstd data, or I/O.
_READ_ERRORS = (tarfile.TarError, OSError, EOFError, zlib.error, zstandard.ZstdError)


@dataclass(frozen=True, slots=True)
class _StoredLayer:
    source: str
    digest: str
    size: int
    diff_id: str


async def import_image(
    core: Core,
    source: BinaryIO | Sequence[BinaryIO],
    reference: str | None = None,
    *,
    changes: Sequence[str] = (),
    message: str | None = None,
    platform: str | None = None,
) -> Image:
    """Make an image whose layers are ``source`` (one or several tarballs).

    Without ``reference`` the image has no tag, as with docker. ``changes``
    are Dockerfile instructions (``CMD``, ``ENV``, ...) for its config.
    """
    sources = list(source) if isinstance(source, Sequence) else [source]
    if not sources:
        raise InvalidArgument("import", "", "no source given")
    tag = _tag_of(reference)
    container_config = apply_changes(changes)
    target = Platform.parse(platform) if platform else host_platform()

    with core.leases.acquire() as lease:
        layers: list[_StoredLayer] = []
        for position, src in enumerate(sources):
            name = _name_of(src, position, len(sources))
            layer = await asyncio.to_thread(
                store_layer,
                core,
                lease,
                src,
                name,
                core.config.layer_compression_level,
            )
            layers.append(layer)

        config = _image_config(layers, container_config, target, message)
        config_bytes = json.dumps(config, separators=(",", ":")).encode()
        config_digest = digest_of(config_bytes)
        lease.add("blob", config_digest)
        core.content.put(config_bytes, config_digest)

        manifest = _manifest(config_digest, len(config_bytes), layers)
        try:
            return await create_image(
                core,
                manifest,
                mediatypes.OCI_MANIFEST,
                lease=lease,
                tags=[tag] if tag else [],
                action="import",
                reference=str(tag) if tag else "",
            )
        except InvalidArgument as e:
            named = _named_after_source(e, layers)
            if named is e:
                raise
            raise named from e


def _tag_of(reference: str | None) -> Reference | None:
    if not reference:
        return None
    ref = parse_reference(reference)
    if ref.digest:
        raise InvalidArgument(
            "reference", reference, "an imported image is tagged, not named by digest"
        )
    return ref


def _name_of(src: BinaryIO, position: int, count: int) -> str:
    """How errors and the history name a source: its path, or its place."""
    name = getattr(src, "name", None)
    if isinstance(name, str) and name:
        return "-" if name == "<stdin>" else name
    return f"source {position + 1}" if count > 1 else "-"


class _Tee:
    """A reader that hands every chunk it reads to ``sink`` as well."""

    def __init__(self, inner: BinaryIO, sink: Callable[[bytes], None]) -> None:
        self._inner = inner
        self._sink = sink

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read(size if size >= 0 else _READ_SIZE)
        if data:
            self._sink(data)
        return data

    def drain(self) -> None:
        # Bytes after the end-of-archive marker are part of the diff ID too.
        while self.read(_READ_SIZE):
            pass


def store_layer(
    core: Core, lease: Lease, src: BinaryIO, name: str, level: int
) -> _StoredLayer:
    """Read ``src`` once: diff ID, gzip blob and tar validation together."""
    diff_hash, blob_hash = hashlib.sha256(), hashlib.sha256()
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    with core.content.writer() as writer:

        def emit(compressed: bytes) -> None:
            if compressed:
                blob_hash.update(compressed)
                writer.write(compressed)

        def sink(chunk: bytes) -> None:
            diff_hash.update(chunk)
            emit(compressor.compress(chunk))

        try:
            tee = _Tee(decompressed(src), sink)
            with tarfile.open(fileobj=cast(IO[bytes], tee), mode="r|") as tar:
                for member in tar:
                    _read_through(tar, member)
            tee.drain()
        except _READ_ERRORS as e:
            raise InvalidArgument(
                "import", name, f"not a tar archive (plain, gzip or zstd): {e}"
            ) from e
        emit(compressor.flush())

        digest = "sha256:" + blob_hash.hexdigest()
        lease.add("blob", digest)
        writer.commit()
        return _StoredLayer(
            name, digest, writer.written, "sha256:" + diff_hash.hexdigest()
        )


def _read_through(tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
    """Read a member's data, which tarfile checks for truncation; skipping
    it in a stream would let a short archive pass."""
    if not member.isreg():
        return
    data = tar.extractfile(member)
    assert data is not None, "a regular member has data"
    while data.read(_READ_SIZE):
        pass


def _image_config(
    layers: list[_StoredLayer],
    container_config: dict[str, Any],
    target: Platform,
    message: str | None,
) -> dict[str, Any]:
    now = go_timestamp(datetime.now(UTC))
    config: dict[str, Any] = {
        "created": now,
        "architecture": target.architecture,
        "os": target.os,
    }
    if target.variant:
        config["variant"] = target.variant
    config["config"] = container_config
    config["rootfs"] = {
        "type": "layers",
        "diff_ids": [layer.diff_id for layer in layers],
    }
    config["history"] = [
        {
            "created": now,
            "created_by": f"import from {layer.source}",
            "comment": message or f"Imported from {layer.source}",
        }
        for layer in layers
    ]
    return config


def _manifest(
    config_digest: str, config_size: int, layers: list[_StoredLayer]
) -> bytes:
    manifest = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {
            "mediaType": mediatypes.OCI_CONFIG,
            "digest": config_digest,
            "size": config_size,
        },
        "layers": [
            {
                "mediaType": mediatypes.OCI_LAYER_GZIP,
                "digest": layer.digest,
                "size": layer.size,
            }
            for layer in layers
        ],
    }
    return json.dumps(manifest, separators=(",", ":")).encode()


def _named_after_source(
    error: InvalidArgument, layers: list[_StoredLayer]
) -> InvalidArgument:
    """An unpacking error, saying which source held the offending layer."""
    for layer in layers:
        if error.kind == "layer" and error.ident == layer.digest:
            return InvalidArgument(
                "import", layer.source, f"layer {layer.digest}: {error.reason}"
            )
    return error


def go_timestamp(moment: datetime) -> str:
    """``moment`` in UTC as Go's RFC 3339 with nanoseconds writes it: no
    trailing zeros in the fraction. Go tools (skopeo, docker) re-encode
    configs that way, and a config must survive that unchanged to keep its
    digest, which is the image's ID."""
    text = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return text.rstrip("0").rstrip(".") + "Z"
