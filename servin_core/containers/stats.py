"""Resource usage of running containers, as ``docker stats`` reports it.

Counters come from the container's cgroups through a small reader with one
implementation per cgroup version (v1's per-controller hierarchies, v2's
unified tree), and the network counters from the network namespace of the
container's first process. CPU % needs two samples: the container's CPU
time and the host's (``/proc/stat``) both move over the interval, and the
share is scaled by the number of online CPUs, as docker computes it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from servin_core._dataclass import dataclass
from servin_core.containers.cgroups import CGROUP_ROOT
from servin_core.containers.paths import cgroup_path

if TYPE_CHECKING:
    from servin_core.containers.model import Container
    from servin_core.core import Core

__all__ = [
    "CgroupReader",
    "CgroupV1",
    "CgroupV2",
    "Interface",
    "Sample",
    "Stats",
    "cgroup_reader",
    "compute",
    "interfaces",
    "sample",
    "stats",
]

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class CgroupReader(Protocol):
    """The counters of one container's cgroups; 0 when a file is missing."""

    def cpu_usage_ns(self) -> int: ...
    def memory_usage(self) -> int: ...
    def memory_limit(self) -> int | None: ...
    def pids(self) -> int: ...
    def block_io(self) -> tuple[int, int]: ...


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _number(path: Path) -> int:
    text = _read(path).strip()
    return int(text) if text.isdigit() else 0


def _keyed(path: Path) -> dict[str, int]:
    """A ``key value`` per line file (memory.stat, cpu.stat)."""
    values = {}
    for line in _read(path).splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            values[key] = int(value)
    return values


class CgroupV1:
    """One directory per controller: ``/sys/fs/cgroup/memory/servin/ID``..."""

    def __init__(
        self, container_id: str, root: Path = CGROUP_ROOT, parent: str | None = None
    ) -> None:
        self.relative = cgroup_path(container_id, parent).lstrip("/")
        self.root = root

    def _dir(self, controller: str) -> Path:
        return self.root / controller / self.relative

    def cpu_usage_ns(self) -> int:
        return _number(self._dir("cpuacct") / "cpuacct.usage")

    def memory_usage(self) -> int:
        # docker subtracts the page cache that could be dropped at once:
        # total_inactive_file on v1 (older docker subtracted all "cache").
        usage = _number(self._dir("memory") / "memory.usage_in_bytes")
        inactive = _keyed(self._dir("memory") / "memory.stat").get(
            "total_inactive_file", 0
        )
        return usage - inactive if inactive < usage else usage

    def memory_limit(self) -> int | None:
        limit = _number(self._dir("memory") / "memory.limit_in_bytes")
        return limit or None

    def pids(self) -> int:
        return _number(self._dir("pids") / "pids.current")

    def block_io(self) -> tuple[int, int]:
        read = written = 0
        path = self._dir("blkio") / "blkio.throttle.io_service_bytes"
        for line in _read(path).splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[2].isdigit():
                if fields[1] == "Read":
                    read += int(fields[2])
                elif fields[1] == "Write":
                    written += int(fields[2])
        return read, written


class CgroupV2:
    """The unified tree: ``/sys/fs/cgroup/servin/ID``."""

    def __init__(
        self, container_id: str, root: Path = CGROUP_ROOT, parent: str | None = None
    ) -> None:
        self.dir = root / cgroup_path(container_id, parent).lstrip("/")

    def cpu_usage_ns(self) -> int:
        return _keyed(self.dir / "cpu.stat").get("usage_usec", 0) * 1000

    def memory_usage(self) -> int:
        usage = _number(self.dir / "memory.current")
        inactive = _keyed(self.dir / "memory.stat").get("inactive_file", 0)
        return usage - inactive if inactive < usage else usage

    def memory_limit(self) -> int | None:
        return _number(self.dir / "memory.max") or None  # "max": unlimited

    def pids(self) -> int:
        return _number(self.dir / "pids.current")

    def block_io(self) -> tuple[int, int]:
        read = written = 0
        for line in _read(self.dir / "io.stat").splitlines():
            for field in line.split()[1:]:
                key, _, value = field.partition("=")
                if key == "rbytes" and value.isdigit():
                    read += int(value)
                elif key == "wbytes" and value.isdigit():
                    written += int(value)
        return read, written


def cgroup_reader(
    container_id: str, root: Path = CGROUP_ROOT, parent: str | None = None
) -> CgroupReader:
    """The reader for the hierarchy this host mounts at ``root``."""
    if (root / "cgroup.controllers").exists():
        return CgroupV2(container_id, root, parent)
    return CgroupV1(container_id, root, parent)


