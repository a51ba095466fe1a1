"""Joining a container's networks at start, and leaving them when its run
ends.

The container's namespace is made and pinned first, then each endpoint is
added through the CNI plugins (its configuration cached before the ADD, so
that a DEL can follow even after a crash); the runtime then creates the
container in that namespace. Leaving unpins the namespace, so that the
kernel frees it with the veths in it, and runs DEL for every cached
endpoint to release its lease and rules (DEL inside a namespace another
container still holds, to take the veths out of it). A join that fails
half-way leaves the networks it joined, so a failed start leaves no veth,
lease, rule or namespace.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from servin_core import log
from servin_core._dataclass import dataclass
from servin_core.containers.model import Container, State
from servin_core.errors import Conflict, NotFound
from servin_core.network import cni_cache
from servin_core.network.cni import CniError, CniRequest, run_list
from servin_core.network.cni_version import negotiate
from servin_core.network.conflist import build_conflist, plugins_of
from servin_core.network.forwarding import ensure_forwarding
from servin_core.network.masquerade import ensure_masquerade
from servin_core.network.model import Endpoint, Network, PortMapping
from servin_core.network.netns import (
    await_links_gone,
    create_netns,
    netns_path,
    remove_netns,
)
from servin_core.network.ports import requested_ports, resolve_ports

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = [
    "Joined",
    "join_endpoint",
    "join_networks",
    "leave_endpoint",
    "leave_networks",
    "release_responders",
]


@dataclass(frozen=True)
class Joined:
    """What the spec and the /etc files need to know of a joined run."""

    netns: str | None
    """The namespace to join; "" for a new one with loopback only, None
    for the host's own."""
    addresses: tuple[str, ...] = ()
    nameservers: tuple[str, ...] = ()
    """Name servers for resolv.conf; empty keeps the host's."""

    @property
    def host(self) -> bool:
        return self.netns is None


def _address(result: dict[str, Any], ifname: str) -> tuple[str, str]:
    """The container interface's address (without prefix) and MAC."""
    interfaces = result.get("interfaces") or []
    mac = next((i.get("mac", "") for i in interfaces if i.get("name") == ifname), "")
    for ip in result.get("ips") or []:
        address = str(ip.get("address", ""))
        if address and ":" not in address:
            return address.split("/")[0], mac
    return "", mac


def join_endpoint(
    core: Core,
    endpoint: Endpoint,
    network: Network,
    netns: str,
    ports: tuple[PortMapping, ...] = (),
) -> str:
    """ADD one endpoint; its address."""
    if not network.internal:
        ensure_forwarding(network.name)
        ensure_masquerade(core, network)
    data_dir = core.config.data_dir
    speaks = negotiate(
        plugins_of(ports), data_dir / "networks" / "cni-version.json", network.name
    )
    conflist = build_conflist(data_dir, network, endpoint, ports, speaks)
    entry = cni_cache.CacheEntry(
        endpoint.container_id, network.id, endpoint.interface, netns, conflist, None
    )
    cni_cache.save(data_dir, entry)
    request = CniRequest(endpoint.container_id, netns, endpoint.interface, network.name)
    result = run_list("ADD", request, conflist)
    cni_cache.save(
        data_dir,
        cni_cache.CacheEntry(
            entry.container_id, entry.network_id, entry.ifname, netns, conflist, result
        ),
    )
    ip, mac = _address(result, endpoint.interface)
    core.networks.set_running(endpoint, ip=ip, mac=mac, ports=ports)
    log.for_object(log.network, "container", endpoint.container_id).info(
        "joined network %s as %s on %s%s",
        network.name,
        ip,
        endpoint.interface,
        "".join(f", {port}" for port in ports),
    )
    if network.dns:
        # After the ADD: the responder listens on the bridge's gateway
        # address, which the bridge plugin gives the bridge.
        from servin_core.network.dns import ensure_responder

        ensure_responder(core, network)
    return ip


def _shared_netns(core: Core, container: Container, target: str) -> str:
    """The namespace of the container ``--network container:NAME`` names."""
    other = core.containers.resolve(target)
    if other.state is not State.RUNNING or not other.pid:
        raise Conflict(
            "container",
            container.name,
            f"cannot join the network of container {other.name}: it is not running",
        )
    return f"/proc/{other.pid}/ns/net"


