"""Pulling an image from a registry.

The reference is resolved to a manifest on the first endpoint that has it
(mirrors first). An index or manifest list is narrowed to the manifest of
the wanted platform. Then every blob the image needs and the store lacks is
streamed into the content store, several at a time, each verified against
its digest and size before it is kept. Everything is written under one
lease, added before each write, so a failed or killed pull leaves nothing
that outlives it; :func:`create_image` then unpacks the layers and writes
the image's rows in one transaction, so no half image is ever listed.

The repository digest recorded is the one the user pulled: the index's when
the image came through an index, whose blob is kept with the image.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import aiohttp

from servin_core import log
from servin_core._tasks import run_all
from servin_core.errors import InvalidArgument, NotFound, ServinError, Unavailable
from servin_core.images import mediatypes
from servin_core.images.create import (
    UNPACK_CONCURRENCY,
    Descriptor,
    ParsedManifest,
    create_image,
    layer_stack,
    parse_manifest,
    unpack_layer,
)
from servin_core.images.platform import Platform, host_platform, select_manifest
from servin_core.images.progress import (
    Action,
    ProgressCallback,
    ProgressEvent,
    ignore_progress,
)
from servin_core.images.reference import Reference, parse_reference
from servin_core.images.store import Image
from servin_core.registry.auth import Credentials
from servin_core.registry.client import ATTEMPTS, BACKOFF, RegistryClient
from servin_core.registry.endpoints import pull_endpoints
from servin_core.registry.repository import Manifest, Repository
from servin_core.state.leases import Lease

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["pull", "record_sources"]

_CHUNK = 256 << 10
_WRITE_SIZE = 1 << 20


async def pull(
    core: Core,
    reference: str,
    *,
    platform: str | None = None,
    progress: ProgressCallback = ignore_progress,
    credentials: Mapping[str, Credentials] | None = None,
) -> Image:
    """Pull ``reference`` (by tag or digest) for ``platform`` (default: host's),
    with ``credentials`` by registry name or host before the stored ones."""
    ref = parse_reference(reference)
    wanted = Platform.parse(platform) if platform else host_platform()
    progress(ProgressEvent(reference, reference, "resolving"))

    async with RegistryClient(core.config, credentials) as client:
        repo, top = await _resolve(client, core, ref)
        with core.leases.acquire() as lease:
            manifest, index = await _platform_manifest(repo, top, wanted, str(ref))
            for blob in (index, manifest):
                if blob is None:
                    continue
                lease.add("blob", blob.digest)
                if not core.content.exists(blob.digest):
                    core.content.put(blob.data, blob.digest)
            parsed = parse_manifest(manifest.data, manifest.media_type, ident=str(ref))

            fetcher = _Fetcher(core, lease, repo, reference, progress)
            await fetcher.fetch(parsed.config, announce=False)
            if platform:
                _check_platform(core, parsed.config.digest, wanted, str(ref))
            unpacked = await _fetch_and_unpack(core, lease, fetcher, parsed, str(ref))

            pulled = (index or manifest).digest
            image = await create_image(
                core,
                manifest.data,
                manifest.media_type,
                lease=lease,
                tags=[] if ref.digest else [ref],
                repo_digests=[ref.with_digest(pulled)],
                extra_blobs=[index.digest] if index else [],
                action="pull",
                progress=progress,
                reference=reference,
                unpacked=unpacked,
            )
    blobs = [pulled, manifest.digest, parsed.config.digest]
    record_sources(core, ref, blobs + [d.digest for d in parsed.layers])
    return image


async def _fetch_and_unpack(
    core: Core, lease: Lease, fetcher: _Fetcher, parsed: ParsedManifest, ident: str
) -> list[str]:
    """Download the layers and unpack each as soon as it is here, so that
    unpacking overlaps the downloads still running; returns the chain IDs."""
    stack = layer_stack(core, parsed, ident=ident)
    slots = asyncio.Semaphore(UNPACK_CONCURRENCY)

    async def one_blob(blob: Descriptor) -> None:
        await fetcher.fetch(blob)
        # A blob may stand at several positions (empty layers do).
        for layer in stack:
            if layer.blob == blob.digest:
                await unpack_layer(
                    core,
                    lease,
                    layer,
                    progress=fetcher.progress,
                    reference=fetcher.reference,
                    slots=slots,
                )

    unique = {layer.digest: layer for layer in parsed.layers}.values()
    await run_all([one_blob(blob) for blob in unique])
    return [layer.chain_id for layer in stack]


async def _resolve(
    client: RegistryClient, core: Core, ref: Reference
) -> tuple[Repository, Manifest]:
    """The first endpoint's repository that has ``ref``, and what it holds."""
    endpoints = pull_endpoints(core.config, ref.domain)
    for endpoint in endpoints:
        repo = Repository(client, endpoint, ref.path)
        try:
            manifest = await repo.get_manifest(ref.digest or ref.tag or "latest")
            log.for_object(log.registry, "image", str(ref)).info(
                "resolved to %s %s at %s",
                manifest.media_type,
                manifest.digest,
                endpoint,
            )
            return repo, manifest
        except ServinError as e:
            if not endpoint.mirror:
                raise
            log.for_object(log.registry, "mirror", endpoint.host).warning(
                "cannot pull %s from mirror: %s", ref, e
            )
    raise AssertionError("the registry itself is always the last endpoint")


async def _platform_manifest(
    repo: Repository, top: Manifest, wanted: Platform, ident: str
) -> tuple[Manifest, Manifest | None]:
    """The image manifest for ``wanted`` and the index it came from, if any."""
    if top.media_type not in mediatypes.INDEX_TYPES:
        return top, None
    try:
        entries = json.loads(top.data).get("manifests")
    except (ValueError, AttributeError):
        entries = None
    if not isinstance(entries, list):
        raise InvalidArgument("image", ident, "index without a list of manifests")
    entry = select_manifest(entries, wanted, ident=ident)
    digest = entry.get("digest")
    if not isinstance(digest, str):
        raise InvalidArgument("image", ident, "index entry without digest")
    manifest = await repo.get_manifest(digest)
    if manifest.media_type not in mediatypes.MANIFEST_TYPES:
        raise InvalidArgument(
            "image", ident, f"index entry {digest} is a {manifest.media_type}"
        )
    return manifest, top


def _check_platform(
    core: Core, config_digest: str, wanted: Platform, ident: str
) -> None:
    """A single-platform image must match a platform asked for explicitly."""
    try:
        config: dict[str, Any] = json.loads(core.content.read(config_digest))
        found = Platform.from_descriptor(config)
    except (ValueError, AttributeError):
        found = None  # create_image reports the malformed config
    if found is not None and wanted.rank(found) is None:
        raise NotFound("image", ident, f"is for {found}, not for {wanted}")


class _Fetcher:
    """Downloads blobs into the content store, a bounded number at a time."""

    def __init__(
        self,
        core: Core,
        lease: Lease,
        repo: Repository,
        reference: str,
        progress: ProgressCallback,
    ) -> None:
        self.core = core
        self.lease = lease
        self.repo = repo
        self.reference = reference
        self.progress = progress
        self.slots = asyncio.Semaphore(core.config.max_concurrent_downloads)

    def _event(self, blob: Descriptor, action: Action, current: int = 0) -> None:
        self.progress(
            ProgressEvent(self.reference, blob.digest, action, current, blob.size)
        )

    async def fetch(self, blob: Descriptor, *, announce: bool = True) -> None:
        self.lease.add("blob", blob.digest)
        if self.core.content.exists(blob.digest):
            if announce:
                self._event(blob, "exists", blob.size)
            return
        if announce:
            self._event(blob, "waiting")
        async with self.slots:
            for attempt in range(ATTEMPTS):
                try:
                    await self._download(blob, announce)
                    return
                except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as e:
                    problem = str(e) or type(e).__name__
                    if attempt + 1 == ATTEMPTS:
                        raise Unavailable(
                            "blob",
                            blob.digest,
                            f"download from {self.repo.endpoint} failed: {problem}",
                        ) from e
                    log.for_object(log.registry, "blob", blob.digest).info(
                        "download interrupted (%s), retrying", problem
                    )
                    await asyncio.sleep(BACKOFF * 2**attempt)

    async def _download(self, blob: Descriptor, announce: bool) -> None:
        async with self.repo.open_blob(blob.digest) as response:
            with self.core.content.writer(blob.digest, blob.size) as writer:
                # Hashing and writing happen in a thread, a megabyte at a
                # time, so that the event loop keeps reading the sockets.
                buffered = bytearray()
                async for chunk in response.content.iter_chunked(_CHUNK):
                    buffered += chunk
                    if len(buffered) < _WRITE_SIZE:
                        continue
                    await asyncio.to_thread(writer.write, bytes(buffered))
                    buffered.clear()
                    if announce:
                        self._event(blob, "downloading", writer.written)
                if buffered:
                    await asyncio.to_thread(writer.write, bytes(buffered))
                    if announce:
                        self._event(blob, "downloading", writer.written)
                if announce:
                    self._event(blob, "verifying", writer.written)
                await asyncio.to_thread(writer.commit)


def record_sources(core: Core, ref: Reference, digests: list[str]) -> None:
    """Remember that the registry holds ``digests`` in ``ref``'s repository,
    so that pushes to another repository there can mount them."""
    with core.db.write() as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO blob_sources (digest, registry, repository)"
            " VALUES (?, ?, ?)",
            [(digest, ref.domain, ref.path) for digest in set(digests)],
        )
