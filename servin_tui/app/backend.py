"""What the screens may ask of a core, and nothing more.

Every screen talks to a :class:`Backend`, never to ``servin_core.core.Core``:
the local backend runs an in-process core, and a remote one (a headless core
reached over SSH) will implement the same protocol, so no screen changes when
it arrives. Everything is a coroutine, because either kind of core may take
time to answer; the values are the core's own plain data classes (``Image``,
``Container``, ``Event``), which a remote backend can rebuild from JSON.

Errors are the core's :class:`~servin_core.errors.ServinError` kinds, naming
the object and the reason; the screens turn them into notifications.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from servin_core.containers.logs import LogLine
from servin_core.containers.model import Container
from servin_core.events import Event
from servin_core.images.progress import ProgressCallback
from servin_core.images.store import Image

__all__ = ["Backend", "ContainerAction", "PruneResult"]


class ContainerAction(enum.StrEnum):
    """Operations on one container, as the lifecycle API names them."""

    START = "start"
    STOP = "stop"
    RESTART = "restart"
    KILL = "kill"
    PAUSE = "pause"
    UNPAUSE = "unpause"
    REMOVE = "remove"


@dataclass(frozen=True)
class PruneResult:
    """What a prune removed, in docker's words, and the bytes it freed."""

    deleted: list[tuple[str, str]] = field(default_factory=list)
    reclaimed: int = 0


class Backend(Protocol):
    """A core, local or remote, as the TUI uses it."""

    @property
    def description(self) -> str:
        """Where the core is, for the title bar (``local: /var/lib/servin``)."""
        ...

    @property
    def data_dir(self) -> str:
        """Where this front end may keep its own small files (the theme)."""
        ...

    # Images

    async def list_images(self) -> list[Image]: ...

    async def get_image(self, image_id: str) -> Image | None:
        """The image with this full ID, or None once it is gone."""
        ...

    async def inspect_image(self, image_id: str) -> dict[str, Any]:
        """docker's inspect document for the image."""
        ...

    async def pull_image(self, reference: str, progress: ProgressCallback) -> Image:
        """Pull ``reference``; ``progress`` is called on the caller's loop."""
        ...

    async def push_image(self, reference: str, progress: ProgressCallback) -> str:
        """Push the local image ``reference``; returns the manifest digest."""
        ...

    async def tag_image(self, source: str, target: str) -> None: ...

    async def remove_image(
        self, name: str, *, force: bool = False
    ) -> list[tuple[str, str]]: ...

    async def prune_images(self, *, all: bool = False) -> PruneResult: ...

    # Containers

    async def list_containers(self) -> list[Container]: ...

    async def get_container(self, container_id: str) -> Container | None: ...

    def container_actions(self) -> frozenset[ContainerAction]:
        """The actions this core offers now (the lifecycle grows over time)."""
        ...

    async def container_action(self, action: ContainerAction, name: str) -> None:
        """Run ``action`` on the container ``name`` (ID, name or prefix)."""
        ...

    def container_logs(
        self, name: str, *, follow: bool = True, tail: int | None = None
    ) -> AsyncIterator[LogLine]:
        """The container's output, oldest first; with ``follow``, new lines
        as they are written until the container stops."""
        ...

    # Events

    async def last_event(self) -> int:
        """The sequence number of the newest event (0 when there is none)."""
        ...

    async def events_since(self, seq: int) -> list[Event]:
        """Events after ``seq``, oldest first, from every process."""
        ...

    def watch_events(self, seq: int) -> AsyncIterator[list[Event]]:
        """Batches of new events after ``seq``, as they happen, forever."""
        ...

    async def close(self) -> None: ...
