"""A container's root file system: overlayfs over its image's snapshots.

The image's layers are read-only lower directories, stacked top first; what
the container writes goes to its own ``upper`` directory (with overlayfs's
``work`` directory beside it). The overlay is mounted only while the
container runs, so a stopped container, or one whose starting process was
killed, holds no mount that a reboot or a crash could strand: whatever
finds a mount without a running container unmounts it.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import TYPE_CHECKING

from servin_core import log
from servin_core.containers.paths import ContainerPaths
from servin_core.errors import Unavailable
from servin_core.images.snapshots import Snapshotter

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["is_mounted", "mount_rootfs", "unmount_rootfs", "upper_dir"]

_MNT_DETACH = 2
# The C library the interpreter already links: find_library("c") would run
# ``ldconfig -p`` in a subprocess on every import of this module.
_libc = ctypes.CDLL(None, use_errno=True)


def upper_dir(core: Core, container_id: str) -> Path:
    """The container's own layer: what it wrote (docker's ``SizeRw``)."""
    return ContainerPaths.of(core.config, container_id).upper


def is_mounted(path: Path) -> bool:
    # Field 5 is the mount point, with spaces and such escaped as \\040.
    target = _escape(os.fsencode(str(path)))
    with open("/proc/self/mountinfo", "rb") as f:
        return any(line.split()[4] == target for line in f if line.strip())


def _escape(path: bytes) -> bytes:
    for char in (b"\\", b" ", b"\t", b"\n"):
        path = path.replace(char, b"\\%03o" % char[0])
    return path


def mount_rootfs(
    paths: ContainerPaths, snapshots: Snapshotter, lowers: tuple[str, ...]
) -> Path:
    """Mount the container's root at ``paths.rootfs``; returns it."""
    for directory in (paths.upper, paths.work, paths.rootfs):
        directory.mkdir(parents=True, exist_ok=True)
    if is_mounted(paths.rootfs):
        return paths.rootfs

    layers = [str(snapshots.path(chain_id)) for chain_id in lowers]
    if not layers:
        # overlayfs needs a lower directory; an image without layers gets
        # an empty one.
        empty = paths.data / "empty"
        empty.mkdir(exist_ok=True)
        layers = [str(empty)]
    for layer in layers:
        if not os.path.isdir(layer):
            raise Unavailable(
                "container", paths.container_id, f"image layer {layer} is missing"
            )
    # TODO: the options are limited to one page (4096 bytes), about 50 layers
    # with these paths; podman shortens them with symlinks, which would lift it.
    options = f"lowerdir={':'.join(layers)},upperdir={paths.upper},workdir={paths.work}"
    result = _libc.mount(
        b"overlay",
        os.fsencode(str(paths.rootfs)),
        b"overlay",
        0,
        options.encode(),
    )
    if result != 0:
        errno = ctypes.get_errno()
        raise Unavailable(
            "container",
            paths.container_id,
            f"cannot mount the root file system: {os.strerror(errno)}",
        )
    log.for_object(log.containers, "container", paths.container_id).debug(
        "mounted %s", paths.rootfs
    )
    return paths.rootfs


def unmount_rootfs(paths: ContainerPaths) -> None:
    """Unmount the container's root if it is mounted (lazily: a process
    still inside it, such as a dying runtime, does not keep it busy)."""
    if not paths.rootfs.exists() or not is_mounted(paths.rootfs):
        return
    if _libc.umount2(os.fsencode(str(paths.rootfs)), _MNT_DETACH) != 0:
        errno = ctypes.get_errno()
        raise Unavailable(
            "container",
            paths.container_id,
            f"cannot unmount {paths.rootfs}: {os.strerror(errno)}",
        )
    log.for_object(log.containers, "container", paths.container_id).debug(
        "unmounted %s", paths.rootfs
    )
