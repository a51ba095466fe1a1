"""RunPodSandbox: a pod's namespaces and shared files, and nothing running.

Where containerd and CRI-O start a pause process to hold the pod's
namespaces, Servin pins them to files (pod_namespaces.py), so a ready pod
costs no process (one small one when its containers share PIDs, see
pod_pid.py). The pod is recorded not-ready first and marked ready
only once everything exists; a failure removes what was made.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import shutil
import socket
from collections.abc import Callable

from servin_core import log
from servin_core.containers.etcfiles import write_etc_files
from servin_core.errors import InvalidArgument
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb
from servin_cri.pod_namespaces import (
    apply_sysctls,
    pin_namespaces,
    sysctl_owner,
    unpin_namespaces,
)
from servin_cri.pod_pid import hold_pid_namespace, release_pid_namespace
from servin_cri.pod_store import PodState
from servin_cri.sandbox import host_network, pod_dir, pod_hostname
from servin_cri.sandbox_network import attach_pod, detach_pod

__all__ = ["run_pod_sandbox"]

_RUNTIMES = ("", "crun", "runc")


def _check(request: pb.RunPodSandboxRequest) -> None:
    meta = request.config.metadata
    ident = f"{meta.namespace}/{meta.name}"
    for field in ("name", "namespace", "uid"):
        if not getattr(meta, field):
            raise InvalidArgument("pod sandbox", ident, f"metadata.{field} is empty")
    if request.runtime_handler not in _RUNTIMES:
        raise InvalidArgument(
            "pod sandbox", ident, f"unknown runtime handler {request.runtime_handler}"
        )
    options = request.config.linux.security_context.namespace_options
    on_host = {
        "network": options.network == pb.NODE,
        "uts": options.network == pb.NODE,
        "ipc": options.ipc == pb.NODE,
    }
    parent = request.config.linux.cgroup_parent
    if parent and (not parent.startswith("/") or ".." in parent.split("/")):
        raise InvalidArgument(
            "pod sandbox", ident, f"cgroup parent {parent} is not an absolute path"
        )
    for name in request.config.linux.sysctls:
        owner = sysctl_owner(name)
        if owner is None:
            raise InvalidArgument(
                "pod sandbox", ident, f"sysctl {name} is not namespaced"
            )
        if on_host[owner]:
            raise InvalidArgument(
                "pod sandbox", ident, f"sysctl {name} belongs to the host's {owner}"
                " namespace, which the pod shares",
            )  # fmt: skip


def _resolv_conf(dns: pb.DNSConfig) -> str:
    lines = [f"nameserver {server}" for server in dns.servers]
    if dns.searches:
        lines.append("search " + " ".join(dns.searches))
    if dns.options:
        lines.append("options " + " ".join(dns.options))
    return "\n".join(lines) + "\n"


def _make(node: Node, pod_id: str, config: pb.PodSandboxConfig) -> str:
    """The namespaces, the network and the /etc files (in a worker thread);
    the pod's address."""
    directory = pod_dir(node, pod_id)
    host = host_network(config)
    hostname = "" if host else pod_hostname(config)
    kinds = ["ipc"] if host else ["network", "ipc", "uts"]
    if config.linux.security_context.namespace_options.ipc == pb.NODE:
        kinds.remove("ipc")

    files = pin_namespaces(directory / "ns", kinds, hostname)
    address = ""
    try:
        if config.linux.security_context.namespace_options.pid == pb.POD:
            hold_pid_namespace(directory, pod_id)
        # Set before any container starts, as the pod's own (containers
        # that join a namespace may not change it).
        apply_sysctls(files, dict(config.linux.sysctls))
        if not host:
            address = attach_pod(node, pod_id, config, directory)
        write_etc_files(
            directory,
            hostname or socket.gethostname(),
            host=host,
            addresses=(address,) if address else (),
        )
        dns = config.dns_config
        if dns.servers or dns.searches or dns.options:
            (directory / "resolv.conf").write_text(_resolv_conf(dns))
    except BaseException:
        _undo(pod_id, lambda: detach_pod(node, pod_id, directory))
        _undo(pod_id, lambda: release_pid_namespace(directory))
        _undo(pod_id, lambda: unpin_namespaces(files))
        raise
    return address


def _unmake(node: Node, pod_id: str) -> None:
    """Undo a :func:`_make` that finished for a call that did not."""
    directory = pod_dir(node, pod_id)
    _undo(pod_id, lambda: detach_pod(node, pod_id, directory))
    _undo(pod_id, lambda: release_pid_namespace(directory))
    pinned = {name: str(directory / "ns" / name) for name in ("net", "ipc", "uts")}
    _undo(pod_id, lambda: unpin_namespaces(pinned))


def _undo(pod_id: str, step: Callable[[], None]) -> None:
    """One step of undoing a failed start: its own failure is logged, so
    that the next steps run and the first error is the one reported."""
    try:
        step()
    except Exception:
        log.for_object(log.cri, "pod", pod_id).exception("cleaning up failed")


async def run_pod_sandbox(
    node: Node, request: pb.RunPodSandboxRequest
) -> pb.RunPodSandboxResponse:
    _check(request)
    config = request.config
    pod_id = secrets.token_hex(32)
    pods = node.pods
    pods.add(pod_id, config, request.runtime_handler)
    work = asyncio.ensure_future(asyncio.to_thread(_make, node, pod_id, config))
    try:
        address = await asyncio.shield(work)
        pods.set_state(pod_id, PodState.READY, ip=address)
    except BaseException:
        # A cancelled call (kubelet's deadline) leaves the thread running:
        # what it makes is undone once it is done, not half-way.
        with contextlib.suppress(BaseException):
            await asyncio.shield(work)
            await asyncio.to_thread(_unmake, node, pod_id)
        shutil.rmtree(pod_dir(node, pod_id), ignore_errors=True)
        pods.delete(pod_id)
        raise
    meta = config.metadata
    log.for_object(log.cri, "pod", pod_id).info(
        "ready: %s/%s attempt %d", meta.namespace, meta.name, meta.attempt
    )
    return pb.RunPodSandboxResponse(pod_sandbox_id=pod_id)
