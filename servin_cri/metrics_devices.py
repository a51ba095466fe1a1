"""Per-device figures for the CRI metrics: a container's block I/O split by
device (servin_core's reader sums every device, as ``docker stats`` shows
it; cAdvisor's metrics carry one series per device), and the file system
that holds its writable layer.

Devices are named as cAdvisor names them: ``/dev/NAME`` from the kernel's
uevent for the block device's major:minor, else the bare major:minor.
"""

from __future__ import annotations

import os
from pathlib import Path

from servin_core._dataclass import dataclass
from servin_core.containers.model import Container
from servin_core.containers.stats import CgroupV1, CgroupV2, cgroup_reader

__all__ = ["BlockIo", "FileSystem", "block_io", "file_system"]


@dataclass
class BlockIo:
    """Bytes and operations one container moved to and from one device."""

    major: int
    minor: int
    device: str
    read_bytes: int = 0
    write_bytes: int = 0
    reads: int = 0
    writes: int = 0


@dataclass(frozen=True, slots=True)
class FileSystem:
    """The file system under a path: its device and its size."""

    device: str
    capacity: int
    inodes_total: int
    inodes_free: int


def _device_name(major: int, minor: int) -> str:
    try:
        uevent = Path(f"/sys/dev/block/{major}:{minor}/uevent").read_text()
    except OSError:
        return f"{major}:{minor}"
    for line in uevent.splitlines():
        key, _, value = line.partition("=")
        if key == "DEVNAME" and value:
            return f"/dev/{value}"
    return f"{major}:{minor}"


def _lines(path: Path) -> list[list[str]]:
    try:
        return [line.split() for line in path.read_text().splitlines()]
    except OSError:
        return []


def _entry(found: dict[str, BlockIo], numbers: str) -> BlockIo | None:
    major, _, minor = numbers.partition(":")
    if not (major.isdigit() and minor.isdigit()):
        return None  # v1's "Total" line
    if numbers not in found:
        device = _device_name(int(major), int(minor))
        found[numbers] = BlockIo(int(major), int(minor), device)
    return found[numbers]


def _v1(reader: CgroupV1, found: dict[str, BlockIo]) -> None:
    here = reader.root / "blkio" / reader.relative
    for name, unit in (("io_service_bytes", "bytes"), ("io_serviced", "ops")):
        for fields in _lines(here / f"blkio.throttle.{name}"):
            entry = _entry(found, fields[0]) if len(fields) == 3 else None
            if entry is None or not fields[2].isdigit():
                continue
            value = int(fields[2])
            if fields[1] == "Read" and unit == "bytes":
                entry.read_bytes = value
            elif fields[1] == "Write" and unit == "bytes":
                entry.write_bytes = value
            elif fields[1] == "Read":
                entry.reads = value
            elif fields[1] == "Write":
                entry.writes = value


def _v2(reader: CgroupV2, found: dict[str, BlockIo]) -> None:
    for fields in _lines(reader.dir / "io.stat"):
        entry = _entry(found, fields[0]) if fields else None
        if entry is None:
            continue
        counters = dict(field.partition("=")[::2] for field in fields[1:])
        entry.read_bytes = int(counters.get("rbytes", "0"))
        entry.write_bytes = int(counters.get("wbytes", "0"))
        entry.reads = int(counters.get("rios", "0"))
        entry.writes = int(counters.get("wios", "0"))


def block_io(container: Container) -> list[BlockIo]:
    """The container's block I/O per device (blocking)."""
    reader = cgroup_reader(container.id, parent=container.config.cgroup_parent)
    found: dict[str, BlockIo] = {}
    if isinstance(reader, CgroupV2):
        _v2(reader, found)
    elif isinstance(reader, CgroupV1):
        _v1(reader, found)
    return list(found.values())


def _mount_source(device: int) -> str:
    """The source /proc/self/mountinfo gives the file system on ``device``
    (a block device's path, or a name such as ``overlay`` or ``tmpfs``)."""
    wanted = f"{os.major(device)}:{os.minor(device)}"
    for fields in _lines(Path("/proc/self/mountinfo")):
        if len(fields) > 2 and fields[2] == wanted and "-" in fields:
            after = fields[fields.index("-") + 1 :]
            if len(after) >= 2:
                return after[1]
    return wanted


def file_system(path: Path) -> FileSystem:
    """The file system holding ``path`` (blocking)."""
    sizes = os.statvfs(path)
    return FileSystem(
        device=_mount_source(os.stat(path).st_dev),
        capacity=sizes.f_blocks * sizes.f_frsize,
        inodes_total=sizes.f_files,
        inodes_free=sizes.f_ffree,
    )
