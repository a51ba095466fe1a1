"""Filling a new volume from the image, as docker does on first use.

When an empty volume is mounted over a directory the image has, docker
copies that directory's content into the volume first, keeping owners,
modes, times, symlinks, hard links and extended attributes (file
capabilities among them), so that a volume at ``/etc`` still has
``passwd``. The source is the container's own root, which the container
controls: it is walked through directory descriptors, never following a
symlink, so a planted link cannot make Servin copy host files into a volume.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from servin_core.containers.rootpath import open_dir, resolve
from servin_core.errors import InvalidArgument, NotFound

__all__ = ["copy_up", "is_empty"]

_DIR = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_FILE = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def is_empty(directory: Path) -> bool:
    with os.scandir(directory) as entries:
        return next(entries, None) is None


def copy_up(rootfs: Path, target: str, data: Path) -> bool:
    """Copy what the root at ``rootfs`` has at ``target`` into the empty
    directory ``data``; whether there was a directory to copy."""
    root_fd = os.open(rootfs, _DIR)
    try:
        parts = resolve(root_fd, target, follow_last=True)
        try:
            source = open_dir(root_fd, parts, ident=target)
        except (NotFound, InvalidArgument):
            return False  # nothing there, or not a directory: nothing to copy
    finally:
        os.close(root_fd)

    destination = os.open(data, _DIR)
    try:
        _copy_tree(source, destination, str(data), {})
        _copy_metadata(source, destination)
    finally:
        os.close(source)
        os.close(destination)
    return True


def _copy_tree(
    src: int, dst: int, dst_path: str, links: dict[tuple[int, int], str]
) -> None:
    """Copy the entries of directory ``src`` into ``dst`` (at ``dst_path``);
    ``links`` maps the (device, inode) of files with several links to their
    first copy."""
    for name in sorted(os.listdir(src)):
        info = os.stat(name, dir_fd=src, follow_symlinks=False)
        mode = info.st_mode

        if stat.S_ISDIR(mode):
            os.mkdir(name, 0o700, dir_fd=dst)
            child_src = os.open(name, _DIR, dir_fd=src)
            child_dst = os.open(name, _DIR, dir_fd=dst)
            try:
                _copy_tree(child_src, child_dst, f"{dst_path}/{name}", links)
                _copy_metadata(child_src, child_dst)
            finally:
                os.close(child_src)
                os.close(child_dst)
            continue

        key = (info.st_dev, info.st_ino)
        if info.st_nlink > 1 and key in links:
            os.link(links[key], name, dst_dir_fd=dst, follow_symlinks=False)
            continue
        if stat.S_ISLNK(mode):
            os.symlink(os.readlink(name, dir_fd=src), name, dir_fd=dst)
            os.chown(name, info.st_uid, info.st_gid, dir_fd=dst, follow_symlinks=False)
            os.utime(
                name,
                ns=(info.st_atime_ns, info.st_mtime_ns),
                dir_fd=dst,
                follow_symlinks=False,
            )
        elif stat.S_ISREG(mode):
            _copy_file(src, dst, name)
        elif stat.S_ISSOCK(mode):
            continue  # a socket means nothing without its listener
        else:
            os.mknod(name, mode, info.st_rdev, dir_fd=dst)
            os.chown(name, info.st_uid, info.st_gid, dir_fd=dst, follow_symlinks=False)
            os.chmod(name, stat.S_IMODE(mode), dir_fd=dst)
        if info.st_nlink > 1:
            links[key] = f"{dst_path}/{name}"


def _copy_file(src: int, dst: int, name: str) -> None:
    reader = os.open(name, _FILE, dir_fd=src)
    try:
        writer = os.open(name, _NEW_FILE, 0o600, dir_fd=dst)
        try:
            while os.sendfile(writer, reader, None, 1 << 20):
                pass
            _copy_metadata(reader, writer)
        finally:
            os.close(writer)
    finally:
        os.close(reader)


def _copy_metadata(src: int, dst: int) -> None:
    """Owner, then mode (a chown clears set-ID bits), extended attributes
    and times, from descriptor ``src`` to ``dst``."""
    info = os.fstat(src)
    os.fchown(dst, info.st_uid, info.st_gid)
    os.fchmod(dst, stat.S_IMODE(info.st_mode))
    with contextlib.suppress(OSError):
        for attribute in os.listxattr(src):
            with contextlib.suppress(OSError):
                os.setxattr(dst, attribute, os.getxattr(src, attribute))
    os.utime(dst, ns=(info.st_atime_ns, info.st_mtime_ns))
