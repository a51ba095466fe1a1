"""Pods whose namespaces are gone are not ready.

A pod's namespaces live as long as their pinned files are mounted (and,
for one that shares PIDs, its holder runs). A reboot, or someone
unmounting them, ends them while the pod's row still says ready; kubelet
must then hear "not ready" to make the pod again. The server looks when it
starts, since no process of Servin watches pods in between.
"""

from __future__ import annotations

import re
from pathlib import Path

from servin_core import log
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb
from servin_cri.pod_pid import holder_pid
from servin_cri.pod_store import Pod, PodState
from servin_cri.sandbox import host_network, pod_dir

__all__ = ["mount_points", "reconcile_pods"]

_OCTAL = re.compile(r"\\([0-7]{3})")


def mount_points(mountinfo: Path = Path("/proc/self/mountinfo")) -> set[str]:
    """Every mount point of this process's mount namespace."""
    points = set()
    for line in mountinfo.read_text().splitlines():
        fields = line.split(" ")
        if len(fields) > 4:
            # Spaces, tabs, newlines and backslashes come octal-escaped.
            points.add(_OCTAL.sub(lambda m: chr(int(m.group(1), 8)), fields[4]))
    return points


def _lost(node: Node, pod: Pod, mounted: set[str]) -> list[str]:
    directory = pod_dir(node, pod.id)
    options = pod.config.linux.security_context.namespace_options
    expected = [] if host_network(pod.config) else ["net", "uts"]
    if options.ipc != pb.NODE:
        expected.append("ipc")
    lost = [name for name in expected if str(directory / "ns" / name) not in mounted]
    if options.pid == pb.POD and not holder_pid(directory):
        lost.append("pid")
    return lost


def reconcile_pods(node: Node) -> int:
    """Mark not ready every ready pod that lost a namespace; how many."""
    mounted = mount_points()
    marked = 0
    for pod in node.pods.list():
        if pod.state is not PodState.READY:
            continue
        lost = _lost(node, pod, mounted)
        if lost:
            node.pods.set_state(pod.id, PodState.NOTREADY)
            log.for_object(log.cri, "pod", pod.id).warning(
                "not ready: its %s namespaces are gone", ", ".join(lost)
            )
            marked += 1
    return marked
