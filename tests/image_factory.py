"""Test images made from scratch and stored through ``create_image``.

The layers are real tar archives; the config lists their real diff IDs; the
manifest is OCI or Docker schema 2, as asked. Nothing here is pulled from
anywhere, so tests control every byte.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping, Sequence

import zstandard

from servin_core.core import Core
from servin_core.images import mediatypes
from servin_core.images.create import create_image
from servin_core.images.reference import parse_reference
from servin_core.images.store import Image

__all__ = ["ImageBlobs", "build_image", "layer_tar", "store_image"]


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def layer_tar(files: Mapping[str, bytes]) -> bytes:
    """An uncompressed layer holding ``files`` (path -> content)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            info.mode = 0o644
            info.mtime = 1_700_000_000
            tar.addfile(info, io.BytesIO(content))
    return out.getvalue()


class ImageBlobs:
    """Every blob of one image, and its manifest."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.layers: list[str] = []
        self.config = ""
        self.manifest = b""
        self.media_type = ""

    @property
    def manifest_digest(self) -> str:
        return _digest(self.manifest)


def build_image(
    layers: Sequence[Mapping[str, bytes]],
    *,
    compression: str = "gzip",
    docker: bool = False,
    architecture: str = "amd64",
    variant: str | None = None,
) -> ImageBlobs:
    """The blobs of an image of ``layers``, compressed with ``compression``
    (``gzip``, ``zstd`` or ``none``), as Docker schema 2 or OCI."""
    image = ImageBlobs()
    descriptors = []
    diff_ids = []
    for files in layers:
        tar = layer_tar(files)
        diff_ids.append(_digest(tar))
        if compression == "gzip":
            blob = gzip.compress(tar, mtime=0)
            media_type = (
                mediatypes.DOCKER_LAYER_GZIP if docker else mediatypes.OCI_LAYER_GZIP
            )
        elif compression == "zstd":
            blob = zstandard.ZstdCompressor().compress(tar)
            media_type = mediatypes.OCI_LAYER_ZSTD
        else:
            blob = tar
            media_type = mediatypes.DOCKER_LAYER if docker else mediatypes.OCI_LAYER
        digest = _digest(blob)
        image.blobs[digest] = blob
        image.layers.append(digest)
        descriptors.append(
            {"mediaType": media_type, "digest": digest, "size": len(blob)}
        )

    config_doc: dict[str, object] = {
        "architecture": architecture,
        "os": "linux",
        "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    }
    if variant:
        config_doc["variant"] = variant
    config = json.dumps(config_doc).encode()
    image.config = _digest(config)
    image.blobs[image.config] = config
    image.media_type = mediatypes.DOCKER_MANIFEST if docker else mediatypes.OCI_MANIFEST
    manifest = {
        "schemaVersion": 2,
        "mediaType": image.media_type,
        "config": {
            "mediaType": mediatypes.DOCKER_CONFIG if docker else mediatypes.OCI_CONFIG,
            "digest": image.config,
            "size": len(config),
        },
        "layers": descriptors,
    }
    image.manifest = json.dumps(manifest, indent=3).encode()
    return image


async def store_image(core: Core, image: ImageBlobs, tag: str) -> Image:
    """Put ``image`` into ``core`` under the name ``tag``."""
    with core.leases.acquire() as lease:
        for digest, data in image.blobs.items():
            lease.add("blob", digest)
            core.content.put(data, digest)
        return await create_image(
            core,
            image.manifest,
            image.media_type,
            lease=lease,
            tags=[parse_reference(tag)],
            reference=tag,
        )
