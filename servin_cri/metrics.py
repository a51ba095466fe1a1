"""ListPodSandboxMetrics and StreamPodSandboxMetrics: every pod's and every
running container's figures in the shape of :mod:`metrics_catalog`.

Container figures come from the cgroups (:mod:`metrics_cgroup`, and
:mod:`metrics_devices` for block I/O by device and the writable layer's
file system), network figures from the pod's network namespace, read
through /proc/PID/net/dev of a running container's process as :mod:`stats`
does; a pod with no
running container has no process in its namespace to read through, and so
no network metrics. Containers that are not running have no cgroup and are
left out, as cAdvisor leaves them out.

The request names no pod, so there is no unknown pod to refuse: a pod or
container removed while it is measured is simply not in the answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from servin_core.containers import lifecycle
from servin_core.containers.model import Container
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.stats import interfaces
from servin_core.errors import NotFound
from servin_cri.images import filesystem_usage
from servin_cri.metrics_catalog import CATALOG
from servin_cri.metrics_cgroup import read_figures
from servin_cri.metrics_devices import block_io, file_system
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb
from servin_cri.pod_store import Pod, PodContainer

__all__ = ["list_pod_sandbox_metrics", "stream_pod_sandbox_metrics"]

_KINDS = {spec.name: spec.kind for spec in CATALOG}
_SECOND = 1_000_000_000
_CHUNK = 100

# /proc/net/dev's columns after the interface name, by metric.
_NET_COUNTERS = {
    "container_network_receive_bytes_total": "rx_bytes",
    "container_network_receive_packets_total": "rx_packets",
    "container_network_receive_errors_total": "rx_errors",
    "container_network_receive_packets_dropped_total": "rx_dropped",
    "container_network_transmit_bytes_total": "tx_bytes",
    "container_network_transmit_packets_total": "tx_packets",
    "container_network_transmit_errors_total": "tx_errors",
    "container_network_transmit_packets_dropped_total": "tx_dropped",
}


class _Metrics:
    """Metrics of one object, sharing its label values and timestamp."""

    def __init__(self, labels: list[str], now: int) -> None:
        self.labels = labels
        self.now = now
        self.found: list[pb.Metric] = []

    def add(self, name: str, value: int | None, *extra: str) -> None:
        if value is None:
            return  # not offered by this kernel: left out, not zero
        self.found.append(
            pb.Metric(
                name=name,
                timestamp=self.now,
                metric_type=_KINDS[name],
                label_values=[*self.labels, *extra],
                value=pb.UInt64Value(value=max(value, 0)),
            )
        )


def _seconds(nanoseconds: int | None) -> int | None:
    return None if nanoseconds is None else nanoseconds // _SECOND


def _container(node: Node, member: PodContainer) -> Container | None:
    """The member's container if it is running, else None."""
    try:
        found = node.core.containers.get(member.container_id)
    except NotFound:
        return None
    container = lifecycle.refresh(node.core, found)
    return container if container.state.is_active and container.pid > 0 else None


def _cgroup_metrics(out: _Metrics, container: Container) -> None:
    f = read_figures(container)
    out.add("container_cpu_usage_seconds_total", _seconds(f.cpu_ns))
    out.add("container_cpu_user_seconds_total", _seconds(f.user_ns))
    out.add("container_cpu_system_seconds_total", _seconds(f.system_ns))
    out.add("container_cpu_cfs_periods_total", f.cfs_periods)
    out.add("container_cpu_cfs_throttled_periods_total", f.cfs_throttled_periods)
    out.add("container_cpu_cfs_throttled_seconds_total", _seconds(f.cfs_throttled_ns))
    out.add("container_memory_usage_bytes", f.memory_usage)
    out.add("container_memory_working_set_bytes", f.working_set)
    out.add("container_memory_rss", f.rss)
    out.add("container_memory_cache", f.cache)
    out.add("container_memory_swap", f.swap)
    out.add("container_memory_mapped_file", f.mapped_file)
    out.add("container_memory_kernel_usage", f.kernel_memory)
    out.add("container_memory_max_usage_bytes", f.max_usage)
    out.add("container_memory_failcnt", f.failcnt)
    for (kind, scope), count in sorted(f.memory_failures.items()):
        out.add("container_memory_failures_total", count, kind, scope)
    out.add("container_oom_events_total", f.oom_kills)
    out.add("container_spec_memory_limit_bytes", f.memory_limit)
    out.add("container_spec_memory_swap_limit_bytes", f.swap_limit)
    out.add("container_spec_memory_reservation_limit_bytes", f.reservation)
    out.add("container_spec_cpu_shares", f.cpu_shares)
    out.add("container_spec_cpu_quota", f.cpu_quota)
    out.add("container_spec_cpu_period", f.cpu_period)
    out.add("container_processes", f.processes)
    out.add("container_threads", f.threads)
    out.add("container_threads_max", f.threads_max)
    out.add("container_file_descriptors", f.file_descriptors)
    out.add("container_sockets", f.sockets)


