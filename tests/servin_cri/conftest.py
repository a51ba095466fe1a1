"""Fixtures for the CRI tests: a CriServer on a real Core in a temporary
root, and a client made of the generated stubs over its unix socket."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from cri_kit import Cri, StartCri, publish_busybox, remove_every_pod
from registry_fixtures import RegistryServer, unique_repo

from servin_core.config import Config
from servin_core.core import Core
from servin_cri.cni import CniLocations
from servin_cri.pb import api_pb2 as pb
from servin_cri.pb import api_pb2_grpc
from servin_cri.server import CriServer


@pytest.fixture
def socket_dir() -> Iterator[Path]:
    # A unix socket path must fit in 108 bytes; pytest's tmp_path may not.
    path = Path(tempfile.mkdtemp(prefix="cri-", dir="/tmp"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
async def start_cri(tmp_path: Path, socket_dir: Path) -> AsyncIterator[StartCri]:
    """Start a server on a Core made from ``config`` (a default one by
    default) rooted in ``tmp_path``."""
    running: list[tuple[Cri, grpc.aio.Channel]] = []

    async def start(config: Config | None = None, fallback: bool = False) -> Cri:
        core = Core.open((config or Config()).with_root(tmp_path / "root"))
        cni_dir = tmp_path / "net.d"
        cni_dir.mkdir(exist_ok=True)
        # No fallback to Servin's default network unless a test asks (with
        # the session's own bridge, tests/netconfig.py): pods keep loopback.
        cni = CniLocations(conf_dir=cni_dir, fallback=fallback)
        server = CriServer(core, socket_dir / "cri.sock", cni=cni)
        await server.start()
        channel = grpc.aio.insecure_channel(f"unix:{server.socket_path}")
        cri = Cri(
            server,
            core,
            api_pb2_grpc.RuntimeServiceStub(channel),
            api_pb2_grpc.ImageServiceStub(channel),
            cni_dir,
        )
        running.append((cri, channel))
        return cri

    yield start
    for cri, channel in running:
        # Whatever a failed test left: pods hold mounts and processes.
        if cri.server.socket_path.exists():
            await remove_every_pod(cri)
        await channel.close()
        await cri.server.stop()
        cri.core.close()


@pytest.fixture
async def cri(start_cri: StartCri) -> Cri:
    return await start_cri()


@pytest.fixture(scope="session")
def published(
    registry: RegistryServer,
    busybox_rootfs_tar: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[list[str]]:
    """busybox in the anonymous registry under three tags of one repository
    and under the path of critest's busybox."""
    repo = f"{registry.host}/{unique_repo('cri')}"
    names = [f"{repo}:one", f"{repo}:two", f"{repo}:three"]
    mirrored = f"{registry.host}/e2e-test-images/busybox:1.29-2"
    seed = tmp_path_factory.mktemp("seed")
    asyncio.run(publish_busybox(seed, busybox_rootfs_tar, [*names, mirrored]))
    yield names


@pytest.fixture
async def ready(cri: Cri, published: list[str]) -> tuple[Cri, str]:
    """The server with busybox pulled; its image reference."""
    image = published[0]
    await cri.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=image)))
    return cri, image
