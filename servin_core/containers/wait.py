"""Waiting for a container to stop (docker's ``wait``), by watching its files.

There is no daemon to notify us: a waiter looks at conmon's exit file and
the row, and reconciles as any reader does. It looks again as soon as
inotify reports a new exit file or a write to the database (see watch.py),
and at least every quarter second for what leaves no such trace (a
monitor that died). A run that ended since the wait began counts even if a
restart policy has already started the next one (the finish time moved).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from servin_core.containers.model import State
from servin_core.containers.paths import ContainerPaths
from servin_core.containers.reconcile import refresh
from servin_core.containers.watch import (
    IN_CLOSE_WRITE,
    IN_DELETE_SELF,
    IN_MODIFY,
    IN_MOVE_SELF,
    IN_MOVED_TO,
    Watch,
)
from servin_core.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from servin_core.containers.model import Container
    from servin_core.core import Core

__all__ = ["CONDITIONS", "changes_of", "wait_for"]

CONDITIONS = ("not-running", "next-exit", "removed")
_LOOK_AGAIN = 0.25
"""Seconds between looks when no file changed."""


def changes_of(core: Core, container_id: str) -> Watch:
    """A watch that wakes on the container's exit file (written, renamed
    into place, or its directory removed) and on writes to the database."""
    paths = ContainerPaths.of(core.config, container_id)
    exits = IN_CLOSE_WRITE | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF
    wal = core.db.path.with_name(core.db.path.name + "-wal")
    return Watch([(paths.exit_dir, exits), (wal, IN_MODIFY)])


async def wait_for(core: Core, text: str, condition: str = "not-running") -> int:
    """The exit status once ``condition`` holds."""
    if condition not in CONDITIONS:
        raise InvalidArgument("wait condition", condition, "unknown condition")
    container = core.containers.resolve(text)
    with changes_of(core, container.id) as changes:
        return await _wait(core, container, condition, changes)


async def _wait(
    core: Core, container: Container, condition: str, changes: Watch
) -> int:
    first_finish = container.finished_at
    status = container.exit_code or 0
    while True:
        try:
            container = refresh(core, core.containers.get(container.id))
        except NotFound:
            if condition == "removed" or condition == "not-running":
                return status
            raise
        status = container.exit_code or 0
        finished = container.finished_at != first_finish
        if condition == "not-running" and (
            finished or container.state in (State.CREATED, State.EXITED, State.DEAD)
        ):
            return status
        if condition == "next-exit" and finished:
            return status
        await changes.changed(_LOOK_AGAIN)
