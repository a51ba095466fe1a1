"""Running an operation on one container under its lock, off the event loop.

Operations drive the runtime with blocking calls and wait on files that
conmon writes; they run in a worker thread, holding the container's file
lock, so that two Servin processes never drive one container at once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from servin_core.containers.model import Container
from servin_core.errors import NotFound
from servin_core.state.locks import forget_lock, object_lock

if TYPE_CHECKING:
    from servin_core.core import Core

__all__ = ["locked", "run_locked"]

T = TypeVar("T")


def locked(core: Core, text: str, operation: Callable[[Container], T]) -> T:
    """Resolve ``text``, lock the container, re-read it and run ``operation``."""
    container = core.containers.resolve(text)
    with object_lock(core.config.run_dir, "container", container.id):
        # Re-read: another process may have changed it while we waited.
        try:
            current = core.containers.get(container.id)
        except NotFound:
            # Removed while we waited: the lock file we made is ours to go.
            forget_lock(core.config.run_dir, "container", container.id)
            raise
        return operation(current)


async def run_locked(core: Core, text: str, operation: Callable[[Container], T]) -> T:
    # Imported here: :func:`locked` is also called before any event loop
    # exists (a plain ``run`` starts its container first).
    import asyncio

    return await asyncio.to_thread(locked, core, text, operation)
