"""Making an image from blobs in the content store: the last step of pull,
load and import.

The manifest, its config and its layer blobs are already stored under the
caller's lease. Each missing layer is unpacked into a snapshot (its content
checked against the config's diff ID), then every row of the image is
written in one transaction. Until that transaction commits, no listing shows
the image; if anything fails, the caller's lease collects what was written.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any

from servin_core import log
from servin_core._dataclass import dataclass
from servin_core._tasks import run_all
from servin_core.errors import InvalidArgument
from servin_core.images import mediatypes
from servin_core.images.compression import DECOMPRESSION_ERRORS, uncompressed_digest
from servin_core.images.content import digest_of
from servin_core.images.progress import (
    Action,
    ProgressCallback,
    ProgressEvent,
    ignore_progress,
)
from servin_core.images.reference import Reference, parse_digest
from servin_core.images.snapshots import chain_ids, diff_id_mismatch
from servin_core.images.store import Image, Layer
from servin_core.state.leases import Lease

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = [
    "UNPACK_CONCURRENCY",
    "Descriptor",
    "ParsedManifest",
    "StackLayer",
    "create_image",
    "layer_stack",
    "parse_manifest",
    "progress_event",
    "read_config",
    "unpack_layer",
    "verify_diff_id",
]


UNPACK_CONCURRENCY = 2
"""Layers unpacked at once: one thread each, on a machine of a few cores."""


@dataclass(frozen=True, slots=True)
class Descriptor:
    media_type: str
    digest: str
    size: int


@dataclass(frozen=True, slots=True)
class ParsedManifest:
    """An image manifest whose descriptors have been checked."""

    media_type: str
    config: Descriptor
    layers: tuple[Descriptor, ...]


def parse_manifest(data: bytes, media_type: str, *, ident: str) -> ParsedManifest:
    """Check an image manifest (OCI or Docker schema 2) and its descriptors."""
    try:
        manifest = json.loads(data)
    except ValueError as e:
        raise InvalidArgument("manifest", ident, f"not valid JSON: {e}") from e
    if not isinstance(manifest, dict):
        raise InvalidArgument("manifest", ident, "not a JSON object")
    media_type = manifest.get("mediaType") or media_type
    if media_type not in mediatypes.MANIFEST_TYPES:
        raise InvalidArgument(
            "manifest", ident, f"unsupported media type {media_type!r}"
        )
    if manifest.get("schemaVersion") != 2:
        raise InvalidArgument("manifest", ident, "schemaVersion is not 2")
    config = _descriptor(manifest.get("config"), ident)
    if config.media_type not in mediatypes.CONFIG_TYPES:
        raise InvalidArgument(
            "manifest",
            ident,
            f"config media type {config.media_type!r} is not an image config",
        )
    raw_layers = manifest.get("layers")
    if not isinstance(raw_layers, list):
        raise InvalidArgument("manifest", ident, "no list of layers")
    layers = tuple(_descriptor(item, ident) for item in raw_layers)
    for layer in layers:
        if layer.media_type not in mediatypes.LAYER_TYPES:
            raise InvalidArgument(
                "manifest",
                ident,
                f"layer {layer.digest} has unsupported media type {layer.media_type!r}",
            )
    return ParsedManifest(media_type, config, layers)


def _descriptor(value: Any, ident: str) -> Descriptor:
    if not isinstance(value, dict):
        raise InvalidArgument("manifest", ident, "malformed descriptor")
    media_type, digest, size = (
        value.get("mediaType"),
        value.get("digest"),
        value.get("size"),
    )
    if not isinstance(media_type, str) or not isinstance(digest, str):
        raise InvalidArgument("manifest", ident, "descriptor without type or digest")
    if not isinstance(size, int) or size < 0:
        raise InvalidArgument("manifest", ident, f"descriptor {digest}: bad size")
    parse_digest(digest)
    return Descriptor(media_type, digest, size)


def read_config(core: Core, manifest: ParsedManifest, *, ident: str) -> dict[str, Any]:
    try:
        config = json.loads(core.content.read(manifest.config.digest))
    except ValueError as e:
        raise InvalidArgument("image config", manifest.config.digest, str(e)) from e
    if not isinstance(config, dict):
        raise InvalidArgument("image config", manifest.config.digest, "not an object")
    diff_ids = config.get("rootfs", {}).get("diff_ids")
    if not isinstance(diff_ids, list) or len(diff_ids) != len(manifest.layers):
        raise InvalidArgument(
            "image config",
            manifest.config.digest,
            f"lists {len(diff_ids or [])} diff IDs for {len(manifest.layers)} layers",
        )
    for diff_id in diff_ids:
        parse_digest(diff_id)
    return config


@dataclass(frozen=True, slots=True)
class StackLayer:
    """One layer of an image's stack: its blob and the snapshot it makes."""

    blob: str
    diff_id: str
    chain_id: str
    parent: str | None


def layer_stack(
    core: Core, manifest: ParsedManifest, *, ident: str
) -> list[StackLayer]:
    """The layers of ``manifest``, bottom first, with their config's diff IDs."""
    diff_ids: list[str] = read_config(core, manifest, ident=ident)["rootfs"]["diff_ids"]
    chains = chain_ids(diff_ids)
    return [
        StackLayer(d.digest, diff_ids[i], chains[i], chains[i - 1] if i else None)
        for i, d in enumerate(manifest.layers)
    ]


