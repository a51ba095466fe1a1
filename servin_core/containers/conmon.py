"""conmon: the small monitor that holds each container's stdio and exit.

One conmon per container, as CRI-O and podman run it. It daemonizes itself
(so the Servin process that started it may exit), runs ``runtime create``,
reports the container's PID on the sync pipe (``_OCI_SYNCPIPE``: the only
way conmon 2.1.6 takes it), then writes the log in k8s-file format, the exit
status into the exit directory, an ``oom`` file into the persist directory
after an OOM kill, and finally runs the exit command: Servin's cleanup, so
that exits are recorded and restart policies applied with no daemon.

conmon gets a session of its own and /dev/null for stdio: a terminal's
hang-up, a kill of the starting process group or a closed pipe of the
starting process never reaches it.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable

from servin_core import log
from servin_core._dataclass import dataclass
from servin_core.config import Config
from servin_core.containers.model import Container
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.runtime import Runtime
from servin_core.errors import Unavailable

__all__ = ["CreateFailed", "Launched", "exit_command", "launch", "process_alive"]

_SYNC_TIMEOUT = 120.0


class CreateFailed(Unavailable):
    """The runtime could not create the container; ``output`` is its message."""

    def __init__(self, ident: str, output: str) -> None:
        super().__init__("container", ident, output)
        self.output = output


@dataclass(frozen=True, eq=False)
class Launched:
    """The process IDs of a container's conmon and of its first process."""

    conmon_pid: int
    pid: int


def exit_command(config: Config, container_id: str, started_at: float) -> list[str]:
    """What conmon runs after the container's exit: the exit hook, which
    cleans up this run if no one else does (``started_at`` tells this run
    from a later one). The paths go as arguments, so that the hook can
    look at the container's directories before it imports anything."""
    argv = [
        sys.executable,
        # By path, isolated and without site-packages: it starts as the
        # container exits, beside a foreground ``run --rm`` (see the hook).
        "-I",
        "-S",
        os.path.join(os.path.dirname(__file__), "exit_hook.py"),
        "--data-dir",
        str(config.data_dir),
        "--run-dir",
        str(config.run_dir),
    ]
    # Only what differs from the defaults: most runs pass nothing more.
    settings = config.settings()
    if settings:
        argv += ["--settings", json.dumps(settings)]
    return [*argv, "--started-at", repr(started_at), container_id]


def launch(
    config: Config,
    container: Container,
    runtime: Runtime,
    paths: ContainerPaths,
    started_at: float,
    meanwhile: Callable[[], None] | None = None,
) -> Launched:
    """Start conmon for ``container`` and wait until the runtime has created
    it (not started). Raises CreateFailed with the runtime's message.

    ``meanwhile`` is called once conmon runs, before the wait for the
    runtime (tens of milliseconds in which this process has nothing to do).
    """
    conmon = shutil.which("conmon")
    if conmon is None:
        raise Unavailable("container", container.name, "conmon is not installed")
    for directory in (paths.run, paths.exit_dir, paths.persist_dir):
        directory.mkdir(parents=True, exist_ok=True)
    socket_dir = config.run_dir / "sockets"
    socket_dir.mkdir(parents=True, exist_ok=True)

    argv = [
        conmon,
        "--api-version", "1",
        "--cid", container.id,
        "--cuuid", container.id[:12],
        "--name", container.name,
        "--runtime", runtime.path,
        "--runtime-arg", "--root",
        "--runtime-arg", str(runtime.root),
        "--bundle", str(paths.bundle),
        "--container-pidfile", str(paths.pidfile),
        "--conmon-pidfile", str(paths.conmon_pidfile),
        "--exit-dir", str(paths.exit_dir),
        "--persist-dir", str(paths.persist_dir),
        "--socket-dir-path", str(socket_dir),
        # TODO: `logs` reads paths.log only, so a CRI container's log (at
        # kubelet's path) is not shown by Servin's own logs command yet.
        "--log-path", f"k8s-file:{container.config.log_path or paths.log}",
        "--log-level", "error",
    ]  # fmt: skip
    if container.config.log_max_size:
        argv += ["--log-size-max", str(container.config.log_max_size)]
    if container.config.tty:
        # conmon gets the pty's master from the runtime on a console socket
        # of its own and serves it on the attach socket (attach.py).
        argv.append("--terminal")
    if container.config.open_stdin:
        argv.append("--stdin")
        # Without this, conmon closes the container's stdin when an attach
        # ends: docker's StdinOnce. A terminal's input is the pty itself,
        # which must outlive every attach.
        if container.config.tty or not container.config.stdin_once:
            argv.append("--leave-stdin-open")
    command = exit_command(config, container.id, started_at)
    argv += ["--exit-command", command[0]]
    for arg in command[1:]:
        argv += ["--exit-command-arg", arg]

    read_end, write_end = os.pipe()
    try:
        env = dict(os.environ, _OCI_SYNCPIPE=str(write_end))
        env.pop("NOTIFY_SOCKET", None)
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            pass_fds=(write_end,),
            env=env,
            start_new_session=True,
            cwd="/",
        )
        os.close(write_end)
        write_end = -1
        if meanwhile is not None:
            meanwhile()
        _, stderr = process.communicate()
        if process.returncode != 0:
            raise Unavailable(
                "container",
                container.name,
                f"conmon failed: {stderr.decode(errors='replace').strip()}",
            )
        message = _read_message(read_end, container.name)
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)

    data = message.get("data", -1)
    pid = data if isinstance(data, int) else -1
    if pid <= 0:
        raise CreateFailed(container.name, _runtime_message(message))
    conmon_pid = int(paths.conmon_pidfile.read_text().strip() or 0)
    log.for_object(log.containers, "container", container.id).debug(
        "created by %s under conmon %d: pid %d", runtime.name, conmon_pid, pid
    )
    return Launched(conmon_pid, pid)


def _read_message(fd: int, name: str) -> dict[str, object]:
    """conmon's first message on the sync pipe (it keeps the pipe open for
    the exit status afterwards, so read one message, not to the end)."""
    data = b""
    deadline = time.monotonic() + _SYNC_TIMEOUT
    while not data.endswith(b"\n"):
        left = deadline - time.monotonic()
        ready, _, _ = select.select([fd], [], [], max(left, 0))
        if not ready:
            raise Unavailable("container", name, "conmon did not report the runtime")
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    try:
        message: dict[str, object] = json.loads(data.splitlines()[0])
    except (ValueError, IndexError):
        raise Unavailable(
            "container", name, f"conmon reported nothing usable: {data!r}"
        ) from None
    return message


def _runtime_message(message: dict[str, object]) -> str:
    """The runtime's error without its logging prefix (``time=... level=error
    msg="..."``), as a user wants to read it."""
    text = str(message.get("message", "the runtime failed")).strip()
    if 'msg="' in text:
        text = text.split('msg="', 1)[1].rsplit('"', 1)[0]
        text = text.replace('\\"', '"').replace("\\\\", "\\")
    return text


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs and is not a zombie (an orphaned conmon may stay
    a zombie when the init process does not reap it)."""
    if pid <= 0:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2 :][:1] not in (b"Z", b"X")
