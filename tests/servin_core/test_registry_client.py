"""The registry client's transport rules: endpoints, redirects, retries.

The behaviours here need a registry that redirects to another host and one
that fails transiently, which docker-registry cannot be made to do; a small
aiohttp server plays that registry.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web
from image_factory import ImageBlobs, build_image

from servin_core.config import Config, RegistryConfig
from servin_core.core import Core
from servin_core.images.pull import pull
from servin_core.registry import credentials
from servin_core.registry.endpoints import Endpoint, pull_endpoints, push_endpoint

AUTH = "Basic " + base64.b64encode(b"servin:pw").decode()


def test_docker_hub_is_reached_at_its_api_host_over_verified_tls() -> None:
    config = Config(registries={"docker.io": RegistryConfig(mirrors=["mirror.lan"])})
    assert pull_endpoints(config, "docker.io") == [
        Endpoint("docker.io", "mirror.lan", ("https",), True, mirror=True),
        Endpoint("docker.io", "registry-1.docker.io", ("https",), True),
    ]
    assert push_endpoint(config, "docker.io").host == "registry-1.docker.io"


@pytest.mark.parametrize(
    ("host", "schemes", "verify"),
    [
        ("registry.example.com", ("https",), True),
        ("registry.lan:5000", ("https", "http"), False),  # configured insecure
        ("localhost:5000", ("https", "http"), False),
        ("127.0.0.2:5000", ("https", "http"), False),
        ("[::1]:5000", ("https", "http"), False),
        ("10.0.0.1:5000", ("https",), True),
    ],
)
def test_only_configured_or_loopback_hosts_are_insecure(
    host: str, schemes: tuple[str, ...], verify: bool
) -> None:
    config = Config(insecure_registries=["registry.lan:5000"])
    endpoint = push_endpoint(config, host)
    assert (endpoint.schemes, endpoint.verify_tls) == (schemes, verify)


def test_a_mirror_url_forces_its_scheme() -> None:
    config = Config(registries={"quay.io": RegistryConfig(mirrors=["http://m.lan:80"])})
    assert pull_endpoints(config, "quay.io")[0].schemes == ("http",)


@dataclass
class Site:
    """One aiohttp server on loopback that records what it was sent."""

    image: ImageBlobs
    storage_host: str = ""
    failures: list[int] = field(default_factory=list)
    seen: list[tuple[str, str | None]] = field(default_factory=list)

    def _record(self, request: web.Request) -> bool:
        authorization = request.headers.get("Authorization")
        self.seen.append((request.path, authorization))
        return authorization == AUTH

    async def ping(self, request: web.Request) -> web.Response:
        if not self._record(request):
            return web.Response(
                status=401, headers={"WWW-Authenticate": 'Basic realm="x"'}
            )
        return web.json_response({})

    async def manifest(self, request: web.Request) -> web.Response:
        if not self._record(request):
            return web.Response(
                status=401, headers={"WWW-Authenticate": 'Basic realm="x"'}
            )
        if self.failures:
            return web.Response(
                status=self.failures.pop(0), headers={"Retry-After": "0"}
            )
        return web.Response(
            body=self.image.manifest, content_type=self.image.media_type
        )

    async def blob(self, request: web.Request) -> web.Response:
        if not self._record(request):
            return web.Response(
                status=401, headers={"WWW-Authenticate": 'Basic realm="x"'}
            )
        digest = request.match_info["digest"]
        raise web.HTTPTemporaryRedirect(f"http://{self.storage_host}/storage/{digest}")

    async def storage(self, request: web.Request) -> web.Response:
        self.seen.append((request.path, request.headers.get("Authorization")))
        return web.Response(body=self.image.blobs[request.match_info["digest"]])


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    return runner, f"127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
async def site() -> AsyncIterator[tuple[Site, str]]:
    fake = Site(build_image([{"f": b"redirected"}]))
    registry_app = web.Application()
    registry_app.router.add_get("/v2/", fake.ping)
    registry_app.router.add_get("/v2/{name:.+}/manifests/{ref}", fake.manifest)
    registry_app.router.add_get("/v2/{name:.+}/blobs/{digest}", fake.blob)
    storage_app = web.Application()
    storage_app.router.add_get("/storage/{digest}", fake.storage)
    registry_runner, registry_host = await _serve(registry_app)
    storage_runner, fake.storage_host = await _serve(storage_app)
    yield fake, registry_host
    await registry_runner.cleanup()
    await storage_runner.cleanup()


@pytest.fixture
def core(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Core]:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))
    with Core.open(Config(data_dir=tmp_path / "d", run_dir=tmp_path / "r")) as c:
        yield c


async def test_authorization_is_not_sent_where_a_redirect_leads(
    core: Core, site: tuple[Site, str]
) -> None:
    fake, host = site
    credentials.store(core.config, host, credentials.Credentials("servin", "pw"))

    image = await pull(core, f"{host}/some/image:v1")

    assert image.id == fake.image.config
    storage = [auth for path, auth in fake.seen if path.startswith("/storage/")]
    assert len(storage) == len(fake.image.blobs)
    assert storage == [None] * len(storage)
    blob_requests = [auth for path, auth in fake.seen if "/blobs/" in path]
    assert blob_requests and all(auth == AUTH for auth in blob_requests)


async def test_transient_failures_are_retried(
    core: Core, site: tuple[Site, str]
) -> None:
    fake, host = site
    credentials.store(core.config, host, credentials.Credentials("servin", "pw"))
    fake.failures = [503, 429]

    image = await pull(core, f"{host}/some/image:v1")

    assert image.id == fake.image.config
    manifests = [auth for path, auth in fake.seen if "/manifests/" in path]
    assert manifests.count(AUTH) == 3
