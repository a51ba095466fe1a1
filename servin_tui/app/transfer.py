"""The pull and push dialog: a reference, then one progress bar per layer.

The core reports each step of each layer as a ProgressEvent; the dialog
keeps one bar per blob and a word for what is happening to it. On success
it stays open with every bar full until Enter or Esc closes it (returning
the reference); on failure it says why and lets the user correct the name.
"""

from __future__ import annotations

from typing import Literal

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, ProgressBar

from servin_core.errors import ServinError
from servin_core.images.progress import ProgressEvent
from servin_tui.app.backend import Backend

__all__ = ["LayerProgress", "TransferDialog"]

Direction = Literal["pull", "push"]


class LayerProgress(Horizontal):
    """One blob's bar: its short digest, the current step, the bytes."""

    DEFAULT_CSS = """
    LayerProgress {
        height: 1;
    }
    LayerProgress > Label {
        width: 26;
    }
    LayerProgress > ProgressBar {
        width: 1fr;
    }
    """

    def __init__(self, digest: str) -> None:
        super().__init__()
        self.digest = digest
        self.action = "waiting"
        self._last: ProgressEvent | None = None

    def compose(self) -> ComposeResult:
        short = self.digest.removeprefix("sha256:")[:12]
        yield Label(f"{short} waiting", classes="step")
        yield ProgressBar(total=None, show_eta=False)

    def on_mount(self) -> None:
        if self._last is not None:
            self.show(self._last)

    def show(self, event: ProgressEvent) -> None:
        """Draw ``event``; before the bar exists, keep it for ``on_mount``."""
        self.action = event.action
        self._last = event
        if not self.is_mounted:
            return
        short = self.digest.removeprefix("sha256:")[:12]
        self.query_one(".step", Label).update(f"{short} {event.action}")
        bar = self.query_one(ProgressBar)
        if event.action in ("complete", "exists", "mounted", "pushed"):
            bar.update(total=1, progress=1)
        elif event.total:
            bar.update(total=event.total, progress=event.current)


class TransferDialog(ModalScreen[str | None]):
    """Pulls (or pushes) one reference, showing each layer's progress."""

    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("enter", "close", "Close", show=False),
    ]

    DEFAULT_CSS = """
    TransferDialog {
        align: center middle;
    }
    TransferDialog > Vertical {
        width: 90;
        max-width: 100%;
        height: auto;
        max-height: 100%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    TransferDialog #layers {
        height: auto;
        max-height: 12;
    }
    TransferDialog #status {
        margin-top: 1;
    }
    """

    def __init__(
        self, backend: Backend, direction: Direction, *, reference: str = ""
    ) -> None:
        super().__init__()
        self.backend = backend
        self.direction = direction
        self.reference = reference
        self.running = False
        self.done: str | None = None
        """The reference, once transferred."""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(
                "Pull an image (name[:tag] or name@digest), Enter to start"
                if self.direction == "pull"
                else "Push an image to its registry, Enter to start"
            )
            yield Input(self.reference, placeholder="busybox:latest", id="reference")
            yield VerticalScroll(id="layers")
            yield Label("", id="status")

    @on(Input.Submitted, "#reference")
    def _submitted(self, event: Input.Submitted) -> None:
        reference = event.value.strip()
        if reference and not self.running:
            self.start(reference)

    def start(self, reference: str) -> None:
        self.running = True
        self.query_one("#layers").remove_children()
        self.query_one("#reference", Input).disabled = True
        self._status(f"{self.direction.capitalize()}ing {reference}…")
        self.transfer(reference)

    @work(exclusive=True)
    async def transfer(self, reference: str) -> None:
        try:
            if self.direction == "pull":
                image = await self.backend.pull_image(reference, self._progress)
                done = f"Pulled {reference} ({image.short_id})"
            else:
                digest = await self.backend.push_image(reference, self._progress)
                done = f"Pushed {reference} ({digest})"
        except ServinError as e:
            self.running = False
            self._status(f"[b]Failed:[/b] {e}")
            box = self.query_one("#reference", Input)
            box.disabled = False
            box.focus()
            self.app.notify(str(e), title=f"{self.direction} failed", severity="error")
            return
        self.running = False
        self.done = reference
        self._status(f"{done}. Enter closes.")
        self.app.notify(done, title=self.direction)

    def _progress(self, event: ProgressEvent) -> None:
        if event.action == "resolving":
            self._status(f"Resolving {event.layer}…")
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

    def action_close(self) -> None:
        # Closing cancels a transfer in progress (the worker belongs to the
        # dialog); the core's lease removes whatever it had half written.
        self.dismiss(self.done)

    def layer_rows(self) -> list[LayerProgress]:
        return list(self.query(LayerProgress))
