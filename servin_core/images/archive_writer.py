"""Writing images as one tarball that is both a docker-archive and an OCI
image layout, the way docker 25 and later write ``docker save``.

The OCI half is ``oci-layout``, ``index.json`` (one descriptor per tag,
named by containerd's and OCI's annotations) and ``blobs/sha256/``; the
docker half is ``manifest.json``, whose paths point into the same blobs.
Layers are written as stored (compressed), which docker, podman and skopeo
read. Only sequential writes are made, so the output can be a pipe.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from servin_core.images import mediatypes
from servin_core.images.archive_formats import NAME_ANNOTATION, REF_NAME_ANNOTATION
from servin_core.images.reference import Reference
from servin_core.images.store import Image

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["Selection", "blobs_of", "write_archive"]

Selection = Sequence[tuple[Image, Sequence[Reference]]]
"""Images to write, each with the tags it is saved under (none: by ID)."""

_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'


def blobs_of(selection: Selection) -> list[str]:
    """Every blob the images need, each once, manifests and configs first."""
    blobs: dict[str, None] = {}
    for image, _ in selection:
        blobs[image.manifest_digest] = None
        blobs[image.id] = None
        blobs.update((layer.digest, None) for layer in image.layers)
    return list(blobs)


def write_archive(core: Core, selection: Selection, out: BinaryIO) -> None:
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, "oci-layout", _LAYOUT)
        for directory in ("blobs", "blobs/sha256"):
            info = tarfile.TarInfo(directory)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)

        for digest in blobs_of(selection):
            with core.content.open(digest) as f:
                info = tarfile.TarInfo(_blob_path(digest))
                info.size, info.mode = core.content.size(digest), 0o644
                tar.addfile(info, f)

        _add_bytes(tar, "index.json", _json(_oci_index(core, selection)))
        _add_bytes(tar, "manifest.json", _json(_docker_manifest(selection)))


def _blob_path(digest: str) -> str:
    return "blobs/sha256/" + digest.removeprefix("sha256:")


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def _oci_index(core: Core, selection: Selection) -> dict[str, Any]:
    manifests = []
    for image, tags in selection:
        descriptor = {
            "mediaType": image.manifest_media_type,
            "digest": image.manifest_digest,
            "size": core.content.size(image.manifest_digest),
        }
        if not tags:
            manifests.append(descriptor)
        for tag in tags:
            annotations = {NAME_ANNOTATION: str(tag), REF_NAME_ANNOTATION: tag.tag}
            manifests.append({**descriptor, "annotations": annotations})
    return {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_INDEX,
        "manifests": manifests,
    }


def _docker_manifest(selection: Selection) -> list[dict[str, Any]]:
    # docker writes RepoTags as null for an image saved by ID.
    return [
        {
            "Config": _blob_path(image.id),
            "RepoTags": [tag.familiar() for tag in tags] or None,
            "Layers": [_blob_path(layer.digest) for layer in image.layers],
        }
        for image, tags in selection
    ]
