"""Resource limits of a container (cgroup limits and rlimits), and the parsers
of docker's flags that set them.

Two rules of this host shape the rlimits: Servin has no CAP_SYS_RESOURCE, so
the OCI runtime cannot raise a hard limit above Servin's own, and runc fails
the whole container when asked to. So a ``--ulimit`` above Servin's hard limit
is refused here with the limit's name, and without ``--ulimit`` the container
inherits Servin's own limits for open files and processes, never docker's
larger defaults.
"""

from __future__ import annotations

import os
import re
import resource
from typing import Any

from servin_core.containers.devices import parse_device
from servin_core.containers.model import ContainerConfig, Ulimit
from servin_core.errors import InvalidArgument

__all__ = [
    "CPU_PERIOD",
    "MIN_MEMORY",
    "apply_resources",
    "cgroup_limits",
    "parse_bytes",
    "parse_cpus",
    "parse_device",
    "parse_ulimit",
]

CPU_PERIOD = 100_000
"""Microseconds; quota = CPUs x period, as docker computes it for --cpus."""
MIN_MEMORY = 6 * 1024 * 1024
"""docker's smallest memory limit: below it a container cannot even start."""

_RLIMIT_NAMES = (
    "as core cpu data fsize locks memlock msgqueue nice nofile nproc rss "
    "rtprio rttime sigpending stack"
)
_RLIMITS = {name: "RLIMIT_" + name.upper() for name in _RLIMIT_NAMES.split()}
_RLIM_INFINITY = 2**64 - 1
_UNITS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4, "p": 5}
# Patterns, not compiled at import: re compiles and caches them on first use,
# and most runs never parse a size or a cpuset.
_CPUSET = r"\d+(-\d+)?(,\d+(-\d+)?)*"
_BYTES = r"(\d+(?:\.\d+)*) ?([kmgtp])?i?b?"


def parse_bytes(text: str, *, base: int = 1024) -> int:
    """A size in docker's notation (go-units' RAMInBytes): a number, maybe
    with a fraction, then an optional unit ``b k m g t p`` (each ``base``
    times the one before, any case, ``kb``/``kib`` alike). docker reads
    memory sizes with 1024 and the json-file log's ``max-size`` with 1000
    (go-units' FromHumanSize)."""
    from fractions import Fraction  # exact decimals; only flags need it

    match = re.fullmatch(_BYTES, text.strip(), re.IGNORECASE)
    if match is None:
        raise InvalidArgument("size", text, "expected a number with b, k, m, g, t, p")
    try:
        number = Fraction(match.group(1))
    except ValueError:
        raise InvalidArgument("size", text, "not a number") from None
    unit = (match.group(2) or "").lower()
    return int(number * base ** _UNITS[unit])


def parse_cpus(text: str) -> int:
    """``--cpus`` (a decimal number of CPUs) as nano CPUs: "1.5" is
    1500000000. Finer than a nano CPU is refused rather than rounded."""
    from fractions import Fraction

    try:
        value = Fraction(text.strip())
    except (ValueError, ZeroDivisionError):
        raise InvalidArgument("cpus", text, "not a number") from None
    nano = value * 1_000_000_000
    if nano.denominator != 1:
        raise InvalidArgument("cpus", text, "too precise: at most 9 decimals")
    if nano < 0:
        raise InvalidArgument("cpus", text, "negative")
    return int(nano)


def _limit_value(text: str, whole: str) -> int:
    if text in ("-1", "unlimited"):
        return -1
    if not text.isdigit():
        raise InvalidArgument("ulimit", whole, f"bad value {text!r}")
    return int(text)


def parse_ulimit(text: str) -> Ulimit:
    """``NAME=SOFT[:HARD]``, as ``--ulimit``; -1 is unlimited."""
    name, sep, values = text.partition("=")
    if not sep or not values:
        raise InvalidArgument("ulimit", text, "expected NAME=SOFT[:HARD]")
    if name not in _RLIMITS:
        raise InvalidArgument("ulimit", text, f"unknown limit {name!r}")
    soft_text, _, hard_text = values.partition(":")
    soft = _limit_value(soft_text, text)
    hard = _limit_value(hard_text, text) if hard_text else soft
    if _raw(soft) > _raw(hard):
        raise InvalidArgument(
            "ulimit", text, "soft limit is greater than the hard limit"
        )
    return Ulimit(name=name, soft=soft, hard=hard)


def _raw(value: int) -> int:
    return _RLIM_INFINITY if value < 0 else value


def _caller_limit(name: str) -> tuple[int, int]:
    soft, hard = resource.getrlimit(getattr(resource, _RLIMITS[name]))
    return (
        _RLIM_INFINITY if soft == resource.RLIM_INFINITY else soft,
        _RLIM_INFINITY if hard == resource.RLIM_INFINITY else hard,
    )


def _rlimits(config: ContainerConfig) -> list[dict[str, Any]]:
    """The container's rlimits: its ulimits, else Servin's own for open
    files and processes (never above what the runtime may set)."""
    chosen = {name: _caller_limit(name) for name in ("nofile", "nproc")}
    for ulimit in config.resources.ulimits:
        if ulimit.name not in _RLIMITS:
            raise InvalidArgument("ulimit", ulimit.name, "unknown limit")
        soft, hard = _raw(ulimit.soft), _raw(ulimit.hard)
        caller_hard = _caller_limit(ulimit.name)[1]
        if hard > caller_hard:
            raise InvalidArgument(
                "ulimit",
                ulimit.name,
                f"hard limit {ulimit.hard} is above Servin's own hard limit "
                f"{caller_hard}, which it cannot raise",
            )
        if soft > hard:
            raise InvalidArgument("ulimit", ulimit.name, "soft limit above hard limit")
        chosen[ulimit.name] = (soft, hard)
    return [
        {"type": _RLIMITS[name], "soft": soft, "hard": hard}
        for name, (soft, hard) in chosen.items()
    ]


