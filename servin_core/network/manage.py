"""The network operations front ends call: the default network, create,
remove, prune, connect and disconnect.

A network is a row until a container joins it; the bridge plugin makes its
bridge at the first join, and ``remove`` deletes its masquerade rule, the
bridge and the leases directory with the row. A network with containers
on it is not removed. Changes to one network take its lock; connect and
disconnect also take the container's, so a start never races a connect.
The holder that removes a network deletes its lock file (state/locks.py).
"""

from __future__ import annotations

import ipaddress
import secrets
import shutil
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from servin_core import log
from servin_core.containers.model import Container, State
from servin_core.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    NotFound,
    Unavailable,
)
from servin_core.filters import PruneFilter
from servin_core.network import cni_cache
from servin_core.network.attach import (
    join_endpoint,
    leave_endpoint,
    release_responders,
)
from servin_core.network.conflist import ipam_dir
from servin_core.network.hostsfile import add_address, remove_address
from servin_core.network.masquerade import remove_masquerade
from servin_core.network.model import DEFAULT_NETWORK, Endpoint, Network
from servin_core.network.netns import netns_path
from servin_core.network.plan import check_static_ip, next_interface
from servin_core.network.subnets import (
    bridge_name,
    check_subnet,
    choose_subnet,
    gateway_of,
)
from servin_core.state.locks import forget_lock, object_lock

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = [
    "RESERVED_NAMES",
    "connect_sync",
    "create_network",
    "disconnect_sync",
    "ensure_default",
    "prune_networks",
    "remove_network",
    "remove_network_locked",
]

RESERVED_NAMES = ("host", "none", "bridge", DEFAULT_NETWORK)
_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def ensure_default(core: Core) -> Network:
    """The default network, made on first use from the configuration."""
    found = core.networks.find(DEFAULT_NETWORK)
    if found is not None:
        return found
    # Once, when it is made: a subnet some other interface routes (podman's
    # podman0 also defaults to 10.88.0.0/16) would leave it unreachable.
    # Another Servin root's default network shares the bridge, so its route
    # is no clash.
    subnet = core.config.default_network_subnet
    try:
        check_subnet(DEFAULT_NETWORK, subnet, (), own_bridge=core.config.default_bridge)
    except InvalidArgument as e:
        raise InvalidArgument(
            "network",
            DEFAULT_NETWORK,
            f"{e.reason}; choose another with default_network_subnet (and"
            " default_bridge) in the configuration",
        ) from e
    network = Network(
        id=secrets.token_hex(32),
        name=DEFAULT_NETWORK,
        driver="bridge",
        bridge=core.config.default_bridge,
        subnet=subnet,
        gateway=_first_host(subnet),
        internal=False,
        dns=False,  # as docker's default bridge: no name resolution
        labels={},
        options={},
        created=time.time(),
    )
    try:
        with core.db.write() as conn:
            core.networks.add(conn, network)
    except AlreadyExists:
        pass  # another process made it first
    return core.networks.resolve(DEFAULT_NETWORK)


def _first_host(subnet: str) -> str:
    return str(ipaddress.ip_network(subnet).network_address + 1)


def create_network(
    core: Core,
    name: str,
    *,
    driver: str = "bridge",
    subnet: str | None = None,
    gateway: str | None = None,
    internal: bool = False,
    labels: dict[str, str] | None = None,
) -> Network:
    if not name or name[0] in "_.-" or set(name) - _NAME_CHARS:
        raise InvalidArgument(
            "network", name, "only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed"
        )
    if name in RESERVED_NAMES:
        raise InvalidArgument("network", name, "is a pre-defined network's name")
    if driver != "bridge":
        raise InvalidArgument("network", name, f"unsupported driver {driver!r}")
    network_id = secrets.token_hex(32)
    with object_lock(core.config.run_dir, "network", "create"):
        others = core.networks.list()
        if any(other.name == name for other in others):
            raise AlreadyExists("network", name, "a network with this name exists")
        subnet = subnet or choose_subnet(name, others)
        net = check_subnet(name, subnet, others)
        network = Network(
            id=network_id,
            name=name,
            driver=driver,
            bridge=bridge_name(network_id),
            subnet=str(net),
            gateway=gateway_of(name, net, gateway),
            internal=internal,
            dns=True,
            labels=dict(labels or {}),
            options={},
            created=time.time(),
        )
        with core.db.write() as conn:
            core.networks.add(conn, network)
    log.for_object(log.network, "network", network.id).info(
        "created %s (%s, bridge %s)", name, network.subnet, network.bridge
    )
    return network


def _delete_bridge(bridge: str) -> None:
    """Delete the bridge (and the host routes through it) with pyroute2,
    only here: its import is too slow for every container start. Its
    synchronous API runs an event loop of its own, which cannot run in a
    thread whose loop is running, so it gets a thread of its own."""
    failure: list[BaseException] = []

    def delete() -> None:
        from pyroute2 import IPRoute

        try:
            with IPRoute() as ipr:
                for index in ipr.link_lookup(ifname=bridge):
                    ipr.link("del", index=index)
        except BaseException as e:
            failure.append(e)

    worker = threading.Thread(target=delete, name=f"delete {bridge}")
    worker.start()
    worker.join()
    if failure:
        raise Unavailable(
            "bridge", bridge, f"cannot delete it: {failure[0]}"
        ) from failure[0]


