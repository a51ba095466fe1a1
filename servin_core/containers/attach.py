"""Attaching to a container's own stdio (docker's ``attach``, ``run -i``,
``run -it``, ``start -a``), for the CLI, the Engine API and the CRI.

conmon holds the container's stdio, writes the log, and serves clients on
its attach socket (attach_socket.py); attaching is being one of them,
connected before the process runs when the attach starts it or waits for
its start (attach_start.py).
The API::

    async def attach(
        core, text, *,
        stdin: AsyncIterator[bytes] | None,
        on_output: Callable[[str, bytes], Awaitable[None]],
        detach_keys: bytes | None = DEFAULT_DETACH_KEYS,
        stopped: "error" | "start" | "wait" = "error",
        size: tuple[int, int] | None = None,
    ) -> AttachResult

    async def resize(core, text, height, width) -> None

- ``on_output(stream, data)`` gets the output as it comes, ``stream``
  "stdout" or "stderr" (kept apart; a terminal has only "stdout"), and is
  awaited before more is read. Only output written while attached comes:
  earlier output is in the log (``logs``).
- ``stdin``: input for the container (None: none is sent). When it ends
  (or the attach detaches), the container's stdin is closed if the
  container was created with ``stdin_once`` (docker's ``StdinOnce``:
  ``run -i`` in the foreground, without a terminal), else left open for
  later attaches; after the end of input the attach goes on showing output
  until the container exits. Input is sent only if the container was
  created with ``open_stdin``.
- ``detach_keys`` (parse_detach_keys gives them from docker's syntax;
  None or b"" for none), looked for in ``stdin``: the sequence ends the
  attach with the container left running, and is not sent.
- ``stopped``: what to do if the container is not running. "error":
  Conflict naming it. "start": start it, attached before its process
  runs (``run``, ``start -a``); the start's errors are raised as
  ``start`` raises them. "wait": for a created container, wait until
  something in this process starts it, attached before its process runs
  (the Engine API's attach, then start: a start issued once ``attach()``
  has been called, even before it was first awaited on, is seen).
- ``size`` (rows, columns): the terminal's size, set before input is
  sent (before the process runs when attach starts it). Later changes
  go through ``resize``, which needs a running container with a tty.
- Returns AttachResult: ``end`` is EXITED (the container exited and all
  its output was handed over; ``exit_code`` is its status, docker's:
  128 + signal when killed) or DETACHED (the detach keys; the container
  runs on). Cancelling the call ends the attach and leaves the container
  running (a signal proxy, if wanted, is the caller's).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Literal

from servin_core import log
from servin_core._dataclass import dataclass
from servin_core.containers.attach_keys import DEFAULT_DETACH_KEYS, DetachScanner
from servin_core.containers.attach_socket import (
    AttachConnection,
    connect,
    write_window_size,
)
from servin_core.containers.attach_start import StartWaiter, start_attached
from servin_core.containers.model import State
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.reconcile import refresh
from servin_core.errors import Conflict, InvalidArgument, NotFound

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = [
    "DEFAULT_DETACH_KEYS",
    "AttachEnd",
    "AttachResult",
    "OutputHandler",
    "Stopped",
    "attach",
    "resize",
]

OutputHandler = Callable[[str, bytes], Awaitable[None]]
Stopped = Literal["error", "start", "wait"]
_LOOK_AGAIN = 0.5
"""Seconds between looks at the row while waiting for an exit."""


class AttachEnd(enum.StrEnum):
    EXITED = "exited"
    DETACHED = "detached"


@dataclass(frozen=True, slots=True)
class AttachResult:
    end: AttachEnd
    exit_code: int | None = None
    """The container's status when ``end`` is EXITED."""


