"""``attach``, and the user's terminal joined to a container's own stdio
for ``run -i``/``run -t`` and ``start -a``.

The core does the attaching (servin_core/containers/attach.py); this
module is the user's side of it: standard input read as it comes, output
written to stdout and stderr as the container wrote it, and with a
terminal the user's in raw mode (so that every key, ctrl-C included,
reaches the container's line discipline), its size passed on at once and
after every SIGWINCH. Without a terminal, SIGINT and SIGTERM go to the
container (docker's ``--sig-proxy``, on by default).

Exit statuses are docker's: the container's own once it exits, 0 after
detaching with the keys, 125 when Servin fails (unknown container, one
that is not running, bad detach keys).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import fcntl
import os
import select
import signal
import stat
import struct
import termios
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from servin_core.errors import ServinError
from servin_tui.cli.attach_flags import add_attach_flags, detach_keys_of
from servin_tui.cli.command import Command, Session

if TYPE_CHECKING:
    from servin_core.containers.attach import AttachResult, Stopped
    from servin_core.core import Core

__all__ = ["COMMANDS", "add_attach_flags", "attach_session", "detach_keys_of"]

SERVIN_FAILED = 125
_CHUNK = 65536
_MAX_SIZE = 1000
"""conmon's limit on rows and columns."""


def _configure_attach(parser: argparse.ArgumentParser) -> None:
    add_attach_flags(parser)
    parser.add_argument(
        "--no-stdin", action="store_true", help="do not pass standard input on"
    )
    parser.add_argument("container", metavar="CONTAINER")


async def _run_attach(session: Session, args: argparse.Namespace) -> int:
    try:
        keys = detach_keys_of(args)
        code = await attach_session(
            session,
            session.core(),
            args.container,
            stdin=not args.no_stdin,
            detach_keys=keys,
            sig_proxy=args.sig_proxy == "true",
        )
    except ServinError as e:
        session.stdout.flush()
        session.warn(f"Error: {e}")
        return SERVIN_FAILED
    return 0 if code is None else code


async def attach_session(
    session: Session,
    core: Core,
    text: str,
    *,
    stdin: bool,
    detach_keys: bytes,
    sig_proxy: bool,
    stopped: Stopped = "error",
) -> int | None:
    """Attach the session's streams to container ``text``; the container's
    exit status, or None once detached. ServinError as the core raises
    it."""
    from servin_core.containers.attach import AttachEnd, attach

    container = core.containers.resolve(text)
    session.stdout.flush()
    session.stderr.flush()
    in_fd = _fileno(session) if stdin else None
    out_fd, err_fd = session.stdout.fileno(), session.stderr.fileno()
    tty = container.config.tty
    terminal = _terminal(in_fd, out_fd) if tty else None

    async def on_output(stream: str, data: bytes) -> None:
        _write_all(err_fd if stream == "stderr" else out_fd, data)

    loop = asyncio.get_running_loop()
    # Raw before anything is shown: the container's terminal does the
    # line discipline, ours must not do it again.
    saved = _raw(in_fd) if tty else None
    attaching: asyncio.Future[AttachResult] = asyncio.ensure_future(
        attach(
            core,
            container.id,
            stdin=_read(in_fd) if in_fd is not None else None,
            on_output=on_output,
            detach_keys=detach_keys,
            stopped=stopped,
            size=_size(terminal) if terminal is not None else None,
        )
    )
    restore_signals = (
        _proxy(core, container.id, attaching) if sig_proxy and not tty else None
    )
    if terminal is not None:
        loop.add_signal_handler(
            signal.SIGWINCH, _resizer(core, container.id, terminal, attaching)
        )
    try:
        result = await attaching
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        # The third signal ended the attach; the container runs on.
        raise KeyboardInterrupt from None
    finally:
        if restore_signals is not None:
            restore_signals()
        if terminal is not None:
            loop.remove_signal_handler(signal.SIGWINCH)
        if saved is not None and in_fd is not None:
            termios.tcsetattr(in_fd, termios.TCSADRAIN, saved)
    if result.end is AttachEnd.DETACHED:
        return None
    return result.exit_code if result.exit_code is not None else SERVIN_FAILED


def _fileno(session: Session) -> int | None:
    try:
        return session.stdin.fileno() if session.stdin else None
    except (OSError, ValueError):
        return None


def _terminal(*fds: int | None) -> int | None:
    return next((fd for fd in fds if fd is not None and os.isatty(fd)), None)


def _size(fd: int) -> tuple[int, int] | None:
    """The terminal's (rows, columns), None if it has none set; at most
    what conmon takes."""
    packed = fcntl.ioctl(fd, termios.TIOCGWINSZ, b"\0" * 8)
    rows, columns, _, _ = struct.unpack("HHHH", packed)
    if not (rows and columns):
        return None
    return min(rows, _MAX_SIZE), min(columns, _MAX_SIZE)


def _resizer(
    core: Core,
    container_id: str,
    terminal: int,
    attaching: asyncio.Future[AttachResult],
) -> Callable[[], None]:
    """SIGWINCH's handler: pass the new size on (a size that arrives before
    the container runs, or after it exited, has nowhere to go)."""
    from servin_core.containers.attach import resize

    pending: set[asyncio.Task[None]] = set()

    async def send(size: tuple[int, int]) -> None:
        with contextlib.suppress(ServinError):
            await resize(core, container_id, *size)

    def handle() -> None:
        size = _size(terminal)
        if size is None or attaching.done():
            return
        task = asyncio.get_running_loop().create_task(send(size))
        pending.add(task)
        task.add_done_callback(pending.discard)

    return handle


def _proxy(
    core: Core, container_id: str, attaching: asyncio.Future[AttachResult]
) -> Callable[[], None]:
    from servin_tui.cli.containers_run import proxy_signals

    return proxy_signals(core, container_id, attaching)


def _raw(fd: int | None) -> list[Any] | None:
    from servin_tui.cli.console import raw_mode

    return raw_mode(fd)


async def _read(fd: int) -> AsyncIterator[bytes]:
    """Standard input as it comes, to its end. A regular file or /dev/null
    is read straight through: epoll refuses them, and reading them never
    waits."""
    loop = asyncio.get_running_loop()
    ready = asyncio.Event()
    try:
        if stat.S_ISREG(os.fstat(fd).st_mode):
            raise PermissionError(errno.EPERM, "a regular file")
        loop.add_reader(fd, ready.set)
    except PermissionError:
        while chunk := await asyncio.to_thread(os.read, fd, _CHUNK):
            yield chunk
        return
    try:
        while True:
            await ready.wait()
            ready.clear()
            # The callback may have set the event again before the last
            # read took the data; the descriptor blocks (it is shared with
            # the user's shell), so look before reading.
            if not select.select([fd], [], [], 0)[0]:
                continue
            try:
                data = os.read(fd, _CHUNK)
            except BlockingIOError:
                continue
            except OSError as e:
                if e.errno != errno.EIO:  # a terminal hung up
                    raise
                data = b""
            if not data:
                return
            yield data
    finally:
        loop.remove_reader(fd)


def _write_all(fd: int, data: bytes) -> None:
    from servin_tui.cli.console import write_all

    write_all(fd, data)


COMMANDS = [
    Command(
        "attach",
        (),
        "attach to a running container's input and output",
        _configure_attach,
        _run_attach,
    ),
]
