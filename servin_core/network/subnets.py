"""Choosing and checking a network's subnet, gateway and bridge name.

A subnet must not overlap another network of this Servin, nor a route the
host already has on some other interface (another Servin root's bridge, a
VPN, the LAN): traffic for it would go one way or the other. Free subnets
are taken from 10.89.0.0/16 in /24 steps, as podman numbers its own.
"""

from __future__ import annotations

import ipaddress
import socket
import struct
from collections.abc import Iterable

from servin_core.errors import InvalidArgument, Unavailable
from servin_core.network.model import Network

__all__ = ["bridge_name", "check_subnet", "choose_subnet", "gateway_of", "host_routes"]

_POOL = ipaddress.ip_network("10.89.0.0/16")
_Net4 = ipaddress.IPv4Network


def host_routes(exclude: Iterable[str] = ()) -> list[tuple[str, _Net4]]:
    """The host's IPv4 routes (interface, destination), default route left
    out, routes on ``exclude``'s interfaces too."""
    skip = set(exclude)
    routes = []
    try:
        with open("/proc/net/route") as f:
            lines = f.read().splitlines()[1:]
    except OSError:
        return []
    for line in lines:
        fields = line.split()
        if len(fields) < 8 or fields[0] in skip:
            continue
        dest = socket.inet_ntoa(struct.pack("<I", int(fields[1], 16)))
        mask = socket.inet_ntoa(struct.pack("<I", int(fields[7], 16)))
        net = ipaddress.IPv4Network(f"{dest}/{mask}", strict=False)
        if net.prefixlen:
            routes.append((fields[0], net))
    return routes


def _parse(name: str, subnet: str) -> _Net4:
    try:
        net = ipaddress.ip_network(subnet, strict=True)
    except ValueError as e:
        raise InvalidArgument("network", name, f"invalid subnet {subnet}: {e}") from e
    if not isinstance(net, _Net4):
        # TODO: IPv6 subnets need host-local's v6 ranges and ip6tables masquerading.
        raise InvalidArgument("network", name, "only IPv4 subnets are supported")
    if net.prefixlen > 30:
        raise InvalidArgument("network", name, f"subnet {subnet} is too small")
    return net


def check_subnet(
    name: str, subnet: str, others: Iterable[Network], own_bridge: str = ""
) -> _Net4:
    """``subnet`` parsed; InvalidArgument if it overlaps a network in
    ``others`` or a host route not on ``own_bridge``."""
    net = _parse(name, subnet)
    for other in others:
        if net.overlaps(ipaddress.ip_network(other.subnet)):
            raise InvalidArgument(
                "network",
                name,
                f"subnet {subnet} overlaps network {other.name} ({other.subnet})",
            )
    for interface, route in host_routes(exclude=[own_bridge]):
        if net.overlaps(route):
            raise InvalidArgument(
                "network",
                name,
                f"subnet {subnet} overlaps the host's route to {route} on {interface}",
            )
    return net


def choose_subnet(name: str, others: Iterable[Network]) -> str:
    taken = [ipaddress.ip_network(o.subnet) for o in others]
    taken += [route for _, route in host_routes()]
    for candidate in _POOL.subnets(new_prefix=24):
        if not any(candidate.overlaps(t) for t in taken):
            return str(candidate)
    raise Unavailable("network", name, f"no free /24 subnet left in {_POOL}")


def gateway_of(name: str, net: _Net4, gateway: str | None) -> str:
    """The given gateway, checked, else the subnet's first address."""
    if not gateway:
        return str(net.network_address + 1)
    try:
        address = ipaddress.ip_address(gateway)
    except ValueError:
        raise InvalidArgument("network", name, f"invalid gateway {gateway}") from None
    if address not in net or address in (net.network_address, net.broadcast_address):
        raise InvalidArgument(
            "network", name, f"gateway {gateway} is not a host address of {net}"
        )
    return gateway


def bridge_name(network_id: str) -> str:
    """``servin-`` and the ID's first 8 digits: unique across Servin roots,
    within the kernel's 15 characters."""
    return f"servin-{network_id[:8]}"
