"""The cgroup figures behind the CRI metrics, cgroup v1 and v2 alike.

servin_core's reader (:func:`servin_core.containers.stats.cgroup_reader`)
gives CPU time, working set, limit and task count, and knows where each
hierarchy keeps the container; the rest of what cAdvisor exports (CPU
split into user and system, RSS and cache, swap, failures, OOM kills, the
CPU settings) is read here from the same directories, so both versions
stay side by side as in the core.

A figure the kernel does not offer (v1 without swap accounting, v2 before
memory.peak) is None and its metric is left out, never sent as a zero.
"""

from __future__ import annotations

import os
from pathlib import Path

from servin_core._dataclass import dataclass
from servin_core.containers.model import Container
from servin_core.containers.stats import CgroupV1, CgroupV2, cgroup_reader

__all__ = ["CgroupFigures", "read_figures"]

# cgroup v1 writes "no limit" as the largest page-aligned signed number;
# cAdvisor reports such limits as 0, and so does Servin.
_UNLIMITED = 1 << 62


@dataclass(frozen=True, slots=True)
class CgroupFigures:
    """One container's counters and settings at one moment."""

    cpu_ns: int
    user_ns: int | None
    system_ns: int | None
    memory_usage: int
    working_set: int
    rss: int | None
    cache: int | None
    swap: int | None
    max_usage: int | None
    failcnt: int | None
    oom_kills: int | None
    memory_limit: int
    cpu_shares: int | None
    cpu_quota: int | None
    cpu_period: int | None
    threads: int
    threads_max: int | None
    processes: int
    file_descriptors: int
    sockets: int
    cfs_periods: int | None
    cfs_throttled_periods: int | None
    cfs_throttled_ns: int | None
    # (failure type, scope) -> count: pgfault and pgmajfault, of the
    # container's own pages and of its hierarchy, as cAdvisor splits them.
    memory_failures: dict[tuple[str, str], int]
    kernel_memory: int | None
    mapped_file: int | None
    swap_limit: int | None
    reservation: int | None


def _text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _int(path: Path) -> int | None:
    text = _text(path)
    if text is None or not text.lstrip("-").isdigit():
        return None
    return int(text)


