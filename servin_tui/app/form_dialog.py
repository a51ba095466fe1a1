"""A modal form of one-line fields, each refused value written under its
field: the base of the run, create-volume and create-network dialogs.

A subclass names its fields, checks their values (``check``: the request,
or why each bad field is bad) and does the work (``perform``, in a worker).
Nothing is done while a field is bad; a failure of the core is written in
the dialog's status line, and the dialog stays open to be corrected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from servin_core.errors import ServinError

__all__ = ["Field", "FormDialog"]


class Field(NamedTuple):
    key: str
    label: str
    hint: str


class FormDialog(ModalScreen[str | None]):
    """Enter in any field (or the button) goes ahead, Esc cancels."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    FormDialog {
        align: center middle;
    }
    FormDialog > VerticalScroll {
        width: 90;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    FormDialog .field {
        height: 1;
    }
    FormDialog .field > Label {
        width: 13;
    }
    FormDialog .field > Input {
        width: 1fr;
        height: 1;
        border: none;
        padding: 0 1;
    }
    FormDialog .error {
        display: none;
        color: $error;
        padding-left: 13;
    }
    FormDialog .error.-shown {
        display: block;
    }
    FormDialog #layers {
        height: auto;
        max-height: 6;
    }
    FormDialog #buttons {
        height: auto;
        align-horizontal: right;
    }
    FormDialog Button {
        margin-left: 1;
    }
    """

    HEADING: ClassVar[str] = ""
    FIELDS: ClassVar[Sequence[Field]] = ()
    GO: ClassVar[str] = "OK"
    """The button's word (Run, Create)."""

    def __init__(self, *, values: Mapping[str, str] | None = None) -> None:
        super().__init__()
        self.initial = dict(values or {})
        self.running = False
        self.errors: dict[str, str] = {}
        """Per field, why its value was refused (what the dialog shows)."""

    def compose(self) -> ComposeResult:
        # Scrolls when the errors under the fields outgrow a small terminal.
        with VerticalScroll(classes="form", can_focus=False):
            yield Label(f"{self.HEADING} (Enter: {self.GO.lower()}, Esc: cancel)")
            for field in self.FIELDS:
                with Horizontal(classes="field"):
                    yield Label(field.label)
                    yield Input(
                        self.initial.get(field.key, ""),
                        placeholder=field.hint,
                        id=f"field-{field.key}",
                    )
                yield Label("", id=f"error-{field.key}", classes="error")
            yield VerticalScroll(id="layers")
            yield Label("", id="status")
            with Horizontal(id="buttons"):
                yield Button(self.GO, id="go", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    # What subclasses fill in

    def check(self, values: dict[str, str]) -> tuple[Any, dict[str, str]]:
        """The request the fields make (None if any is bad) and, per bad
        field, why."""
        raise NotImplementedError

    async def perform(self, request: Any) -> None:
        """Do the work (in a worker of the dialog's); end with ``failed``
        or ``dismiss``."""
        raise NotImplementedError

    # The form

    def field(self, key: str) -> Input:
        return self.query_one(f"#field-{key}", Input)

    def action_cancel(self) -> None:
        # Closing cancels work in progress (the worker is the dialog's).
        self.dismiss(None)

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.submit()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "go":
            self.submit()
        else:
            self.dismiss(None)

    def submit(self) -> None:
        """Check every field; go ahead if all are good."""
        if self.running:
            return
        values = {field.key: self.field(field.key).value for field in self.FIELDS}
        request, self.errors = self.check(values)
        for field in self.FIELDS:
            label = self.query_one(f"#error-{field.key}", Label)
            label.update(self.errors.get(field.key, ""))
            label.set_class(field.key in self.errors, "-shown")
        if self.errors:
            first = next(f.key for f in self.FIELDS if f.key in self.errors)
            self.field(first).focus()
            self.status("Nothing was done: correct the fields marked.")
            return
        self.running = True
        self.run_worker(self._perform(request), exclusive=True)

    async def _perform(self, request: Any) -> None:
        # What a subclass did not catch still only fails the dialog; OSError:
        # the state directory itself failed (a full disk).
        try:
            await self.perform(request)
        except (ServinError, OSError) as e:
            self.failed(e, self.HEADING.lower())

    def failed(self, error: Exception, what: str) -> None:
        """The core refused: say why here and in a notification."""
        self.running = False
        self.status(f"Failed: {error}")
        self.app.notify(str(error), title=f"{what} failed", severity="error")

    def status(self, text: str) -> None:
        self.query_one("#status", Label).update(text)
