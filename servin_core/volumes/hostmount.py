"""A stopped container's volumes and binds, mounted for ``cp``.

``cp`` reaches a running container through ``/proc/PID/root``, where its
mounts already are. A stopped one has only its overlay mounted for the copy;
docker mounts its volumes there too, so that a file copied to ``/data`` of a
container with a volume at ``/data`` lands in the volume, not under it.

The mount points are resolved inside the container's root and opened
without following symlinks; each mount is made on the opened descriptor
(``/proc/self/fd/N``), so a symlink the container planted cannot move a
mount onto the host. The mounts go before the overlay is unmounted, and an
unmount of the overlay that a crash forced later (lazy, see rootfs.py)
takes anything still mounted below it along.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from servin_core.containers.rootpath import open_dir, resolve
from servin_core.errors import Unavailable
from servin_core.volumes.attach import fill
from servin_core.volumes.operations import driver_of

if TYPE_CHECKING:
    from servin_core.containers.model import Container
    from servin_core.core import Core

__all__ = ["mounted_for_copy"]

_MS_RDONLY = 1
_MS_REMOUNT = 32
_MS_BIND = 4096
_MS_REC = 16384
_MNT_DETACH = 2
_PATH = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
_libc = ctypes.CDLL(None, use_errno=True)


def _sources(
    core: Core, container: Container, root: Path
) -> list[tuple[str, str, bool]]:
    """(mount point, host path, read-only) of the binds and plain volumes,
    shallower first. tmpfs mounts hold nothing while the container is
    stopped; volumes with driver options are mounted only by the runtime."""
    driver = driver_of(core)
    own = {m.target: m for m in container.config.mounts}
    found = [
        (m.target, m.source, m.read_only)
        for m in container.config.mounts
        if m.type == "bind" and os.path.exists(m.source)
    ]
    # Filled first, as the first start would: docker fills at create.
    for target, volume in fill(core, container, root):
        if driver.is_plain(volume):
            mount = own.get(target)
            read_only = mount is not None and mount.read_only
            found.append((target, str(driver.data(volume.name)), read_only))
    return sorted(found, key=lambda item: len(Path(item[0]).parts))


@contextlib.contextmanager
def mounted_for_copy(core: Core, container: Container, root: Path) -> Iterator[None]:
    """Mount the container's volumes and binds under its mounted ``root``
    for the duration of the block."""
    made: list[str] = []
    try:
        root_fd = os.open(root, _DIR | os.O_NOFOLLOW)
        try:
            for target, source, read_only in _sources(core, container, root):
                made.append(_mount(root_fd, target, source, read_only, container))
        finally:
            os.close(root_fd)
        yield
    finally:
        for point in reversed(made):
            _libc.umount2(os.fsencode(point), _MNT_DETACH)


def _mount(
    root_fd: int, target: str, source: str, read_only: bool, container: Container
) -> str:
    """Bind ``source`` at ``target`` inside the root; the mount point's path."""
    parts = resolve(root_fd, target, follow_last=True)
    parent = _make_dirs(root_fd, parts[:-1], target)
    try:
        name = parts[-1]
        with contextlib.suppress(FileExistsError):
            if os.path.isdir(source):
                os.mkdir(name, 0o755, dir_fd=parent)
            else:
                os.close(os.open(name, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644,
                                 dir_fd=parent))  # fmt: skip
        _on(parent, name, container, target, source, _MS_BIND | _MS_REC)
        if read_only:
            # The new mount, opened again: the first descriptor is below it.
            flags = _MS_BIND | _MS_REMOUNT | _MS_RDONLY
            _on(parent, name, container, target, None, flags)
        point = os.open(name, _PATH, dir_fd=parent)
        try:
            return os.fsdecode(os.readlink(f"/proc/self/fd/{point}"))
        finally:
            os.close(point)
    finally:
        os.close(parent)


def _on(
    parent: int,
    name: str,
    container: Container,
    target: str,
    source: str | None,
    flags: int,
) -> None:
    """mount(2) on ``name`` in ``parent``, reached through its descriptor."""
    point = os.open(name, _PATH, dir_fd=parent)
    try:
        path = os.fsencode(f"/proc/self/fd/{point}")
        device = os.fsencode(source) if source is not None else None
        if _libc.mount(device, path, None, flags, None) != 0:
            errno = ctypes.get_errno()
            raise Unavailable(
                "container",
                container.name,
                f"cannot mount {target} for the copy: {os.strerror(errno)}",
            )
    finally:
        os.close(point)


def _make_dirs(root_fd: int, parts: tuple[str, ...], target: str) -> int:
    """The directory ``parts`` below the root, made where missing (as the
    runtime makes mount points); a descriptor of it."""
    fd = os.dup(root_fd)
    for part in parts:
        with contextlib.suppress(FileExistsError):
            os.mkdir(part, 0o755, dir_fd=fd)
        try:
            next_fd = open_dir(fd, (part,), ident=target)
        finally:
            os.close(fd)
        fd = next_fd
    return fd
