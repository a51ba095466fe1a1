"""A minimal root filesystem made of Debian's busybox-static, as a tar.

The image every test that needs a shell can share: /bin/busybox, one
symlink per applet where ``busybox --list-full`` puts it, and an /etc with
root and nobody. Built with the tarfile module, so it needs no network.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from pathlib import Path

__all__ = ["BUSYBOX", "build_busybox_rootfs"]

BUSYBOX = Path("/bin/busybox")
_DIRECTORIES = {
    "bin": 0o755,
    "sbin": 0o755,
    "usr": 0o755,
    "usr/bin": 0o755,
    "usr/sbin": 0o755,
    "etc": 0o755,
    "root": 0o700,
    "tmp": 0o1777,
    "dev": 0o755,
    "proc": 0o555,
    "sys": 0o555,
}
_FILES = {
    "etc/passwd": b"root:x:0:0:root:/root:/bin/sh\n"
    b"nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    "etc/group": b"root:x:0:\nnogroup:x:65534:\n",
}
_MTIME = 1_700_000_000


def build_busybox_rootfs(path: Path) -> Path:
    """Write the root filesystem tar to ``path`` and return ``path``."""
    listing = subprocess.run(
        [str(BUSYBOX), "--list-full"], check=True, capture_output=True, text=True
    ).stdout.split()

    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for name, mode in _DIRECTORIES.items():
            info = tarfile.TarInfo(name)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, mode, _MTIME
            tar.addfile(info)

        info = tar.gettarinfo(str(BUSYBOX), arcname="bin/busybox")
        info.uid = info.gid = 0
        info.uname = info.gname = "root"
        with BUSYBOX.open("rb") as binary:
            tar.addfile(info, binary)

        for name, data in _FILES.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, _MTIME
            tar.addfile(info, io.BytesIO(data))

        for applet in sorted(set(listing)):
            if applet == "bin/busybox":
                continue
            info = tarfile.TarInfo(applet)
            info.type, info.linkname = tarfile.SYMTYPE, "/bin/busybox"
            info.mode, info.mtime = 0o777, _MTIME
            tar.addfile(info)
    return path
