"""A container's output, followed as it is written.

The screen keeps every line it received, so switching timestamps or
wrapping on and off redraws from memory instead of reading the log again.
Lines on stderr are drawn in the theme's error colour.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen
from textual.widgets import Footer, Label, RichLog

from servin_core.containers.logs import LogLine
from servin_core.errors import ServinError
from servin_tui.app.backend import Backend

__all__ = ["LogScreen"]

_TAIL = 1000
"""Lines shown from before the screen opened."""


class LogScreen(Screen[None]):
    """The output of one container; Esc goes back to the list."""

    BINDINGS = [
        Binding("escape,q", "app.pop_screen", "Back"),
        Binding("t", "toggle_timestamps", "Timestamps"),
        Binding("w", "toggle_wrap", "Wrap"),
        Binding("end,G", "end", "End"),
    ]

    DEFAULT_CSS = """
    LogScreen > Label {
        width: 1fr;
        background: $panel;
        padding: 0 1;
    }
    LogScreen > RichLog {
        height: 1fr;
    }
    """

    timestamps: reactive[bool] = reactive(False)
    """Whether each line starts with the time conmon read it."""
    wrap: reactive[bool] = reactive(False)
    """Whether long lines wrap instead of running off the edge."""

    def __init__(self, backend: Backend, name: str) -> None:
        super().__init__()
        self.backend = backend
        self.container = name
        self.lines: list[LogLine] = []
        self.ended = False
        self._pending: dict[str, str] = {}
        """Per stream, the start of a line conmon wrote in parts."""

    def compose(self) -> ComposeResult:
        yield Label(f"Logs of {self.container} (following)", id="title")
        yield RichLog(highlight=False, markup=False, max_lines=20_000)
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        self.follow()

    @work(exclusive=True)
    async def follow(self) -> None:
        try:
            async for line in self.backend.container_logs(
                self.container, follow=True, tail=_TAIL
            ):
                self.lines.append(line)
                self._write(line)
        except ServinError as e:
            self.app.notify(str(e), title="logs failed", severity="error")
        self.ended = True
        self.query_one("#title", Label).update(
            f"Logs of {self.container} (the container stopped)"
        )

    def _write(self, line: LogLine) -> None:
        from rich.text import Text

        data = line.data.decode(errors="replace")
        if line.partial:
            self._pending[line.stream] = self._pending.get(line.stream, "") + data
            return
        data = self._pending.pop(line.stream, "") + data
        text = Text(data.rstrip("\n"))
        if line.stream == "stderr":
            text.stylize("red")
        if self.timestamps:
            stamp = line.time.astimezone().strftime("%Y-%m-%dT%H:%M:%S.%f ")
            text = Text(stamp, style="dim") + text
        self.query_one(RichLog).write(text)

    def _redraw(self) -> None:
        log = self.query_one(RichLog)
        log.wrap = self.wrap
        log.clear()
        self._pending.clear()
        for line in self.lines:
            self._write(line)

    def action_toggle_timestamps(self) -> None:
        self.timestamps = not self.timestamps
        self._redraw()

    def action_toggle_wrap(self) -> None:
        self.wrap = not self.wrap
        self._redraw()

    def action_end(self) -> None:
        self.query_one(RichLog).scroll_end(animate=False)

    def text(self) -> str:
        """Everything received, as text (what a test or a save reads)."""
        return "".join(line.data.decode(errors="replace") for line in self.lines)
