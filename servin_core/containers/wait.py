"""Waiting for a container to stop (docker's ``wait``), by watching its files.

There is no daemon to notify us: a waiter looks at conmon's exit file and
the row, a few times a second, and reconciles as any reader does. A run
that ended since the wait began counts even if a restart policy has already
started the next one (the finish time moved).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from servin_core.containers.model import State
from servin_core.containers.reconcile import refresh
from servin_core.errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["CONDITIONS", "wait_for"]

CONDITIONS = ("not-running", "next-exit", "removed")
_POLL = 0.05


async def wait_for(core: Core, text: str, condition: str = "not-running") -> int:
    """The exit status once ``condition`` holds."""
    if condition not in CONDITIONS:
        raise InvalidArgument("wait condition", condition, "unknown condition")
    container = core.containers.resolve(text)
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
        await asyncio.sleep(_POLL)
