"""``create`` and ``run``.

``run`` is create, start, then (without ``-d``) the container's output
followed until it exits, and the container's exit status as ours. With
``-i`` or ``-t`` it attaches instead (containers_attach.py): attached
before the process starts, input passed on, a terminal in raw mode, the
detach keys.

Create and start need no event loop, so a plain ``run`` does them first
and imports the event loop and the modules that follow the output in a
thread while the runtime creates the container (``run -d`` never imports
them).

Exit statuses follow docker: 125 when Servin itself fails (a bad flag
value, an image it cannot find, a name taken), 126 when the command cannot
be executed, 127 when it does not exist, else the container's own.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from servin_core.errors import NotFound, ServinError
from servin_tui.cli.attach_flags import add_attach_flags
from servin_tui.cli.command import Command, Session
from servin_tui.cli.containers_flags import add_create_flags

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable

    from servin_core.containers.model import Container
    from servin_core.core import Core
    from servin_tui.cli.containers_flags import CreateRequest

__all__ = ["COMMANDS", "follow_until_exit", "proxy_signals"]

SERVIN_FAILED = 125


def _configure_create(parser: argparse.ArgumentParser) -> None:
    add_create_flags(parser)


def _configure_run(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-d",
        "--detach",
        action="store_true",
        help="run in the background, print the ID",
    )
    add_attach_flags(parser)
    add_create_flags(parser)


def _run_create(session: Session, args: argparse.Namespace) -> int:
    try:
        container = _create(session, args)
    except ServinError as e:
        return _failed(session, e, SERVIN_FAILED)
    session.out(container.id)
    return 0


def _run_run(
    session: Session, args: argparse.Namespace
) -> int | Coroutine[Any, Any, int]:
    """Create and start before any event loop exists (``run -d`` needs
    none); what follows the start, or an attach from before it, in one."""
    from servin_tui.cli.attach_flags import detach_keys_of

    if args.tty and args.interactive and not session.stdin_is_terminal():
        # docker refuses too: raw mode and sizes need a terminal to read.
        session.warn("Error: the input device is not a TTY")
        return 1
    try:
        keys = detach_keys_of(args)
        container = _create(session, args)
    except ServinError as e:
        return _failed(session, e, SERVIN_FAILED)

    from servin_core.containers.exit_hook import mark_attached

    core = session.core()
    # With --rm in the foreground this process removes the container; the
    # mark lets the exit command sleep instead of doing it again (it still
    # does it if this process dies first).
    attached = container.config.auto_remove and not args.detach
    if attached:
        mark_attached(core.config.run_dir, container.id)
    if not args.detach and (container.config.open_stdin or container.config.tty):
        return _attached(_attach(session, core, container, args, keys), core, container)

    try:
        started = _start(core, container, follow=not args.detach)
    except ServinError as e:
        # The core recorded docker's status for a failed start on the row:
        # 127 for a command not found, 126 for one not executable, else 125.
        status = _recorded_status(core, container.id)
        if container.config.auto_remove:
            with contextlib.suppress(NotFound):
                _remove(core, container.id)
        _unmark(core, container, attached)
        return _failed(session, e, status)
    except BaseException:
        _unmark(core, container, attached)
        raise
    if args.detach:
        session.out(started.id)
        return 0
    return _attached(_follow_and_remove(session, core, started), core, container)


def _start(core: Core, container: Container, *, follow: bool) -> Container:
    from servin_core.containers.locked import locked
    from servin_core.containers.start import start_locked

    meanwhile = _load_follow_modules if follow else None
    return locked(
        core, container.id, lambda c: start_locked(core, c, meanwhile=meanwhile)
    )


def _remove(core: Core, container_id: str) -> None:
    from servin_core.containers.locked import locked
    from servin_core.containers.remove import remove_locked

    locked(
        core, container_id, lambda c: remove_locked(core, c, force=True, volumes=True)
    )


_FOLLOW_MODULES = (
    "asyncio",
    "concurrent.futures.thread",
    "servin_core.containers.lifecycle",
    "servin_tui.cli.containers_logs",
    "servin_tui.cli.containers_state",
)


def _load_follow_modules() -> None:
    """Import what following the container needs (the event loop, the log
    and wait modules: about 20 ms of CPU) in a thread, while this one waits
    for the runtime to create the container. The start's own path imports
    none of them, so neither thread waits on the other's imports."""

    def load() -> None:
        for name in _FOLLOW_MODULES:
            importlib.import_module(name)

    # Not a daemon: if the command ends first (a start that fails at once),
    # the interpreter waits for the imports to finish rather than tearing
    # down modules under them.
    threading.Thread(target=load, name="servin-load").start()


def _unmark(core: Core, container: Container, attached: bool) -> None:
    from servin_core.containers.exit_hook import unmark_attached

    if attached:
        unmark_attached(core.config.run_dir, container.id)


async def _attached(
    body: Coroutine[Any, Any, int], core: Core, container: Container
) -> int:
    """``body``'s status, the container's mark taken away after it, if the
    run set one (see :func:`_run_run`)."""
    try:
        return await body
    finally:
        _unmark(core, container, container.config.auto_remove)


async def _follow_and_remove(session: Session, core: Core, container: Container) -> int:
    code = await follow_until_exit(session, core, container)
    if container.config.auto_remove:
        # The exit's cleanup removes it too; here it is gone before we return.
        await _remove_quietly(core, container.id)
    return code


