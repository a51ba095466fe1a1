"""Leaving networks when a run ends: the veths go with the namespace,
whether the kernel frees it or another container still holds it."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import import_busybox, remove_all
from network_kit import NO_NETWORK_LEFTOVERS, bridge_ports, network_leftovers

from servin_core.containers import lifecycle
from servin_core.containers.model import ContainerConfig, State
from servin_core.core import Core

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)


async def start(core: Core, name: str, **config: object) -> str:
    container = await lifecycle.create(
        core,
        ContainerConfig(image=IMAGE, cmd=["sleep", "1000"], **config),  # type: ignore[arg-type]
        name=name,
    )
    await lifecycle.start(core, container.id)
    return container.id


def links_in(pid: int) -> list[str]:
    """The interface names in the network namespace of process ``pid``."""
    shown = subprocess.run(
        ["nsenter", f"--net=/proc/{pid}/ns/net", "ip", "-o", "link"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return sorted(
        line.split(":")[1].strip().split("@")[0] for line in shown.splitlines()
    )


async def test_a_stopped_container_leaves_no_veth_on_the_bridge(box: Core) -> None:
    ident = await start(box, "alone")
    assert len(bridge_ports(box.config.default_bridge)) == 1

    await lifecycle.kill(box, ident)
    await lifecycle.wait(box, ident)

    assert box.containers.get(ident).state is State.EXITED
    assert bridge_ports(box.config.default_bridge) == []
    assert network_leftovers(box, ident) == NO_NETWORK_LEFTOVERS


async def test_a_namespace_another_container_shares_loses_its_veth_at_stop(
    box: Core,
) -> None:
    holder = await start(box, "holder")
    sharer = await start(box, "sharer", network="container:holder")
    sharer_pid = box.containers.get(sharer).pid
    assert links_in(sharer_pid) == ["eth0", "lo"]

    await lifecycle.kill(box, holder)
    await lifecycle.wait(box, holder)

    # The sharer still runs in the namespace, without the holder's veth.
    assert box.containers.get(sharer).state is State.RUNNING
    assert links_in(sharer_pid) == ["lo"]
    assert bridge_ports(box.config.default_bridge) == []
    assert network_leftovers(box, holder) == NO_NETWORK_LEFTOVERS
