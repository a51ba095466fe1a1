"""Reading containers as they are now, for commands that only look.

A container's row can be stale: its process may have exited while no Servin
process was watching. Before printing a state, commands reconcile each
running container with conmon's files (the runtime's ``refresh``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servin_core.containers.model import Container
    from servin_core.core import Core

__all__ = ["last_exit_code", "refreshed", "written_bytes"]


def refreshed(core: Core, containers: Iterable[Container]) -> list[Container]:
    """``containers`` with the state of the active ones brought up to date."""
    result: list[Container] = []
    for container in containers:
        if container.state.is_active:
            from servin_core.containers.lifecycle import refresh

            container = refresh(core, container)
        result.append(container)
    return result


def last_exit_code(core: Core, container: Container) -> int | None:
    """The exit status recorded when ``container`` last died, from the event
    log: still there after ``--rm`` removed the container and its row."""
    since = container.started_at or container.created
    for event in reversed(core.events.since(since_time=since)):
        if event.actor_id == container.id and event.action == "die":
            code = event.attributes.get("exitCode", "")
            return int(code) if code.lstrip("-").isdigit() else None
    return None


def written_bytes(core: Core, container: Container) -> int:
    """Bytes the container wrote to its own layer (docker's ``SizeRw``)."""
    from servin_core.containers.paths import ContainerPaths

    upper = ContainerPaths.of(core.config, container.id).upper
    total = 0
    for directory, _, files in os.walk(upper):
        for name in files:
            try:
                total += os.lstat(os.path.join(directory, name)).st_size
            except OSError:  # removed while walking
                continue
    return total
