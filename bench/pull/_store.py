"""Stores: the place one run of one tool pulls into, made for that run only.

As root, each store is a new ext4 file system on a loop device (direct I/O,
inode tables and journal initialised by mkfs, so no kernel thread zeroes
them during the run). Every run thus starts on the same pristine file
system, whatever the runs before it wrote and deleted. That matters more
than it seems: on an ext4 without a journal, creating files soon after
thousands were deleted is several times slower (the kernel skips each
recently freed inode, looking it up one at a time), which added seconds of
noise to whichever tool came after a removed store.

Without root (or without losetup and mkfs.ext4) a store is a plain
directory, and the report says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["StoreError", "fresh_store", "loop_devices_usable", "unmount_under"]

_MKFS_OPTIONS = "lazy_itable_init=0,lazy_journal_init=0,nodiscard"


class StoreError(Exception):
    """A store could not be made or removed."""


def loop_devices_usable() -> bool:
    """Whether this process can make and mount a loop file system."""
    return (
        os.geteuid() == 0
        and Path("/dev/loop-control").exists()
        and all(shutil.which(tool) for tool in ("losetup", "mkfs.ext4", "mount"))
    )


@contextmanager
def fresh_store(path: Path, size: int, *, file_system: bool) -> Iterator[Path]:
    """An empty ``path`` (a new file system of ``size`` bytes if asked),
    removed with everything in it on exit, and the disk synced after."""
    path.mkdir(parents=True)
    image = path.with_name(path.name + ".img")
    device = ""
    try:
        if file_system:
            with image.open("wb") as f:
                f.truncate(size)  # sparse: only what is written takes space
            _run("mkfs.ext4", "-q", "-F", "-E", _MKFS_OPTIONS, str(image))
            device = _run(
                "losetup", "--find", "--show", "--direct-io=on", str(image)
            ).strip()
            _run("mount", device, str(path))
        yield path
    finally:
        unmount_under(path)
        if device:
            _run("losetup", "--detach", device)
        image.unlink(missing_ok=True)
        shutil.rmtree(path, ignore_errors=True)
        os.sync()
    if path.exists():
        raise StoreError(f"could not remove {path}")


def _run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise StoreError(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result.stdout


def unmount_under(root: Path) -> None:
    """Detach every mount at or below ``root``, deepest first."""
    prefix = str(root.resolve())
    points = []
    with open("/proc/self/mountinfo") as mountinfo:
        for line in mountinfo:
            # Field 5 is the mount point, with spaces and the like as \\ooo.
            point = line.split()[4].encode().decode("unicode_escape")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], capture_output=True)