def _keyed(path: Path) -> dict[str, int]:
    values = {}
    for line in (_text(path) or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            values[key] = int(value)
    return values


def _limit(value: int | None) -> int:
    return 0 if value is None or value >= _UNLIMITED else value


def _setting(path: Path) -> int | None:
    """A limit file: 0 for none ("max", or v1's huge number), None when the
    kernel has no such file (a controller or accounting switched off)."""
    text = _text(path)
    if text is None or not (text == "max" or text.lstrip("-").isdigit()):
        return None
    return 0 if text == "max" else _limit(int(text))


def _processes(procs: Path) -> tuple[int, int, int]:
    """How many processes the cgroup holds, their open descriptors, and how
    many of those are sockets."""
    pids = [int(p) for p in (_text(procs) or "").split() if p.isdigit()]
    descriptors = sockets = 0
    for pid in pids:
        try:
            entries = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue  # gone since the list was read
        descriptors += len(entries)
        for entry in entries:
            try:
                target = os.readlink(f"/proc/{pid}/fd/{entry}")
            except OSError:
                continue  # closed since
            sockets += target.startswith("socket:")
    return len(pids), descriptors, sockets


def _faults(stat: dict[str, int], own: str, total: str) -> dict[tuple[str, str], int]:
    """memory.stat's page faults: ``own`` the container's keys' prefix,
    ``total`` its hierarchy's."""
    found = {}
    for kind in ("pgfault", "pgmajfault"):
        if own + kind in stat:
            found[kind, "container"] = stat[own + kind]
        if total + kind in stat:
            found[kind, "hierarchy"] = stat[total + kind]
    return found


def _v1(reader: CgroupV1) -> CgroupFigures:
    def at(controller: str) -> Path:
        return reader.root / controller / reader.relative

    memory, cpu = at("memory"), at("cpu")
    stat = _keyed(memory / "memory.stat")
    oom = _keyed(memory / "memory.oom_control")
    quota = _int(cpu / "cpu.cfs_quota_us")
    throttling = _keyed(cpu / "cpu.stat")
    processes, descriptors, sockets = _processes(at("pids") / "cgroup.procs")
    return CgroupFigures(
        cpu_ns=reader.cpu_usage_ns(),
        user_ns=_int(at("cpuacct") / "cpuacct.usage_user"),
        system_ns=_int(at("cpuacct") / "cpuacct.usage_sys"),
        memory_usage=_int(memory / "memory.usage_in_bytes") or 0,
        working_set=reader.memory_usage(),
        rss=stat.get("total_rss"),
        cache=stat.get("total_cache"),
        swap=stat.get("total_swap"),
        max_usage=_int(memory / "memory.max_usage_in_bytes"),
        failcnt=_int(memory / "memory.failcnt"),
        oom_kills=oom.get("oom_kill"),
        memory_limit=_limit(reader.memory_limit()),
        cpu_shares=_int(cpu / "cpu.shares"),
        cpu_quota=quota if quota is not None and quota > 0 else None,
        cpu_period=_int(cpu / "cpu.cfs_period_us"),
        threads=reader.pids(),
        threads_max=_setting(at("pids") / "pids.max"),
        processes=processes,
        file_descriptors=descriptors,
        sockets=sockets,
        cfs_periods=throttling.get("nr_periods"),
        cfs_throttled_periods=throttling.get("nr_throttled"),
        cfs_throttled_ns=throttling.get("throttled_time"),
        memory_failures=_faults(stat, "", "total_"),
        kernel_memory=_int(memory / "memory.kmem.usage_in_bytes"),
        mapped_file=stat.get("total_mapped_file"),
        # v1's figure is memory and swap together (memsw), as cAdvisor shows.
        swap_limit=_setting(memory / "memory.memsw.limit_in_bytes"),
        reservation=_setting(memory / "memory.soft_limit_in_bytes"),
    )


def _shares(weight: int | None) -> int | None:
    """cpu.weight back to v1 shares, the inverse of the conversion runc and
    crun apply to a CRI container's shares."""
    if weight is None:
        return None
    return 2 + (weight - 1) * 262142 // 9999


def _v2(reader: CgroupV2) -> CgroupFigures:
    here = reader.dir
    cpu = _keyed(here / "cpu.stat")
    stat = _keyed(here / "memory.stat")
    events = _keyed(here / "memory.events")
    quota, _, period = (_text(here / "cpu.max") or "").partition(" ")
    processes, descriptors, sockets = _processes(here / "cgroup.procs")
    throttled = cpu.get("throttled_usec")
    # v2's memory.stat is the hierarchy's; a container's cgroup has no
    # children, so its own figures are the same.
    faults = _faults(stat, "", "")
    faults.update({(kind, "hierarchy"): n for (kind, _), n in faults.items()})
    return CgroupFigures(
        cpu_ns=reader.cpu_usage_ns(),
        user_ns=cpu["user_usec"] * 1000 if "user_usec" in cpu else None,
        system_ns=cpu["system_usec"] * 1000 if "system_usec" in cpu else None,
        memory_usage=_int(here / "memory.current") or 0,
        working_set=reader.memory_usage(),
        rss=stat.get("anon"),
        cache=stat.get("file"),
        swap=_int(here / "memory.swap.current"),
        max_usage=_int(here / "memory.peak"),
        failcnt=events.get("max"),
        oom_kills=events.get("oom_kill"),
        memory_limit=_limit(reader.memory_limit()),
        cpu_shares=_shares(_int(here / "cpu.weight")),
        cpu_quota=int(quota) if quota.isdigit() else None,
        cpu_period=int(period) if period.isdigit() else None,
        threads=reader.pids(),
        threads_max=_setting(here / "pids.max"),
        processes=processes,
        file_descriptors=descriptors,
        sockets=sockets,
        cfs_periods=cpu.get("nr_periods"),
        cfs_throttled_periods=cpu.get("nr_throttled"),
        cfs_throttled_ns=None if throttled is None else throttled * 1000,
        memory_failures=faults,
        kernel_memory=stat.get("kernel"),
        mapped_file=stat.get("file_mapped"),
        # Swap alone on v2 ("max": none, 0).
        swap_limit=_setting(here / "memory.swap.max"),
        reservation=_setting(here / "memory.low"),
    )


def read_figures(container: Container) -> CgroupFigures:
    """The container's figures now (blocking: call it in a thread)."""
    reader = cgroup_reader(container.id, parent=container.config.cgroup_parent)
    if isinstance(reader, CgroupV2):
        return _v2(reader)
    assert isinstance(reader, CgroupV1)
    return _v1(reader)
