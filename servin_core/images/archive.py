"""``save`` and ``load``: images to and from tar archives.

``save`` writes what docker 25 and later write: one tarball that is both a
docker-archive (``manifest.json``) and an OCI image layout (``oci-layout``,
``index.json``, ``blobs/sha256/``), so that docker, podman, skopeo and
containerd all read it. Blobs are written as they are stored, in one pass,
so the output may be a pipe.

``load`` reads either format, compressed or not, from a file or a pipe (a
pipe is first copied to an unnamed temporary file in the data directory,
which vanishes with its descriptor). Everything it stores is under one lease,
and every layer of every image is unpacked before the first image row is
written: a load that fails leaves nothing behind.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, BinaryIO

import zstandard

from servin_core.errors import InvalidArgument
from servin_core.images import mediatypes
from servin_core.images.archive_formats import plan_images
from servin_core.images.archive_reader import ArchiveReader, PlannedImage
from servin_core.images.archive_writer import blobs_of, write_archive
from servin_core.images.compression import compression_of, decompressed
from servin_core.images.create import (
    create_image,
    layer_stack,
    parse_manifest,
    progress_event,
    unpack_layer,
)
from servin_core.images.progress import (
    ProgressCallback,
    ProgressEvent,
    ignore_progress,
)
from servin_core.images.reference import Reference, parse_reference
from servin_core.images.store import Image
from servin_core.state.leases import Lease

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["load", "save"]

_COPY_SIZE = 1 << 20
_SPOOL_ERRORS = (EOFError, zlib.error, zstandard.ZstdError, tarfile.TarError)

# Saving


def save(core: Core, references: Sequence[str], out: BinaryIO) -> None:
    """Write the images ``references`` name to ``out`` as one tar archive.

    A name without a tag saves every tag of that repository, and an image
    named by ID is saved without tags, as docker does.
    """
    selected = _select(core, references)
    for digest in blobs_of(selected):
        core.content.size(digest)  # NotFound before anything is written
    write_archive(core, selected, out)


def _select(
    core: Core, references: Sequence[str]
) -> list[tuple[Image, list[Reference]]]:
    chosen: dict[str, tuple[Image, list[Reference]]] = {}
    for text in references:
        for image, tags in _resolve(core, text):
            _, known = chosen.setdefault(image.id, (image, []))
            known += [tag for tag in tags if tag not in known]
    if not chosen:
        raise InvalidArgument("save", "", "no image given")
    return list(chosen.values())


def _resolve(core: Core, text: str) -> list[tuple[Image, list[Reference]]]:
    try:
        ref: Reference | None = parse_reference(text, default_tag=False)
    except InvalidArgument:
        ref = None
    if ref is not None and not ref.tag and not ref.digest:
        tagged = [
            (image, [parse_reference(tag)])
            for image in core.images.list()
            for tag in image.tags
            if parse_reference(tag).repository == ref.repository
        ]
        if tagged:
            return tagged
    image = core.images.resolve(text)
    if ref is not None and ref.tag and str(ref) in image.tags:
        return [(image, [ref])]
    return [(image, [])]


# Loading


async def load(
    core: Core, source: BinaryIO, *, progress: ProgressCallback = ignore_progress
) -> list[str]:
    """Load every image of the archive ``source``.

    Returns what docker reports: the familiar name of each tag loaded
    (``busybox:latest``), or the image ID of an image without tags.
    """
    ident = _name_of(source)
    archive, temporary = await asyncio.to_thread(_spool, core, source, ident)
    try:
        reader = await asyncio.to_thread(ArchiveReader, archive, ident)
        try:
            plans = await asyncio.to_thread(plan_images, reader)
            return await _load_plans(core, reader, plans, progress)
        finally:
            reader.close()
    finally:
        if temporary:
            archive.close()


def _name_of(source: BinaryIO) -> str:
    name = getattr(source, "name", None)
    return name if isinstance(name, str) and name != "<stdin>" else "-"


def _spool(core: Core, source: BinaryIO, ident: str) -> tuple[BinaryIO, bool]:
    """A seekable, uncompressed view of ``source``; True if it is a copy."""
    if _seekable(source):
        start = source.tell()
        head = source.read(4)
        source.seek(start)
        if compression_of(head) == "none":
            return source, False
    copy = tempfile.TemporaryFile(dir=core.config.data_dir)  # noqa: SIM115
    try:
        shutil.copyfileobj(decompressed(source), copy, _COPY_SIZE)
        copy.seek(0)
    except _SPOOL_ERRORS as e:
        copy.close()
        raise InvalidArgument("archive", ident, f"cannot decompress: {e}") from e
    except BaseException:
        copy.close()
        raise
    return copy, True


def _seekable(source: BinaryIO) -> bool:
    try:
        return source.seekable()
    except (AttributeError, OSError, ValueError):
        return False


async def _load_plans(
    core: Core,
    reader: ArchiveReader,
    plans: list[PlannedImage],
    progress: ProgressCallback,
) -> list[str]:
    # Blobs are copied in a worker thread; its progress reaches the caller
    # on the event loop, like every other event.
    loop = asyncio.get_running_loop()

    def from_thread(event: ProgressEvent) -> None:
        loop.call_soon_threadsafe(progress, event)

    with core.leases.acquire() as lease:
        stored: list[tuple[PlannedImage, bytes, str]] = []
        for plan in plans:
            manifest, media_type = await asyncio.to_thread(
                _store_plan, core, lease, reader, plan, from_thread
            )
            stored.append((plan, manifest, media_type))

        # Every layer first: a hostile layer of the last image must not
        # leave the first one behind.
        for plan, manifest, media_type in stored:
            await _unpack_layers(core, lease, plan, manifest, media_type, progress)

        names: list[str] = []
        for plan, manifest, media_type in stored:
            image = await create_image(
                core,
                manifest,
                media_type,
                lease=lease,
                tags=plan.tags,
                action="load",
                progress=progress,
                reference=str(plan.tags[0]) if plan.tags else "",
            )
            names += [tag.familiar() for tag in plan.tags] or [image.id]
        return names


def _store_plan(
    core: Core,
    lease: Lease,
    reader: ArchiveReader,
    plan: PlannedImage,
    progress: ProgressCallback,
) -> tuple[bytes, str]:
    """Copy the plan's blobs into the store; returns its manifest."""
    reference = str(plan.tags[0]) if plan.tags else ""
    config_digest = reader.copy_blob(core, lease, plan.config)
    layers = []
    for layer in plan.layers:
        name = layer.digest or layer.path
        digest = reader.copy_blob(
            core,
            lease,
            layer,
            _reporter(progress, reference, name),
        )
        layers.append(
            {
                "mediaType": layer.media_type,
                "digest": digest,
                "size": core.content.size(digest),
            }
        )
    if plan.manifest is not None:
        return plan.manifest, plan.manifest_media_type
    manifest = {
        "schemaVersion": 2,
        "mediaType": mediatypes.OCI_MANIFEST,
        "config": {
            "mediaType": mediatypes.OCI_CONFIG,
            "digest": config_digest,
            "size": core.content.size(config_digest),
        },
        "layers": layers,
    }
    return json.dumps(manifest).encode(), mediatypes.OCI_MANIFEST


def _reporter(
    progress: ProgressCallback, reference: str, name: str
) -> Callable[[int, int], None]:
    def report(done: int, total: int) -> None:
        progress_event(progress, reference, name, "verifying", done, total)

    return report


async def _unpack_layers(
    core: Core,
    lease: Lease,
    plan: PlannedImage,
    manifest: bytes,
    media_type: str,
    progress: ProgressCallback,
) -> None:
    parsed = parse_manifest(manifest, media_type, ident=plan.ident)
    reference = str(plan.tags[0]) if plan.tags else ""
    for layer in layer_stack(core, parsed, ident=plan.ident):
        try:
            await unpack_layer(
                core, lease, layer, progress=progress, reference=reference
            )
        except InvalidArgument as e:
            raise InvalidArgument(
                "archive", plan.ident, f"layer {layer.blob}: {e.reason}"
            ) from e
