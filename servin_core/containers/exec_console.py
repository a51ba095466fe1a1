"""An exec'd process with a terminal: the pty's master handed to the caller.

runc sends the pty's master over a unix socket (``--console-socket``) only
when it detaches (in the foreground it would copy the pty to its own
stdio itself, leaving the caller no say in raw mode or resizing). So the
runtime runs with ``--detach --pid-file``, and the process, whose parent
exits, must land somewhere that can collect its exit status: this process
is made a child subreaper while the runtime runs, so that the orphan is
re-parented here, and waits for it by PID afterwards.

Being a subreaper is process-wide: a process daemonized by another thread
within that window (conmon, at a start) would be adopted too. It is
switched off as soon as the runtime has returned.

TODO: signals sent to Servin itself (SIGTERM from a supervisor) do not
reach a process with a terminal, as the foreground runtime forwards them
without one; keys such as ctrl-C do, through the pty. Forwarding needs a
handler that sends them to the adopted PID.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

from servin_core.errors import Unavailable

__all__ = ["Console", "run_with_console"]

Console = Callable[[int], Awaitable[None]]
"""Given the pty master's fd: copy it to and from the user until reading it
gives EOF or EIO (the process and all holders of the pty are gone)."""

_PR_SET_CHILD_SUBREAPER = 36
# The C library the interpreter already links (find_library would run ldconfig).
_libc = ctypes.CDLL(None, use_errno=True)


def _subreaper(on: bool) -> None:
    if _libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise Unavailable("process", str(os.getpid()), os.strerror(error))


async def run_with_console(
    argv: list[str], ident: str, pidfile: Path, console: Console
) -> int:
    """Run ``argv`` (the runtime's detached exec, without the container's
    ID) with a console socket; ``console`` gets the master. The process's
    exit status, or the runtime's own if it failed."""
    # A socket's path is limited to 107 bytes, which the run directory may
    # exceed: the socket lives in a private directory of its own in /tmp.
    directory = Path(tempfile.mkdtemp(prefix="servin-console-"))
    try:
        return await _serve(argv, ident, directory / "sock", pidfile, console)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


async def _serve(
    argv: list[str], ident: str, path: Path, pidfile: Path, console: Console
) -> int:
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        listener.bind(str(path))
        listener.listen(1)
        listener.setblocking(False)
    except OSError as e:
        listener.close()
        raise Unavailable("container", ident, f"console socket {path}: {e}") from e

    receiving = asyncio.ensure_future(_receive_master(listener))
    _subreaper(True)
    try:
        process = await asyncio.create_subprocess_exec(
            *argv,
            "--console-socket",
            str(path),
            ident,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        code = await process.wait()
    finally:
        _subreaper(False)
    try:
        if code != 0:
            return code
        master = await receiving
        pid = int(pidfile.read_text().strip())
    finally:
        receiving.cancel()
        listener.close()

    copying = asyncio.ensure_future(console(master))
    try:
        status = await asyncio.to_thread(os.waitpid, pid, 0)
        # The output written just before the exit is still to be shown.
        await copying
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 15)
        raise
    finally:
        copying.cancel()
        os.close(master)
    return _exit_code(status[1])


def _exit_code(wait_status: int) -> int:
    """docker's status: the exit code, or 128 + the killing signal."""
    code = os.waitstatus_to_exitcode(wait_status)
    return 128 - code if code < 0 else code


async def _receive_master(listener: socket.socket) -> int:
    loop = asyncio.get_running_loop()
    connection, _ = await loop.sock_accept(listener)
    with connection:
        connection.setblocking(True)
        _, fds, _, _ = await asyncio.to_thread(socket.recv_fds, connection, 4096, 1)
    if not fds:
        raise Unavailable("container", "", "the runtime sent no console")
    return fds[0]