async def _attach(
    session: Session,
    core: Core,
    container: Container,
    args: argparse.Namespace,
    keys: bytes,
) -> int:
    """Start the container attached; its status (0 once detached: then it
    runs on, and ``--rm`` is left to its exit)."""
    from servin_tui.cli.containers_attach import attach_session

    try:
        code = await attach_session(
            session,
            core,
            container.id,
            stdin=container.config.open_stdin,
            detach_keys=keys,
            sig_proxy=args.sig_proxy == "true",
            stopped="start",
        )
    except ServinError as e:
        # The core recorded docker's status for a failed start on the row.
        status = _recorded_status(core, container.id)
        if container.config.auto_remove:
            await _remove_quietly(core, container.id)
        return _failed(session, e, status)
    if code is None:
        return 0
    if container.config.auto_remove:
        await _remove_quietly(core, container.id)
    return code


def _create(session: Session, args: argparse.Namespace) -> Container:
    from servin_core.containers.create import create_sync
    from servin_tui.cli.containers_flags import build_request

    request = build_request(args)
    core = session.core()
    _ensure_image(session, core, request)
    return create_sync(core, request.config, request.name)


def _ensure_image(session: Session, core: Core, request: CreateRequest) -> None:
    """Pull as ``--pull`` says: when missing (docker's default), always, or
    never (then a missing image is an error)."""
    image = request.config.image
    if request.pull != "always":
        try:
            core.images.resolve(image)
            return
        except NotFound:
            if request.pull == "never":
                raise
        session.warn(f"Unable to find image '{_shown(image)}' locally")

    import asyncio

    from servin_core.images.pull import pull
    from servin_tui.cli.progress import open_progress

    # The pull's progress goes to stderr: stdout carries the container's
    # output or its ID, which scripts read.
    with open_progress(session.stderr, "pull") as progress:
        asyncio.run(pull(core, image, platform=request.platform, progress=progress))


def _recorded_status(core: Core, container_id: str) -> int:
    try:
        return core.containers.get(container_id).exit_code or SERVIN_FAILED
    except NotFound:
        return SERVIN_FAILED


def _shown(image: str) -> str:
    from servin_core.errors import InvalidArgument
    from servin_core.images.reference import parse_reference

    try:
        return parse_reference(image).familiar()
    except InvalidArgument:
        return image


async def follow_until_exit(
    session: Session, core: Core, container: Container, *, since: float | None = None
) -> int:
    """Show the output (from ``since``) until the container exits; its exit
    code. SIGINT and SIGTERM meanwhile go to the container (docker's
    ``--sig-proxy``); the third one stops following, with the container left
    running, and the command exits 130."""
    import asyncio

    from servin_core.containers.lifecycle import wait
    from servin_tui.cli.containers_logs import binary, stream_logs
    from servin_tui.cli.containers_state import last_exit_code

    out, err = binary(session.stdout), binary(session.stderr)
    output = asyncio.create_task(
        stream_logs(core, container, out, err, follow=True, since=since)
    )
    waiting = asyncio.create_task(wait(core, container.id))
    restore = proxy_signals(core, container.id, waiting)
    try:
        code = await waiting
        # Following ends once the log is complete after the exit.
        await output
    except asyncio.CancelledError:
        if not waiting.cancelled():
            raise
        raise KeyboardInterrupt from None
    finally:
        restore()
        for task in (output, waiting):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    # With --rm the row may be gone before wait saw the exit; the event log
    # still has the status.
    recorded = last_exit_code(core, container)
    return recorded if recorded is not None else code


_GIVE_UP_AFTER = 3


def proxy_signals(
    core: Core, container_id: str, waiting: asyncio.Future[Any]
) -> Callable[[], None]:
    """Forward SIGINT and SIGTERM to the container until the third, which
    cancels ``waiting``; returns what puts the usual handlers back."""
    import asyncio
    import signal

    from servin_core.containers.lifecycle import kill

    loop = asyncio.get_running_loop()
    received = 0
    sending: set[asyncio.Task[object]] = set()

    async def send(name: str) -> object:
        # The container may have exited meanwhile: nothing left to tell.
        with contextlib.suppress(ServinError):
            return await kill(core, container_id, signal=name)
        return None

    def forward(signum: signal.Signals) -> None:
        nonlocal received
        received += 1
        if received >= _GIVE_UP_AFTER:
            waiting.cancel()
            return
        task = loop.create_task(send(signum.name))
        sending.add(task)
        task.add_done_callback(sending.discard)

    proxied = (signal.SIGINT, signal.SIGTERM)
    for signum in proxied:
        loop.add_signal_handler(signum, forward, signum)

    def restore() -> None:
        for signum in proxied:
            loop.remove_signal_handler(signum)

    return restore


async def _remove_quietly(core: Core, container_id: str) -> None:
    """``--rm``: remove the container if its exit did not already."""
    from servin_core.containers.lifecycle import remove

    with contextlib.suppress(NotFound):
        await remove(core, container_id, force=True, volumes=True)


def _failed(session: Session, error: ServinError, status: int) -> int:
    session.stdout.flush()
    session.warn(f"Error: {error}")
    return status


COMMANDS = [
    Command(
        "run",
        (),
        "create and start a container, show its output",
        _configure_run,
        _run_run,
    ),
    Command(
        "create", (), "create a container, print its ID", _configure_create, _run_create
    ),
]
