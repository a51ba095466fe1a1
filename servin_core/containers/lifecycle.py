"""The container operations every front end calls (the API of issue P2).

Each operation resolves the container by ID, name or unique prefix, takes
its lock in a worker thread and drives the runtime there; the modules
beside this one hold the steps (create, start, stop, remove, reconcile,
cleanup, wait).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from servin_core.containers.cleanup import cleanup
from servin_core.containers.create import create_sync
from servin_core.containers.locked import locked, run_locked
from servin_core.containers.model import Container, ContainerConfig
from servin_core.containers.reconcile import refresh
from servin_core.containers.remove import is_stopped, remove_locked
from servin_core.containers.start import start_locked
from servin_core.containers.stop import (
    kill_locked,
    pause_locked,
    stop_locked,
    unpause_locked,
)
from servin_core.containers.update import update
from servin_core.containers.wait import wait_for
from servin_core.errors import NotFound

if TYPE_CHECKING:
    from servin_core.containers.exec import exec_
    from servin_core.core import Core

__all__ = [
    "cleanup",
    "create",
    "exec_",
    "kill",
    "pause",
    "prune",
    "refresh",
    "remove",
    "rename",
    "restart",
    "start",
    "stop",
    "unpause",
    "update",
    "wait",
]


def __getattr__(name: str) -> Any:
    # exec and its console (tempfile, sockets) are imported only by the
    # callers that exec: run, start and the rest do not need them.
    if name == "exec_":
        from servin_core.containers.exec import exec_

        return exec_
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


async def create(
    core: Core, config: ContainerConfig, *, name: str | None = None
) -> Container:
    return await asyncio.to_thread(create_sync, core, config, name)


async def start(core: Core, text: str) -> Container:
    return await run_locked(core, text, lambda c: start_locked(core, c))


async def stop(
    core: Core, text: str, *, timeout: int | None = None, signal: str | None = None
) -> Container:
    """Send ``signal`` (default: the container's stop signal), then SIGKILL
    if it has not exited after ``timeout`` seconds."""
    return await run_locked(core, text, lambda c: stop_locked(core, c, timeout, signal))


async def kill(core: Core, text: str, *, signal: str | int = "SIGKILL") -> Container:
    return await run_locked(core, text, lambda c: kill_locked(core, c, signal))


async def restart(
    core: Core, text: str, *, timeout: int | None = None, signal: str | None = None
) -> Container:
    """``stop`` with the same ``timeout`` and ``signal``, then start."""

    def operation(container: Container) -> Container:
        stopped = stop_locked(core, container, timeout, signal)
        return start_locked(core, stopped)

    return await run_locked(core, text, operation)


async def pause(core: Core, text: str) -> Container:
    return await run_locked(core, text, lambda c: pause_locked(core, c))


async def unpause(core: Core, text: str) -> Container:
    return await run_locked(core, text, lambda c: unpause_locked(core, c))


async def remove(
    core: Core, text: str, *, force: bool = False, volumes: bool = False
) -> Container:
    return await run_locked(
        core, text, lambda c: remove_locked(core, c, force=force, volumes=volumes)
    )


async def wait(core: Core, text: str, *, condition: str = "not-running") -> int:
    return await wait_for(core, text, condition)


def rename(core: Core, text: str, new_name: str) -> Container:
    def operation(container: Container) -> Container:
        core.containers.rename(container, new_name)
        return core.containers.get(container.id)

    return locked(core, text, operation)


async def prune(core: Core) -> list[str]:
    """Remove every stopped container; their IDs."""
    removed = []
    for container in core.containers.list():
        if not is_stopped(refresh(core, container)):
            continue

        def operation(current: Container) -> Container | None:
            if not is_stopped(current):
                return None  # started since we looked
            return remove_locked(core, current, force=False)

        try:
            if await run_locked(core, container.id, operation) is not None:
                removed.append(container.id)
        except NotFound:
            continue
    return removed
