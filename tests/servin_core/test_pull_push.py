"""Pushing to and pulling from a real registry (docker-registry on loopback)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from image_factory import build_image, store_image
from registry_fixtures import RegistryServer, unique_repo

from servin_core.config import Config
from servin_core.core import Core
from servin_core.images.platform import host_platform
from servin_core.images.progress import ProgressEvent
from servin_core.images.pull import pull
from servin_core.images.push import push, push_index
from servin_core.images.reference import parse_reference


def open_core(path: Path, **settings: object) -> Core:
    config = Config(data_dir=path, run_dir=path / "run", **settings)
    return Core.open(config)


@pytest.fixture
def core(tmp_path: Path) -> Iterator[Core]:
    with open_core(tmp_path / "pusher") as core:
        yield core


@pytest.fixture
def puller(tmp_path: Path) -> Iterator[Core]:
    with open_core(tmp_path / "puller") as core:
        yield core


class Recorder:
    def __init__(self) -> None:
        self.events: list[ProgressEvent] = []

    def __call__(self, event: ProgressEvent) -> None:
        self.events.append(event)

    def actions(self, layer: str) -> list[str]:
        return [e.action for e in self.events if e.layer == layer]


@pytest.mark.parametrize(
    ("compression", "docker"),
    [("gzip", True), ("gzip", False), ("zstd", False), ("none", False)],
)
async def test_push_then_pull_gives_identical_digests(
    core: Core, puller: Core, registry: RegistryServer, compression: str, docker: bool
) -> None:
    blobs = build_image(
        [{"etc/hostname": b"servin\n"}, {"app/data.txt": os.urandom(3000)}],
        compression=compression,
        docker=docker,
    )
    name = f"{registry.host}/{unique_repo()}:v1"
    local = await store_image(core, blobs, name)
    pushed = Recorder()

    digest = await push(core, name, progress=pushed)

    assert digest == local.manifest_digest == blobs.manifest_digest
    for layer in blobs.layers:
        assert pushed.actions(layer)[-1] == "pushed"
    repository = name.rsplit(":", 1)[0]
    assert f"{repository}@{digest}" in core.images.get(local.id).repo_digests

    pulled_events = Recorder()
    image = await pull(puller, name, progress=pulled_events)

    assert image.id == local.id == blobs.config
    assert image.manifest_digest == digest
    assert image.manifest_media_type == blobs.media_type
    assert image.tags == (name,)
    assert image.repo_digests == (f"{repository}@{digest}",)
    assert [layer.digest for layer in image.layers] == blobs.layers
    for layer in blobs.layers:
        actions = pulled_events.actions(layer)
        assert "downloading" in actions
        assert actions[-1] == "complete"
    top = puller.snapshots.path(image.layers[-1].chain_id)
    assert (top / "app/data.txt").read_bytes() == (
        core.snapshots.path(local.layers[-1].chain_id) / "app/data.txt"
    ).read_bytes()


async def test_pull_by_digest_and_by_tag_is_one_image(
    core: Core, puller: Core, registry: RegistryServer
) -> None:
    name = f"{registry.host}/{unique_repo()}"
    blobs = build_image([{"a": b"1"}])
    await store_image(core, blobs, f"{name}:one")
    digest = await push(core, f"{name}:one")

    by_digest = await pull(puller, f"{name}@{digest}")
    by_tag = await pull(puller, f"{name}:one")

    assert by_digest.id == by_tag.id
    assert [i.id for i in puller.images.list()] == [by_tag.id]
    assert by_tag.tags == (f"{name}:one",)
    assert by_tag.repo_digests == (f"{name}@{digest}",)


async def test_blobs_already_present_are_not_fetched_again(
    core: Core, puller: Core, registry: RegistryServer
) -> None:
    name = f"{registry.host}/{unique_repo()}"
    base = {"base/file": os.urandom(2000)}
    first = build_image([base])
    second = build_image([base, {"more": b"x"}])
    await store_image(core, first, f"{name}:first")
    await store_image(core, second, f"{name}:second")
    await push(core, f"{name}:first")
    await push(core, f"{name}:second")
    shared = first.layers[0]
    assert second.layers[0] == shared

    await pull(puller, f"{name}:first")
    events = Recorder()
    image = await pull(puller, f"{name}:second", progress=events)

    assert events.actions(shared) == ["exists", "complete"]
    path = name.split("/", 1)[1]
    gets = registry.log_text().count(f'"GET /v2/{path}/blobs/{shared} ')
    assert gets == 1
    assert len(image.layers) == 2


async def test_index_pull_picks_the_host_platform_unless_told(
    core: Core, tmp_path: Path, registry: RegistryServer
) -> None:
    name = f"{registry.host}/{unique_repo()}"
    amd = build_image([{"arch": b"amd64"}], architecture="amd64")
    arm = build_image([{"arch": b"arm64"}], architecture="arm64", variant="v8")
    await store_image(core, amd, f"{name}:amd64")
    await store_image(core, arm, f"{name}:arm64")
    index = await push_index(core, f"{name}:multi", [f"{name}:amd64", f"{name}:arm64"])
    native, other = (
        (amd, arm) if host_platform().architecture == "amd64" else (arm, amd)
    )
    other_platform = "linux/arm64" if other is arm else "linux/amd64"

    with open_core(tmp_path / "native") as fresh:
        image = await pull(fresh, f"{name}:multi")
        assert image.id == native.config
        assert image.architecture == host_platform().architecture
        assert image.repo_digests == (f"{name}@{index}",)
        assert fresh.content.exists(index)

    with open_core(tmp_path / "other") as fresh:
        image = await pull(fresh, f"{name}:multi", platform=other_platform)
        assert image.id == other.config
        assert image.manifest_digest == other.manifest_digest
        assert image.tags == (f"{name}:multi",)


@pytest.mark.parametrize("chunk_size", [0, 1000])
async def test_chunked_and_monolithic_uploads(
    tmp_path: Path, puller: Core, registry: RegistryServer, chunk_size: int
) -> None:
    path = unique_repo()
    name = f"{registry.host}/{path}:v1"
    blobs = build_image([{"random": os.urandom(5000)}], compression="none")
    layer = blobs.layers[0]

    with open_core(tmp_path / "chunky", push_chunk_size=chunk_size) as core:
        await store_image(core, blobs, name)
        await push(core, name)

    patches = registry.log_text().count(f'"PATCH /v2/{path}/blobs/uploads/')
    if chunk_size:
        assert patches == -(-len(blobs.blobs[layer]) // chunk_size) + 1  # + config
    else:
        assert patches == 0
    image = await pull(puller, name)
    assert image.layers[0].digest == layer


async def test_push_to_another_repository_mounts_known_blobs(
    core: Core, registry: RegistryServer
) -> None:
    first, second = unique_repo(), unique_repo()
    blobs = build_image([{"big": os.urandom(4000)}])
    await store_image(core, blobs, f"{registry.host}/{first}:v1")
    await push(core, f"{registry.host}/{first}:v1")
    image = core.images.resolve(f"{registry.host}/{first}:v1")
    core.images.tag(image, parse_reference(f"{registry.host}/{second}:v1"))
    events = Recorder()

    await push(core, f"{registry.host}/{second}:v1", progress=events)

    for digest in [blobs.config, *blobs.layers]:
        assert events.actions(digest)[-1] == "mounted"
    log = registry.log_text()
    mounts = [line for line in log.splitlines() if f"POST /v2/{second}/" in line]
    assert len(mounts) == 2
    assert all(f"from={first}" in line and '" 201 ' in line for line in mounts)
    assert f'"PUT /v2/{second}/blobs/uploads/' not in log
    assert f'"PUT /v2/{second}/manifests/v1 HTTP/1.1" 201' in log
    for digest in [blobs.config, *blobs.layers]:
        link = registry.repository_dir(second) / "_layers" / digest.replace(":", "/")
        assert (link / "link").is_file()
