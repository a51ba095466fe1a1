"""Running a command in a running container (docker's ``exec``).

The OCI runtime does the work: ``runc exec --process process.json``, with
the process built from the container's own (exec_process.py). No conmon
stands between: the runtime stays in the foreground, hands the process
its standard streams (stdout and stderr kept apart), forwards the signals
it gets, and exits with the process's status, which becomes ours. With
``detach`` the runtime returns once the process has started.

The runtime's own failure (the command does not exist, cannot be
executed) is told from the process's exit by the runtime's JSON log, and
mapped to docker's statuses as ``start`` maps them: 127, 126, else 125.
The runtime also prints that failure on its stderr, which it shares with
the process; a line of that shape is held back until the runtime has
exited, so that it is shown once, as the error, rather than twice.

With a terminal, the runtime sends the pty's master through a unix socket
(``--console-socket``, which runc takes only when it detaches: see
exec_console.py); the caller's ``console`` coroutine then owns it: copying
to and from the user's terminal and resizing (the CLI's is
servin_tui/cli/console.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from servin_core import log
from servin_core.containers.exec_console import Console, run_with_console
from servin_core.containers.exec_process import ExecRequest, exec_process
from servin_core.containers.model import State
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.reconcile import needs_reconcile, refresh
from servin_core.containers.runtime import runtime_of
from servin_core.errors import Conflict, InvalidArgument, Unavailable

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["Console", "ExecFailed", "ExecRequest", "exec_"]

_RUNTIME_FAILED = 255
"""runc's status when it, rather than the process, failed."""
_RUNTIME_PREFIX = b"exec failed:"


class ExecFailed(Unavailable):
    """The runtime could not start the command; ``status`` is docker's exit
    status for it (127 not found, 126 not executable, else 125)."""

    def __init__(self, ident: str, reason: str, status: int) -> None:
        super().__init__("container", ident, reason)
        self.status = status


async def exec_(
    core: Core,
    text: str,
    cmd: list[str],
    *,
    env: tuple[str, ...] | list[str] = (),
    user: str | None = None,
    workdir: str | None = None,
    tty: bool = False,
    detach: bool = False,
    stdin: int | None = None,
    stdout: int | None = None,
    stderr: int | None = None,
    console: Console | None = None,
    size: tuple[int, int] | None = None,
) -> int:
    """Run ``cmd`` in the running container ``text``; the command's exit
    status (0 once started with ``detach``).

    ``stdin``, ``stdout`` and ``stderr`` are file descriptors: stdin None
    means none (/dev/null), stdout and stderr None mean this process's own.
    With ``tty`` (and not ``detach``) ``console`` is required, and ``size``
    (rows, columns) is the terminal's size from the start. Conflict if
    the container is not running, ExecFailed if the runtime cannot start
    the command."""
    container = core.containers.resolve(text)
    # A worker thread only when the row may be behind (a few stat calls
    # tell): reconciling may run the runtime, but the usual running
    # container needs neither that nor the thread pool's start-up.
    if needs_reconcile(core, container):
        container = await asyncio.to_thread(refresh, core, container)
    if container.state is State.PAUSED:
        raise Conflict("container", container.name, "is paused, unpause it before exec")
    if not container.state.can_exec():
        raise Conflict("container", container.name, "is not running")
    if tty and not detach and console is None:
        raise InvalidArgument("container", container.name, "a tty needs a console")

    paths = ContainerPaths.of(core.config, container.id)
    # A detached command has nobody to show a terminal to.
    request = ExecRequest(list(cmd), tuple(env), user, workdir, tty and not detach)
    process = exec_process(paths, container.name, request)
    if request.tty and size is not None:
        # The terminal's size from the start: the command may read it at once.
        process["consoleSize"] = {"height": size[0], "width": size[1]}
    logger = log.for_object(log.containers, "container", container.id)
    logger.info("exec %s", cmd)

    work = paths.run / "exec" / secrets.token_hex(8)
    work.mkdir(parents=True)
    try:
        (work / "process.json").write_text(json.dumps(process))
        runtime = runtime_of(core.config, container)
        head = runtime.argv("--log", str(work / "log"), "--log-format", "json")
        argv = [*head, "exec", "--process", str(work / "process.json")]
        if detach:
            argv += ["--detach", "--pid-file", str(work / "pid")]
            code = await _run([*argv, container.id], None, None, None)
        elif tty:
            assert console is not None
            argv += ["--detach", "--pid-file", str(work / "pid")]
            code = await run_with_console(argv, container.id, work / "pid", console)
        else:
            code = await _run([*argv, container.id], stdin, stdout, stderr)
        failure = _runtime_failure(work / "log") if code == _RUNTIME_FAILED else ""
    finally:
        shutil.rmtree(work, ignore_errors=True)

    if failure:
        # Imported only here: start.py brings the whole start path with it.
        from servin_core.containers.start import status_of

        logger.info("exec failed: %s", failure)
        raise ExecFailed(container.name, failure, status_of(failure))
    logger.info("exec %s exited with %d", cmd, code)
    return 0 if detach else code


async def _run(
    argv: list[str], stdin: int | None, stdout: int | None, stderr: int | None
) -> int:
    """Run the runtime with these streams (None: /dev/null when detached,
    else this process's); its status."""
    detached = "--detach" in argv
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=subprocess.DEVNULL if stdin is None else stdin,
        stdout=subprocess.DEVNULL if detached else stdout,
        stderr=subprocess.DEVNULL if detached else subprocess.PIPE,
    )
    held = b""
    target = 2 if stderr is None else stderr
    try:
        if process.stderr is not None:
            while chunk := await process.stderr.read(65536):
                if held or chunk.startswith(_RUNTIME_PREFIX):
                    held += chunk
                else:
                    _write_all(target, chunk)
        code = await process.wait()
    except asyncio.CancelledError:
        # The runtime passes the signal on to the command.
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        raise
    if held and code != _RUNTIME_FAILED:
        _write_all(target, held)
    return code


def _runtime_failure(log_file: Path) -> str:
    """The runtime's last error in its JSON log, or "" if it logged none."""
    try:
        lines = log_file.read_text(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") in ("error", "fatal"):
            return str(entry.get("msg", "")).strip()
    return ""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