def remove_network(core: Core, text: str) -> Network:
    network = core.networks.resolve(text)
    if network.name == DEFAULT_NETWORK:
        raise Conflict(
            "network", network.name, "is the pre-defined default network"
            " and cannot be removed",
        )  # fmt: skip
    with object_lock(core.config.run_dir, "network", network.id):
        remove_network_locked(core, network)
    log.for_object(log.network, "network", network.id).info("removed %s", network.name)
    return network


def remove_network_locked(core: Core, network: Network) -> None:
    """:func:`remove_network` for a caller that holds the network's lock.
    Once the network is gone (or found gone) its lock file is deleted: the
    caller must do nothing more with the network under that lock."""
    run_dir = core.config.run_dir
    try:
        core.networks.get(network.id)
    except NotFound:
        # Removed while we waited: the lock file is the one we made.
        forget_lock(run_dir, "network", network.id)
        raise NotFound("network", network.name, "No such network") from None
    attached = core.networks.endpoints_on(network.id)
    if attached:
        names = sorted(core.containers.get(e.container_id).name for e in attached)
        raise Conflict(
            "network", network.name, f"has containers attached: {', '.join(names)}"
        )
    remove_masquerade(core, network)
    with core.db.write() as conn:
        core.networks.delete(conn, network)
    try:
        _delete_bridge(network.bridge)
        shutil.rmtree(ipam_dir(core.config.data_dir) / network.name, ignore_errors=True)
    finally:
        # Its row is gone: so goes its lock file, last (state/locks.py).
        forget_lock(run_dir, "network", network.id)


def prune_networks(core: Core, only: PruneFilter | None = None) -> list[Network]:
    """Remove every user network no container is on, of those ``only``
    selects by their labels and the time they were created."""
    removed = []
    for network in core.networks.list():
        if network.name == DEFAULT_NETWORK or core.networks.endpoints_on(network.id):
            continue
        if only is not None and not only.selects(network.labels, network.created):
            continue
        try:
            removed.append(remove_network(core, network.id))
        except (Conflict, NotFound):
            continue  # joined or removed meanwhile
    return removed


def _own_namespace(container: Container) -> None:
    mode = container.config.network or ""
    if mode in ("host", "none") or mode.startswith("container:"):
        raise Conflict(
            "container", container.name, f"uses --network {mode}: it has no"
            " networks to connect or disconnect",
        )  # fmt: skip


def connect_sync(
    core: Core,
    container: Container,
    network_text: str,
    *,
    aliases: tuple[str, ...] = (),
    ip: str = "",
) -> Endpoint:
    """Put ``container`` (whose lock the caller holds) on a network; joined
    at once if it runs, at its next start otherwise."""
    _own_namespace(container)
    network = core.networks.resolve(network_text)
    endpoints = core.networks.endpoints_of(container.id)
    if any(e.network_id == network.id for e in endpoints):
        raise AlreadyExists(
            "container", container.name, f"is already on network {network.name}"
        )
    static_ip = check_static_ip(network, ip, container.name) if ip else ""
    endpoint = Endpoint(
        container.id,
        network.id,
        next_interface([e.interface for e in endpoints]),
        aliases=aliases,
        static_ip=static_ip,
    )
    path = netns_path(core.config.run_dir, container.id)
    if container.state is State.RUNNING and not path.exists():
        raise Conflict(
            "container", container.name, "was started without a network"
            " namespace of its own; restart it to connect",
        )  # fmt: skip
    with core.db.write() as conn:
        core.networks.add_endpoint(conn, endpoint)
        _record(core, conn, "connect", network, container)
    if container.state is State.RUNNING:
        try:
            ip = join_endpoint(core, endpoint, network, str(path))
            add_address(core.config, container, ip)
        except BaseException:
            for entry in cni_cache.entries(core.config.data_dir, container.id):
                if entry.network_id == network.id:
                    leave_endpoint(core, entry)
            with core.db.write() as conn:
                core.networks.delete_endpoint(conn, endpoint)
                _record(core, conn, "disconnect", network, container)
            raise
    return endpoint


def disconnect_sync(core: Core, container: Container, network_text: str) -> None:
    """Take ``container`` (locked by the caller) off a network."""
    network = core.networks.resolve(network_text)
    endpoint = next(
        (e for e in core.networks.endpoints_of(container.id)
         if e.network_id == network.id),
        None,
    )  # fmt: skip
    if endpoint is None:
        raise NotFound(
            "container", container.name, f"is not connected to network {network.name}"
        )
    for entry in cni_cache.entries(core.config.data_dir, container.id):
        if entry.network_id == network.id:
            leave_endpoint(core, entry)
    remove_address(core.config, container, endpoint.ip)
    with core.db.write() as conn:
        core.networks.delete_endpoint(conn, endpoint)
        _record(core, conn, "disconnect", network, container)
    release_responders(core, {network.id})


def _record(
    core: Core,
    conn: sqlite3.Connection,
    action: str,
    network: Network,
    container: Container,
) -> None:
    """docker's ``network connect`` or ``disconnect`` event, in the
    transaction that adds or deletes the endpoint (front ends count a
    network's containers from these)."""
    core.events.record(
        conn, "network", action, network.id,
        container=container.id, name=network.name, type=network.driver,
    )  # fmt: skip
