"""A pod-wide PID namespace, for pods whose containers share processes.

Unlike the network, IPC and UTS namespaces, a PID namespace cannot be held
by a file: it ends with its first process. Such a pod gets one small
process, catatonit in pause mode (a Debian package, no image), as PID 1 of
a new namespace; its containers join that namespace through
/proc/PID/ns/pid. Pods that do not share PIDs (kubelet's default) cost no
process at all.

The holder is started through a shell that exits at once, so it is not
this process's child (a daemonless Servin may exit before the pod ends).
Its PID is recorded with its namespace's inode, so that a recycled PID is
never taken for it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from servin_core.errors import Unavailable

__all__ = ["hold_pid_namespace", "holder_pid", "release_pid_namespace"]

_RECORD = "pid-holder"
_WAIT = 10.0


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(word) for word in text.split()]


def _inode(pid: int) -> int:
    return os.stat(f"/proc/{pid}/ns/pid").st_ino


def hold_pid_namespace(directory: Path, pod_id: str) -> int:
    """Start the holder for the pod whose files are in ``directory``; its
    PID as the host sees it."""
    catatonit = shutil.which("catatonit")
    if catatonit is None:
        raise Unavailable("pod sandbox", pod_id, "catatonit is not installed")
    script = (
        'unshare --pid --fork --kill-child "$0" -P </dev/null >/dev/null 2>&1 & echo $!'
    )
    done = subprocess.run(
        ["sh", "-c", script, catatonit], capture_output=True, check=True, text=True
    )
    parent = int(done.stdout.strip())

    deadline = time.monotonic() + _WAIT
    while not (children := _children(parent)):
        if time.monotonic() > deadline:
            os.kill(parent, signal.SIGKILL)
            raise Unavailable("pod sandbox", pod_id, "the PID holder did not start")
        time.sleep(0.002)
    pid = children[0]
    # The child is in the new namespace once unshare has forked it.
    (directory / _RECORD).write_text(f"{parent} {pid} {_inode(pid)}\n")
    return pid


def holder_pid(directory: Path) -> int:
    """The holder's PID if it is still the one recorded, else 0."""
    try:
        _, pid, inode = map(int, (directory / _RECORD).read_text().split())
        return pid if _inode(pid) == inode else 0
    except (OSError, ValueError):
        return 0


def release_pid_namespace(directory: Path) -> None:
    """End the holder (and with it every process left in the namespace)."""
    pid = holder_pid(directory)
    if pid:
        os.kill(pid, signal.SIGKILL)
    (directory / _RECORD).unlink(missing_ok=True)
