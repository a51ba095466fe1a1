"""Networks and a container's network settings in docker's shapes: the
JSON of ``network inspect`` and the ``NetworkSettings`` of ``inspect``,
and the ports column of ``ps``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from servin_core.network.model import Endpoint, Network, PortMapping
from servin_core.network.netns import netns_path

if TYPE_CHECKING:
    from servin_core.containers.model import Container
    from servin_core.core import Core

__all__ = [
    "container_networks",
    "format_ports",
    "host_network_config",
    "network_columns",
    "network_details",
    "networkless_mode",
    "port_map",
]


def _timestamp(seconds: float) -> str:
    micro = int(seconds % 1 * 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{micro:06d}Z"


def network_details(core: Core, network: Network) -> dict[str, Any]:
    """docker's ``network inspect`` object."""
    containers: dict[str, Any] = {}
    for endpoint in core.networks.endpoints_on(network.id):
        if not endpoint.ip:
            continue  # docker lists only containers that run
        container = core.containers.get(endpoint.container_id)
        containers[container.id] = {
            "Name": container.name,
            "EndpointID": _endpoint_id(endpoint),
            "MacAddress": endpoint.mac,
            "IPv4Address": f"{endpoint.ip}/{network.prefix_length}",
            "IPv6Address": "",
        }
    return {
        "Name": network.name,
        "Id": network.id,
        "Created": _timestamp(network.created),
        "Scope": "local",
        "Driver": network.driver,
        "EnableIPv6": False,
        "IPAM": {
            "Driver": "default",
            "Options": {},
            "Config": [{"Subnet": network.subnet, "Gateway": network.gateway}],
        },
        "Internal": network.internal,
        "Attachable": False,
        "Ingress": False,
        "ConfigFrom": {"Network": ""},
        "ConfigOnly": False,
        "Containers": containers,
        "Options": {"com.docker.network.bridge.name": network.bridge,
                    **network.options},
        "Labels": network.labels,
    }  # fmt: skip


def _endpoint_id(endpoint: Endpoint) -> str:
    import hashlib

    seed = f"{endpoint.container_id}/{endpoint.network_id}".encode()
    return hashlib.sha256(seed).hexdigest()


def port_map(ports: tuple[PortMapping, ...], exposed: list[str]) -> dict[str, Any]:
    """docker's ``Ports``: each exposed or published port, its bindings."""
    result: dict[str, Any] = {key: None for key in exposed}
    for port in ports:
        result.setdefault(port.key, [])
        if result[port.key] is None:
            result[port.key] = []
        result[port.key].append(
            {"HostIp": port.host_ip or "0.0.0.0", "HostPort": str(port.host_port)}
        )
    return result


def container_networks(
    core: Core, container: Container, exposed: list[str]
) -> dict[str, Any]:
    """docker's ``NetworkSettings`` of ``container``."""
    networks: dict[str, Any] = {}
    ports: tuple[PortMapping, ...] = ()
    first: dict[str, Any] | None = None
    for endpoint in core.networks.endpoints_of(container.id):
        network = core.networks.get(endpoint.network_id)
        running = bool(endpoint.ip)
        entry = {
            "IPAMConfig": {"IPv4Address": endpoint.static_ip}
            if endpoint.static_ip
            else None,
            "Links": None,
            "Aliases": list(endpoint.aliases) or None,
            "MacAddress": endpoint.mac,
            "NetworkID": network.id,
            "EndpointID": _endpoint_id(endpoint) if running else "",
            "Gateway": network.gateway if running else "",
            "IPAddress": endpoint.ip,
            "IPPrefixLen": network.prefix_length if running else 0,
            "IPv6Gateway": "",
            "GlobalIPv6Address": "",
            "GlobalIPv6PrefixLen": 0,
            "DNSNames": [container.name, container.short_id, *endpoint.aliases]
            if network.dns
            else None,
        }
        networks[network.name] = entry
        ports += endpoint.ports
        first = first or entry
    mode = networkless_mode(container)
    if not networks and mode:
        networks[mode] = {"NetworkID": "", "IPAddress": "", "Gateway": ""}
    sandbox = netns_path(core.config.run_dir, container.id)
    return {
        "Bridge": "",
        "SandboxID": container.id if first and first["IPAddress"] else "",
        "SandboxKey": str(sandbox) if sandbox.exists() else "",
        "HairpinMode": False,
        "Ports": port_map(ports, exposed) if networks else {},
        "Gateway": first["Gateway"] if first else "",
        "IPAddress": first["IPAddress"] if first else "",
        "IPPrefixLen": first["IPPrefixLen"] if first else 0,
        "MacAddress": first["MacAddress"] if first else "",
        "Networks": networks,
    }


# TODO: ps passes no exposed ports (docker shows ``80/tcp`` for an exposed
# port not published): that needs each image's config read per listing.
def format_ports(ports: tuple[PortMapping, ...], exposed: list[str]) -> str:
    """docker's PORTS column: ``0.0.0.0:8080->80/tcp, 443/tcp``."""
    published = {port.key for port in ports}
    shown = [str(port) for port in ports]
    shown += [key for key in exposed if key not in published]
    return ", ".join(shown)


def host_network_config(container: Container) -> dict[str, Any]:
    """docker's ``HostConfig`` network fields: the mode and the ports asked
    for (``NetworkSettings.Ports`` has the ones given)."""
    from servin_core.network.model import DEFAULT_NETWORK, parse_publish

    config = container.config
    bindings: dict[str, list[dict[str, str]]] = {}
    for spec in config.publish:
        for port in parse_publish(spec):
            bindings.setdefault(port.key, []).append(
                {
                    "HostIp": port.host_ip,
                    "HostPort": str(port.host_port) if port.host_port else "",
                }
            )
    mode = config.network or DEFAULT_NETWORK
    return {
        "NetworkMode": "bridge" if mode == DEFAULT_NETWORK else mode,
        "PortBindings": bindings,
        "PublishAllPorts": config.publish_all,
    }


def networkless_mode(container: Container) -> str:
    """``host`` or ``none`` for a container started in that mode, which docker
    names where it would name the container's networks; "" otherwise."""
    mode = container.config.network or ""
    return mode if mode in ("host", "none") else ""


def network_columns(core: Core) -> dict[str, tuple[str, str]]:
    """For ``ps``: each container's PORTS and NETWORKS texts, from one
    query over every endpoint."""
    from servin_core.network.store import endpoint_of_row

    rows = core.db.query(
        "SELECT endpoints.*, networks.name AS network_name FROM endpoints"
        " JOIN networks ON networks.id = endpoints.network_id"
        " ORDER BY length(interface), interface"
    )
    ports: dict[str, tuple[PortMapping, ...]] = {}
    names: dict[str, list[str]] = {}
    for row in rows:
        endpoint = endpoint_of_row(row)
        ports[endpoint.container_id] = (
            ports.get(endpoint.container_id, ()) + endpoint.ports
        )
        names.setdefault(endpoint.container_id, []).append(row["network_name"])
    return {
        cid: (format_ports(ports.get(cid, ()), []), ",".join(found))
        for cid, found in names.items()
    }
