"""Containers on networks, with real namespaces, bridges and CNI plugins:
addresses, reach, NAT, published ports, and nothing left behind after
rm, a failed start or a killed one."""

from __future__ import annotations

import ipaddress
import logging
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from containers_kit import eventually, import_busybox, remove_all
from network_kit import (
    NO_NETWORK_LEFTOVERS,
    bridge_ports,
    listener_in,
    network_leftovers,
    outside_host,
)

from servin_core._dataclass import replace
from servin_core.containers import lifecycle
from servin_core.containers.logs import read_logs
from servin_core.containers.model import ContainerConfig, State
from servin_core.core import Core
from servin_core.errors import Conflict, InvalidArgument, NotFound
from servin_core.network.forwarding import ensure_forwarding
from servin_core.network.manage import create_network, remove_network
from servin_core.network.subnets import host_routes

IMAGE = "servin-test/busybox"


@pytest.fixture
async def box(core: Core, busybox_rootfs_tar: Path) -> AsyncIterator[Core]:
    await import_busybox(core, busybox_rootfs_tar)
    yield core
    await remove_all(core)
    for network in core.networks.list():
        if network.name != "servin":
            remove_network(core, network.id)


async def run(core: Core, *cmd: str, **config: object) -> tuple[str, int, str]:
    """Create and start a container, wait: its ID, status and output."""
    container = await lifecycle.create(
        core,
        ContainerConfig(image=IMAGE, cmd=list(cmd), **config),  # type: ignore[arg-type]
    )
    await lifecycle.start(core, container.id)
    status = await lifecycle.wait(core, container.id)
    text = b""
    async for line in read_logs(core, core.containers.get(container.id)):
        text += line.data
    return container.id, status, text.decode()


async def start(core: Core, *cmd: str, **config: object) -> str:
    container = await lifecycle.create(
        core,
        ContainerConfig(image=IMAGE, cmd=list(cmd), **config),  # type: ignore[arg-type]
    )
    await lifecycle.start(core, container.id)
    return container.id


async def test_the_default_network_gives_an_address_a_route_and_hosts(
    box: Core,
) -> None:
    ident, status, text = await run(
        box, "sh", "-c", "ip -o -4 addr show eth0; ip route; cat /etc/hosts"
    )

    assert status == 0
    subnet = box.config.default_network_subnet.rsplit(".", 1)[0]
    gateway = f"{subnet}.1"
    assert f"inet {subnet}." in text
    assert f"default via {gateway} dev eth0" in text
    assert f"\t{ident[:12]}" in text  # the container's address names it
    network = box.networks.resolve("servin")
    assert (network.bridge, network.subnet) == (
        box.config.default_bridge,
        box.config.default_network_subnet,
    )
    assert not network.dns


async def test_network_none_has_only_loopback(box: Core) -> None:
    _, status, text = await run(box, "ip", "-o", "link", network="none")

    assert status == 0
    names = [line.split(":")[1].strip() for line in text.splitlines()]
    assert names == ["lo"]


async def test_network_host_shares_the_hosts_interfaces(box: Core) -> None:
    _, status, text = await run(box, "ip", "-o", "link", network="host")

    host = {name for _, name in socket.if_nameindex()}
    seen = {line.split(":")[1].strip().split("@")[0] for line in text.splitlines()}
    assert status == 0
    assert seen == host


async def test_network_container_shares_the_named_containers_namespace(
    box: Core,
) -> None:
    container = await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["sleep", "1000"]), name="holder"
    )
    await lifecycle.start(box, container.id)
    address = box.networks.endpoints_of(container.id)[0].ip

    ident, status, text = await run(
        box, "ip", "-o", "-4", "addr", "show", "eth0", network="container:holder"
    )

    assert status == 0
    assert f"inet {address}/" in text
    # Kept by ID, as docker keeps it: a rename changes nothing.
    assert box.containers.get(ident).config.network == f"container:{container.id}"


async def test_two_containers_on_a_user_network_reach_each_other(box: Core) -> None:
    network = create_network(box, "backend")
    server = await start(
        box, "sh", "-c", "echo pong | nc -l -p 7000", network="backend"
    )
    server_ip = box.networks.endpoints_of(server)[0].ip

    _, status, text = await run(
        box, "sh", "-c", f"nc {server_ip} 7000 </dev/null", network="backend"
    )

    assert server_ip.startswith(network.subnet.rsplit(".", 1)[0])
    assert (status, text) == (0, "pong\n")


