"""UpdateContainerResources: new limits for a container in place (kubelet's
in-place pod resize).

A running container's cgroup is changed by the core's update (the OCI
runtime's ``update --resources``, the one place that calls it); the limits
are also written into the container's CRI configuration, which
ContainerStatus reports. A CRI container is never
started twice (kubelet makes a new one), so the core's own copy of the
limits, used only at start, need not change.
"""

from __future__ import annotations

from typing import Any

from servin_core.containers.update import set_cgroup_limits
from servin_core.errors import InvalidArgument
from servin_cri.container_create import member_or_not_found
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = ["oci_resources", "update_container_resources"]


def oci_resources(limits: pb.LinuxContainerResources) -> dict[str, Any]:
    """The OCI runtime spec's ``linux.resources`` for the CRI's limits;
    what is zero or empty is left as it is."""
    memory: dict[str, int] = {}
    if limits.memory_limit_in_bytes:
        memory["limit"] = limits.memory_limit_in_bytes
    if limits.memory_swap_limit_in_bytes:
        memory["swap"] = limits.memory_swap_limit_in_bytes
    cpu: dict[str, Any] = {}
    for name, value in (
        ("shares", limits.cpu_shares),
        ("quota", limits.cpu_quota),
        ("period", limits.cpu_period),
        ("cpus", limits.cpuset_cpus),
        ("mems", limits.cpuset_mems),
    ):
        if value:
            cpu[name] = value
    resources: dict[str, Any] = {}
    if memory:
        resources["memory"] = memory
    if cpu:
        resources["cpu"] = cpu
    if limits.unified:
        resources["unified"] = dict(limits.unified)
    return resources


async def update_container_resources(
    node: Node, request: pb.UpdateContainerResourcesRequest
) -> pb.UpdateContainerResourcesResponse:
    ident = request.container_id
    member_or_not_found(node, ident)
    if not request.HasField("linux"):
        raise InvalidArgument("container", ident, "no Linux resources given")
    container = node.core.containers.get(ident)
    await set_cgroup_limits(node.core, container, oci_resources(request.linux))

    config = node.pods.member(ident).config
    config.linux.resources.CopyFrom(request.linux)
    node.pods.set_member_config(ident, config)
    return pb.UpdateContainerResourcesResponse()
