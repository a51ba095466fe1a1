"""The operations of the Registry API on one repository of one endpoint.

Manifests are fetched whole (they are small, and bounded here) and their
digest is computed from the bytes received, never taken on the registry's
word. Blobs are streamed to the caller, which verifies them as it stores
them. Uploads are monolithic (POST, then PUT with the body) or chunked (POST,
PATCHes with Content-Range, then an empty PUT).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import aiohttp
from yarl import URL

from servin_core._dataclass import dataclass
from servin_core.errors import InvalidArgument, NotFound
from servin_core.images import mediatypes
from servin_core.images.content import digest_of
from servin_core.registry.client import RegistryClient, raise_for_status
from servin_core.registry.endpoints import Endpoint

__all__ = ["MAX_MANIFEST_SIZE", "Manifest", "Repository"]

MAX_MANIFEST_SIZE = 4 << 20
_KNOWN_TYPES = mediatypes.MANIFEST_TYPES | mediatypes.INDEX_TYPES


@dataclass(frozen=True, slots=True)
class Manifest:
    data: bytes
    media_type: str
    digest: str


class Repository:
    """Repository ``path`` (``library/busybox``) at ``endpoint``."""

    def __init__(self, client: RegistryClient, endpoint: Endpoint, path: str) -> None:
        self.client = client
        self.endpoint = endpoint
        self.path = path
        self.name = f"{endpoint.registry}/{path}"
        self.pull_scope = (f"repository:{path}:pull",)
        self.push_scope = (f"repository:{path}:pull,push",)

    def _url(self, kind: str, ref: str = "") -> str:
        return f"/v2/{self.path}/{kind}/{ref}"

    async def get_manifest(self, ref: str) -> Manifest:
        """The manifest or index tagged ``ref`` or with digest ``ref``."""
        ident = f"{self.name}@{ref}" if ":" in ref else f"{self.name}:{ref}"
        headers = {"Accept": mediatypes.ACCEPT_MANIFESTS}
        async with self.client.request(
            self.endpoint,
            "GET",
            self._url("manifests", ref),
            scopes=self.pull_scope,
            headers=headers,
        ) as response:
            if response.status == 404:
                raise NotFound("image", ident, f"no such manifest in {self.endpoint}")
            await raise_for_status(response, "image", ident)
            data = await _read_bounded(response, ident)
            content_type = response.headers.get("Content-Type", "")
        digest = digest_of(data)
        if ":" in ref and digest != ref:
            raise InvalidArgument(
                "image", ident, f"registry sent a manifest whose digest is {digest}"
            )
        return Manifest(data, _media_type(content_type, data, ident), digest)

    async def has_blob(self, digest: str) -> bool:
        async with self.client.request(
            self.endpoint, "HEAD", self._url("blobs", digest), scopes=self.push_scope
        ) as response:
            if response.status == 404:
                return False
            await raise_for_status(response, "blob", digest)
            return True

    @asynccontextmanager
    async def open_blob(self, digest: str) -> AsyncIterator[aiohttp.ClientResponse]:
        """The response whose body is the blob; the caller verifies it."""
        async with self.client.request(
            self.endpoint, "GET", self._url("blobs", digest), scopes=self.pull_scope
        ) as response:
            if response.status == 404:
                raise NotFound("blob", digest, f"not in {self.name}")
            await raise_for_status(response, "blob", digest)
            yield response

    async def mount_blob(self, digest: str, source: str) -> URL | None:
        """Ask for ``digest`` from repository ``source`` of the same registry.

        None if it was mounted; else the upload location the registry opened
        instead (it need not honour mounts).
        """
        scopes = (*self.push_scope, f"repository:{source}:pull")
        target = f"/v2/{self.path}/blobs/uploads/?mount={digest}&from={source}"
        async with self.client.request(
            self.endpoint,
            "POST",
            target,
            scopes=scopes,
            headers={"Content-Length": "0"},
        ) as response:
            if response.status == 201:
                return None
            await raise_for_status(response, "blob", digest, ok=(202,))
            return _location(response)

    async def start_upload(self, digest: str) -> URL:
        async with self.client.request(
            self.endpoint,
            "POST",
            f"/v2/{self.path}/blobs/uploads/",
            scopes=self.push_scope,
            headers={"Content-Length": "0"},
        ) as response:
            await raise_for_status(response, "blob", digest, ok=(202,))
            return _location(response)

    async def upload_chunk(
        self, location: URL, digest: str, start: int, data: bytes
    ) -> URL:
        """PATCH one chunk at offset ``start``; returns the next location."""
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Range": f"{start}-{start + len(data) - 1}",
            "Content-Length": str(len(data)),
        }
        async with self.client.request(
            self.endpoint,
            "PATCH",
            location,
            scopes=self.push_scope,
            headers=headers,
            body=data,
        ) as response:
            await raise_for_status(response, "blob", digest, ok=(202,))
            return _location(response)

    async def finish_upload(
        self, location: URL, digest: str, size: int, body: Callable[[], object] | None
    ) -> None:
        """PUT the rest (``size`` bytes from ``body``, or none) and commit."""
        headers = {
            "Content-Type": "application/octet-stream",
            "Content-Length": str(size),
        }
        async with self.client.request(
            self.endpoint,
            "PUT",
            location.update_query(digest=digest),
            scopes=self.push_scope,
            headers=headers,
            body=body,
        ) as response:
            await raise_for_status(response, "blob", digest, ok=(201,))

    async def put_manifest(self, ref: str, data: bytes, media_type: str) -> str:
        """Store ``data`` as manifest ``ref``; returns its digest."""
        digest = digest_of(data)
        ident = f"{self.name}@{ref}" if ":" in ref else f"{self.name}:{ref}"
        async with self.client.request(
            self.endpoint,
            "PUT",
            self._url("manifests", ref),
            scopes=self.push_scope,
            headers={"Content-Type": media_type},
            body=data,
        ) as response:
            await raise_for_status(response, "image", ident, ok=(201,))
            echoed = response.headers.get("Docker-Content-Digest")
        if echoed and echoed != digest:
            raise InvalidArgument(
                "image", ident, f"registry stored digest {echoed}, expected {digest}"
            )
        return digest


def _location(response: aiohttp.ClientResponse) -> URL:
    location = response.headers.get("Location")
    if not location:
        raise InvalidArgument("registry", str(response.url), "upload without Location")
    return response.url.join(URL(location, encoded=True))


async def _read_bounded(response: aiohttp.ClientResponse, ident: str) -> bytes:
    data = await response.content.read(MAX_MANIFEST_SIZE + 1)
    while len(data) <= MAX_MANIFEST_SIZE and not response.content.at_eof():
        more = await response.content.read(MAX_MANIFEST_SIZE + 1 - len(data))
        if not more:
            break
        data += more
    if len(data) > MAX_MANIFEST_SIZE:
        raise InvalidArgument("image", ident, "manifest larger than 4 MiB")
    return data


def _media_type(content_type: str, data: bytes, ident: str) -> str:
    """The manifest's media type: the header's, or the body's when the
    header is generic (some registries send OCI manifests as plain JSON)."""
    header = content_type.split(";", 1)[0].strip().lower()
    if header in _KNOWN_TYPES:
        return header
    if header not in ("", "application/json", "text/plain"):
        raise InvalidArgument(
            "image", ident, f"unsupported manifest media type {header!r}"
        )
    try:
        body = json.loads(data)
    except ValueError:
        body = None
    if not isinstance(body, dict) or body.get("schemaVersion") != 2:
        raise InvalidArgument("image", ident, "manifest is not a schema 2 document")
    declared = body.get("mediaType")
    if declared in _KNOWN_TYPES:
        return str(declared)
    if declared is None and "manifests" in body:
        return mediatypes.OCI_INDEX
    if declared is None and "config" in body and "layers" in body:
        return mediatypes.OCI_MANIFEST
    raise InvalidArgument(
        "image", ident, f"unsupported manifest media type {declared or 'none'!r}"
    )
