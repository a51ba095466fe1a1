"""Published ports: which host ports a container gets, checked free.

portmap forwards with firewall rules and binds nothing, so nothing else
would notice that a host port is taken: before the plugins run, each
requested port is checked against the other containers' published ports
and by binding it once (another program listening on it fails the bind).
``-P`` and ``-p CONTAINERPORT`` take a free port the kernel proposes.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Iterable
from typing import Any

from servin_core.errors import Conflict
from servin_core.network.model import PortMapping, parse_publish

__all__ = ["exposed_ports", "requested_ports", "resolve_ports"]


def exposed_ports(image_config: dict[str, Any]) -> list[PortMapping]:
    """The image's ``EXPOSE``d ports, for ``-P``."""
    mappings = []
    for key in sorted(image_config.get("ExposedPorts") or {}):
        port, _, protocol = str(key).partition("/")
        if port.isdigit() and protocol in ("", "tcp", "udp"):
            mappings.append(PortMapping(int(port), protocol or "tcp"))
    return mappings


def requested_ports(
    publish: Iterable[str], publish_all: bool, image_config: dict[str, Any]
) -> list[PortMapping]:
    """``-p`` values, then for ``-P`` the exposed ports ``-p`` left out."""
    mappings = [m for spec in publish for m in parse_publish(spec)]
    if publish_all:
        given = {m.key for m in mappings}
        mappings += [m for m in exposed_ports(image_config) if m.key not in given]
    return mappings


# TODO: ports published by another Servin root (another database) are not
# seen: their DNAT rules bind nothing. A host-wide registry of published
# ports (a directory under /run) would catch them.
def _taken_by_others(used: Iterable[PortMapping], port: PortMapping) -> bool:
    return any(
        u.host_port == port.host_port
        and u.protocol == port.protocol
        and (not u.host_ip or not port.host_ip or u.host_ip == port.host_ip)
        for u in used
    )


def _bind(port: PortMapping) -> int:
    """Bind ``port`` (0: any) once; the port bound. OSError if taken."""
    kind = socket.SOCK_STREAM if port.protocol == "tcp" else socket.SOCK_DGRAM
    family = socket.AF_INET6 if ":" in port.host_ip else socket.AF_INET
    with socket.socket(family, kind) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((port.host_ip or "", port.host_port))
        return int(s.getsockname()[1])


def resolve_ports(
    container: str, requested: Iterable[PortMapping], used: Iterable[PortMapping]
) -> tuple[PortMapping, ...]:
    """Every port with its host port, checked free; Conflict names the
    first port taken. ``used`` are other containers' published ports."""
    used = list(used)
    resolved: list[PortMapping] = []
    for port in requested:
        if port.host_port == 0:
            while True:
                chosen = PortMapping(
                    port.container_port, port.protocol, port.host_ip, _bind(port)
                )
                if not _taken_by_others([*used, *resolved], chosen):
                    break
            resolved.append(chosen)
            continue
        where = f"{port.host_ip or '0.0.0.0'}:{port.host_port}/{port.protocol}"
        if _taken_by_others([*used, *resolved], port):
            raise Conflict(
                "container", container, f"host port {where} is already allocated"
            )
        try:
            _bind(port)
        except OSError as e:
            reason = "in use" if e.errno == errno.EADDRINUSE else e.strerror
            raise Conflict(
                "container", container, f"host port {where} is {reason}"
            ) from e
        resolved.append(port)
    return tuple(resolved)
