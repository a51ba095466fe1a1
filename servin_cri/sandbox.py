"""What the pod RPCs share: where a pod's files are, which namespaces its
containers join, and the pod as the CRI describes it.

A pod's directory (run_dir/pods/ID) holds its pinned namespaces (ns/) and
the /etc files its containers share (hosts, hostname, resolv.conf).
"""

from __future__ import annotations

from pathlib import Path

from servin_core.errors import Conflict
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb
from servin_cri.pod_pid import holder_pid
from servin_cri.pod_store import Pod, PodState

__all__ = [
    "ETC_FILES",
    "container_namespaces",
    "host_network",
    "pod_dir",
    "pod_hostname",
    "pod_message",
    "pod_state",
]

ETC_FILES = ("hosts", "hostname", "resolv.conf")
_HOSTNAME_MAX = 63
"""A DNS label's length; the kernel refuses names over 64 bytes."""


def pod_dir(node: Node, pod_id: str) -> Path:
    return node.core.config.run_dir / "pods" / pod_id


def host_network(config: pb.PodSandboxConfig) -> bool:
    options = config.linux.security_context.namespace_options
    return options.network == pb.NODE


def pod_hostname(config: pb.PodSandboxConfig) -> str:
    """The pod's hostname: the one asked for, else its name cut to a DNS
    label as kubelet cuts it (critest's pod names are longer than the
    kernel takes)."""
    if config.hostname:
        return config.hostname
    return config.metadata.name[:_HOSTNAME_MAX].rstrip("-.")


def _pod_namespaces(node: Node, pod: Pod) -> dict[str, str]:
    """The namespaces every container of ``pod`` shares: its pinned files,
    or ``host``. kubelet puts a host-network pod in the host's UTS too."""
    options = pod.config.linux.security_context.namespace_options
    ns = pod_dir(node, pod.id) / "ns"
    shared = {
        "network": "host" if options.network == pb.NODE else str(ns / "net"),
        "uts": "host" if options.network == pb.NODE else str(ns / "uts"),
        "ipc": "host" if options.ipc == pb.NODE else str(ns / "ipc"),
    }
    return shared


def container_namespaces(
    node: Node, pod: Pod, options: pb.NamespaceOption, target_pid: int = 0
) -> dict[str, str]:
    """The namespaces a container joins: the pod's, with its own PID choice
    (its own, the pod's, the host's, or a target container's)."""
    shared = _pod_namespaces(node, pod)
    if options.pid == pb.NODE:
        shared["pid"] = "host"
    elif options.pid == pb.TARGET and target_pid:
        shared["pid"] = f"/proc/{target_pid}/ns/pid"
    elif options.pid == pb.POD:
        holder = holder_pid(pod_dir(node, pod.id))
        if not holder:
            raise Conflict("pod sandbox", pod.id, "its PID namespace is gone")
        shared["pid"] = f"/proc/{holder}/ns/pid"
    return shared


def pod_state(pod: Pod) -> pb.PodSandboxState:
    if pod.state is PodState.READY:
        return pb.SANDBOX_READY
    return pb.SANDBOX_NOTREADY


def pod_message(pod: Pod) -> pb.PodSandbox:
    return pb.PodSandbox(
        id=pod.id,
        metadata=pod.metadata,
        state=pod_state(pod),
        created_at=int(pod.created * 1e9),
        labels=dict(pod.config.labels),
        annotations=dict(pod.config.annotations),
        runtime_handler=pod.runtime_handler,
    )
