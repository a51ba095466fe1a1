"""Network namespaces, pinned by a bind mount so that they outlive the
process that made them (as ``ip netns add`` pins them under /run/netns).

A container's namespace is made before its runtime container, so that the
CNI plugins can set it up and the spec can name it; it stays until the run
is over, whoever ran the container.

The namespace is made by a short-lived thread: ``unshare(CLONE_NEWNET)``
moves only the calling thread, which bind-mounts its own namespace on the
pin, brings loopback up and ends. pyroute2's ``netns.create`` does the same
through a forked child, but importing pyroute2 costs about 140 ms, more
than the rest of a container start; pyroute2 is used where that cost is
paid rarely (``network rm``, the tidy after a crash).
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import socket
import struct
import subprocess
import threading
import time
from collections.abc import Iterable
from pathlib import Path

__all__ = ["await_links_gone", "create_netns", "netns_path", "remove_netns"]

_CLONE_NEWNET = 0x40000000
_MS_BIND = 4096
_MNT_DETACH = 2
_SIOCGIFFLAGS = 0x8913
_SIOCSIFFLAGS = 0x8914
_IFF_UP = 0x1
# The C library the interpreter links (find_library would run ldconfig).
_libc = ctypes.CDLL(None, use_errno=True)


def netns_path(run_dir: Path, container_id: str) -> Path:
    """Where ``container_id``'s namespace is pinned."""
    return run_dir / "netns" / container_id


def create_netns(path: Path) -> None:
    """Make a network namespace with loopback up and pin it at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    failure: list[BaseException] = []
    thread = threading.Thread(target=_pin_new, args=(path, failure), daemon=True)
    thread.start()
    thread.join()
    if failure:
        path.unlink(missing_ok=True)
        raise failure[0]


def _pin_new(path: Path, failure: list[BaseException]) -> None:
    try:
        if _libc.unshare(_CLONE_NEWNET) != 0:
            raise _os_error("unshare(CLONE_NEWNET)", path)
        own = f"/proc/self/task/{threading.get_native_id()}/ns/net".encode()
        if _libc.mount(own, bytes(path), None, _MS_BIND, None) != 0:
            raise _os_error("bind-mounting the namespace", path)
        _loopback_up()
    except BaseException as e:
        failure.append(e)


def _loopback_up() -> None:
    # A socket belongs to the namespace of the thread that made it.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(s, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | _IFF_UP))


def remove_netns(path: Path) -> bool:
    """Unpin and delete ``path``; the kernel frees the namespace (and the
    veths in it) once nothing holds it. Whether there was one."""
    if not path.exists():
        return False
    if _libc.umount2(bytes(path), _MNT_DETACH) != 0:
        code = ctypes.get_errno()
        if code not in (errno.EINVAL, errno.ENOENT):
            raise _os_error("unmounting the namespace", path)
    path.unlink(missing_ok=True)
    return True


def _os_error(what: str, path: Path) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{what}: {os.strerror(code)}", str(path))


def await_links_gone(names: Iterable[str], timeout: float = 0.2) -> None:
    """Wait until the host's ``names`` (the host ends of veths whose
    namespace was unpinned) are gone, deleting those still there after
    ``timeout``. The kernel frees an unreferenced namespace, and each veth
    with a leg in it, a few milliseconds after the last reference goes;
    a namespace something else still holds would keep them."""
    waiting = [n for n in names if os.path.exists(f"/sys/class/net/{n}")]
    deadline = time.monotonic() + timeout
    while waiting and time.monotonic() < deadline:
        time.sleep(0.001)
        waiting = [n for n in waiting if os.path.exists(f"/sys/class/net/{n}")]
    for name in waiting:
        subprocess.run(["ip", "link", "del", name], capture_output=True)
