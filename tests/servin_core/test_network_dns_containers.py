"""Name resolution between real containers: busybox's nslookup and ping in
containers on a user network, and on the default network."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import import_busybox, processes_naming, remove_all

from servin_core.containers import lifecycle
from servin_core.containers.exec import exec_
from servin_core.containers.model import ContainerConfig
from servin_core.core import Core
from servin_core.network.manage import create_network, remove_network

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)
    for network in core.networks.list():
        if network.dns:
            # pyroute2 runs an event loop of its own: not in this one's thread.
            await asyncio.to_thread(remove_network, core, network.id)


async def _running(
    core: Core, name: str, network: str | None, aliases: list[str] | None = None
) -> None:
    config = ContainerConfig(
        image=IMAGE,
        cmd=["sleep", "600"],
        network=network,
        network_aliases=aliases or [],
    )
    container = await lifecycle.create(core, config, name=name)
    await lifecycle.start(core, container.id)


async def _exec(core: Core, container: str, *cmd: str) -> tuple[int, str]:
    """Run ``cmd`` in ``container``; its status and output."""
    with tempfile.TemporaryFile() as out:
        status = await exec_(
            core, container, list(cmd), stdout=out.fileno(), stderr=out.fileno()
        )
        out.seek(0)
        return status, out.read().decode(errors="replace")


async def test_containers_on_a_user_network_find_each_other_by_name(
    box: Core,
) -> None:
    suffix = secrets.token_hex(3)
    network = await asyncio.to_thread(create_network, box, f"dnsnet{suffix}")
    alpha, beta = f"alpha{suffix}", f"beta{suffix}"
    await _running(box, alpha, network.name, aliases=[f"first{suffix}"])
    await _running(box, beta, network.name)
    responders = processes_naming(network.id)
    assert len(responders) == 1

    status, out = await _exec(box, alpha, "nslookup", beta)
    assert status == 0, out
    (endpoint,) = box.networks.endpoints_of(box.containers.resolve(beta).id)
    assert endpoint.ip and endpoint.ip in out

    # ping resolves through the C library's path (resolv.conf), not nslookup's.
    for name in (alpha, f"first{suffix}", f"FIRST{suffix}"):
        status, out = await _exec(box, beta, "ping", "-c", "1", "-W", "5", name)
        assert status == 0, out

    # The last container to leave stops the responder.
    await remove_all(box)
    assert processes_naming(network.id) == []


async def test_containers_on_the_default_network_do_not(box: Core) -> None:
    suffix = secrets.token_hex(3)
    gamma, delta = f"gamma{suffix}", f"delta{suffix}"
    await _running(box, gamma, None)
    await _running(box, delta, None)

    status, out = await _exec(box, gamma, "nslookup", delta)
    assert status != 0, out
    status, out = await _exec(box, gamma, "ping", "-c", "1", "-W", "2", delta)
    assert status != 0 and "bad address" in out, out

    # ...though they still reach each other by address.
    (endpoint,) = box.networks.endpoints_of(box.containers.resolve(delta).id)
    status, out = await _exec(box, gamma, "ping", "-c", "1", "-W", "5", endpoint.ip)
    assert status == 0, out
