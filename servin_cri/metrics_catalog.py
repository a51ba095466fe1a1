"""The metrics Servin reports through ListPodSandboxMetrics, with cAdvisor's
names, help texts of our own and the label keys kubelet turns into
Prometheus labels (kubelet's CRI stats path serves them in place of
cAdvisor's /metrics/cadvisor).

Every metric carries the base labels (``container``, ``id``, ``image``,
``name``, ``namespace``, ``pod``); network metrics add ``interface`` and
file system metrics ``device``. ``id`` is the CRI container ID (the pod ID
on pod-level metrics, whose ``container`` is empty), ``name`` Servin's
name for the container.

Values are unsigned integers on the wire, so CPU time is in whole seconds
(kubelet hands the number to Prometheus as it is). Left out because Servin
cannot measure them truthfully:

- container_cpu_load_average_10s, container_cpu_cfs_* and the per-CPU
  split: no load sampler, and the throttling counters are not read yet;
- container_memory_mapped_file, container_memory_kernel_usage and the
  per-NUMA/page-fault figures: not read yet (TODO: memory.stat has them);
- container_fs_reads/writes_*, container_fs_io_*, container_fs_limit_bytes,
  container_fs_inodes_*: the core's block I/O reader sums every device and
  the writable layer is a directory on a shared file system, not a device
  of its own; only its size (container_fs_usage_bytes) is measured;
- container_network_tcp*/udp* and container_sockets: per-protocol socket
  tables are not read;
- container_tasks_state, container_ulimits_soft, container_hugetlb_*,
  container_accelerator_*, container_perf_*, container_referenced_bytes,
  container_blkio_device_usage_total: not measured by Servin at all.
"""

from __future__ import annotations

from dataclasses import dataclass

from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = [
    "BASE_LABELS",
    "CATALOG",
    "FS_LABELS",
    "NETWORK_LABELS",
    "Spec",
    "list_metric_descriptors",
]

BASE_LABELS = ("container", "id", "image", "name", "namespace", "pod")
NETWORK_LABELS = (*BASE_LABELS, "interface")
FS_LABELS = (*BASE_LABELS, "device")

_COUNTER, _GAUGE = pb.MetricType.COUNTER, pb.MetricType.GAUGE


@dataclass(frozen=True)
class Spec:
    """One metric: its name, help, type and label keys."""

    name: str
    help: str
    kind: pb.MetricType
    labels: tuple[str, ...] = BASE_LABELS


def _net(direction: str, what: str, help: str) -> Spec:
    return Spec(
        f"container_network_{direction}_{what}_total", help, _COUNTER, NETWORK_LABELS
    )


CATALOG: tuple[Spec, ...] = (
    Spec("container_cpu_usage_seconds_total", "CPU time used, seconds", _COUNTER),
    Spec("container_cpu_user_seconds_total", "CPU time in user mode", _COUNTER),
    Spec("container_cpu_system_seconds_total", "CPU time in the kernel", _COUNTER),
    Spec("container_memory_usage_bytes", "Memory charged, cache too", _GAUGE),
    Spec(
        "container_memory_working_set_bytes",
        "Memory charged less inactive file cache (what eviction counts)",
        _GAUGE,
    ),
    Spec("container_memory_rss", "Anonymous memory and swap cache", _GAUGE),
    Spec("container_memory_cache", "Page cache charged", _GAUGE),
    Spec("container_memory_swap", "Swap used", _GAUGE),
    Spec("container_memory_max_usage_bytes", "Highest memory charged", _GAUGE),
    Spec("container_memory_failcnt", "Times the memory limit was hit", _COUNTER),
    Spec("container_oom_events_total", "Processes the OOM killer ended", _COUNTER),
    Spec("container_spec_memory_limit_bytes", "Memory limit, 0 if none", _GAUGE),
    Spec("container_spec_cpu_shares", "CPU shares (weight on cgroup v2)", _GAUGE),
    Spec("container_spec_cpu_quota", "CPU quota per period, microseconds", _GAUGE),
    Spec("container_spec_cpu_period", "CPU quota period, microseconds", _GAUGE),
    Spec("container_processes", "Processes in the container", _GAUGE),
    Spec("container_threads", "Threads in the container", _GAUGE),
    Spec("container_threads_max", "Thread (pids) limit, 0 if none", _GAUGE),
    Spec("container_file_descriptors", "Open file descriptors", _GAUGE),
    Spec("container_fs_usage_bytes", "Size of the writable layer", _GAUGE, FS_LABELS),
    Spec("container_last_seen", "When this was measured, Unix seconds", _GAUGE),
    Spec("container_start_time_seconds", "Start time, Unix seconds", _GAUGE),
    _net("receive", "bytes", "Bytes received"),
    _net("receive", "packets", "Packets received"),
    _net("receive", "errors", "Errors while receiving"),
    _net("receive", "packets_dropped", "Packets dropped while receiving"),
    _net("transmit", "bytes", "Bytes sent"),
    _net("transmit", "packets", "Packets sent"),
    _net("transmit", "errors", "Errors while sending"),
    _net("transmit", "packets_dropped", "Packets dropped while sending"),
)

_DESCRIPTORS = pb.ListMetricDescriptorsResponse(
    descriptors=[
        pb.MetricDescriptor(name=s.name, help=s.help, label_keys=list(s.labels))
        for s in CATALOG
    ]
)


async def list_metric_descriptors(
    node: Node, request: pb.ListMetricDescriptorsRequest
) -> pb.ListMetricDescriptorsResponse:
    return _DESCRIPTORS
