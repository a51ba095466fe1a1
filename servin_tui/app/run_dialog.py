"""The run dialog: ``docker run -d`` as a form.

The fields are read with the CLI's parsers (:mod:`servin_tui.app.run_form`);
a bad value is written under its field and nothing is created. A good form
pulls the image first when the store does not have it (one progress bar per
layer, as the pull dialog draws them), then creates and starts the
container. The dialog returns the container's name.
"""

from __future__ import annotations

from typing import Any

from textual.containers import VerticalScroll

from servin_core.errors import ServinError
from servin_core.images.progress import ProgressEvent
from servin_tui.app.backend import Backend, ContainerAction
from servin_tui.app.form_dialog import Field, FormDialog
from servin_tui.app.run_form import FIELDS, parse_form
from servin_tui.app.transfer import LayerProgress
from servin_tui.cli.containers_flags import CreateRequest

__all__ = ["RunDialog"]


class RunDialog(FormDialog):
    """Runs a new container."""

    HEADING = "Run a container"
    FIELDS = tuple(Field(f.key, f.label, f.hint) for f in FIELDS)
    GO = "Run"

    def __init__(self, backend: Backend, *, image: str = "") -> None:
        super().__init__(values={"image": image})
        self.backend = backend
        self.pulled: dict[str, str] = {}
        """Per blob of a pull, the last step its bar showed."""

    def check(self, values: dict[str, str]) -> tuple[Any, dict[str, str]]:
        return parse_form(values)

    async def perform(self, request: CreateRequest) -> None:
        image = request.config.image
        try:
            if not await self.backend.has_image(image):
                self.status(f"Pulling {image}…")
                await self.backend.pull_image(image, self._progress)
            self.status(f"Creating a container of {image}…")
            container = await self.backend.create_container(
                request.config, name=request.name
            )
        except ServinError as e:
            self.failed(e, "run")
            return

        # Created: from here on the dialog closes either way, and the list
        # shows the container (created, if it would not start).
        try:
            self.status(f"Starting {container.name}…")
            await self.backend.container_action(ContainerAction.START, container.id)
        except ServinError as e:
            self.app.notify(str(e), title="start failed", severity="error")
        else:
            self.app.notify(f"run: {container.name}", title="Containers")
        self.dismiss(container.name)

    def _progress(self, event: ProgressEvent) -> None:
        if event.action == "resolving":
            return
        self.pulled[event.layer] = event.action
        layers = self.query_one("#layers", VerticalScroll)
        found = [w for w in layers.query(LayerProgress) if w.digest == event.layer]
        if found:
            found[0].show(event)
            return
        row = LayerProgress(event.layer)
        row.show(event)
        layers.mount(row)
