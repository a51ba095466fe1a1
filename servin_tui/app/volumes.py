"""The Volumes panel: ``docker volume ls`` that keeps itself up to date.

Rows change as volume events arrive (from this process or another); the
IN USE column counts the containers that mount each volume, and changes
with container events. ``c`` creates, ``d`` removes (a volume in use is
refused by the core, and the notification names its containers), ``x``
prunes unused anonymous volumes and ``X`` every unused one.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual import work
from textual.binding import Binding

from servin_core.events import Event
from servin_tui.app.counted import CountedPanel
from servin_tui.app.rows import Row
from servin_tui.cli.humanize import human_age, human_size

if TYPE_CHECKING:
    from servin_core.volumes.model import Volume

__all__ = ["VolumesPanel", "volume_row"]

_LONG_NAME = 40
"""Longer names (an anonymous volume's 64 hex digits) are cut in the list."""


def volume_row(volume: Volume, users: int, now: float | None = None) -> Row:
    """VOLUME NAME DRIVER IN USE CREATED."""
    now = time.time() if now is None else now
    name = volume.name
    if len(name) > _LONG_NAME:
        name = name[: _LONG_NAME - 1] + "…"
    return Row(
        volume.name,
        volume.name,
        (name, volume.driver, str(users), human_age(volume.created, now)),
        (volume.name, None, users, volume.created),
    )


class VolumesPanel(CountedPanel):
    """Every volume, named and anonymous."""

    BINDINGS = [
        Binding("c", "create", "Create"),
        Binding("d", "remove", "Remove"),
        Binding("x", "prune", "Prune"),
        Binding("X", "prune_all", "Prune all", show=False),
    ]

    TITLE = "Volumes"
    KIND = "volume"
    COLUMNS = (
        ("name", "VOLUME NAME"),
        ("driver", "DRIVER"),
        ("used", "IN USE"),
        ("created", "CREATED"),
    )
    SORT = ("name", False)
    COMMANDS = (
        ("Volumes: create", "Create a volume", "create"),
        ("Volumes: remove", "Remove the selected or marked volumes", "remove"),
        ("Volumes: prune", "Remove unused anonymous volumes", "prune"),
        ("Volumes: prune all", "Remove every volume no container uses", "prune_all"),
        ("Volumes: filter", "Show only volumes matching a text", "filter"),
        ("Volumes: sort", "Sort by the next column", "sort"),
    )
    EMPTY = "No volumes. Press c to create one."

    EVENT_TYPE = "volume"

    def key_of(self, obj: Volume) -> str:
        return obj.name

    def touched(self, events: Sequence[Event]) -> set[str]:
        # A start's "mount" changes nothing the list shows.
        return {
            e.actor_id
            for e in events
            if e.type == "volume" and e.action in ("create", "destroy")
        }

    async def fetch_objects(self) -> Sequence[Volume]:
        return await self.backend.list_volumes()

    async def fetch_usage(self) -> dict[str, int]:
        return await self.backend.volume_usage()

    async def fetch_one(self, owner: str) -> Volume | None:
        return await self.backend.get_volume(owner)

    def rows_of(self, obj: Volume, now: float) -> list[Row]:
        return [volume_row(obj, self.usage.get(obj.name, 0), now)]

    def name_of(self, row: Row) -> str:
        return row.owner  # the whole name, even when the cell is cut

    async def detail(self, row: Row) -> Text | str:
        return volume_detail(await self.backend.inspect_volume(row.owner))

    # Actions

    def action_create(self) -> None:
        from servin_tui.app.create_dialogs import VolumeDialog

        self.app.push_screen(VolumeDialog(self.backend))

    async def remove_one(self, name: str) -> None:
        await self.backend.remove_volume(name)

    def action_prune(self) -> None:
        question = "Remove every anonymous volume no container uses?"
        self.confirm(question, lambda: self._prune(everything=False))

    def action_prune_all(self) -> None:
        question = "Remove every volume no container uses, named ones too?"
        self.confirm(question, lambda: self._prune(everything=True))

    @work(group="actions")
    async def _prune(self, *, everything: bool) -> None:
        pruning = self.backend.prune_volumes(all=everything)
        report = await self.guarded(pruning, "prune volumes")
        if report is not None:
            freed = human_size(report.reclaimed)
            self.app.notify(
                f"Deleted {len(report.deleted)} volumes, {freed} freed",
                title=self.TITLE,
            )


def volume_detail(data: dict[str, Any]) -> Text:
    """The parts of a volume's inspect document a person looks for."""
    text = Text()
    for label, value in (
        ("Name", data.get("Name")),
        ("Driver", data.get("Driver")),
        ("Mountpoint", data.get("Mountpoint")),
        ("Created", data.get("CreatedAt")),
        ("Used by", ", ".join(data.get("UsedBy") or []) or "no container"),
        ("Options", _pairs(data.get("Options"))),
        ("Labels", _pairs(data.get("Labels"))),
    ):
        if value:
            text.append(f"{label:<12}", style="bold")
            text.append(f"{value}\n")
    return text


def _pairs(mapping: dict[str, str] | None) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted((mapping or {}).items()))
