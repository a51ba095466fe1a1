"""Copying files into and out of a container as tar streams (``docker cp``).

The tar form is what docker's API exchanges (``GET/PUT .../archive``), so
both directions speak it: out of the container a tree becomes a tar stream,
into it a tar stream is unpacked. A running container is reached through
``/proc/PID/root``, which shows its mounts as its processes see them; a
stopped one has its overlay mounted read-write for the copy and unmounted
after. Both hold the container's lock, so a copy never races a start, a
stop or a removal.

Every container path is resolved inside the container's root (see
``rootpath``): a symlink pointing to the host's ``/etc`` leads to the
container's ``/etc``. What is written is unpacked by the layer applier,
which opens every entry from a directory descriptor without following
symlinks.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
import stat
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from servin_core import log
from servin_core._dataclass import dataclass
from servin_core.containers.copy_archive import write_tree
from servin_core.containers.locked import locked
from servin_core.containers.model import Container
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.reconcile import reconcile_locked
from servin_core.containers.rootfs import mount_rootfs, unmount_rootfs
from servin_core.containers.rootpath import open_dir, resolve
from servin_core.errors import (
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
)
from servin_core.images.unpack import apply_layer
from servin_core.volumes.hostmount import mounted_for_copy

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["PathInfo", "copy_from_container", "copy_to_container", "path_info"]

_ROOT_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC


@dataclass(frozen=True, slots=True)
class PathInfo:
    """A path in a container, as ``cp`` needs to know it (docker's
    ``X-Docker-Container-Path-Stat``)."""

    name: str
    exists: bool
    is_dir: bool
    mode: int = 0
    size: int = 0


@contextlib.contextmanager
def _container_root(core: Core, container: Container) -> Iterator[int]:
    """A descriptor of the container's root, the caller holding its lock."""
    container = reconcile_locked(core, container)
    if container.state.is_active and container.pid > 0:
        fd = os.open(f"/proc/{container.pid}/root", _ROOT_FLAGS)
        try:
            yield fd
        finally:
            os.close(fd)
        return

    paths = ContainerPaths.of(core.config, container.id)
    root = mount_rootfs(paths, core.snapshots, container.lowers)
    log.for_object(log.containers, "container", container.id).debug(
        "mounted the root of a stopped container for cp"
    )
    try:
        # Its volumes and binds too, as docker mounts them for cp.
        with mounted_for_copy(core, container, root):
            fd = os.open(root, _ROOT_FLAGS | os.O_NOFOLLOW)
            try:
                yield fd
            finally:
                os.close(fd)
    finally:
        unmount_rootfs(paths)


def _stat(root: int, parts: tuple[str, ...], ident: str) -> os.stat_result | None:
    if not parts:
        return os.fstat(root)
    try:
        parent = open_dir(root, parts[:-1], ident=ident)
    except (NotFound, InvalidArgument):
        return None
    try:
        return os.stat(parts[-1], dir_fd=parent, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return None
    finally:
        os.close(parent)


def path_info(
    core: Core, text: str, path: str, *, follow_link: bool = True
) -> PathInfo:
    """What ``path`` is in the container ``text`` (symlinks resolved inside)."""

    def operation(container: Container) -> PathInfo:
        with _container_root(core, container) as root:
            parts = resolve(root, path, follow_last=follow_link)
            st = _stat(root, parts, f"{container.short_id}:{path}")
        name = parts[-1] if parts else "/"
        if st is None:
            return PathInfo(name, False, False)
        return PathInfo(
            name, True, stat.S_ISDIR(st.st_mode), stat.S_IMODE(st.st_mode), st.st_size
        )

    return locked(core, text, operation)


def copy_from_container(
    core: Core,
    text: str,
    path: str,
    out: BinaryIO,
    *,
    arcname: str | None = None,
    follow_link: bool = False,
    owner: tuple[int, int] | None = None,
) -> PathInfo:
    """Write ``path`` of container ``text`` to ``out`` as a tar stream.

    The top entry is named ``arcname`` (the path's base name by default);
    ``owner`` replaces the uid and gid of every entry.
    """

    def operation(container: Container) -> PathInfo:
        ident = f"{container.short_id}:{path}"
        with _container_root(core, container) as root:
            parts = resolve(root, path, follow_last=follow_link)
            st = _stat(root, parts, ident)
            if st is None:
                raise NotFound("path", ident, "no such file or directory")
            if path.endswith("/") and not stat.S_ISDIR(st.st_mode):
                raise InvalidArgument("path", ident, "not a directory")
            name = parts[-1] if parts else "."
            parent = open_dir(root, parts[:-1], ident=ident) if parts else os.dup(root)
            try:
                write_tree(parent, name, out, arcname or name, owner=owner)
            finally:
                os.close(parent)
        return PathInfo(name, True, stat.S_ISDIR(st.st_mode))

    return locked(core, text, operation)


def copy_to_container(core: Core, text: str, directory: str, stream: BinaryIO) -> None:
    """Unpack the tar ``stream`` into ``directory`` of container ``text``,
    which must exist there."""

    def operation(container: Container) -> None:
        ident = f"{container.short_id}:{directory}"
        with _container_root(core, container) as root:
            parts = resolve(root, directory, follow_last=True)
            st = _stat(root, parts, ident)
            if st is None:
                raise NotFound("path", ident, "no such directory")
            if not stat.S_ISDIR(st.st_mode):
                raise InvalidArgument("path", ident, "not a directory")
            target = open_dir(root, parts, ident=ident)
            try:
                apply_layer(stream, target, ident=ident, whiteouts=False)
            except OSError as e:
                # Named after the container: a read-only root, a full disk.
                reason = f"cannot write {e.filename or 'a file'}: {e.strerror}"
                if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                    raise PermissionDenied("container", ident, reason) from e
                raise Unavailable("container", ident, reason) from e
            finally:
                os.close(target)
        log.for_object(log.containers, "container", container.id).info(
            "copied an archive into %s", posixpath.join("/", *parts)
        )

    locked(core, text, operation)
