"""A container's upper directory as an image layer tar (docker's form).

overlayfs records a deletion as a 0:0 character device and a directory that
hides its lower contents with the ``trusted.overlay.opaque`` xattr; a layer
tar says the same with an empty ``.wh.NAME`` file and a ``.wh..wh..opq``
entry inside the directory, which is what the layer applier turns back into
overlayfs's forms when the image is unpacked.

The runtime makes empty files and directories for mount points the image
lacks (/etc/hosts, /proc, ...): they are Servin's doing, not the
container's, and are left out of the layer.
"""

from __future__ import annotations

import errno
import json
import os
import stat
import tarfile
from pathlib import Path
from typing import BinaryIO

from servin_core.containers.copy_archive import TreeWriter

__all__ = ["OPAQUE_MARKER", "WHITEOUT_PREFIX", "mount_points", "write_layer"]

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_OPAQUE_XATTR = "trusted.overlay.opaque"
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


def mount_points(spec: Path) -> frozenset[str]:
    """The mount destinations of the container's runtime spec, relative."""
    try:
        mounts = json.loads(spec.read_text()).get("mounts") or []
    except (OSError, ValueError):
        return frozenset()
    return frozenset(
        os.path.normpath(str(mount.get("destination", ""))).lstrip("/")
        for mount in mounts
    )


class _LayerWriter(TreeWriter):
    def __init__(self, tar: tarfile.TarFile, skipped: frozenset[str]) -> None:
        super().__init__(tar, None)
        self.skipped = skipped

    def add(self, parent: int, name: str, arcname: str) -> None:
        st = os.stat(name, dir_fd=parent, follow_symlinks=False)
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
            head, _, base = arcname.rpartition("/")
            whiteout = tarfile.TarInfo(f"{head}/{WHITEOUT_PREFIX}{base}".lstrip("/"))
            whiteout.mtime = int(st.st_mtime)
            self.tar.addfile(whiteout)
            return
        if arcname in self.skipped and _is_empty(parent, name, st):
            return
        super().add(parent, name, arcname)

    def entered(self, fd: int, arcname: str) -> None:
        try:
            opaque = os.getxattr(fd, _OPAQUE_XATTR) == b"y"
        except OSError as e:
            if e.errno not in (errno.ENODATA, errno.ENOTSUP):
                raise
            opaque = False
        if opaque:
            marker = tarfile.TarInfo(f"{arcname}/{OPAQUE_MARKER}")
            self.tar.addfile(marker)


def _is_empty(parent: int, name: str, st: os.stat_result) -> bool:
    if stat.S_ISREG(st.st_mode):
        return st.st_size == 0
    if not stat.S_ISDIR(st.st_mode):
        return False
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    try:
        return not os.listdir(fd)
    finally:
        os.close(fd)


def write_layer(
    upper: Path, out: BinaryIO, skipped: frozenset[str] = frozenset()
) -> None:
    """Write the changes held in ``upper`` to ``out`` as a layer tar;
    ``skipped`` are the runtime's mount points (relative paths), left out
    when empty."""
    root = os.open(upper, _DIR_FLAGS)
    try:
        with tarfile.open(fileobj=out, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            writer = _LayerWriter(tar, skipped)
            for name in sorted(os.listdir(root)):
                writer.add(root, name, name)
    finally:
        os.close(root)
