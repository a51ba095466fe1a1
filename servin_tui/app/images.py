"""The Images panel: ``docker images`` that keeps itself up to date.

Rows change one image at a time as image events arrive (from this process
or another), so a pull in another terminal appears without a key press and
without reloading the list. Single keys pull, tag, push, remove and prune;
space marks images for removing several at once.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rich.text import Text
from textual import work
from textual.binding import Binding

from servin_core.images.store import Image
from servin_tui.app.dialogs import PromptDialog
from servin_tui.app.panel import Panel
from servin_tui.app.rows import Row, image_rows
from servin_tui.app.transfer import TransferDialog
from servin_tui.cli.humanize import human_size

__all__ = ["ImagesPanel"]


class ImagesPanel(Panel):
    """Local images, one row per name, newest first."""

    BINDINGS = [
        Binding("p", "pull", "Pull"),
        Binding("n", "run", "Run", show=False),
        Binding("t", "tag", "Tag"),
        Binding("P", "push", "Push"),
        Binding("d", "remove", "Remove"),
        Binding("x", "prune", "Prune"),
    ]

    TITLE = "Images"
    COLUMNS = (
        ("repository", "REPOSITORY"),
        ("tag", "TAG"),
        ("id", "IMAGE ID"),
        ("created", "CREATED"),
        ("size", "SIZE"),
    )
    SORT = ("created", True)
    COMMANDS = (
        ("Images: pull", "Pull an image from a registry", "pull"),
        ("Images: run", "Run a container of the selected image", "run"),
        ("Images: tag", "Give the selected image another name", "tag"),
        ("Images: push", "Push the selected image to its registry", "push"),
        ("Images: remove", "Remove the selected or marked images", "remove"),
        ("Images: prune", "Remove dangling images", "prune"),
        ("Images: filter", "Show only images matching a text", "filter"),
        ("Images: sort", "Sort by the next column", "sort"),
    )
    EMPTY = "No images. Press p to pull one."

    EVENT_TYPE = "image"

    async def fetch_all(self) -> Sequence[Image]:
        return await self.backend.list_images()

    async def fetch_one(self, owner: str) -> Image | None:
        return await self.backend.get_image(owner)

    def rows_of(self, obj: Image, now: float) -> list[Row]:
        return image_rows(obj, now)

    async def detail(self, row: Row) -> Text | str:
        data = await self.backend.inspect_image(row.owner)
        return image_detail(data)

    # Actions

    def _name_of(self, row: Row) -> str:
        """The name to act on: ``repo:tag``, else the image ID."""
        repository, tag, short_id = row.cells[:3]
        if repository != "<none>" and tag != "<none>":
            return f"{repository}:{tag}"
        return short_id

    def action_run(self) -> None:
        """The run dialog, with the selected image's name filled in."""
        from servin_tui.app.run_dialog import RunDialog

        row = self.table.current()
        image = ""
        if row is not None:
            repository, tag, short_id = row.cells[:3]
            named = "<none>" not in (repository, tag)
            image = f"{repository}:{tag}" if named else short_id
        self.app.push_screen(RunDialog(self.backend, image=image))

    def action_pull(self) -> None:
        self.app.push_screen(TransferDialog(self.backend, "pull"))

    def action_push(self) -> None:
        row = self.table.current()
        name = self._name_of(row) if row is not None else ""
        dialog = TransferDialog(self.backend, "push", reference=name)
        self.app.push_screen(dialog)

    def action_tag(self) -> None:
        row = self.table.current()
        if row is None:
            return
        source = self._name_of(row)

        def answered(target: str | None) -> None:
            if target:
                self._tag(source, target)

        dialog = PromptDialog(f"New name for {source}", placeholder="name[:tag]")
        self.app.push_screen(dialog, answered)

    @work(group="actions")
    async def _tag(self, source: str, target: str) -> None:
        async def tag() -> bool:
            await self.backend.tag_image(source, target)
            return True

        if await self.guarded(tag(), "tag"):
            self.app.notify(f"Tagged {source} as {target}", title="tag")

    def action_remove(self) -> None:
        names = [self._name_of(row) for row in self.table.chosen()]
        if not names:
            return
        listed = ", ".join(names) if len(names) <= 3 else f"{len(names)} images"
        self.confirm(f"Remove {listed}?", lambda: self._remove(names))

    @work(group="actions")
    async def _remove(self, names: list[str]) -> None:
        for name in names:
            result = await self.guarded(self.backend.remove_image(name), "remove")
            if result is not None:
                self.app.notify(f"Removed {name}", title="remove")
        self.table.clear_marks()

    def action_prune(self) -> None:
        self.confirm("Remove all dangling images?", self._prune)

    @work(group="actions")
    async def _prune(self) -> None:
        report = await self.guarded(self.backend.prune_images(), "prune")
        if report is not None:
            deleted = sum(1 for what, _ in report.deleted if what == "Deleted")
            freed = human_size(report.reclaimed)
            self.app.notify(f"Deleted {deleted} images, {freed} freed", title="prune")


def image_detail(data: dict[str, Any]) -> Text:
    """The parts of an image's inspect document a person looks for."""
    config = data.get("Config") or {}
    text = Text()

    def line(label: str, value: Any) -> None:
        if value in (None, "", [], {}):
            return
        text.append(f"{label:<12}", style="bold")
        text.append(f"{value}\n")

    line("ID", data.get("Id"))
    line("Tags", ", ".join(data.get("RepoTags") or []))
    line("Digests", ", ".join(data.get("RepoDigests") or []))
    line("Created", data.get("Created"))
    platform = f"{data.get('Os')}/{data.get('Architecture')}"
    line("Platform", platform + (f"/{data['Variant']}" if "Variant" in data else ""))
    line("Size", human_size(int(data.get("Size") or 0)))
    line("Layers", len((data.get("RootFS") or {}).get("Layers") or []))
    line(
        "Entrypoint",
        json.dumps(config["Entrypoint"]) if config.get("Entrypoint") else None,
    )
    line("Cmd", json.dumps(config.get("Cmd")) if config.get("Cmd") else None)
    line("WorkingDir", config.get("WorkingDir"))
    line("User", config.get("User"))
    for env in config.get("Env") or []:
        line("Env", env)
    for key, value in sorted((config.get("Labels") or {}).items()):
        line("Label", f"{key}={value}")
    line("Ports", ", ".join(sorted(config.get("ExposedPorts") or {})))
    return text
