"""Pushing and pulling through registries that want credentials, and mirrors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from image_factory import build_image, store_image
from registry_fixtures import (
    PASSWORD,
    USER,
    RegistryServer,
    TokenIssuer,
    free_port,
    unique_repo,
)

from servin_core.config import Config, RegistryConfig
from servin_core.core import Core
from servin_core.errors import PermissionDenied
from servin_core.images.pull import pull
from servin_core.images.push import push
from servin_core.registry import credentials


@pytest.fixture(autouse=True)
def no_docker_logins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker"))


def open_core(path: Path, **settings: object) -> Core:
    return Core.open(Config(data_dir=path, run_dir=path / "run", **settings))


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    with open_core(tmp_path / "a") as c:
        yield c


@pytest.mark.parametrize("fixture", ["registry_basic", "registry_token"])
async def test_push_and_pull_with_credentials(
    core: Core, tmp_path: Path, fixture: str, request: pytest.FixtureRequest
) -> None:
    server: RegistryServer = request.getfixturevalue(fixture)
    name = f"{server.host}/{unique_repo()}:v1"
    blobs = build_image([{"secret": b"only for servin"}])
    await store_image(core, blobs, name)

    with pytest.raises(PermissionDenied, match=f"{server.host}.*log in"):
        await push(core, name)
    await credentials.login(core, server.host, USER, PASSWORD)
    digest = await push(core, name)

    with open_core(tmp_path / "b") as other:
        with pytest.raises(PermissionDenied, match=server.host):
            await pull(other, name)
        await credentials.login(other, server.host, USER, PASSWORD)
        image = await pull(other, name)
    assert image.manifest_digest == digest == blobs.manifest_digest


async def test_bearer_wrong_password_is_refused_by_the_token_server(
    core: Core, registry_token: RegistryServer
) -> None:
    credentials.store(
        core.config, registry_token.host, credentials.Credentials(USER, "wrong")
    )
    with pytest.raises(PermissionDenied, match=r"token server rejected.*servin"):
        await pull(core, f"{registry_token.host}/{unique_repo()}:v1")
    assert core.images.list() == []


async def test_bearer_tokens_are_cached_per_scope(
    core: Core, registry_token: RegistryServer, token_issuer: TokenIssuer
) -> None:
    path = unique_repo()
    name = f"{registry_token.host}/{path}:v1"
    await store_image(core, build_image([{"1": b"1"}, {"2": b"2"}, {"3": b"3"}]), name)
    await credentials.login(core, registry_token.host, USER, PASSWORD)

    await push(core, name)

    # Four blobs and a manifest, several requests each: one token.
    assert token_issuer.granted.count(f"repository:{path}:pull,push") == 1


async def test_pull_through_a_mirror_of_an_unreachable_registry(
    tmp_path: Path, core: Core, registry: RegistryServer
) -> None:
    path = unique_repo()
    blobs = build_image([{"m": b"mirrored"}])
    await store_image(core, blobs, f"{registry.host}/{path}:v1")
    await push(core, f"{registry.host}/{path}:v1")
    gone = f"127.0.0.1:{free_port()}"
    mirrored = {gone: RegistryConfig(mirrors=[registry.host])}

    with open_core(tmp_path / "m", registries=mirrored) as other:
        image = await pull(other, f"{gone}/{path}:v1")

    assert image.id == blobs.config
    assert image.tags == (f"{gone}/{path}:v1",)


async def test_a_broken_mirror_falls_back_to_the_registry(
    tmp_path: Path, core: Core, registry: RegistryServer
) -> None:
    path = unique_repo()
    blobs = build_image([{"m": b"direct"}])
    await store_image(core, blobs, f"{registry.host}/{path}:v1")
    await push(core, f"{registry.host}/{path}:v1")
    broken = {registry.host: RegistryConfig(mirrors=[f"127.0.0.1:{free_port()}"])}

    with open_core(tmp_path / "m", registries=broken) as other:
        image = await pull(other, f"{registry.host}/{path}:v1")

    assert image.id == blobs.config