async def test_static_ip_and_aliases_on_a_user_network(box: Core) -> None:
    network = create_network(box, "fixed")
    wanted = network.subnet.rsplit(".", 1)[0] + ".77"

    ident, _, text = await run(
        box, "ip", "-o", "-4", "addr", "show", "eth0",
        network="fixed", ip=wanted, network_aliases=["db"],
    )  # fmt: skip

    assert f"inet {wanted}/24" in text
    assert box.networks.endpoints_of(ident)[0].aliases == ("db",)


async def test_an_internal_network_has_no_way_out(box: Core) -> None:
    network = create_network(box, "closed", internal=True)

    _, status, text = await run(box, "ip", "route", network="closed")

    assert status == 0
    assert text.splitlines() == [
        f"{network.subnet} dev eth0 scope link  src {network.subnet[:-4]}2 "
    ]


async def test_outbound_traffic_is_masqueraded(box: Core, tmp_path: Path) -> None:
    with outside_host(tmp_path, "a") as (netns, far_ip):
        listener = listener_in(netns, far_ip)
        with listener as process:
            ident, status, text = await run(
                box, "sh", "-c", f"nc {far_ip} 9099 </dev/null"
            )
            assert process.stdout is not None
            peer = process.stdout.readline().strip()

    container_ip = box.db.query(
        "SELECT 1 FROM endpoints WHERE container_id = ?", (ident,)
    )
    assert (status, text) == (0, "hello from outside\n")
    assert container_ip
    # The outside saw the host's address on its link, not the container's.
    assert peer == far_ip.rsplit(".", 1)[0] + ".1"


async def test_a_published_port_answers_on_the_hosts_addresses(box: Core) -> None:
    port = _free_port()
    ident = await start(
        box, "httpd", "-f", "-p", "80", "-h", "/etc", publish=[f"{port}:80"]
    )
    host_ip = _host_address()

    # httpd may not listen yet: the first answer is waited for.
    first = eventually(lambda: _http_get("127.0.0.1", port), "httpd to answer")
    answers = [first, _http_get(host_ip, port)]

    hostname = ident[:12]
    assert answers == [hostname, hostname]
    endpoint = box.networks.endpoints_of(ident)[0]
    assert [(p.host_port, p.container_port) for p in endpoint.ports] == [(port, 80)]


async def test_rm_leaves_no_veth_netns_rule_or_lease(box: Core) -> None:
    create_network(box, "short")
    network = box.networks.resolve("short")
    port = _free_port()
    ident = await start(box, "sleep", "1000", network="short", publish=[f"{port}:80"])
    assert len(bridge_ports(network.bridge)) == 1
    assert network_leftovers(box, ident) != NO_NETWORK_LEFTOVERS

    await lifecycle.remove(box, ident, force=True)

    assert bridge_ports(network.bridge) == []
    assert network_leftovers(box, ident) == NO_NETWORK_LEFTOVERS


async def test_a_start_killed_after_joining_is_collected_by_the_next_command(
    box: Core,
) -> None:
    port = _free_port()
    container = await lifecycle.create(
        box,
        ContainerConfig(image=IMAGE, cmd=["sleep", "1000"], publish=[f"{port}:80"]),
    )
    # The start dies of SIGKILL right after the networks were joined, before
    # the runtime ran: what it made stays behind for the next command.
    script = (
        "import os, signal, sys\n"
        "sys.path[:0] = sys.argv[3:]\n"
        "from netconfig import session_config\n"
        "from servin_core.core import Core\n"
        "from servin_core.containers import start\n"
        "from servin_core.containers.lifecycle import locked\n"
        "def die(*a, **k): os.kill(os.getpid(), signal.SIGKILL)\n"
        "start.launch = die\n"
        "core = Core.open(session_config(__import__('pathlib').Path(sys.argv[1])))\n"
        "locked(core, sys.argv[2], lambda c: start.start_locked(core, c))\n"
    )
    tests = Path(__file__).parent
    killed = subprocess.run(
        [sys.executable, "-c", script, str(box.config.data_dir), container.id,
         str(tests.parent), str(tests)],
        capture_output=True,
    )  # fmt: skip
    assert killed.returncode == -9, killed.stderr
    assert network_leftovers(box, container.id)["netns"]
    assert network_leftovers(box, container.id)["rules"]

    with Core.open(box.config) as after:
        assert network_leftovers(after, container.id) == NO_NETWORK_LEFTOVERS
        assert after.containers.get(container.id).state is State.CREATED
    assert bridge_ports(box.config.default_bridge) == []


