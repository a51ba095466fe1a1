"""Pushing images, and multi-platform indexes of them, to a registry.

Each blob is first asked for with HEAD: a registry that has it needs nothing.
Else, if the store knows the blob sits in another repository of the same
registry (``blob_sources``, filled by pulls and pushes), a cross-repository
mount is asked for, which copies nothing. Else the blob is uploaded: in one
PUT, or in PATCH chunks of ``push_chunk_size`` bytes when that is set. The
manifest goes last, as the exact bytes stored, so that its digest, and so
the image's identity, is the same on both sides.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING

from servin_core import log
from servin_core._dataclass import replace
from servin_core._tasks import run_all
from servin_core.errors import InvalidArgument
from servin_core.images import mediatypes
from servin_core.images.create import Descriptor, parse_manifest
from servin_core.images.progress import (
    Action,
    ProgressCallback,
    ProgressEvent,
    ignore_progress,
)
from servin_core.images.pull import record_sources
from servin_core.images.reference import Reference, parse_reference
from servin_core.images.store import Image
from servin_core.registry.client import RegistryClient
from servin_core.registry.endpoints import push_endpoint
from servin_core.registry.repository import Repository

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["push", "push_index"]

_READ_SIZE = 1 << 20


async def push(
    core: Core, reference: str, *, progress: ProgressCallback = ignore_progress
) -> str:
    """Push the local image ``reference`` to its registry; returns the
    manifest digest."""
    ref = parse_reference(reference)
    image = core.images.resolve(reference)
    async with RegistryClient(core.config) as client:
        repo = Repository(client, push_endpoint(core.config, ref.domain), ref.path)
        pusher = _Pusher(core, repo, ref, reference, progress)
        digest = await pusher.push_image(image, ref.tag or ref.digest or "latest")
    _remember(core, image, ref.with_digest(digest), reference)
    return digest


async def push_index(
    core: Core,
    reference: str,
    sources: Sequence[str],
    *,
    progress: ProgressCallback = ignore_progress,
) -> str:
    """Push the local images ``sources`` (one per platform) and an OCI index
    of them as ``reference``; returns the index digest."""
    ref = parse_reference(reference)
    images = [core.images.resolve(source) for source in sources]
    if not images:
        raise InvalidArgument("index", reference, "no images given")
    platforms = [_platform(image) for image in images]
    if len({json.dumps(p, sort_keys=True) for p in platforms}) != len(platforms):
        raise InvalidArgument("index", reference, "two images share a platform")

    async with RegistryClient(core.config) as client:
        repo = Repository(client, push_endpoint(core.config, ref.domain), ref.path)
        pusher = _Pusher(core, repo, ref, reference, progress)
        entries = []
        for image, platform in zip(images, platforms, strict=True):
            digest = await pusher.push_image(image, image.manifest_digest)
            entries.append(
                {
                    "mediaType": image.manifest_media_type,
                    "digest": digest,
                    "size": core.content.size(digest),
                    "platform": platform,
                }
            )
        index = {
            "schemaVersion": 2,
            "mediaType": mediatypes.OCI_INDEX,
            "manifests": entries,
        }
        data = json.dumps(index, indent=2).encode()
        digest = await repo.put_manifest(
            ref.tag or "latest", data, mediatypes.OCI_INDEX
        )
    log.for_object(log.images, "index", digest).info(
        "pushed %s for %d platforms", reference, len(entries)
    )
    return digest


def _platform(image: Image) -> dict[str, str]:
    platform = {"architecture": image.architecture, "os": image.os}
    if image.variant:
        platform["variant"] = image.variant
    return platform


def _remember(core: Core, image: Image, pushed: Reference, reference: str) -> None:
    """Record the repository digest the push created, as docker does."""
    named = replace(image, tags=(), repo_digests=(str(pushed),))
    with core.db.write() as conn:
        core.images.add(conn, named)
        core.events.record(conn, "image", "push", image.id, name=reference)


class _Pusher:
    """Pushes one image's blobs and manifest, several blobs at a time."""

    def __init__(
        self,
        core: Core,
        repo: Repository,
        ref: Reference,
        reference: str,
        progress: ProgressCallback,
    ) -> None:
        self.core = core
        self.repo = repo
        self.ref = ref
        self.reference = reference
        self.progress = progress
        self.slots = asyncio.Semaphore(core.config.max_concurrent_uploads)

    def _event(self, blob: Descriptor, action: Action, current: int = 0) -> None:
        event = ProgressEvent(self.reference, blob.digest, action, current, blob.size)
        self.progress(event)

    async def push_image(self, image: Image, manifest_ref: str) -> str:
        data = self.core.content.read(image.manifest_digest)
        ident = f"{self.reference} ({image.manifest_digest})"
        parsed = parse_manifest(data, image.manifest_media_type, ident=ident)
        unique = {blob.digest: blob for blob in [parsed.config, *parsed.layers]}
        blobs = list(unique.values())
        await run_all([self._push_blob(blob) for blob in blobs])
        digest = await self.repo.put_manifest(manifest_ref, data, parsed.media_type)
        record_sources(self.core, self.ref, [digest] + [b.digest for b in blobs])
        return digest

    async def _push_blob(self, blob: Descriptor) -> None:
        self._event(blob, "waiting")
        async with self.slots:
            if await self.repo.has_blob(blob.digest):
                self._event(blob, "exists", blob.size)
                return
            location = None
            source = self._mount_source(blob.digest)
            if source is not None:
                location = await self.repo.mount_blob(blob.digest, source)
                if location is None:
                    self._event(blob, "mounted", blob.size)
                    return
            if location is None:
                location = await self.repo.start_upload(blob.digest)

            size = self.core.content.size(blob.digest)
            chunk_size = self.core.config.push_chunk_size
            if chunk_size > 0:
                offset = 0
                while offset < size:
                    data = await asyncio.to_thread(
                        self._read, blob.digest, offset, chunk_size
                    )
                    location = await self.repo.upload_chunk(
                        location, blob.digest, offset, data
                    )
                    offset += len(data)
                    self._event(blob, "pushing", offset)
                await self.repo.finish_upload(location, blob.digest, 0, None)
            else:
                await self.repo.finish_upload(
                    location, blob.digest, size, lambda: self._stream(blob)
                )
            self._event(blob, "pushed", size)

    def _mount_source(self, digest: str) -> str | None:
        """Another repository of this registry known to hold ``digest``."""
        row = self.core.db.query_one(
            "SELECT repository FROM blob_sources WHERE digest = ? AND registry = ?"
            " AND repository != ? LIMIT 1",
            (digest, self.ref.domain, self.ref.path),
        )
        return None if row is None else str(row["repository"])

    def _read(self, digest: str, offset: int, length: int) -> bytes:
        with self.core.content.open(digest) as f:
            f.seek(offset)
            return f.read(length)

    async def _stream(self, blob: Descriptor) -> AsyncIterator[bytes]:
        """The blob's bytes for one PUT, reporting progress as they go."""
        sent = 0
        with self.core.content.open(blob.digest) as f:
            while data := await asyncio.to_thread(f.read, _READ_SIZE):
                yield data
                sent += len(data)
                self._event(blob, "pushing", sent)
