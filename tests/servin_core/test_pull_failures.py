"""Pulls that fail: each says why, naming the object, and leaves nothing.

Most failures come from the real registry. A blob whose content does not
match its digest, a download cut short and a manifest of an unknown type
cannot be caused with it (it verifies what it stores), so those come from a
small aiohttp server that impersonates a registry.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from image_factory import ImageBlobs, build_image, store_image
from registry_fixtures import (
    PASSWORD,
    USER,
    RegistryServer,
    free_port,
    unique_repo,
)

from servin_core.config import Config
from servin_core.core import Core
from servin_core.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ServinError,
    Unavailable,
)
from servin_core.images.pull import pull
from servin_core.images.push import push
from servin_core.registry import credentials


@pytest.fixture
def core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Core]:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    with Core.open(Config(data_dir=tmp_path / "data", run_dir=tmp_path / "run")) as c:
        yield c


def assert_nothing_left(core: Core) -> None:
    """What a user would check: no image, no blob, no snapshot, no lease."""
    assert core.images.list() == []
    assert list(core.content.digests()) == []
    assert list(core.content.ingest_dir.iterdir()) == []
    assert [p for p in core.snapshots.root.iterdir()] == []
    for table in ("images", "snapshots", "leases", "lease_resources", "blob_sources"):
        assert core.db.query(f"SELECT * FROM {table}") == [], table


@dataclass
class FakeRegistry:
    """Serves one image, with the flaws a test asks for."""

    image: ImageBlobs
    manifest_type: str = ""
    corrupt: set[str] = field(default_factory=set)
    truncate: set[str] = field(default_factory=set)
    short: set[str] = field(default_factory=set)
    host: str = ""
    blob_requests: list[str] = field(default_factory=list)

    async def ping(self, request: web.Request) -> web.Response:
        return web.json_response({})

    async def manifest(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.image.manifest,
            content_type=self.manifest_type or self.image.media_type,
        )

    async def blob(self, request: web.Request) -> web.StreamResponse:
        digest = request.match_info["digest"]
        self.blob_requests.append(digest)
        data = self.image.blobs[digest]
        if digest in self.corrupt:
            data = bytes(b ^ 0xFF for b in data)  # same size, other content
        if digest in self.short:
            data = data[: len(data) // 2]  # a complete answer, of half the blob
        if digest not in self.truncate:
            return web.Response(body=data, content_type="application/octet-stream")
        response = web.StreamResponse()
        response.content_length = len(data)
        await response.prepare(request)
        await response.write(data[: len(data) // 2])
        assert request.transport is not None
        request.transport.close()
        return response


@pytest.fixture
async def fake_registry() -> AsyncIterator[FakeRegistry]:
    fake = FakeRegistry(build_image([{"a": b"a"}, {"b": os.urandom(20000)}]))
    app = web.Application()
    app.router.add_get("/v2/", fake.ping)
    app.router.add_get("/v2/{name:.+}/manifests/{ref}", fake.manifest)
    app.router.add_get("/v2/{name:.+}/blobs/{digest}", fake.blob)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    fake.host = f"127.0.0.1:{port}"
    yield fake
    await runner.cleanup()


async def test_blob_with_wrong_digest_is_rejected(
    core: Core, fake_registry: FakeRegistry
) -> None:
    layer = fake_registry.image.layers[1]
    fake_registry.corrupt.add(layer)

    with pytest.raises(InvalidArgument, match=f"{layer}.*digest mismatch"):
        await pull(core, f"{fake_registry.host}/bad/image:v1")

    assert fake_registry.image.config in fake_registry.blob_requests
    assert_nothing_left(core)


async def test_truncated_download_is_retried_then_reported(
    core: Core, fake_registry: FakeRegistry
) -> None:
    layer = fake_registry.image.layers[1]
    fake_registry.truncate.add(layer)

    with pytest.raises(Unavailable, match=f"{layer}.*{fake_registry.host}"):
        await pull(core, f"{fake_registry.host}/bad/image:v1")

    assert fake_registry.blob_requests.count(layer) > 1
    assert_nothing_left(core)


async def test_blob_shorter_than_its_descriptor_is_rejected(
    core: Core, fake_registry: FakeRegistry
) -> None:
    layer = fake_registry.image.layers[1]
    fake_registry.short.add(layer)

    size = len(fake_registry.image.blobs[layer])
    expected = f"{layer}.*truncated: got {size // 2} of {size} bytes"
    with pytest.raises(InvalidArgument, match=expected):
        await pull(core, f"{fake_registry.host}/bad/image:v1")

    assert_nothing_left(core)


async def test_manifest_of_unknown_media_type_is_rejected(
    core: Core, fake_registry: FakeRegistry
) -> None:
    fake_registry.manifest_type = "application/vnd.example.unknown+json"
    reference = f"{fake_registry.host}/bad/image:v1"
    # The body names its own type, which must not win over the header.
    with pytest.raises(InvalidArgument, match=r"bad/image:v1.*unsupported manifest"):
        await pull(core, reference)

    assert fake_registry.blob_requests == []
    assert_nothing_left(core)


async def test_missing_tag_is_not_found(core: Core, registry: RegistryServer) -> None:
    reference = f"{registry.host}/{unique_repo()}:nope"
    with pytest.raises(NotFound, match=reference):
        await pull(core, reference)
    assert_nothing_left(core)


async def test_wrong_password_is_permission_denied(
    core: Core, tmp_path: Path, registry_basic: RegistryServer
) -> None:
    name = f"{registry_basic.host}/{unique_repo()}:v1"
    with Core.open(
        Config(data_dir=tmp_path / "owner", run_dir=tmp_path / "r")
    ) as owner:
        await store_image(owner, build_image([{"x": b"x"}]), name)
        credentials.store(
            owner.config, registry_basic.host, credentials.Credentials(USER, PASSWORD)
        )
        await push(owner, name)
    credentials.store(
        core.config, registry_basic.host, credentials.Credentials(USER, "wrong")
    )

    with pytest.raises(PermissionDenied, match=registry_basic.host):
        await pull(core, name)

    credentials.logout(core, registry_basic.host)
    for table in ("images", "blob_sources", "leases"):
        assert core.db.query(f"SELECT * FROM {table}") == []
    assert list(core.content.digests()) == []


async def test_unreachable_registry_names_the_host(core: Core) -> None:
    host = f"127.0.0.1:{free_port()}"
    with pytest.raises(Unavailable, match=f"{host}.*unreachable") as caught:
        await pull(core, f"{host}/some/image")
    assert isinstance(caught.value, ServinError)
    assert_nothing_left(core)


async def test_single_platform_image_for_another_platform_is_not_found(
    core: Core, tmp_path: Path, registry: RegistryServer
) -> None:
    name = f"{registry.host}/{unique_repo()}:amd64-only"
    with Core.open(
        Config(data_dir=tmp_path / "owner", run_dir=tmp_path / "r")
    ) as owner:
        await store_image(owner, build_image([{"x": b"x"}], architecture="amd64"), name)
        await push(owner, name)

    with pytest.raises(NotFound, match=r"is for linux/amd64, not for linux/s390x"):
        await pull(core, name, platform="linux/s390x")

    assert_nothing_left(core)
