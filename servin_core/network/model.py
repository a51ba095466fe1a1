"""What a network, an endpoint and a published port are.

A network is a bridge with a subnet; an endpoint is a container's place on
one network: its interface, its address while it runs, its aliases. A
published port maps a host address and port to a container's port, as
``-p [ip:][hostPort:]containerPort[/tcp|udp]`` spells it.
"""

from __future__ import annotations

import ipaddress

from servin_core._dataclass import dataclass, field
from servin_core.errors import InvalidArgument

__all__ = [
    "DEFAULT_NETWORK",
    "SPECIAL_MODES",
    "Endpoint",
    "Network",
    "PortMapping",
    "parse_publish",
]

DEFAULT_NETWORK = "servin"
"""The network containers join when none is named (docker's ``bridge``)."""
SPECIAL_MODES = ("host", "none")


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    driver: str
    bridge: str
    subnet: str
    gateway: str
    internal: bool
    dns: bool
    """Whether containers on it resolve each other by name."""
    labels: dict[str, str]
    options: dict[str, str]
    created: float

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def prefix_length(self) -> int:
        return ipaddress.ip_network(self.subnet).prefixlen


@dataclass(frozen=True)
class PortMapping:
    """One published port; ``host_port`` 0 asks for a free one."""

    container_port: int
    protocol: str = "tcp"
    host_ip: str = ""
    host_port: int = 0

    def __str__(self) -> str:
        """docker's ``0.0.0.0:8080->80/tcp``."""
        return f"{self.host_ip or '0.0.0.0'}:{self.host_port}->{self.key}"

    @property
    def key(self) -> str:
        """docker's port key: ``80/tcp``."""
        return f"{self.container_port}/{self.protocol}"

    def to_json(self) -> dict[str, object]:
        return {
            "container_port": self.container_port,
            "protocol": self.protocol,
            "host_ip": self.host_ip,
            "host_port": self.host_port,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> PortMapping:
        return cls(
            container_port=int(str(data["container_port"])),
            protocol=str(data.get("protocol", "tcp")),
            host_ip=str(data.get("host_ip", "")),
            host_port=int(str(data.get("host_port", 0))),
        )


@dataclass(frozen=True)
class Endpoint:
    container_id: str
    network_id: str
    interface: str
    ip: str = ""
    """The address while the container runs; empty otherwise."""
    mac: str = ""
    aliases: tuple[str, ...] = ()
    static_ip: str = ""
    """The address asked for with ``--ip``; empty lets IPAM choose."""
    ports: tuple[PortMapping, ...] = field(default=())
    """The ports published through this endpoint while it runs."""


def _port(text: str, spec: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise InvalidArgument("port", spec, f"{text!r} is not a port number")
    return int(text)


def _port_range(text: str, spec: str) -> list[int]:
    first, sep, last = text.partition("-")
    if not sep:
        return [_port(text, spec)]
    start, end = _port(first, spec), _port(last, spec)
    if end < start:
        raise InvalidArgument("port", spec, "the range ends before it starts")
    return list(range(start, end + 1))


def parse_publish(spec: str) -> list[PortMapping]:
    """``-p [ip:][hostPort:]containerPort[/tcp|udp]``; ranges as docker's
    (``8000-8001:80-81``)."""
    rest, _, protocol = spec.partition("/")
    protocol = protocol or "tcp"
    if protocol not in ("tcp", "udp"):
        raise InvalidArgument("port", spec, f"unknown protocol {protocol!r}")
    host_ip = ""
    if rest.startswith("["):  # [::1]:8080:80
        end = rest.find("]")
        host_ip, rest = rest[1:end], rest[end + 2 :]
    parts = rest.split(":")
    if len(parts) == 3 and not host_ip:
        host_ip = parts.pop(0)
    if len(parts) > 2 or not parts[-1]:
        raise InvalidArgument("port", spec, "expected [ip:][hostPort:]containerPort")
    if host_ip:
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            raise InvalidArgument(
                "port", spec, f"{host_ip!r} is not an IP address"
            ) from None

    container_ports = _port_range(parts[-1], spec)
    host_ports: list[int] = [0] * len(container_ports)
    if len(parts) == 2 and parts[0]:
        host_ports = _port_range(parts[0], spec)
        if len(host_ports) != len(container_ports):
            if len(container_ports) != 1:
                raise InvalidArgument(
                    "port", spec, "host and container ranges differ in length"
                )
            # TODO: docker picks one free port of a host range for a single
            # container port; Servin takes the range's first.
            host_ports = host_ports[:1]
    return [
        PortMapping(port, protocol, host_ip, host)
        for port, host in zip(container_ports, host_ports, strict=True)
    ]
