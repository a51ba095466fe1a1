"""Attaching around a start, so that no output is lost (see
attach_pending.py): connecting in the starting thread, between conmon's
``create`` and the runtime's ``start``, and handing the connection (or
the failure) back to the attach's task.

``start_attached`` starts the container itself (``run``, ``start -a``);
``StartWaiter`` waits for another task of this process to start it (the
Engine API's attach, then start).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING

from servin_core.containers.attach_pending import expect_start
from servin_core.containers.attach_socket import (
    AttachConnection,
    connect,
    write_window_size,
)
from servin_core.containers.model import Container
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.reconcile import refresh

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["StartWaiter", "start_attached"]

_Error = BaseException | None
_Outcome = tuple[AttachConnection | None, _Error]
_LOOK_AGAIN = 0.5
"""Seconds between looks at the row while waiting for a start."""


def _connector(
    paths: ContainerPaths,
    size: tuple[int, int] | None,
    done: Callable[[AttachConnection | None, _Error], None],
) -> Callable[[Container], None]:
    """The hook ``start`` runs before the process starts: connect, size the
    terminal, and hand over the connection or the failure."""

    def hook(container: Container) -> None:
        connection: AttachConnection | None = None
        try:
            connection = connect(paths.bundle, container.name)
            if size is not None and container.config.tty:
                write_window_size(paths.bundle, container.name, *size)
        except BaseException as e:
            if connection is not None:
                connection.close()
            done(None, e)
            return
        done(connection, None)

    return hook


async def start_attached(
    core: Core, container: Container, size: tuple[int, int] | None
) -> tuple[Container, AttachConnection]:
    """Start ``container`` with this attach connected before its process
    runs; the started container and the connection."""
    from servin_core.containers.lifecycle import start

    paths = ContainerPaths.of(core.config, container.id)
    outcome: list[_Outcome] = []
    unregister = expect_start(
        container.id, _connector(paths, size, lambda c, e: outcome.append((c, e)))
    )
    try:
        started = await start(core, container.id)
    except BaseException:
        for connection, _ in outcome:
            if connection is not None:
                connection.close()
        raise
    finally:
        unregister()
    return started, await _connection(started, outcome, paths, size)


class StartWaiter:
    """Waits for another task of this process to start a created container
    (the Engine API's attach, then start). Registered when made, so a
    start issued after ``attach()`` was called is not missed."""

    def __init__(
        self, core: Core, container: Container, size: tuple[int, int] | None
    ) -> None:
        self._core = core
        self._loop = asyncio.get_running_loop()
        self._arrived: asyncio.Future[_Outcome] = self._loop.create_future()
        self._paths = ContainerPaths.of(core.config, container.id)
        self._size = size
        self._unregister = expect_start(
            container.id, _connector(self._paths, size, self._done)
        )

    def _done(self, connection: AttachConnection | None, error: _Error) -> None:
        """From the starting thread: hand the outcome to the loop (a
        connection nobody waits for any more is closed)."""

        def settle() -> None:
            if self._arrived.done():
                if connection is not None:
                    connection.close()
                return
            self._arrived.set_result((connection, error))

        self._loop.call_soon_threadsafe(settle)

    async def wait(self, container: Container) -> tuple[Container, AttachConnection]:
        """The started container and the connection, once it started."""
        outcomes: list[_Outcome] = []
        while not outcomes:
            try:
                outcomes.append(
                    await asyncio.wait_for(asyncio.shield(self._arrived), _LOOK_AGAIN)
                )
            except TimeoutError:
                # A start already past its hook when this was registered:
                # attach as to any running container (its first output may
                # be missed; only the log has it).
                current = await asyncio.to_thread(self._current, container.id)
                if current.state.is_active and not self._arrived.done():
                    break
        self.close()
        started = await asyncio.to_thread(self._core.containers.get, container.id)
        connection = await _connection(started, outcomes, self._paths, self._size)
        return started, connection

    def _current(self, container_id: str) -> Container:
        return refresh(self._core, self._core.containers.get(container_id))

    def close(self) -> None:
        self._unregister()
        if not self._arrived.done():
            self._arrived.cancel()


async def _connection(
    container: Container,
    outcome: list[_Outcome],
    paths: ContainerPaths,
    size: tuple[int, int] | None,
) -> AttachConnection:
    """The connection the hook made, or its error. If the hook never ran
    (the container was already running), connect now."""
    if not outcome:
        fresh = await asyncio.to_thread(connect, paths.bundle, container.name)
        if size is not None and container.config.tty:
            write_window_size(paths.bundle, container.name, *size)
        return fresh
    connection, error = outcome[0]
    if error is not None:
        raise error
    assert connection is not None
    return connection