def _memory(config: ContainerConfig) -> dict[str, int]:
    """docker's --memory and --memory-swap: swap is memory plus swap; unset
    swap means twice the memory; -1 means unlimited swap."""
    memory, swap = config.resources.memory, config.resources.memory_swap
    if not memory:
        if swap and swap > 0:
            raise InvalidArgument(
                "memory-swap", str(swap), "set a memory limit together with it"
            )
        reservation = config.resources.memory_reservation
        return {"reservation": reservation} if reservation else {}
    if memory < MIN_MEMORY:
        raise InvalidArgument("memory", str(memory), "the minimum is 6MiB")
    if swap is None or swap == 0:
        swap = 2 * memory
    elif swap != -1 and swap < memory:
        raise InvalidArgument(
            "memory-swap", str(swap), "must be at least the memory limit"
        )
    memory_limits = {"limit": memory}
    reservation = config.resources.memory_reservation
    if reservation:
        if reservation > memory:
            raise InvalidArgument(
                "memory-reservation",
                str(reservation),
                "must be below the memory limit",
            )
        memory_limits["reservation"] = reservation
    if _swap_accounting():
        memory_limits["swap"] = swap
    return memory_limits


def _swap_accounting() -> bool:
    """Whether the kernel accounts swap (cgroup v1 has it only with
    swapaccount=1); without it docker drops the swap limit, and so do we."""
    v1 = "/sys/fs/cgroup/memory"
    return not os.path.isdir(v1) or os.path.exists(v1 + "/memory.memsw.limit_in_bytes")


def _cpu(config: ContainerConfig) -> dict[str, Any]:
    cpu: dict[str, Any] = {}
    nano = config.resources.nano_cpus
    quota, period = config.resources.cpu_quota, config.resources.cpu_period
    if nano and (quota or period):
        raise InvalidArgument(
            "cpus", str(nano / 1e9), "give either CPUs or a CPU quota and period"
        )
    if quota:
        if quota != -1 and quota < 1000:
            raise InvalidArgument("cpu-quota", str(quota), "the minimum is 1000")
        cpu["quota"] = quota
    if period:
        if not 1000 <= period <= 1_000_000:
            raise InvalidArgument(
                "cpu-period", str(period), "the range is 1000 to 1000000"
            )
        cpu["period"] = period
    if config.resources.cpuset_cpus:
        cpu["cpus"] = _cpuset("cpuset-cpus", config.resources.cpuset_cpus)
    if config.resources.cpuset_mems:
        cpu["mems"] = _cpuset("cpuset-mems", config.resources.cpuset_mems)
    if nano:
        available = os.cpu_count() or 1
        if nano < 10_000_000 or nano > available * 1_000_000_000:
            raise InvalidArgument(
                "cpus",
                str(nano / 1e9),
                f"the range is 0.01 to {available}.00 (CPUs available)",
            )
        cpu["quota"] = nano * CPU_PERIOD // 1_000_000_000
        cpu["period"] = CPU_PERIOD
    shares = config.resources.cpu_shares
    if shares:
        if shares < 0:
            raise InvalidArgument("cpu-shares", str(shares), "negative")
        cpu["shares"] = shares
    return cpu


def _cpuset(flag: str, text: str) -> str:
    """A cpuset list (``0-2,4``) as the kernel takes it."""
    if not re.fullmatch(_CPUSET, text):
        raise InvalidArgument(flag, text, "expected a list such as 0-2,4")
    return text


def cgroup_limits(config: ContainerConfig) -> dict[str, Any]:
    """``config``'s cgroup limits as the OCI spec's ``linux.resources``
    (what ``runtime update --resources`` takes too); InvalidArgument names a
    limit the kernel would refuse."""
    resources: dict[str, Any] = {}
    memory = _memory(config)
    if memory:
        resources["memory"] = memory
    cpu = _cpu(config)
    if cpu:
        resources["cpu"] = cpu
    pids = config.resources.pids_limit
    if pids is not None and pids > 0:
        resources["pids"] = {"limit": pids}
    weight = config.resources.blkio_weight
    if weight:
        if not 10 <= weight <= 1000:
            raise InvalidArgument(
                "blkio-weight", str(weight), "the range is 10 to 1000"
            )
        if not _blkio_weight_supported():
            raise InvalidArgument(
                "blkio-weight",
                str(weight),
                "this kernel has no block I/O weight (no blkio.weight: no CFQ or"
                " BFQ scheduler)",
            )
        resources["blockIO"] = {"weight": weight}
    return resources


def _blkio_weight_supported() -> bool:
    v1 = "/sys/fs/cgroup/blkio"
    if not os.path.isdir(v1):
        return True  # v2: the runtime says if io.weight is missing
    return any(
        os.path.exists(f"{v1}/{name}") for name in ("blkio.weight", "blkio.bfq.weight")
    )


def apply_resources(spec: dict[str, Any], config: ContainerConfig) -> None:
    """Put ``config``'s limits in ``spec``: cgroup limits under
    ``linux.resources``, rlimits under ``process.rlimits``."""
    resources = spec.setdefault("linux", {}).setdefault("resources", {})
    resources.update(cgroup_limits(config))

    process = spec.setdefault("process", {})
    process["rlimits"] = _rlimits(config)
