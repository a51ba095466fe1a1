"""The Events panel: what every Servin process did, newest first.

It shows the core's events table as it grows; new events are added as rows,
never by reloading what is already shown.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text

from servin_core.events import Event
from servin_tui.app.panel import Panel
from servin_tui.app.rows import Row, event_row

__all__ = ["EventsPanel"]

_SHOWN = 1000
"""Rows kept: the oldest go as new ones arrive."""


class EventsPanel(Panel):
    """The core's events, live."""

    TITLE = "Events"
    COLUMNS = (
        ("time", "TIME"),
        ("type", "TYPE"),
        ("action", "ACTION"),
        ("object", "OBJECT"),
        ("details", "DETAILS"),
    )
    SORT = ("time", True)
    MARKS = False
    COMMANDS = (("Events: filter", "Show only events matching a text", "filter"),)
    EMPTY = (
        "No events yet: they appear here as images, containers, volumes and "
        "networks change."
    )

    async def load(self) -> bool:
        async def newest() -> list[Event]:
            latest = await self.backend.last_event()
            return await self.backend.events_since(max(0, latest - _SHOWN))

        events = await self.guarded(newest(), "list")
        if events is None:
            return False
        self.table.replace_all(event_row(e) for e in events)
        self.rows_changed()
        return True

    async def apply_events(self, events: Sequence[Event]) -> None:
        # Those the read already showed are not added again.
        model = self.table.model
        new = [event_row(e) for e in events if str(e.seq) not in model]
        excess = len(model) + len(new) - _SHOWN
        oldest = sorted(model, key=int)[: max(0, excess)]
        self.table.apply(new, oldest)
        self.rows_changed()

    async def detail(self, row: Row) -> Text | str:
        time, type_, action, _, details = row.cells
        text = Text()
        for label, value in (
            ("Time", time),
            ("Type", type_),
            ("Action", action),
            ("Object", row.owner),
            ("Details", details),
        ):
            text.append(f"{label:<12}", style="bold")
            text.append(f"{value}\n")
        return text