def _device_metrics(out: _Metrics, node: Node, container: Container) -> None:
    upper = ContainerPaths.of(node.core.config, container.id).upper
    if upper.exists():
        disk = file_system(upper)
        used = filesystem_usage(upper).used_bytes.value
        out.add("container_fs_usage_bytes", used, disk.device)
        out.add("container_fs_limit_bytes", disk.capacity, disk.device)
        out.add("container_fs_inodes_total", disk.inodes_total, disk.device)
        out.add("container_fs_inodes_free", disk.inodes_free, disk.device)
    for io in block_io(container):
        out.add("container_fs_reads_bytes_total", io.read_bytes, io.device)
        out.add("container_fs_reads_total", io.reads, io.device)
        out.add("container_fs_writes_bytes_total", io.write_bytes, io.device)
        out.add("container_fs_writes_total", io.writes, io.device)
        numbers = (io.device, str(io.major), str(io.minor))
        blkio = "container_blkio_device_usage_total"
        out.add(blkio, io.read_bytes, *numbers, "Read")
        out.add(blkio, io.write_bytes, *numbers, "Write")


def _measure(
    node: Node, pod: Pod, member: PodContainer, container: Container
) -> pb.ContainerMetrics:
    now = time.time_ns()
    labels = [
        member.config.metadata.name,
        container.id,
        container.config.image,
        container.name,
        pod.metadata.namespace,
        pod.metadata.name,
    ]
    out = _Metrics(labels, now)
    _cgroup_metrics(out, container)
    _device_metrics(out, node, container)
    out.add("container_last_seen", now // _SECOND)
    if container.started_at is not None:
        out.add("container_start_time_seconds", int(container.started_at))
    return pb.ContainerMetrics(container_id=container.id, metrics=out.found)


def _network(pod: Pod, pid: int) -> list[pb.Metric]:
    """The pod's interfaces but loopback, seen from ``pid``'s namespace."""
    labels = ["", pod.id, "", "", pod.metadata.namespace, pod.metadata.name]
    out = _Metrics(labels, time.time_ns())
    for name, counters in interfaces(pid).items():
        for metric, counter in _NET_COUNTERS.items():
            out.add(metric, getattr(counters, counter), name)
    return out.found


def _pod_metrics(node: Node, pod: Pod) -> pb.PodSandboxMetrics:
    """One pod's metrics (blocking: call it in a thread)."""
    answer = pb.PodSandboxMetrics(pod_sandbox_id=pod.id)
    first_pid = 0
    for member in node.pods.members(pod.id):
        container = _container(node, member)
        if container is None:
            continue
        try:
            answer.container_metrics.append(_measure(node, pod, member, container))
        except NotFound:
            continue  # removed while it was measured
        first_pid = first_pid or container.pid
    if first_pid:
        answer.metrics.extend(_network(pod, first_pid))
    return answer


async def _all(node: Node) -> list[pb.PodSandboxMetrics]:
    return [await asyncio.to_thread(_pod_metrics, node, p) for p in node.pods.list()]


async def list_pod_sandbox_metrics(
    node: Node, request: pb.ListPodSandboxMetricsRequest
) -> pb.ListPodSandboxMetricsResponse:
    return pb.ListPodSandboxMetricsResponse(pod_metrics=await _all(node))


async def stream_pod_sandbox_metrics(
    node: Node, request: pb.StreamPodSandboxMetricsRequest
) -> AsyncIterator[pb.StreamPodSandboxMetricsResponse]:
    # Each pod carries some thirty metrics per container: fewer per message
    # than the other streams send.
    found = await _all(node)
    for start in range(0, len(found), _CHUNK):
        chunk = found[start : start + _CHUNK]
        yield pb.StreamPodSandboxMetricsResponse(pod_sandbox_metrics=chunk)
