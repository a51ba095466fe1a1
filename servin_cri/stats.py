"""ContainerStats, ListContainerStats, PodSandboxStats and
ListPodSandboxStats, from the containers' cgroups (servin_core's stats).

kubelet reads cumulative CPU time and also a rate (nano cores); the rate
is computed against the previous sample this server took of the same
container, as containerd does, and left out on the first one.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from servin_core._dataclass import dataclass, field
from servin_core.containers import lifecycle
from servin_core.containers.model import Container
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.stats import Sample, sample
from servin_core.errors import NotFound
from servin_cri.container_create import member_or_not_found
from servin_cri.images import filesystem_usage
from servin_cri.node import Node
from servin_cri.pb import api_pb2 as pb
from servin_cri.pod_store import Pod, PodContainer

__all__ = [
    "container_stats",
    "list_container_stats",
    "list_pod_sandbox_stats",
    "pod_sandbox_stats",
]


@dataclass
class _Rates:
    """The previous CPU reading of each container: (time in ns, CPU ns)."""

    last: dict[str, tuple[int, int]] = field(default_factory=dict)

    def nano_cores(self, ident: str, now: int, cpu_ns: int) -> int | None:
        previous = self.last.get(ident)
        self.last[ident] = (now, cpu_ns)
        if previous is None or now <= previous[0] or cpu_ns < previous[1]:
            return None
        return (cpu_ns - previous[1]) * 1_000_000_000 // (now - previous[0])


_RATES = _Rates()


def _u64(value: int) -> pb.UInt64Value:
    return pb.UInt64Value(value=max(value, 0))


def _interfaces(pid: int) -> list[pb.NetworkInterfaceUsage]:
    """Counters of the namespace's interfaces but loopback."""
    found = []
    try:
        lines = Path(f"/proc/{pid}/net/dev").read_text().splitlines()[2:]
    except OSError:
        return []
    for line in lines:
        name, _, counters = line.partition(":")
        fields = counters.split()
        if name.strip() == "lo" or len(fields) < 11:
            continue
        found.append(
            pb.NetworkInterfaceUsage(
                name=name.strip(),
                rx_bytes=_u64(int(fields[0])),
                rx_errors=_u64(int(fields[2])),
                tx_bytes=_u64(int(fields[8])),
                tx_errors=_u64(int(fields[10])),
            )
        )
    return found


def _measure(
    node: Node, member: PodContainer
) -> tuple[pb.ContainerStats, Sample | None]:
    """One container's figures (in a worker thread)."""
    container: Container = lifecycle.refresh(
        node.core, node.core.containers.get(member.container_id)
    )
    now = time.time_ns()
    config = member.config
    stats = pb.ContainerStats(
        attributes=pb.ContainerAttributes(
            id=container.id,
            metadata=config.metadata,
            labels=dict(config.labels),
            annotations=dict(config.annotations),
        ),
        cpu=pb.CpuUsage(timestamp=now),
        memory=pb.MemoryUsage(timestamp=now),
    )
    upper = ContainerPaths.of(node.core.config, container.id).upper
    if upper.exists():
        stats.writable_layer.CopyFrom(filesystem_usage(upper))
    if not container.state.is_active:
        return stats, None

    taken = sample(container)
    stats.cpu.usage_core_nano_seconds.value = taken.container_cpu_ns
    rate = _RATES.nano_cores(container.id, now, taken.container_cpu_ns)
    if rate is not None:
        stats.cpu.usage_nano_cores.value = rate
    usage = taken.memory_usage
    stats.memory.working_set_bytes.value = usage
    stats.memory.usage_bytes.value = usage
    stats.memory.available_bytes.value = max(taken.memory_limit - usage, 0)
    return stats, taken


async def container_stats(
    node: Node, request: pb.ContainerStatsRequest
) -> pb.ContainerStatsResponse:
    member_or_not_found(node, request.container_id)
    member = node.pods.member(request.container_id)
    stats, _ = await asyncio.to_thread(_measure, node, member)
    return pb.ContainerStatsResponse(stats=stats)


async def _measure_all(
    node: Node, members: list[PodContainer]
) -> list[tuple[PodContainer, pb.ContainerStats, Sample | None]]:
    measured = []
    for member in members:
        try:
            stats, taken = await asyncio.to_thread(_measure, node, member)
        except NotFound:
            continue  # removed while we looked
        measured.append((member, stats, taken))
    return measured


async def list_container_stats(
    node: Node, request: pb.ListContainerStatsRequest
) -> pb.ListContainerStatsResponse:
    wanted = request.filter
    members = [
        m
        for m in node.pods.members()
        if m.container_id.startswith(wanted.id)
        and m.pod_id.startswith(wanted.pod_sandbox_id)
        and all(m.config.labels.get(k) == v for k, v in wanted.label_selector.items())
    ]
    measured = await _measure_all(node, members)
    return pb.ListContainerStatsResponse(stats=[s for _, s, _ in measured])


async def _pod_stats(node: Node, pod: Pod) -> pb.PodSandboxStats:
    measured = await _measure_all(node, node.pods.members(pod.id))
    now = time.time_ns()
    cpu = sum(t.container_cpu_ns for _, _, t in measured if t)
    memory = sum(t.memory_usage for _, _, t in measured if t)
    processes = sum(t.pids for _, _, t in measured if t)
    running = [
        node.core.containers.get(m.container_id).pid for m, _, t in measured if t
    ]
    interfaces = _interfaces(running[0]) if running else []
    linux = pb.LinuxPodSandboxStats(
        cpu=pb.CpuUsage(timestamp=now, usage_core_nano_seconds=_u64(cpu)),
        memory=pb.MemoryUsage(
            timestamp=now, working_set_bytes=_u64(memory), usage_bytes=_u64(memory)
        ),
        network=pb.NetworkUsage(
            timestamp=now,
            default_interface=interfaces[0] if interfaces else None,
            interfaces=interfaces,
        ),
        process=pb.ProcessUsage(timestamp=now, process_count=_u64(processes)),
        containers=[s for _, s, _ in measured],
    )
    rate = _RATES.nano_cores("pod:" + pod.id, now, cpu)
    if rate is not None:
        linux.cpu.usage_nano_cores.value = rate
    return pb.PodSandboxStats(
        attributes=pb.PodSandboxAttributes(
            id=pod.id,
            metadata=pod.metadata,
            labels=dict(pod.config.labels),
            annotations=dict(pod.config.annotations),
        ),
        linux=linux,
    )


async def pod_sandbox_stats(
    node: Node, request: pb.PodSandboxStatsRequest
) -> pb.PodSandboxStatsResponse:
    pod = node.pods.resolve(request.pod_sandbox_id)
    return pb.PodSandboxStatsResponse(stats=await _pod_stats(node, pod))


async def list_pod_sandbox_stats(
    node: Node, request: pb.ListPodSandboxStatsRequest
) -> pb.ListPodSandboxStatsResponse:
    wanted = request.filter
    pods = [
        p
        for p in node.pods.list()
        if p.id.startswith(wanted.id)
        and all(p.config.labels.get(k) == v for k, v in wanted.label_selector.items())
    ]
    return pb.ListPodSandboxStatsResponse(
        stats=[await _pod_stats(node, p) for p in pods]
    )
