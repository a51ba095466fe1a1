"""Paths inside a container's root, which the container controls.

A container can plant a symlink to ``/etc`` or ``../../..`` anywhere in its
file system. Servin reads and writes there as root on the host, so a path is
resolved here as the container would see it: symlinks are read and followed
within the root (an absolute target starts again at the root, ``..`` stops
at it), and the resulting components are then opened one at a time from the
root's descriptor with ``O_NOFOLLOW``. A symlink swapped in between the two
steps makes the open fail; it never leads outside.
"""

from __future__ import annotations

import errno
import os

from servin_core.errors import InvalidArgument, NotFound

__all__ = ["open_dir", "resolve"]

_MAX_LINKS = 40  # as the kernel's own limit (ELOOP)
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def _components(path: str) -> list[str]:
    return [part for part in path.split("/") if part not in ("", ".")]


def open_dir(root_fd: int, parts: tuple[str, ...], *, ident: str) -> int:
    """A descriptor of the directory ``parts`` below ``root_fd``, never
    following a symlink; NotFound or InvalidArgument naming ``ident``."""
    fd = os.dup(root_fd)
    try:
        for part in parts:
            try:
                next_fd = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                raise NotFound("path", ident, "no such file or directory") from None
            except OSError as e:
                if e.errno in (errno.ENOTDIR, errno.ELOOP):
                    raise InvalidArgument(
                        "path", ident, f"{part!r} is not a directory"
                    ) from None
                raise
            os.close(fd)
            fd = next_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


def resolve(root_fd: int, path: str, *, follow_last: bool) -> tuple[str, ...]:
    """``path``'s components inside the root, with symlinks resolved there.

    The last component's symlink is followed only with ``follow_last``
    (``cp`` copies a symlink itself unless asked to follow it). Components
    that do not exist are kept as they are: a destination may be new.
    """
    pending = _components(path)
    resolved: list[str] = []
    links = 0
    while pending:
        part = pending.pop(0)
        if part == "..":
            if resolved:
                resolved.pop()
            continue
        if not pending and not follow_last:
            resolved.append(part)
            break
        target = _readlink(root_fd, tuple(resolved), part)
        if target is None:
            resolved.append(part)
            continue

        links += 1
        if links > _MAX_LINKS:
            raise InvalidArgument("path", path, "too many levels of symbolic links")
        if target.startswith("/"):
            resolved = []
        pending = _components(target) + pending
    return tuple(resolved)


def _readlink(root_fd: int, parent: tuple[str, ...], name: str) -> str | None:
    """The target of ``name`` if it is a symlink; None if it is anything else
    or is missing (including a parent that is not a directory)."""
    try:
        fd = open_dir(root_fd, parent, ident="/".join(parent))
    except (NotFound, InvalidArgument):
        return None
    try:
        return os.readlink(name, dir_fd=fd)
    except OSError as e:
        if e.errno in (errno.EINVAL, errno.ENOENT, errno.ENOTDIR):
            return None
        raise
    finally:
        os.close(fd)
