"""Servin's own bridge network for pods, when the CNI directory is empty.

A node whose administrator put no CNI configuration in place still runs
pods with a network, as docker and podman do for containers: they join the
core's default network (servin_core/network), on its bridge and subnet,
with addresses from the same host-local leases as Servin's containers, so
the two never collide. A directory that holds configurations, usable or
not, is the administrator's word and is never overridden.
"""

from __future__ import annotations

from typing import Any

from servin_core.network.conflist import CNI_VERSION, ipam_dir
from servin_core.network.forwarding import ensure_forwarding
from servin_core.network.manage import ensure_default
from servin_core.network.masquerade import ensure_masquerade
from servin_core.network.model import DEFAULT_NETWORK
from servin_cri.cni import NetworkVerdict, find_network, has_plugin
from servin_cri.node import Node

__all__ = ["default_conflist", "node_network"]

_PLUGINS = ("bridge", "host-local", "portmap")


def node_network(node: Node) -> NetworkVerdict:
    """The network pods join: the first usable configuration, else (for an
    empty directory) Servin's default network, else why there is none."""
    verdict = find_network(node.cni)
    if verdict.ready or not (verdict.empty and node.cni.fallback):
        return verdict
    missing = [p for p in _PLUGINS if not has_plugin(p, node.cni.bin_dirs)]
    if missing:
        return NetworkVerdict(
            False,
            reason=f"{verdict.reason}, and Servin's default network lacks the"
            f" plugins {', '.join(missing)}",
        )
    return NetworkVerdict(True, name=DEFAULT_NETWORK, fallback=True)


def default_conflist(node: Node) -> dict[str, Any]:
    """The configuration list that puts a pod on the default network (made
    on first use, as for containers)."""
    network = ensure_default(node.core)
    ensure_forwarding(network.name)
    # The network's one masquerade rule, as for containers: the bridge
    # plugin's ipMasq would add a chain per pod.
    ensure_masquerade(node.core, network)
    ipam = {
        "type": "host-local",
        # Shared with Servin's containers: one allocator per subnet.
        "dataDir": str(ipam_dir(node.core.config.data_dir)),
        "ranges": [[{"subnet": network.subnet, "gateway": network.gateway}]],
        "routes": [{"dst": "0.0.0.0/0"}],
    }
    return {
        "cniVersion": CNI_VERSION,
        "name": network.name,
        "plugins": [
            {
                "type": "bridge",
                "bridge": network.bridge,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": ipam,
            },
            {"type": "portmap", "capabilities": {"portMappings": True}, "snat": True},
        ],
    }
