"""Attaching before the container's process starts, so no output is lost.

conmon sends output only to clients connected when it is written, and its
attach socket exists only once conmon runs. ``start`` therefore calls the
hooks registered here between conmon's ``create`` (socket ready, process
not yet running) and the runtime's ``start``: an attach waiting in this
process connects there. ``run -i``, ``start -a`` and the Engine API's
attach-then-start all go through it.

Only this process's attaches are seen; another process starting the
container does not know of them (docker's own clients attach and start
through one daemon, which here is one process too).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from servin_core.containers.model import Container

__all__ = ["BeforeStart", "expect_start", "run_before_start"]

BeforeStart = Callable[["Container"], None]
"""Called in the starting thread, under the container's lock; must not
raise (a failure is the attach's to report, not the start's)."""

_hooks: dict[str, list[BeforeStart]] = {}
_lock = threading.Lock()


def expect_start(container_id: str, hook: BeforeStart) -> Callable[[], None]:
    """Run ``hook`` at the container's next start in this process; returns
    what unregisters it (harmless once it has run)."""
    with _lock:
        _hooks.setdefault(container_id, []).append(hook)

    def unregister() -> None:
        with _lock:
            hooks = _hooks.get(container_id, [])
            if hook in hooks:
                hooks.remove(hook)
            if not hooks:
                _hooks.pop(container_id, None)

    return unregister


def run_before_start(container: Container) -> None:
    """Run (and forget) the hooks waiting for ``container``'s start."""
    with _lock:
        hooks = _hooks.pop(container.id, [])
    for hook in hooks:
        hook(container)