async def test_an_overlapping_subnet_is_refused_naming_both(box: Core) -> None:
    first = create_network(box, "first")

    with pytest.raises(InvalidArgument) as failure:
        create_network(box, "second", subnet=first.subnet)

    assert str(failure.value) == (
        f"network second: subnet {first.subnet} overlaps network first ({first.subnet})"
    )
    assert box.networks.find("second") is None


async def test_a_host_port_in_use_fails_the_start_and_leaves_nothing(
    box: Core,
) -> None:
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        container = await lifecycle.create(
            box,
            ContainerConfig(image=IMAGE, cmd=["true"], publish=[f"{port}:80"]),
            name="clash",
        )

        with pytest.raises(Conflict) as failure:
            await lifecycle.start(box, container.id)

    assert str(failure.value) == (
        f"container clash: host port 0.0.0.0:{port}/tcp is in use"
    )
    assert network_leftovers(box, container.id) == NO_NETWORK_LEFTOVERS
    assert bridge_ports(box.config.default_bridge) == []
    assert box.containers.get(container.id).state is State.CREATED


async def test_an_unknown_network_is_refused_before_anything_is_made(
    box: Core,
) -> None:
    with pytest.raises(NotFound, match="network nowhere: No such network"):
        await lifecycle.create(
            box, ContainerConfig(image=IMAGE, cmd=["true"], network="nowhere")
        )

    assert box.db.query("SELECT id FROM containers") == []
    assert box.db.query("SELECT * FROM endpoints") == []


async def test_a_default_subnet_another_interface_routes_is_refused(
    core: Core, busybox_rootfs_tar: Path
) -> None:
    await import_busybox(core, busybox_rootfs_tar)
    subnet = _unrouted_subnet()
    dummy = f"svclash{os.getpid() % 100000}"
    # A veth pair (this kernel has no dummy driver), both ends up so that
    # the address's route is in force.
    peer = dummy + "p"
    subprocess.run(
        ["ip", "link", "add", dummy, "type", "veth", "peer", "name", peer],
        check=True,
    )
    try:
        subprocess.run(
            ["ip", "addr", "add", subnet.replace(".0/24", ".1/24"), "dev", dummy],
            check=True,
        )
        for end in (dummy, peer):
            subprocess.run(["ip", "link", "set", end, "up"], check=True)
        config = replace(core.config, default_network_subnet=subnet)
        with Core.open(config) as clashing:
            with pytest.raises(InvalidArgument) as failure:
                await lifecycle.create(
                    clashing, ContainerConfig(image=IMAGE, cmd=["true"])
                )
            assert clashing.networks.list() == []
            assert clashing.db.query("SELECT id FROM containers") == []
    finally:
        subprocess.run(["ip", "link", "del", dummy], check=True)

    assert str(failure.value) == (
        f"network servin: subnet {subnet} overlaps the host's route to {subnet}"
        f" on {dummy}; choose another with default_network_subnet (and"
        " default_bridge) in the configuration"
    )


async def test_a_network_with_a_container_is_not_removed(box: Core) -> None:
    create_network(box, "busy")
    await lifecycle.create(
        box, ContainerConfig(image=IMAGE, cmd=["true"], network="busy"), name="user"
    )

    with pytest.raises(Conflict, match="network busy: has containers attached: user"):
        remove_network(box, "busy")


def test_forwarding_is_turned_on_and_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    switch = tmp_path / "ip_forward"
    switch.write_text("0\n")

    with caplog.at_level(logging.INFO, logger="servin.network"):
        ensure_forwarding("web", switch)
        ensure_forwarding("web", switch)

    assert switch.read_text() == "1\n"
    said = [r.getMessage() for r in caplog.records if "forwarding" in r.getMessage()]
    assert said == [
        "[network=web] enabled IPv4 forwarding (net.ipv4.ip_forward = 1)"
        " for outbound traffic"
    ]


def _unrouted_subnet() -> str:
    taken = [route for _, route in host_routes()]
    for candidate in ipaddress.ip_network("10.240.0.0/12").subnets(new_prefix=24):
        if not any(candidate.overlaps(t) for t in taken):
            return str(candidate)
    raise AssertionError("no unrouted /24 left")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


def _host_address() -> str:
    """The host's address on its default route's interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.123", 9))  # no packet is sent
        return str(s.getsockname()[0])


def _http_get(address: str, port: int) -> str:
    """The body of GET /hostname; "" if nothing answers (yet)."""
    try:
        return _get(address, port)
    except ConnectionError:
        return ""


def _get(address: str, port: int) -> str:
    with socket.create_connection((address, port), timeout=10) as s:
        s.sendall(b"GET /hostname HTTP/1.0\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return data.decode().split("\r\n\r\n", 1)[1].strip()