@dataclass(frozen=True, slots=True)
class Interface:
    """One network interface's counters since it was made (/proc/net/dev)."""

    rx_bytes: int
    rx_packets: int
    rx_errors: int
    rx_dropped: int
    tx_bytes: int
    tx_packets: int
    tx_errors: int
    tx_dropped: int


_INTERFACE_COLUMNS = (0, 1, 2, 3, 8, 9, 10, 11)
"""Where Interface's fields are among a /proc/net/dev line's sixteen."""


@dataclass(frozen=True, slots=True)
class Sample:
    """Counters of one container at one moment."""

    container_cpu_ns: int
    system_cpu_ns: int
    online_cpus: int
    memory_usage: int
    memory_limit: int
    pids: int
    block_read: int
    block_written: int
    networks: dict[str, Interface]
    """The container's interfaces but loopback, by name."""

    @property
    def net_received(self) -> int:
        return sum(i.rx_bytes for i in self.networks.values())

    @property
    def net_sent(self) -> int:
        return sum(i.tx_bytes for i in self.networks.values())


@dataclass(frozen=True, slots=True)
class Stats:
    """What ``docker stats`` prints for one container."""

    id: str
    name: str
    cpu_percent: float
    memory_usage: int
    memory_limit: int
    memory_percent: float
    net_received: int
    net_sent: int
    block_read: int
    block_written: int
    pids: int


def _system_cpu_ns() -> int:
    with open("/proc/stat") as f:
        fields = f.readline().split()
    # The first line sums every CPU; docker counts all its columns.
    return sum(int(value) for value in fields[1:8]) * 1_000_000_000 // _CLOCK_TICKS


def _host_memory() -> int:
    for line in _read(Path("/proc/meminfo")).splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def interfaces(pid: int) -> dict[str, Interface]:
    """The counters of every interface but loopback in the network namespace
    of process ``pid``, as docker reports a container's networks (traffic a
    container sends itself is not counted); empty if the process is gone."""
    found: dict[str, Interface] = {}
    if pid <= 0:
        return found
    for line in _read(Path(f"/proc/{pid}/net/dev")).splitlines()[2:]:
        name, _, counters = line.partition(":")
        columns = counters.split()
        name = name.strip()
        if name == "lo" or len(columns) < 16:
            continue
        found[name] = Interface(*(int(columns[i]) for i in _INTERFACE_COLUMNS))
    return found


def sample(container: Container, reader: CgroupReader | None = None) -> Sample:
    """Read the container's counters now."""
    reader = reader or cgroup_reader(
        container.id, parent=container.config.cgroup_parent
    )
    host_memory = _host_memory()
    limit = reader.memory_limit()
    if limit is None or (host_memory and limit > host_memory):
        limit = host_memory  # "unlimited" is the host's memory, as with docker
    block_read, block_written = reader.block_io()
    return Sample(
        container_cpu_ns=reader.cpu_usage_ns(),
        system_cpu_ns=_system_cpu_ns(),
        online_cpus=len(os.sched_getaffinity(0)) or 1,
        memory_usage=reader.memory_usage(),
        memory_limit=limit,
        pids=reader.pids(),
        block_read=block_read,
        block_written=block_written,
        networks=interfaces(container.pid),
    )


def compute(container: Container, before: Sample, after: Sample) -> Stats:
    """docker's figures from two samples of one container."""
    cpu_delta = after.container_cpu_ns - before.container_cpu_ns
    system_delta = after.system_cpu_ns - before.system_cpu_ns
    cpu = 0.0
    if cpu_delta > 0 and system_delta > 0:
        cpu = cpu_delta / system_delta * after.online_cpus * 100.0
    memory_percent = 0.0
    if after.memory_limit:
        memory_percent = after.memory_usage / after.memory_limit * 100.0
    return Stats(
        id=container.id,
        name=container.name,
        cpu_percent=cpu,
        memory_usage=after.memory_usage,
        memory_limit=after.memory_limit,
        memory_percent=memory_percent,
        net_received=after.net_received,
        net_sent=after.net_sent,
        block_read=after.block_read,
        block_written=after.block_written,
        pids=after.pids,
    )


def _empty(container: Container) -> Stats:
    """A container that is not running: docker prints zeros for it."""
    return Stats(container.id, container.name, 0.0, 0, 0, 0.0, 0, 0, 0, 0, 0)


async def stats(
    core: Core, containers: Sequence[Container], *, interval: float = 1.0
) -> list[Stats]:
    """One row per container over ``interval`` seconds (CPU % needs two
    samples); containers that are not running get zeros."""
    running = [c for c in containers if c.state.is_active and c.pid > 0]
    first = {c.id: sample(c) for c in running}
    await asyncio.sleep(interval)
    rows = []
    for container in containers:
        if container.id in first:
            rows.append(compute(container, first[container.id], sample(container)))
        else:
            rows.append(_empty(container))
    return rows
