"""A pod's shared namespaces, held by files rather than by a pause process.

Each namespace is made by a short-lived thread (``unshare`` moves only the
calling thread), bind-mounted on a file in the pod's directory, and
outlives the thread: containers join it by path, and removing the pod
unmounts the files, after which the kernel frees what nothing holds. The
network namespace is made by servin_core/network (loopback up); IPC and
UTS here, the UTS one with the pod's hostname already set.

A PID namespace cannot be held this way (it dies with its first
process): a pod that shares one gets a small holder process instead
(pod_pid.py). The pod's sysctls are written here too, from a thread that
joins its namespaces.
"""

from __future__ import annotations

import ctypes
import os
import threading
from pathlib import Path

from servin_core.network.netns import create_netns, remove_netns

__all__ = [
    "KINDS",
    "apply_sysctls",
    "pin_namespaces",
    "sysctl_owner",
    "unpin_namespaces",
]

KINDS = ("network", "ipc", "uts")
_FLAGS = {"ipc": 0x08000000, "uts": 0x04000000}  # CLONE_NEWIPC, CLONE_NEWUTS
_PROC_NAMES = {"ipc": "ipc", "uts": "uts"}
_MS_BIND = 4096
# The C library the interpreter links (find_library would run ldconfig).
_libc = ctypes.CDLL(None, use_errno=True)


def _os_error(what: str, path: Path) -> OSError:
    code = ctypes.get_errno()
    return OSError(code, f"{what}: {os.strerror(code)}", str(path))


def _pin(pins: dict[str, Path], hostname: str, failure: list[BaseException]) -> None:
    try:
        flags = 0
        for kind in pins:
            flags |= _FLAGS[kind]
        if _libc.unshare(flags) != 0:
            raise _os_error("unshare", next(iter(pins.values())))
        if "uts" in pins:
            name = hostname.encode()
            if _libc.sethostname(name, len(name)) != 0:
                raise _os_error("sethostname", pins["uts"])
        task = f"/proc/self/task/{threading.get_native_id()}/ns"
        for kind, path in pins.items():
            own = f"{task}/{_PROC_NAMES[kind]}".encode()
            if _libc.mount(own, bytes(path), None, _MS_BIND, None) != 0:
                raise _os_error(f"bind-mounting the {kind} namespace", path)
    except BaseException as e:
        failure.append(e)


def pin_namespaces(directory: Path, kinds: list[str], hostname: str) -> dict[str, str]:
    """Make the namespaces ``kinds`` (of :data:`KINDS`) pinned in
    ``directory``; their files by kind. Nothing is left if one fails."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    made: dict[str, str] = {}
    try:
        if "network" in kinds:
            create_netns(directory / "net")
            made["network"] = str(directory / "net")
        pins = {kind: directory / kind for kind in kinds if kind in _FLAGS}
        if pins:
            for path in pins.values():
                os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, 0o600))
            made.update((kind, str(path)) for kind, path in pins.items())
            failure: list[BaseException] = []
            thread = threading.Thread(target=_pin, args=(pins, hostname, failure))
            thread.start()
            thread.join()
            if failure:
                raise failure[0]
    except BaseException:
        unpin_namespaces(made)
        raise
    return made


def unpin_namespaces(files: dict[str, str]) -> None:
    """Unmount and delete the pinned files; those already gone are fine."""
    for path in files.values():
        remove_netns(Path(path))  # unmounts any pinned namespace file
        Path(path).unlink(missing_ok=True)


# Which namespace owns a sysctl (the kernel's namespaced ones only).
_SYSCTL_OWNERS = (
    ("net.", "network"),
    ("kernel.shm", "ipc"),
    ("kernel.msg", "ipc"),
    ("kernel.sem", "ipc"),
    ("fs.mqueue.", "ipc"),
    ("kernel.hostname", "uts"),
    ("kernel.domainname", "uts"),
)


def sysctl_owner(name: str) -> str | None:
    """The namespace kind that holds sysctl ``name``, or None if it is not
    namespaced (and so belongs to the whole node)."""
    for prefix, kind in _SYSCTL_OWNERS:
        if name.startswith(prefix):
            return kind
    return None


def _write_sysctls(
    files: dict[str, str], sysctls: dict[str, str], failure: list[BaseException]
) -> None:
    try:
        for kind, path in files.items():
            fd = os.open(path, os.O_RDONLY)
            try:
                if _libc.setns(fd, 0) != 0:
                    raise _os_error(f"joining the {kind} namespace", Path(path))
            finally:
                os.close(fd)
        for name, value in sysctls.items():
            # /proc/sys answers for the namespaces of the thread that opens it.
            target = Path("/proc/sys") / name.replace(".", "/")
            target.write_text(value)
    except BaseException as e:
        failure.append(e)


def apply_sysctls(files: dict[str, str], sysctls: dict[str, str]) -> None:
    """Set ``sysctls`` inside the pinned namespaces ``files`` (by kind),
    from a thread that joins them and ends."""
    if not sysctls:
        return
    failure: list[BaseException] = []
    thread = threading.Thread(target=_write_sysctls, args=(files, sysctls, failure))
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
