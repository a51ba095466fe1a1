"""The metrics Servin reports through ListPodSandboxMetrics, with cAdvisor's
names, help texts of our own and the label keys kubelet turns into
Prometheus labels (kubelet's CRI stats path serves them in place of
cAdvisor's /metrics/cadvisor).

Every metric carries the base labels (``container``, ``id``, ``image``,
``name``, ``namespace``, ``pod``); network metrics add ``interface``, file
system metrics ``device``, page faults ``failure_type`` and ``scope``, and
block I/O by operation ``device``, ``major``, ``minor``, ``operation``.
``id`` is the CRI container ID (the pod ID on pod-level metrics, whose
``container`` is empty), ``name`` Servin's name for the container.

Values are unsigned integers on the wire, so CPU time is in whole seconds
(kubelet hands the number to Prometheus as it is). Limits read 0 when
there is none, as cAdvisor shows them. Left out because Servin cannot
measure them truthfully, or does not read them yet:

- container_cpu_load_average_10s and the per-CPU split: no load sampler;
- container_pressure_*: cgroup v2's PSI files (TODO: read cpu/memory/
  io.pressure on v2; this project's hosts run v1, where there are none);
- container_hugetlb_*, container_memory_numa_*, container_referenced_bytes:
  not read (TODO: the hugetlb controller's files, memory.numa_stat);
- container_ulimits_soft, container_tasks_state: per-process limits and
  task states are not gathered;
- container_network_tcp*/udp*: per-protocol socket tables are not read;
- container_fs_io_*, container_fs_read/write_seconds_total and the other
  diskstats timings: per-device timings are not kept per cgroup;
- container_accelerator_*, container_perf_*: no such counters here.
"""

from __future__ import annotations

from servin_core._dataclass import dataclass
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb

__all__ = [
    "BASE_LABELS",
    "BLKIO_LABELS",
    "CATALOG",
    "FAULT_LABELS",
    "FS_LABELS",
    "NETWORK_LABELS",
    "Spec",
    "list_metric_descriptors",
]

BASE_LABELS = ("container", "id", "image", "name", "namespace", "pod")
NETWORK_LABELS = (*BASE_LABELS, "interface")
FS_LABELS = (*BASE_LABELS, "device")
FAULT_LABELS = (*BASE_LABELS, "failure_type", "scope")
BLKIO_LABELS = (*BASE_LABELS, "device", "major", "minor", "operation")

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


def _fs(what: str, help: str, kind: pb.MetricType = _GAUGE) -> Spec:
    return Spec(f"container_fs_{what}", help, kind, FS_LABELS)


CATALOG: tuple[Spec, ...] = (
    Spec("container_cpu_usage_seconds_total", "CPU time used, seconds", _COUNTER),
    Spec("container_cpu_user_seconds_total", "CPU time in user mode", _COUNTER),
    Spec("container_cpu_system_seconds_total", "CPU time in the kernel", _COUNTER),
    Spec("container_cpu_cfs_periods_total", "CFS periods elapsed", _COUNTER),
    Spec(
        "container_cpu_cfs_throttled_periods_total", "CFS periods throttled", _COUNTER
    ),
    Spec(
        "container_cpu_cfs_throttled_seconds_total", "Time throttled, seconds", _COUNTER
    ),
    Spec("container_memory_usage_bytes", "Memory charged, cache too", _GAUGE),
    Spec(
        "container_memory_working_set_bytes",
        "Memory charged less inactive file cache (what eviction counts)",
        _GAUGE,
    ),
    Spec("container_memory_rss", "Anonymous memory and swap cache", _GAUGE),
    Spec("container_memory_cache", "Page cache charged", _GAUGE),
    Spec("container_memory_swap", "Swap used", _GAUGE),
    Spec("container_memory_mapped_file", "File pages mapped", _GAUGE),
    Spec("container_memory_kernel_usage", "Kernel memory charged", _GAUGE),
    Spec(
        "container_memory_failures_total",
        "Page faults (pgfault, pgmajfault), of the container and its hierarchy",
        _COUNTER,
        FAULT_LABELS,
    ),
    Spec("container_memory_max_usage_bytes", "Highest memory charged", _GAUGE),
    Spec("container_memory_failcnt", "Times the memory limit was hit", _COUNTER),
    Spec("container_oom_events_total", "Processes the OOM killer ended", _COUNTER),
    Spec("container_spec_memory_limit_bytes", "Memory limit, 0 if none", _GAUGE),
    Spec(
        "container_spec_memory_swap_limit_bytes",
        "Swap limit, 0 if none (memory and swap together on cgroup v1)",
        _GAUGE,
    ),
    Spec(
        "container_spec_memory_reservation_limit_bytes",
        "Memory reservation (soft limit; memory.low on cgroup v2), 0 if none",
        _GAUGE,
    ),
    Spec("container_spec_cpu_shares", "CPU shares (weight on cgroup v2)", _GAUGE),
    Spec("container_spec_cpu_quota", "CPU quota per period, microseconds", _GAUGE),
    Spec("container_spec_cpu_period", "CPU quota period, microseconds", _GAUGE),
    Spec("container_processes", "Processes in the container", _GAUGE),
    Spec("container_threads", "Threads in the container", _GAUGE),
    Spec("container_threads_max", "Thread (pids) limit, 0 if none", _GAUGE),
    Spec("container_file_descriptors", "Open file descriptors", _GAUGE),
    Spec("container_sockets", "Open sockets", _GAUGE),
    Spec("container_fs_usage_bytes", "Size of the writable layer", _GAUGE, FS_LABELS),
    _fs("limit_bytes", "Size of the file system under the writable layer"),
    _fs("inodes_total", "Inodes of that file system"),
    _fs("inodes_free", "Free inodes of that file system"),
    _fs("reads_bytes_total", "Bytes read from the device", _COUNTER),
    _fs("reads_total", "Reads from the device", _COUNTER),
    _fs("writes_bytes_total", "Bytes written to the device", _COUNTER),
    _fs("writes_total", "Writes to the device", _COUNTER),
    Spec(
        "container_blkio_device_usage_total",
        "Bytes moved to or from a device, by operation (Read, Write)",
        _COUNTER,
        BLKIO_LABELS,
    ),
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
