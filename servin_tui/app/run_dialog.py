"""The run dialog: ``docker run -d`` as a form.

The fields are read with the CLI's parsers (:mod:`servin_tui.app.run_form`);
a bad value is written under its field and nothing is created. A good form
pulls the image first when the store does not have it (one progress bar per
layer, as the pull dialog draws them), then creates and starts the
container. The dialog returns the container's name; a failure of the core
is written in the dialog, which stays open to be corrected.
"""

from __future__ import annotations

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from servin_core.errors import ServinError
from servin_core.images.progress import ProgressEvent
from servin_tui.app.backend import Backend, ContainerAction
from servin_tui.app.run_form import FIELDS, parse_form
from servin_tui.app.transfer import LayerProgress
from servin_tui.cli.containers_flags import CreateRequest

__all__ = ["RunDialog"]


class RunDialog(ModalScreen[str | None]):
    """Runs a new container; Enter in any field runs it, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    RunDialog {
        align: center middle;
    }
    RunDialog > Vertical {
        width: 90;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    RunDialog .field {
        height: 1;
    }
    RunDialog .field > Label {
        width: 13;
    }
    RunDialog .field > Input {
        width: 1fr;
        height: 1;
        border: none;
        padding: 0 1;
    }
    RunDialog .error {
        display: none;
        color: $error;
        padding-left: 13;
    }
    RunDialog .error.-shown {
        display: block;
    }
    RunDialog #layers {
        height: auto;
        max-height: 6;
    }
    RunDialog #buttons {
        height: auto;
        align-horizontal: right;
    }
    RunDialog Button {
        margin-left: 1;
    }
    """

    def __init__(self, backend: Backend, *, image: str = "") -> None:
        super().__init__()
        self.backend = backend
        self.image = image
        self.running = False
        self.errors: dict[str, str] = {}
        """Per field, why its value was refused (what the dialog shows)."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Run a container (Enter runs it, Esc cancels)")
            for field in FIELDS:
                with Horizontal(classes="field"):
                    yield Label(field.label)
                    yield Input(
                        self.image if field.key == "image" else "",
                        placeholder=field.hint,
                        id=f"field-{field.key}",
                    )
                yield Label("", id=f"error-{field.key}", classes="error")
            yield VerticalScroll(id="layers")
            yield Label("", id="status")
            with Horizontal(id="buttons"):
                yield Button("Run", id="run", variant="primary")
                yield Button("Cancel", id="cancel")

    def field(self, key: str) -> Input:
        return self.query_one(f"#field-{key}", Input)

    def action_cancel(self) -> None:
        # Closing cancels a pull in progress; the core's lease removes what
        # it had half written.
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "run":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:
        """Check every field; run the container if all are good."""
        if self.running:
            return
        values = {field.key: self.field(field.key).value for field in FIELDS}
        request, self.errors = parse_form(values)
        for field in FIELDS:
            label = self.query_one(f"#error-{field.key}", Label)
            label.update(self.errors.get(field.key, ""))
            label.set_class(field.key in self.errors, "-shown")
        if request is None:
            first = next(f.key for f in FIELDS if f.key in self.errors)
            self.field(first).focus()
            self._status("Nothing was created: correct the fields marked.")
            return
        self.running = True
        self.launch(request)

    @work(exclusive=True)
    async def launch(self, request: CreateRequest) -> None:
        image = request.config.image
        try:
            if not await self.backend.has_image(image):
                self._status(f"Pulling {image}…")
                await self.backend.pull_image(image, self._progress)
            self._status(f"Creating a container of {image}…")
            container = await self.backend.create_container(
                request.config, name=request.name
            )
        except ServinError as e:
            self.running = False
            self._status(f"Failed: {e}")
            self.app.notify(str(e), title="run failed", severity="error")
            return

        # Created: from here on the dialog closes either way, and the list
        # shows the container (created, if it would not start).
        try:
            self._status(f"Starting {container.name}…")
            await self.backend.container_action(ContainerAction.START, container.id)
        except ServinError as e:
            self.app.notify(str(e), title="start failed", severity="error")
        else:
            self.app.notify(f"run: {container.name}", title="Containers")
        self.dismiss(container.name)

    def _progress(self, event: ProgressEvent) -> None:
        if event.action == "resolving":
            return
        layers = self.query_one("#layers", VerticalScroll)
        found = [w for w in layers.query(LayerProgress) if w.digest == event.layer]
        if found:
            found[0].show(event)
            return
        row = LayerProgress(event.layer)
        row.show(event)
        layers.mount(row)

    def _status(self, text: str) -> None:
        self.query_one("#status", Label).update(text)
