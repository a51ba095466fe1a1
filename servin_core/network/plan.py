"""Which networks a new container joins, decided and checked at create.

``--network`` is refused here, before anything is made, with docker's
reasons: an unknown network, ``--ip`` or aliases where docker refuses them,
published ports on a namespace the container does not own. The endpoint
rows are then written in the transaction that adds the container's row.
"""

from __future__ import annotations

import ipaddress
import sqlite3
from typing import TYPE_CHECKING

from servin_core._dataclass import dataclass, replace
from servin_core.containers.model import ContainerConfig
from servin_core.errors import InvalidArgument
from servin_core.network.model import DEFAULT_NETWORK, Endpoint, Network, parse_publish

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = [
    "EndpointPlan",
    "add_endpoints",
    "next_interface",
    "pin_shared_network",
    "plan_networks",
]


@dataclass(frozen=True)
class EndpointPlan:
    network: Network
    aliases: tuple[str, ...]
    static_ip: str


def check_static_ip(network: Network, ip: str, container: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        raise InvalidArgument("container", container, f"invalid --ip {ip}") from None
    subnet = ipaddress.ip_network(network.subnet)
    if address not in subnet or str(address) == network.gateway:
        raise InvalidArgument(
            "container",
            container,
            f"address {ip} is not a free host address of network {network.name}"
            f" ({network.subnet})",
        )
    return str(address)


def plan_networks(
    core: Core, config: ContainerConfig, container: str
) -> list[EndpointPlan]:
    """The container's endpoints-to-be; InvalidArgument or NotFound if the
    request cannot be met."""
    from servin_core.network.manage import ensure_default

    mode = config.network or DEFAULT_NETWORK
    for spec in config.publish:
        parse_publish(spec)
    if "network" in config.namespaces:
        return []  # a CRI pod's container: the pod holds the network
    if mode == "bridge":
        mode = DEFAULT_NETWORK  # docker's name for its default network
    if mode in ("host", "none") or mode.startswith("container:"):
        if mode.startswith("container:"):
            core.containers.resolve(mode.partition(":")[2])
            if config.publish or config.publish_all:
                raise InvalidArgument(
                    "container", container, "cannot publish ports with --network"
                    f" {mode}: the ports belong to the other container",
                )  # fmt: skip
        if config.ip or config.network_aliases:
            raise InvalidArgument(
                "container", container, f"--ip and --network-alias need a network,"
                f" not --network {mode}",
            )  # fmt: skip
        return []

    if mode == DEFAULT_NETWORK:
        network = ensure_default(core)
    else:
        network = core.networks.resolve(mode)
    user_defined = network.name != DEFAULT_NETWORK
    if (config.ip or config.network_aliases) and not user_defined:
        raise InvalidArgument(
            "container", container, "--ip and --network-alias are supported on"
            " user-defined networks only",
        )  # fmt: skip
    static_ip = check_static_ip(network, config.ip, container) if config.ip else ""
    return [EndpointPlan(network, tuple(config.network_aliases), static_ip)]


def pin_shared_network(core: Core, config: ContainerConfig) -> ContainerConfig:
    """``--network container:NAME`` with the container's ID for its name, as
    docker keeps it: a later rename must not change whose network it is."""
    mode = config.network or ""
    if not mode.startswith("container:"):
        return config
    other = core.containers.resolve(mode.partition(":")[2])
    return replace(config, network=f"container:{other.id}")


def next_interface(taken: list[str]) -> str:
    index = 0
    while f"eth{index}" in taken:
        index += 1
    return f"eth{index}"


def add_endpoints(
    core: Core, conn: sqlite3.Connection, container_id: str, plans: list[EndpointPlan]
) -> None:
    """Write the rows in the caller's transaction ``conn``."""
    for index, plan in enumerate(plans):
        core.networks.add_endpoint(
            conn,
            Endpoint(
                container_id,
                plan.network.id,
                f"eth{index}",
                aliases=plan.aliases,
                static_ip=plan.static_ip,
            ),
        )
