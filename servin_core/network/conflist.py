"""The CNI configuration list of one endpoint: a bridge with host-local
addresses, and portmap when the endpoint publishes ports. Outbound NAT is
not the bridge plugin's (``masquerade`` keeps one rule per network).

host-local keeps its leases under Servin's data directory, one directory
per network name, so that two Servin roots on one host never share a
lease file (each has its own networks, and its own subnets to match).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from servin_core.network.model import Endpoint, Network, PortMapping

__all__ = ["CNI_VERSION", "build_conflist", "ipam_dir", "plugins_of"]

CNI_VERSION = "1.0.0"


def plugins_of(ports: tuple[PortMapping, ...]) -> list[str]:
    """The plugin executables a configuration of :func:`build_conflist` runs."""
    return ["bridge", "host-local", *(["portmap"] if ports else [])]


def ipam_dir(data_dir: Path) -> Path:
    """host-local's ``dataDir``: ``ipam/NETWORK/IP`` files hold the leases."""
    return data_dir / "networks" / "ipam"


def build_conflist(
    data_dir: Path,
    network: Network,
    endpoint: Endpoint,
    ports: tuple[PortMapping, ...] = (),
    cni_version: str = CNI_VERSION,
) -> dict[str, Any]:
    ipam: dict[str, Any] = {
        "type": "host-local",
        "dataDir": str(ipam_dir(data_dir)),
        "ranges": [[{"subnet": network.subnet, "gateway": network.gateway}]],
    }
    if not network.internal:
        # An internal network has no way out: only its own subnet's route.
        ipam["routes"] = [{"dst": "0.0.0.0/0"}]
    bridge: dict[str, Any] = {
        "type": "bridge",
        "bridge": network.bridge,
        "isGateway": True,
        # Outbound NAT is one rule per network (masquerade.py), not the
        # plugin's chain per container.
        "ipMasq": False,
        "hairpinMode": True,
        "ipam": ipam,
    }
    if endpoint.static_ip:
        bridge["args"] = {"cni": {"ips": [endpoint.static_ip]}}
    plugins: list[dict[str, Any]] = [bridge]
    if ports:
        plugins.append(
            {
                "type": "portmap",
                "capabilities": {"portMappings": True},
                # snat: traffic from the host itself to 127.0.0.1:PORT is
                # masqueraded so that the container's reply comes back.
                "snat": True,
                "runtimeConfig": {
                    "portMappings": [
                        {
                            "hostPort": port.host_port,
                            "containerPort": port.container_port,
                            "protocol": port.protocol,
                            "hostIP": port.host_ip,
                        }
                        for port in ports
                    ]
                },
            }
        )
    return {"cniVersion": cni_version, "name": network.name, "plugins": plugins}
