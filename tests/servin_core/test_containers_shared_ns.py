"""A container joins namespaces another holder pinned (a CRI pod's), or the
host's, as ContainerConfig.namespaces asks, and writes its log where asked."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import import_busybox, remove_all

from servin_core.containers import lifecycle
from servin_core.containers.model import ContainerConfig
from servin_core.core import Core
from servin_core.errors import InvalidArgument
from servin_core.network.netns import create_netns, remove_netns

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


async def run(core: Core, config: ContainerConfig) -> int:
    container = await lifecycle.create(core, config)
    await lifecycle.start(core, container.id)
    return await lifecycle.wait(core, container.id)


async def test_a_container_joins_a_pinned_netns_and_logs_where_asked(
    box: Core, tmp_path: Path
) -> None:
    pinned = tmp_path / "ns" / "net"
    create_netns(pinned)
    log = tmp_path / "pod-logs" / "c.log"
    log.parent.mkdir()
    try:
        status = await run(
            box,
            ContainerConfig(
                image=IMAGE,
                cmd=["readlink", "/proc/self/ns/net"],
                network="none",
                namespaces={"network": str(pinned)},
                log_path=str(log),
            ),
        )
        inode = os.stat(pinned).st_ino
    finally:
        remove_netns(pinned)

    assert status == 0
    # conmon's k8s-file lines: time, stream, P/F tag, text.
    _, stream, tag, text = log.read_text().splitlines()[0].split(" ", 3)
    assert (stream, tag, text) == ("stdout", "F", f"net:[{inode}]")


async def test_a_container_in_the_host_uts_namespace_has_the_host_name(
    box: Core, tmp_path: Path
) -> None:
    log = tmp_path / "c.log"
    status = await run(
        box,
        ContainerConfig(
            image=IMAGE,
            cmd=["hostname"],
            namespaces={"uts": "host"},
            log_path=str(log),
        ),
    )

    assert status == 0
    assert log.read_text().split(" ", 3)[3].strip() == os.uname().nodename


async def test_an_unknown_namespace_kind_is_refused_at_start(box: Core) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["true"], namespaces={"mnt": "/x"})
    )
    with pytest.raises(InvalidArgument, match="mnt namespace"):
        await lifecycle.start(box, container.id)
