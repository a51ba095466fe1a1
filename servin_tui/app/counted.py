"""What the Volumes and Networks panels share: a count of the containers
that use each object, and removing objects with a question first.

The count changes without an event about the object itself: a container
made with a volume, or removed from a network, says so in a container
event. Such events make the panel read the counts again (one small query)
and redraw only the rows whose count changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from textual import work

from servin_core.events import Event
from servin_tui.app.backend import Backend
from servin_tui.app.panel import Panel
from servin_tui.app.rows import Clock, Row

__all__ = ["CountedPanel"]


class CountedPanel(Panel):
    """A list whose rows show how many containers use each object."""

    USAGE_EVENTS: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {("container", "create"), ("container", "destroy")}
    )
    """(type, action) of the events after which the counts may differ."""
    KIND: ClassVar[str] = ""
    """The objects' name in questions and notifications (``volume``)."""

    def __init__(self, backend: Backend, clock: Clock, *, id: str) -> None:
        super().__init__(backend, clock, id=id)
        self.usage: dict[str, int] = {}
        """Containers per object, by the key events name the object by."""

    async def fetch_objects(self) -> Sequence[Any]:
        return []

    async def fetch_usage(self) -> dict[str, int]:
        return {}

    async def fetch_all(self) -> Sequence[Any]:
        objects = await self.fetch_objects()
        self.usage = await self.fetch_usage()
        return objects

    async def apply_events(self, events: Sequence[Event]) -> None:
        if any((e.type, e.action) in self.USAGE_EVENTS for e in events):
            usage = await self.guarded(self.fetch_usage(), "refresh")
            if usage is not None and usage != self.usage:
                before, self.usage = self.usage, usage
                keys = before.keys() | usage.keys()
                differ = {k for k in keys if before.get(k, 0) != usage.get(k, 0)}
                now = self.clock()
                for key in differ & self.objects.keys():
                    rows = self.rows_of(self.objects[key], now)
                    self.table.replace_owner(key, rows)
                self.rows_changed()
        await super().apply_events(events)

    # Removing

    def name_of(self, row: Row) -> str:
        """What the user calls the object of ``row`` (its first cell)."""
        return row.cells[0]

    def action_remove(self) -> None:
        names = [self.name_of(row) for row in self.table.chosen()]
        if not names:
            return
        many = f"{len(names)} {self.KIND}s"
        listed = ", ".join(names) if len(names) <= 3 else many
        self.confirm(f"Remove {self.KIND} {listed}?", lambda: self._remove(names))

    @work(group="actions")
    async def _remove(self, names: list[str]) -> None:
        async def remove(name: str) -> bool:
            await self.remove_one(name)
            return True

        for name in names:
            # A refusal (in use) is the core's Conflict, naming the object
            # and who uses it: a notification, and the next one is tried.
            if await self.guarded(remove(name), f"remove {self.KIND}"):
                self.app.notify(f"Removed {self.KIND} {name}", title=self.TITLE)
        self.table.clear_marks()

    async def remove_one(self, name: str) -> None:
        """Ask the backend to remove the object called ``name``."""
