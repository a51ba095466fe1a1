"""Writing a file tree as a tar stream, from a directory descriptor.

``cp`` reads trees the container controls, so every entry is opened
relative to its parent's descriptor with ``O_NOFOLLOW``: a symlink is stored
as a symlink, never read through, and a directory swapped for a symlink
while the walk runs makes the walk fail instead of leaving the tree.
Hardlinked files are stored once, then as links to the first name.
"""

from __future__ import annotations

import os
import stat
import tarfile
from typing import BinaryIO

from servin_core import log

__all__ = ["TreeWriter", "write_tree"]

_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class TreeWriter:
    """Adds trees to an open tar stream; subclasses may leave entries out or
    add their own after a directory's header (``entered``)."""

    def __init__(self, tar: tarfile.TarFile, owner: tuple[int, int] | None) -> None:
        self.tar = tar
        self.owner = owner
        self.links: dict[tuple[int, int], str] = {}

    def info(self, arcname: str, st: os.stat_result) -> tarfile.TarInfo:
        info = tarfile.TarInfo(arcname)
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = self.owner or (st.st_uid, st.st_gid)
        info.mtime = int(st.st_mtime)
        return info

    def add(self, parent: int, name: str, arcname: str) -> None:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        info = self.info(arcname, st)
        mode = st.st_mode
        if stat.S_ISDIR(mode):
            info.type = tarfile.DIRTYPE
            self.tar.addfile(info)
            fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
            try:
                self.entered(fd, arcname)
                for child in sorted(os.listdir(fd)):
                    self.add(fd, child, f"{arcname.rstrip('/')}/{child}")
            finally:
                os.close(fd)
        elif stat.S_ISREG(mode):
            self.add_file(parent, name, info, st)
        elif stat.S_ISLNK(mode):
            info.type = tarfile.SYMTYPE
            info.linkname = os.readlink(name, dir_fd=parent)
            self.tar.addfile(info)
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            info.type = tarfile.CHRTYPE if stat.S_ISCHR(mode) else tarfile.BLKTYPE
            info.devmajor, info.devminor = os.major(st.st_rdev), os.minor(st.st_rdev)
            self.tar.addfile(info)
        elif stat.S_ISFIFO(mode):
            info.type = tarfile.FIFOTYPE
            self.tar.addfile(info)
        else:
            # Sockets have no place in a tar archive (docker skips them too).
            log.containers.debug("cp: skipped socket %s", arcname)

    def entered(self, fd: int, arcname: str) -> None:
        """Called with a directory's descriptor after its header is written."""

    def add_file(
        self, parent: int, name: str, info: tarfile.TarInfo, st: os.stat_result
    ) -> None:
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and key in self.links:
            info.type = tarfile.LNKTYPE
            info.linkname = self.links[key]
            self.tar.addfile(info)
            return
        if st.st_nlink > 1:
            self.links[key] = info.name

        fd = os.open(name, _FILE_FLAGS, dir_fd=parent)
        with os.fdopen(fd, "rb") as f:
            opened = os.fstat(f.fileno())
            if (opened.st_dev, opened.st_ino) != key:
                raise OSError(f"{info.name} changed while it was copied")
            info.size = opened.st_size
            self.tar.addfile(info, f)


def write_tree(
    parent: int,
    name: str,
    out: BinaryIO,
    arcname: str,
    *,
    owner: tuple[int, int] | None = None,
) -> None:
    """Write ``name`` in the directory ``parent`` (all of it, for a directory)
    to ``out`` as a tar stream whose top entry is ``arcname``. ``owner``
    replaces every entry's uid and gid (``cp`` without ``-a``)."""
    with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
        TreeWriter(tar, owner).add(parent, name, arcname)