async def attach(
    core: Core,
    text: str,
    *,
    stdin: AsyncIterator[bytes] | None,
    on_output: OutputHandler,
    detach_keys: bytes | None = DEFAULT_DETACH_KEYS,
    stopped: Stopped = "error",
    size: tuple[int, int] | None = None,
) -> AttachResult:
    """Attach to the container ``text``; see the module's docstring."""
    began = time.time()
    resolved = core.containers.resolve(text)
    # Before the first await: see StartWaiter.
    waiter = StartWaiter(core, resolved, size) if stopped == "wait" else None
    try:
        container = await asyncio.to_thread(refresh, core, resolved)
        paths = ContainerPaths.of(core.config, container.id)
        if container.state is State.RUNNING:
            began = container.started_at or began
            connection = await asyncio.to_thread(connect, paths.bundle, container.name)
            if size is not None and container.config.tty:
                write_window_size(paths.bundle, container.name, *size)
        elif stopped == "start" and container.state.can_start():
            container, connection = await start_attached(core, container, size)
        elif waiter is not None and container.state is State.CREATED:
            container, connection = await waiter.wait(container)
        elif container.state is State.PAUSED:
            raise Conflict(
                "container", container.name, "is paused: unpause it to attach"
            )
        else:
            raise Conflict(
                "container",
                container.name,
                f"is {container.state}: cannot attach to a container that is not"
                " running (start it first)",
            )
    finally:
        if waiter is not None:
            waiter.close()

    logger = log.for_object(log.containers, "container", container.id)
    logger.info("attached")
    try:
        if not container.config.open_stdin:
            stdin = None
        ended = await _copy(connection, stdin, on_output, detach_keys)
    finally:
        connection.close()
    if ended is AttachEnd.DETACHED:
        logger.info("detached")
        return AttachResult(AttachEnd.DETACHED)
    code = await _exit_code(core, container.id, began)
    logger.info("attach ended: exited with %s", code)
    return AttachResult(AttachEnd.EXITED, code)


async def resize(core: Core, text: str, height: int, width: int) -> None:
    """Set the terminal size of the running container ``text``."""
    container = core.containers.resolve(text)
    if not container.state.is_active:
        raise Conflict("container", container.name, "is not running")
    if not container.config.tty:
        raise InvalidArgument("container", container.name, "has no terminal to resize")
    paths = ContainerPaths.of(core.config, container.id)
    write_window_size(paths.bundle, container.name, height, width)


async def _copy(
    connection: AttachConnection,
    stdin: AsyncIterator[bytes] | None,
    on_output: OutputHandler,
    detach_keys: bytes | None,
) -> AttachEnd:
    """Copy until the output ends (EXITED) or the keys are typed."""
    output: asyncio.Future[object] = asyncio.ensure_future(
        _copy_output(connection, on_output)
    )
    tasks = {output}
    if stdin is not None:
        tasks.add(asyncio.ensure_future(_copy_input(connection, stdin, detach_keys)))
    try:
        while True:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            if output in done:
                output.result()
                return AttachEnd.EXITED
            (finished,) = done
            tasks.discard(finished)
            if finished.result():
                return AttachEnd.DETACHED
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _copy_output(
    connection: AttachConnection, on_output: OutputHandler
) -> object:
    while (received := await connection.receive()) is not None:
        await on_output(*received)
    return None


async def _copy_input(
    connection: AttachConnection, stdin: AsyncIterator[bytes], keys: bytes | None
) -> bool:
    """Send the input on; True if the detach keys ended it."""
    scanner = DetachScanner(keys)
    try:
        async for chunk in stdin:
            data, detached = scanner.feed(chunk)
            if data:
                await connection.send(data)
            if detached:
                return True
        if held := scanner.flush():
            await connection.send(held)
    except (BrokenPipeError, ConnectionResetError):
        # conmon is gone (the container exited): the output side ends too.
        return False
    connection.close_input()
    return False


async def _exit_code(core: Core, container_id: str, since: float) -> int | None:
    """The status of the run that began at ``since``, once recorded: the
    ``die`` event that every exit leaves (reconcile.collect_exit), still
    there after ``--rm`` removed the row. The attach's end can come before
    the start that made this run has updated the row, so the row alone
    cannot tell this run's end from the state before it. None if the
    container was removed without an exit recorded."""
    from servin_core.containers.wait import changes_of

    with changes_of(core, container_id) as changes:
        while True:
            # Collects the exit if nobody else does (the exit command
            # sleeps while a foreground ``run --rm`` lives).
            try:
                current = core.containers.get(container_id)
            except NotFound:
                current = None
            if current is not None:
                await asyncio.to_thread(refresh, core, current)
            events = await asyncio.to_thread(core.events.since, since_time=since)
            for event in reversed(events):
                if event.actor_id == container_id and event.action == "die":
                    recorded = event.attributes.get("exitCode", "")
                    if recorded.lstrip("-").isdigit():
                        return int(recorded)
            if current is None:
                return None
            await changes.changed(_LOOK_AGAIN)