def join_networks(
    core: Core, container: Container, image_config: dict[str, Any]
) -> Joined:
    """Make the container's namespace and join its networks (the caller
    holds the container's lock)."""
    mode = container.config.network or ""
    shared = container.config.namespaces.get("network")
    if mode == "host" or shared == "host":
        return Joined(None)
    if shared:
        return Joined(shared)  # a CRI pod's, set up by the pod
    if mode.startswith("container:"):
        return Joined(_shared_netns(core, container, mode.partition(":")[2]))
    endpoints = core.networks.endpoints_of(container.id)
    if not endpoints:
        return Joined("")

    path = netns_path(core.config.run_dir, container.id)
    remove_netns(path)  # a pin a killed start left
    create_netns(path)
    addresses: list[str] = []
    nameservers: list[str] = []
    try:
        used = [
            port
            for other in core.networks.all_endpoints()
            if other.container_id != container.id
            for port in other.ports
        ]
        config = container.config
        ports = resolve_ports(
            container.name,
            requested_ports(config.publish, config.publish_all, image_config),
            used,
        )
        for index, endpoint in enumerate(endpoints):
            network = core.networks.get(endpoint.network_id)
            ip = join_endpoint(
                core, endpoint, network, str(path), ports if index == 0 else ()
            )
            addresses.append(ip)
            if index == 0 and network.dns:
                nameservers.append(network.gateway)
    except BaseException:
        leave_networks(core, container.id)
        raise
    return Joined(str(path), tuple(a for a in addresses if a), tuple(nameservers))


def leave_endpoint(core: Core, entry: cni_cache.CacheEntry) -> None:
    """DEL one cached endpoint; a failure is logged, not raised, so that
    the others are still removed."""
    conflist = dict(entry.conflist)
    if entry.result is not None:
        conflist["prevResult"] = entry.result
    netns = entry.netns if entry.netns and os.path.exists(entry.netns) else ""
    request = CniRequest(entry.container_id, netns, entry.ifname, conflist["name"])
    logger = log.for_object(log.network, "container", entry.container_id)
    try:
        run_list("DEL", request, conflist)
    except CniError as e:
        logger.warning("leaving network %s: %s", conflist["name"], e.reason)
    else:
        logger.info("left network %s", conflist["name"])
    cni_cache.forget(core.config.data_dir, entry.container_id, entry.network_id)


def leave_networks(core: Core, container_id: str) -> bool:
    """DEL every endpoint the container joined and unpin its namespace;
    whether there was anything to undo. Safe to repeat.

    The namespace is unpinned first when nothing else needs it: the kernel
    then frees it, and each veth with a leg in it, on its own, and DEL only
    releases the lease (measured: bridge DEL 40 ms inside the namespace,
    10 ms without it, the host's end gone 5 ms later), where a DEL inside
    the namespace waits for the kernel to delete each veth there and then.
    """
    data_dir = core.config.data_dir
    entries = list(cni_cache.entries(data_dir, container_id))
    path = netns_path(core.config.run_dir, container_id)
    early = all(_needs_no_netns(e) for e in entries) and not _shared(core, container_id)
    removed = remove_netns(path) if early else False
    for entry in entries:
        leave_endpoint(core, entry)
    if early:
        await_links_gone(_host_links(entries))
    else:
        removed = remove_netns(path)
    if not entries and not removed:
        return False
    cni_cache.forget_all(data_dir, container_id)
    with core.db.write() as conn:
        conn.execute(
            "UPDATE endpoints SET ip = '', mac = '', ports = '[]'"
            " WHERE container_id = ?",
            (container_id,),
        )
    release_responders(core, {entry.network_id for entry in entries})
    return True


def _needs_no_netns(entry: cni_cache.CacheEntry) -> bool:
    """Whether DEL undoes ``entry`` without the namespace: not so for the
    bridge plugin's ipMasq (cached by an older Servin), whose DEL finds the
    rules to delete from the addresses inside it."""
    return not any(p.get("ipMasq") for p in entry.conflist.get("plugins", []))


def _shared(core: Core, container_id: str) -> bool:
    """Whether a container that runs uses ``--network container:`` this
    one: its namespace then outlives the pin, and so would the veths."""
    row = core.db.query_one(
        "SELECT 1 FROM containers WHERE state IN ('running', 'paused',"
        " 'restarting') AND config LIKE ? LIMIT 1",
        (f"%container:{container_id}%",),
    )
    return row is not None


def _host_links(entries: list[cni_cache.CacheEntry]) -> list[str]:
    """The host ends of the veths of ``entries``, from their ADD results
    (the bridge plugin lists the bridge, the host end and, with a
    sandbox, the container's end)."""
    names = []
    for entry in entries:
        bridges = {p.get("bridge") for p in entry.conflist.get("plugins", [])}
        for interface in (entry.result or {}).get("interfaces") or []:
            name = interface.get("name")
            if name and not interface.get("sandbox") and name not in bridges:
                names.append(str(name))
    return names


def release_responders(core: Core, network_ids: set[str]) -> None:
    """Stop the DNS responders no running container on these networks
    needs any more."""
    for network_id in sorted(network_ids):
        try:
            network = core.networks.get(network_id)
        except NotFound:
            continue
        if network.dns:
            from servin_core.network.dns import release_responder

            release_responder(core, network)