async def unpack_layer(
    core: Core,
    lease: Lease,
    layer: StackLayer,
    *,
    progress: ProgressCallback = ignore_progress,
    reference: str = "",
    slots: asyncio.Semaphore | None = None,
) -> None:
    """Unpack one stored layer blob into its snapshot, unless it exists.

    When the snapshot exists, a blob not yet known as that layer is still
    checked against its diff ID: a registry or an archive could pair a known
    layer with other bytes, which a later push or save would hand out.
    ``slots`` bounds how many layers unpack at once: each is a thread busy
    with decompression, hashing and file writes.
    """
    async with slots or contextlib.nullcontext():
        if core.snapshots.exists(layer.chain_id):
            if not _known_layer(core, layer):
                await asyncio.to_thread(verify_diff_id, core, layer.blob, layer.diff_id)
        else:
            lease.add("snapshot", layer.chain_id)
            total = core.content.size(layer.blob)
            progress_event(progress, reference, layer.blob, "extracting", 0, total)
            await asyncio.to_thread(_unpack, core, layer)
    progress_event(progress, reference, layer.blob, "complete")


def _unpack(core: Core, layer: StackLayer) -> None:
    with core.content.open(layer.blob) as f:
        core.snapshots.unpack(
            f,
            chain_id=layer.chain_id,
            parent=layer.parent,
            diff_id=layer.diff_id,
            layer=layer.blob,
        )


def _known_layer(core: Core, layer: StackLayer) -> bool:
    if (layer.blob, layer.diff_id) in core.snapshots.verified:
        return True
    row = core.db.query_one(
        "SELECT 1 FROM image_layers WHERE digest = ? AND diff_id = ? LIMIT 1",
        (layer.blob, layer.diff_id),
    )
    return row is not None


def verify_diff_id(core: Core, blob: str, diff_id: str) -> None:
    """Check that the stored layer ``blob`` uncompresses to ``diff_id``."""
    try:
        with core.content.open(blob) as f:
            actual = uncompressed_digest(f)
    except DECOMPRESSION_ERRORS as e:
        reason = f"cannot decompress: {e or type(e).__name__}"
        raise InvalidArgument("layer", blob, reason) from e
    if actual != diff_id:
        raise diff_id_mismatch(blob, actual, diff_id)
    core.snapshots.verified.add((blob, diff_id))


def progress_event(
    progress: ProgressCallback,
    reference: str,
    layer: str,
    action: Action,
    current: int = 0,
    total: int = 0,
) -> None:
    progress(ProgressEvent(reference, layer, action, current, total))


async def create_image(
    core: Core,
    manifest: bytes,
    media_type: str,
    *,
    lease: Lease,
    tags: Sequence[Reference] = (),
    repo_digests: Sequence[Reference] = (),
    extra_blobs: Sequence[str] = (),
    action: str = "create",
    progress: ProgressCallback = ignore_progress,
    reference: str = "",
    unpacked: Collection[str] = (),
) -> Image:
    """Unpack and record the image that ``manifest`` describes.

    ``action`` names the event recorded (``pull``, ``load``, ``import``).
    ``unpacked`` lists chain IDs the caller has already unpacked (or
    verified) with :func:`unpack_layer` under the same lease.
    """
    manifest_digest = digest_of(manifest)
    parsed = parse_manifest(manifest, media_type, ident=reference or manifest_digest)
    if not core.content.exists(manifest_digest):
        lease.add("blob", manifest_digest)
        core.content.put(manifest, manifest_digest)
    config = read_config(core, parsed, ident=reference)
    stack = layer_stack(core, parsed, ident=reference)

    # Each snapshot holds one layer's diff alone, so layers unpack in any
    # order, side by side.
    slots = asyncio.Semaphore(UNPACK_CONCURRENCY)
    await run_all(
        [
            unpack_layer(
                core, lease, layer, progress=progress, reference=reference, slots=slots
            )
            for layer in stack
            if layer.chain_id not in unpacked
        ]
    )

    image = Image(
        id=parsed.config.digest,
        manifest_digest=manifest_digest,
        manifest_media_type=parsed.media_type,
        created=config.get("created"),
        os=str(config.get("os") or "linux"),
        architecture=str(config.get("architecture") or "amd64"),
        variant=config.get("variant"),
        size=sum(core.snapshots.size(layer.chain_id) for layer in stack),
        added_at=time.time(),
        tags=tuple(str(tag) for tag in tags),
        repo_digests=tuple(str(ref) for ref in repo_digests),
        layers=tuple(
            Layer(d.digest, d.media_type, d.size, layer.diff_id, layer.chain_id)
            for d, layer in zip(parsed.layers, stack, strict=True)
        ),
    )
    with core.db.write() as conn:
        core.images.add(conn, image, extra_blobs=extra_blobs)
        attributes = {"name": reference} if reference else {}
        core.events.record(conn, "image", action, image.id, **attributes)
    log.for_object(log.images, "image", image.id).info(
        "%s %s: %d layers", action, reference or image.id, len(image.layers)
    )
    return core.images.get(image.id)
